/* exporters/otlp (gRPC): framing, compression flag and headers of a call;
 * reading answers (grpc-status in headers or trailers, HTTP status mapping,
 * RetryInfo, partial success) and the verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "exporters/otlp/otlp_grpc.h"
#include "model/json_pb.h"
#include "model/otlp.h"
#include "status.pb-c.h"
#include "transport/decompress.h"
#include "transport/grpc_frame.h"

static const uint8_t MSG[] = "profiles profiles profiles profiles profiles profiles";

static const char *header(const pg_otlp_grpc_call *c, const char *name)
{
    for (size_t i = 0; i < c->n_headers; i++)
        if (strcmp(c->headers[i].name, name) == 0)
            return c->headers[i].value;
    return NULL;
}

static uint32_t prefix_len(const uint8_t *p)
{
    return (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
}

static void check_compressed_call(pg_compression c, const char *name)
{
    pg_otlp_grpc_call call;
    pg_error err = {0};
    assert_int_equal(pg_otlp_grpc_call_build(c, 10000, MSG, sizeof(MSG), &call, &err), PG_OK);
    assert_int_equal(call.body[0], 1); /* compressed flag */
    assert_int_equal(prefix_len(call.body), call.len - 5);
    pg_arena *a = pg_arena_new(0, 0);
    const uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(
        pg_decompress(a, name, call.body + 5, call.len - 5, 1 << 20, &out, &out_len, &err), 0);
    assert_int_equal(out_len, sizeof(MSG));
    assert_memory_equal(out, MSG, sizeof(MSG));
    /* the receiver's reading of a unary message gives the same bytes back */
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    assert_int_equal(
        pg_grpc_unary_message(a, name, call.body, call.len, 1 << 20, 1 << 20, &msg, &msg_len, &err),
        0);
    assert_memory_equal(msg, MSG, sizeof(MSG));
    assert_string_equal(header(&call, "grpc-encoding"), name);
    assert_string_equal(header(&call, "te"), "trailers");
    assert_string_equal(header(&call, "grpc-timeout"), "10000m");
    assert_non_null(strstr(header(&call, "grpc-accept-encoding"), "gzip"));
    pg_arena_free(a);
    free(call.body);
}

static void test_call_gzip_and_zstd(void **state)
{
    (void)state;
    check_compressed_call(PG_COMPRESSION_GZIP, "gzip");
    check_compressed_call(PG_COMPRESSION_ZSTD, "zstd");
}

static void test_call_uncompressed(void **state)
{
    (void)state;
    pg_otlp_grpc_call call;
    pg_error err = {0};
    assert_int_equal(pg_otlp_grpc_call_build(PG_COMPRESSION_NONE, 0, MSG, sizeof(MSG), &call, &err),
                     PG_OK);
    assert_int_equal(call.len, sizeof(MSG) + 5);
    assert_int_equal(call.body[0], 0);
    assert_int_equal(prefix_len(call.body), sizeof(MSG));
    assert_memory_equal(call.body + 5, MSG, sizeof(MSG));
    assert_null(header(&call, "grpc-encoding"));
    assert_null(header(&call, "grpc-timeout")); /* no timeout, no header */
    assert_string_equal(header(&call, "te"), "trailers");
    free(call.body);
    /* an empty request is one empty message */
    assert_int_equal(pg_otlp_grpc_call_build(PG_COMPRESSION_NONE, 5, NULL, 0, &call, &err), PG_OK);
    assert_int_equal(call.len, 5);
    assert_int_equal(prefix_len(call.body), 0);
    free(call.body);
}

