#include "exporters/otlp/otlp_grpc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/clock.h"
#include "exporters/otlp/otlp_export.h"
#include "model/json_pb.h"
#include "model/otlp.h"
#include "model/otlp_wire.h"
#include "pipeline/component.h"
#include "status.pb-c.h"
#include "transport/decompress.h"
#include "transport/grpc_frame.h"

/* Clients should limit responses to 4 MiB (OTLP spec). */
#define MAX_RESPONSE_MSG ((uint64_t)4 << 20)

void pg_otlp_grpc_timeout_format(uint64_t ms, char *out, size_t n)
{
    static const struct {
        uint64_t per;
        char unit;
    } units[] = {{1, 'm'}, {1000, 'S'}, {60000, 'M'}, {3600000, 'H'}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        /* round up: a shorter deadline than ours would fail attempts early */
        uint64_t v = (ms + units[i].per - 1) / units[i].per;
        if (v <= 99999999) {
            snprintf(out, n, "%llu%c", (unsigned long long)v, units[i].unit);
            return;
        }
    }
    snprintf(out, n, "99999999H");
}

int pg_otlp_grpc_call_build(pg_compression c, uint64_t timeout_ms, const uint8_t *msg, size_t len,
                            pg_otlp_grpc_call *call, pg_error *err)
{
    memset(call, 0, sizeof(*call));
    uint8_t *z = NULL;
    size_t zlen = 0;
    if (c != PG_COMPRESSION_NONE) {
        int rc = pg_compress(c, msg, len, &z, &zlen);
        if (rc != PG_OK)
            return pg_error_set(err, rc, "cannot compress the request (%zu bytes)", len);
        msg = z;
        len = zlen;
    }
    pg_buf buf;
    pg_buf_init(&buf);
    int rc = pg_grpc_frame_append(&buf, msg, len);
    free(z);
    if (rc != PG_OK) {
        pg_buf_free(&buf);
        return pg_error_set(err, rc, "cannot frame the request (%zu bytes)", len);
    }
    if (c != PG_COMPRESSION_NONE)
        buf.data[0] = 1; /* the compressed flag */
    call->body = pg_buf_detach(&buf, &call->len);
    pg_http_header *h = call->headers;
    h[call->n_headers++] = (pg_http_header){"te", "trailers"};
    h[call->n_headers++] = (pg_http_header){"grpc-accept-encoding", "identity,gzip,zstd"};
    if (c != PG_COMPRESSION_NONE)
        h[call->n_headers++] = (pg_http_header){"grpc-encoding", pg_compression_name(c)};
    if (timeout_ms) {
        pg_otlp_grpc_timeout_format(timeout_ms, call->timeout, sizeof(call->timeout));
        h[call->n_headers++] = (pg_http_header){"grpc-timeout", call->timeout};
    }
    return PG_OK;
}

