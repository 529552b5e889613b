/* exporters/otlphttp: request bodies and headers; reading answers (partial
 * success in protobuf and JSON, google.rpc.Status error bodies) and the
 * verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "exporters/otlphttp/otlphttp_call.h"
#include "model/otlp.h"
#include "model/otlp_status.h"
#include "transport/decompress.h"

static const uint8_t MSG[] = "{\"resourceProfiles\":[]} {\"resourceProfiles\":[]}";

static void test_call_proto_gzip(void **state)
{
    (void)state;
    pg_otlphttp_call call;
    pg_error err = {0};
    assert_int_equal(pg_otlphttp_call_build(PG_OTLP_BODY_PROTO, PG_COMPRESSION_GZIP, MSG,
                                            sizeof(MSG), &call, &err),
                     PG_OK);
    assert_string_equal(call.content_type, "application/x-protobuf");
    assert_int_equal(call.n_headers, 1);
    assert_string_equal(call.headers[0].name, "content-encoding");
    assert_string_equal(call.headers[0].value, "gzip");
    pg_arena *a = pg_arena_new(0, 0);
    const uint8_t *out = NULL;
    size_t n = 0;
    assert_int_equal(pg_decompress(a, "gzip", call.body, call.len, 1 << 20, &out, &n, &err), 0);
    assert_int_equal(n, sizeof(MSG));
    assert_memory_equal(out, MSG, n);
    pg_arena_free(a);
    free(call.body);
}

static void test_call_json_zstd_and_plain(void **state)
{
    (void)state;
    pg_otlphttp_call call;
    pg_error err = {0};
    assert_int_equal(pg_otlphttp_call_build(PG_OTLP_BODY_JSON, PG_COMPRESSION_ZSTD, MSG,
                                            sizeof(MSG), &call, &err),
                     PG_OK);
    assert_string_equal(call.content_type, "application/json");
    assert_string_equal(call.headers[0].value, "zstd");
    pg_arena *a = pg_arena_new(0, 0);
    const uint8_t *out = NULL;
    size_t n = 0;
    assert_int_equal(pg_decompress(a, "zstd", call.body, call.len, 1 << 20, &out, &n, &err), 0);
    assert_memory_equal(out, MSG, sizeof(MSG));
    pg_arena_free(a);
    free(call.body);
    assert_int_equal(pg_otlphttp_call_build(PG_OTLP_BODY_JSON, PG_COMPRESSION_NONE, MSG,
                                            sizeof(MSG), &call, &err),
                     PG_OK);
    assert_int_equal(call.n_headers, 0);
    assert_int_equal(call.len, sizeof(MSG));
    assert_memory_equal(call.body, MSG, sizeof(MSG));
    free(call.body);
}

typedef struct answer {
    pg_http_client_response resp;
    pg_http_header h[4];
    pg_buf body;
} answer;

static void answer_init(answer *a, int status, const char *content_type)
{
    memset(a, 0, sizeof(*a));
    a->resp.outcome = PG_HTTP_RESPONSE;
    a->resp.status = status;
    a->resp.http_major = 1;
    a->resp.headers = a->h;
    pg_buf_init(&a->body);
    if (content_type)
        a->h[a->resp.n_headers++] = (pg_http_header){"content-type", content_type};
}

static void answer_body(answer *a)
{
    a->resp.body = a->body.data;
    a->resp.body_len = a->body.len;
}

static void classify(answer *a, uint32_t profiles, pg_delivery_outcome *out)
{
    pg_delivery_request *req =
        pg_delivery_request_new("/v1development/profiles", "application/x-protobuf", "", profiles);
    assert_non_null(req);
    pg_otlphttp_classify(NULL, req, &a->resp, out);
    pg_delivery_request_free(req);
    pg_buf_free(&a->body);
}

static void test_partial_success_proto_and_json(void **state)
{
    (void)state;
    for (int json = 0; json < 2; json++) {
        answer a;
        answer_init(&a, 200, json ? "application/json" : "application/x-protobuf");
        assert_int_equal(json ? pg_otlp_export_response_json(2, "2 profiles were empty", &a.body)
                              : pg_otlp_export_response_pack(2, "2 profiles were empty", &a.body),
                         0);
        answer_body(&a);
        pg_delivery_outcome out;
        classify(&a, 10, &out);
        assert_int_equal(out.verdict, PG_DELIVERY_DELIVERED);
        assert_int_equal(out.rejected, 2);
        assert_string_equal(out.message, "2 profiles were empty");
    }
    /* a JSON number and snake_case keys are read too */
    answer a;
    answer_init(&a, 200, "application/json; charset=utf-8");
    pg_buf_append_str(&a.body, "{\"partial_success\":{\"rejected_profiles\":4}}");
    answer_body(&a);
    pg_delivery_outcome out;
    classify(&a, 3, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_DELIVERED);
    assert_int_equal(out.rejected, 3); /* capped at what was sent */
}

static void test_plain_success(void **state)
{
    (void)state;
    const char *types[] = {"application/x-protobuf", "application/json", NULL};
    for (size_t i = 0; i < 3; i++) {
        answer a;
        answer_init(&a, 200, types[i]);
        if (i == 1)
            pg_buf_append_str(&a.body, "{}");
        answer_body(&a);
        pg_otlphttp_reply r;
        pg_otlphttp_read(&a.resp, i == 1, &r);
        assert_int_equal(r.parsed, 1);
        assert_int_equal(r.rejected, 0);
        pg_delivery_outcome out;
        classify(&a, 3, &out);
        assert_int_equal(out.verdict, PG_DELIVERY_DELIVERED);
        assert_int_equal(out.rejected, 0);
        assert_string_equal(out.message, "");
    }
}

static void test_status_bodies(void **state)
{
    (void)state;
    answer a;
    answer_init(&a, 400, "application/x-protobuf");
    assert_int_equal(pg_rpc_status_pack(3, "sample 7: stack_index out of range", &a.body), 0);
    answer_body(&a);
    pg_delivery_outcome out;
    classify(&a, 1, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_PERMANENT);
    assert_string_equal(out.message, "sample 7: stack_index out of range");
    assert_int_equal(out.rejected, 0);

    answer_init(&a, 503, "application/json");
    a.h[a.resp.n_headers++] = (pg_http_header){"retry-after", "3"};
    assert_int_equal(pg_rpc_status_json(14, "try later", &a.body), 0);
    answer_body(&a);
    classify(&a, 1, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_RETRY);
    assert_int_equal(out.retry_after_ms, 3000);
    assert_string_equal(out.message, "try later");

    /* a body that is no Status leaves the default message alone */
    answer_init(&a, 429, "text/plain");
    pg_buf_append_str(&a.body, "slow down");
    answer_body(&a);
    pg_otlphttp_reply r;
    pg_otlphttp_read(&a.resp, 1, &r);
    assert_int_equal(r.parsed, 0);
    classify(&a, 1, &out);
    assert_int_equal(out.verdict, PG_DELIVERY_RETRY);
    assert_non_null(strstr(out.message, "slow down"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_proto_gzip),
        cmocka_unit_test(test_call_json_zstd_and_plain),
        cmocka_unit_test(test_partial_success_proto_and_json),
        cmocka_unit_test(test_plain_success),
        cmocka_unit_test(test_status_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