static void test_timeout_units(void **state)
{
    (void)state;
    char v[16];
    uint64_t ns = 0;
    const struct {
        uint64_t ms;
        const char *want;
    } cases[] = {{1, "1m"},
                 {10000, "10000m"},
                 {99999999, "99999999m"},
                 {100000000, "100000S"},
                 {100000001, "100001S"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pg_otlp_grpc_timeout_format(cases[i].ms, v, sizeof(v));
        assert_string_equal(v, cases[i].want);
        /* and the receiver's parser reads it back at least as long */
        assert_int_equal(pg_grpc_timeout_parse(v, &ns), 0);
        assert_true(ns >= cases[i].ms * 1000000);
    }
}

static void test_percent_decode(void **state)
{
    (void)state;
    char out[64];
    pg_otlp_grpc_percent_decode("bad%20sample%3a%E2%82%AC 100%", out, sizeof(out));
    assert_string_equal(out, "bad sample:\xe2\x82\xac 100%");
    pg_otlp_grpc_percent_decode("%zz%4", out, sizeof(out));
    assert_string_equal(out, "%zz%4");
    pg_otlp_grpc_percent_decode("abcdef", out, 4);
    assert_string_equal(out, "abc");
}

/* ---- answers ---- */

typedef struct answer {
    pg_http_client_response resp;
    pg_http_header h[8];
    pg_buf body;
} answer;

static void answer_init(answer *a, int status)
{
    memset(a, 0, sizeof(*a));
    a->resp.outcome = PG_HTTP_RESPONSE;
    a->resp.status = status;
    a->resp.http_major = 2;
    a->resp.headers = a->h;
    pg_buf_init(&a->body);
}

static void answer_header(answer *a, const char *name, const char *value)
{
    a->h[a->resp.n_headers++] = (pg_http_header){name, value};
}

/* A framed ExportProfilesServiceResponse, gzipped when compress is set. */
static void answer_partial(answer *a, int64_t rejected, const char *msg, int compress)
{
    Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesPartialSuccess ps =
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_PARTIAL_SUCCESS__INIT;
    Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceResponse r =
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_RESPONSE__INIT;
    ps.rejected_profiles = rejected;
    ps.error_message = (char *)msg;
    r.partial_success = &ps;
    size_t n = protobuf_c_message_get_packed_size(&r.base);
    uint8_t *raw = malloc(n + 1);
    protobuf_c_message_pack(&r.base, raw);
    uint8_t *z = NULL;
    size_t zn = 0;
    assert_int_equal(
        pg_compress(compress ? PG_COMPRESSION_GZIP : PG_COMPRESSION_NONE, raw, n, &z, &zn), 0);
    assert_int_equal(pg_grpc_frame_append(&a->body, z, zn), 0);
    if (compress) {
        a->body.data[0] = 1;
        answer_header(a, "grpc-encoding", "gzip");
    }
    free(raw);
    free(z);
    a->resp.body = a->body.data;
    a->resp.body_len = a->body.len;
}

static void classify(answer *a, uint32_t profiles, pg_delivery_outcome *out)
{
    pg_delivery_request *req =
        pg_delivery_request_new(PG_OTLP_GRPC_PATH, "application/grpc", "t", profiles);
    assert_non_null(req);
    pg_otlp_grpc_classify(NULL, req, &a->resp, out);
    pg_delivery_request_free(req);
    pg_buf_free(&a->body);
}

static void test_ok_in_trailers_with_partial_success(void **state)
{
    (void)state;
    for (int compress = 0; compress < 2; compress++) {
        answer a;
        answer_init(&a, 200);
        answer_header(&a, "content-type", "application/grpc");
        answer_partial(&a, 3, "3 profiles had no samples", compress);
        answer_header(&a, "grpc-status", "0"); /* a trailer: after the headers */
        pg_delivery_outcome out;
        classify(&a, 5, &out);
        assert_int_equal(out.verdict, PG_DELIVERY_DELIVERED);
        assert_int_equal(out.rejected, 3);
        assert_string_equal(out.message, "3 profiles had no samples");
    }
    /* more rejected than sent (pprof profiles become several): capped */
    answer a;
    answer_init(&a, 200);
    answer_partial(&a, 100, "", 0);
    answer_header(&a, "grpc-status", "0");
    pg_delivery_outcome out;
    classify(&a, 5, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_DELIVERED);
    assert_int_equal(out.rejected, 5);
    /* plain OK: no message, nothing rejected */
    answer_init(&a, 200);
    answer_partial(&a, 0, NULL, 0);
    answer_header(&a, "grpc-status", "0");
    pg_otlp_grpc_reply r;
    pg_otlp_grpc_read(&a.resp, 0, &r);
    assert_int_equal(r.grpc_status, 0);
    assert_int_equal(r.rejected, 0);
    assert_string_equal(r.message, "");
    pg_buf_free(&a.body);
}

static void test_grpc_status_codes(void **state)
{
    (void)state;
    const struct {
        const char *status;
        pg_delivery_verdict v;
    } cases[] = {
        {"14", PG_DELIVERY_RETRY},      {"4", PG_DELIVERY_RETRY},
        {"10", PG_DELIVERY_RETRY},      {"3", PG_DELIVERY_PERMANENT},
        {"16", PG_DELIVERY_PERMANENT},  {"12", PG_DELIVERY_PERMANENT},
        {"abc", PG_DELIVERY_PERMANENT}, /* malformed: INTERNAL */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        answer a;
        answer_init(&a, 200);
        answer_header(&a, "grpc-status", cases[i].status);
        answer_header(&a, "grpc-message", "server%20says%3A no");
        pg_delivery_outcome out;
        classify(&a, 1, &out);
        assert_int_equal(out.verdict, cases[i].v);
        assert_int_equal(out.rejected, 0);
        if (strcmp(cases[i].status, "abc") != 0)
            assert_non_null(strstr(out.message, "server says: no"));
    }
}

static void test_missing_grpc_status_is_retryable(void **state)
{
    (void)state;
    answer a;
    answer_init(&a, 200);
    answer_header(&a, "content-type", "application/grpc");
    pg_delivery_outcome out;
    classify(&a, 1, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_RETRY);
    assert_non_null(strstr(out.message, "grpc-status"));
    /* a connection that broke is retried too */
    answer_init(&a, 0);
    a.resp.outcome = PG_HTTP_TRANSPORT_ERROR;
    snprintf(a.resp.error, sizeof(a.resp.error), "connection reset");
    classify(&a, 1, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_RETRY);
    assert_string_equal(out.message, "connection reset");
}

static void test_http_status_mapping(void **state)
{
    (void)state;
    const struct {
        int http, grpc;
        pg_delivery_verdict v;
    } cases[] = {
        {400, 13, PG_DELIVERY_PERMANENT}, {401, 16, PG_DELIVERY_PERMANENT},
        {403, 7, PG_DELIVERY_PERMANENT},  {404, 12, PG_DELIVERY_PERMANENT},
        {429, 14, PG_DELIVERY_RETRY},     {502, 14, PG_DELIVERY_RETRY},
        {503, 14, PG_DELIVERY_RETRY},     {504, 14, PG_DELIVERY_RETRY},
        {500, 2, PG_DELIVERY_PERMANENT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(pg_otlp_grpc_status_from_http(cases[i].http), cases[i].grpc);
        answer a;
        answer_init(&a, cases[i].http);
        answer_header(&a, "grpc-status", "0"); /* ignored: the HTTP status decides */
        pg_delivery_outcome out;
        classify(&a, 1, &out);
        assert_int_equal(out.verdict, cases[i].v);
    }
    answer a;
    answer_init(&a, 429);
    answer_header(&a, "retry-after", "2");
    pg_delivery_outcome out;
    classify(&a, 1, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_RETRY);
    assert_int_equal(out.retry_after_ms, 2000);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* grpc-status-details-bin: Status{code, message, details=[RetryInfo{s, ns}]}
 * in base64 without padding (as gRPC sends binary metadata). */
static char *details_bin(int32_t code, const char *msg, uint64_t s, uint32_t ns)
{
    uint8_t dur[24], info[32];
    size_t d = 0;
    dur[d++] = 0x08;
    d += put_varint(dur + d, s);
    dur[d++] = 0x10;
    d += put_varint(dur + d, ns);
    size_t i = 0;
    info[i++] = 0x0a;
    info[i++] = (uint8_t)d;
    memcpy(info + i, dur, d);
    i += d;
    Google__Rpc__Any other = GOOGLE__RPC__ANY__INIT, retry = GOOGLE__RPC__ANY__INIT;
    other.type_url = "type.googleapis.com/google.rpc.ErrorInfo";
    retry.type_url = "type.googleapis.com/google.rpc.RetryInfo";
    retry.value.data = info;
    retry.value.len = i;
    Google__Rpc__Any *details[] = {&other, &retry};
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = code;
    st.message = (char *)msg;
    st.details = details;
    st.n_details = 2;
    size_t n = google__rpc__status__get_packed_size(&st);
    uint8_t *raw = malloc(n);
    google__rpc__status__pack(&st, raw);
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    pg_base64_encode(raw, n, b64);
    free(raw);
    char *eq = strchr(b64, '=');
    if (eq)
        *eq = '\0';
    return b64;
}

static void test_retry_info(void **state)
{
    (void)state;
    char *bin = details_bin(8, "slow down", 1, 500000000);
    answer a;
    answer_init(&a, 200);
    answer_header(&a, "grpc-status", "8");
    answer_header(&a, "grpc-status-details-bin", bin);
    pg_delivery_outcome out;
    classify(&a, 1, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_RETRY);
    assert_int_equal(out.retry_after_ms, 1500);
    assert_non_null(strstr(out.message, "slow down")); /* from the Status: no grpc-message */
    free(bin);
    /* garbage details are ignored */
    answer_init(&a, 200);
    answer_header(&a, "grpc-status", "14");
    answer_header(&a, "grpc-status-details-bin", "!!!not base64");
    classify(&a, 1, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_RETRY);
    assert_int_equal(out.retry_after_ms, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_gzip_and_zstd),
        cmocka_unit_test(test_call_uncompressed),
        cmocka_unit_test(test_timeout_units),
        cmocka_unit_test(test_percent_decode),
        cmocka_unit_test(test_ok_in_trailers_with_partial_success),
        cmocka_unit_test(test_grpc_status_codes),
        cmocka_unit_test(test_missing_grpc_status_is_retryable),
        cmocka_unit_test(test_http_status_mapping),
        cmocka_unit_test(test_retry_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