int pg_otlp_grpc_status_from_http(int http_status)
{
    switch (http_status) {
    case 400:
        return PG_GRPC_INTERNAL;
    case 401:
        return PG_GRPC_UNAUTHENTICATED;
    case 403:
        return PG_GRPC_PERMISSION_DENIED;
    case 404:
        return PG_GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
        return PG_GRPC_UNAVAILABLE;
    default:
        return PG_GRPC_UNKNOWN;
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void pg_otlp_grpc_percent_decode(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; in && in[i] && o + 1 < n; i++) {
        int hi, lo;
        if (in[i] == '%' && (hi = hexval((unsigned char)in[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)in[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    if (n)
        out[o] = '\0';
}

/* RetryInfo { Duration retry_delay = 1; }, Duration { seconds = 1; nanos = 2; } */
static uint64_t retry_info_ms(const uint8_t *p, size_t len)
{
    pg_wire w = {p, p + len};
    pg_wire_field f;
    memset(&f, 0, sizeof(f));
    while (pg_wire_next(&w, &f) == 1) {
        if (f.num != 1 || f.wt != PG_WIRE_LEN)
            continue;
        pg_wire d = {f.data, f.data + f.len};
        uint64_t s = 0, ns = 0;
        pg_wire_field g;
        memset(&g, 0, sizeof(g));
        while (pg_wire_next(&d, &g) == 1) {
            if (g.wt == PG_WIRE_VARINT && g.num == 1)
                s = g.value;
            else if (g.wt == PG_WIRE_VARINT && g.num == 2)
                ns = (uint32_t)g.value;
        }
        if ((int64_t)s < 0 || (int32_t)ns < 0 || s > UINT64_MAX / 2000)
            return 0; /* negative delays mean nothing */
        return s * 1000 + ns / 1000000;
    }
    return 0;
}

/* grpc-status-details-bin: base64 google.rpc.Status; its RetryInfo detail
 * gives the retry hint, its message stands in for a missing grpc-message. */
static void read_status_details(const char *b64, pg_otlp_grpc_reply *reply)
{
    size_t n = strlen(b64);
    pg_arena *a = pg_arena_new(0, 1 << 20);
    uint8_t *raw = a ? pg_arena_alloc(a, n / 4 * 3 + 3) : NULL;
    long len = raw ? pg_base64_decode(b64, n, raw) : -1;
    ProtobufCAllocator alloc = pg_arena_protobuf_allocator(a);
    Google__Rpc__Status *st =
        len >= 0 ? google__rpc__status__unpack(&alloc, (size_t)len, raw) : NULL;
    for (size_t i = 0; st && i < st->n_details; i++) {
        const char *url = st->details[i]->type_url;
        const char *slash = url ? strrchr(url, '/') : NULL;
        if (slash && strcmp(slash + 1, "google.rpc.RetryInfo") == 0)
            reply->retry_after_ms =
                retry_info_ms(st->details[i]->value.data, st->details[i]->value.len);
    }
    if (st && !reply->message[0] && st->message)
        snprintf(reply->message, sizeof(reply->message), "%s", st->message);
    pg_arena_free(a);
}

static void read_export_response(const pg_http_client_response *resp, pg_otlp_grpc_reply *reply)
{
    if (!resp->body_len)
        return; /* lenient: the server said OK */
    pg_arena *a = pg_arena_new(0, MAX_RESPONSE_MSG * 4);
    if (!a)
        return;
    const uint8_t *msg = NULL;
    size_t len = 0;
    pg_error err;
    pg_error_clear(&err);
    int gs =
        pg_grpc_unary_message(a, pg_http_client_response_header(resp, "grpc-encoding"), resp->body,
                              resp->body_len, MAX_RESPONSE_MSG, MAX_RESPONSE_MSG, &msg, &len, &err);
    ProtobufCAllocator alloc = pg_arena_protobuf_allocator(a);
    Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceResponse *r =
        gs == PG_GRPC_OK
            ? opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__unpack(
                  &alloc, len, msg)
            : NULL;
    if (!r)
        snprintf(reply->message, sizeof(reply->message), "unreadable response message%s%.200s",
                 err.msg[0] ? ": " : "", err.msg);
    else if (r->partial_success) {
        reply->rejected = r->partial_success->rejected_profiles;
        if (r->partial_success->error_message)
            snprintf(reply->message, sizeof(reply->message), "%s",
                     r->partial_success->error_message);
    }
    pg_arena_free(a);
}

void pg_otlp_grpc_read(const pg_http_client_response *resp, uint64_t now_unix_ms,
                       pg_otlp_grpc_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
    reply->grpc_status = -1;
    if (resp->status != 200) {
        reply->grpc_status = pg_otlp_grpc_status_from_http(resp->status);
        reply->from_http = 1;
        reply->retry_after_ms = pg_delivery_parse_retry_after(
            pg_http_client_response_header(resp, "retry-after"), now_unix_ms);
        snprintf(reply->message, sizeof(reply->message), "HTTP status %d from a gRPC endpoint",
                 resp->status);
        return;
    }
    const char *gs = pg_http_client_response_header(resp, "grpc-status");
    if (!gs) {
        snprintf(reply->message, sizeof(reply->message), "HTTP 200 without grpc-status");
        return;
    }
    char *end = NULL;
    long v = strtol(gs, &end, 10);
    if (!isdigit((unsigned char)gs[0]) || *end || v > 16) {
        reply->grpc_status = PG_GRPC_INTERNAL;
        snprintf(reply->message, sizeof(reply->message), "malformed grpc-status \"%.32s\"", gs);
        return;
    }
    reply->grpc_status = (int)v;
    pg_otlp_grpc_percent_decode(pg_http_client_response_header(resp, "grpc-message"),
                                reply->message, sizeof(reply->message));
    const char *details = pg_http_client_response_header(resp, "grpc-status-details-bin");
    if (reply->grpc_status != PG_GRPC_OK && details)
        read_status_details(details, reply);
    if (reply->grpc_status == PG_GRPC_OK)
        read_export_response(resp, reply);
}

void pg_otlp_grpc_classify(void *arg, const pg_delivery_request *req,
                           const pg_http_client_response *resp, pg_delivery_outcome *out)
{
    pg_component *self = arg;
    memset(out, 0, sizeof(*out));
    if (resp->outcome != PG_HTTP_RESPONSE) {
        out->verdict = PG_DELIVERY_RETRY;
        snprintf(out->message, sizeof(out->message), "%s", resp->error);
        return;
    }
    pg_otlp_grpc_reply r;
    pg_otlp_grpc_read(resp, pg_unix_nanos() / 1000000, &r);
    out->retry_after_ms = r.retry_after_ms;
    if (r.grpc_status < 0) {
        out->verdict = PG_DELIVERY_RETRY;
        snprintf(out->message, sizeof(out->message), "%s", r.message);
        return;
    }
    out->verdict = pg_delivery_grpc_verdict(r.grpc_status);
    if (r.grpc_status != PG_GRPC_OK) {
        snprintf(out->message, sizeof(out->message), "grpc-status %d%s%.200s", r.grpc_status,
                 r.message[0] ? ": " : "", r.message);
        return;
    }
    pg_otlp_export_partial(self, req, r.rejected, r.message, out);
}
