#include "exporters/otlphttp/otlphttp_call.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "exporters/otlp/otlp_export.h"
#include "exporters/otlphttp/otlphttp_exporter.h"
#include "model/otlp.h"
#include "pipeline/component.h"
#include "status.pb-c.h"

int pg_otlphttp_call_build(pg_otlp_body_encoding enc, pg_compression c, const uint8_t *msg,
                           size_t len, pg_otlphttp_call *call, pg_error *err)
{
    memset(call, 0, sizeof(*call));
    int rc = pg_compress(c, msg, len, &call->body, &call->len);
    if (rc != PG_OK)
        return pg_error_set(err, rc, "cannot compress the request (%zu bytes)", len);
    call->content_type = enc == PG_OTLP_BODY_JSON ? "application/json" : "application/x-protobuf";
    if (c != PG_COMPRESSION_NONE)
        call->headers[call->n_headers++] =
            (pg_http_header){"content-encoding", pg_compression_name(c)};
    return PG_OK;
}

static json_t *member(json_t *obj, const char *camel, const char *snake)
{
    json_t *v = json_object_get(obj, camel);
    return v ? v : json_object_get(obj, snake);
}

static void read_json(const pg_http_client_response *resp, int success, pg_otlphttp_reply *r)
{
    json_error_t jerr;
    json_t *root = resp->body_len ? json_loadb((const char *)resp->body, resp->body_len, 0, &jerr)
                                  : json_object();
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    r->parsed = 1;
    json_t *ps = success ? member(root, "partialSuccess", "partial_success") : root;
    json_t *rej =
        json_is_object(ps) && success ? member(ps, "rejectedProfiles", "rejected_profiles") : NULL;
    if (json_is_integer(rej))
        r->rejected = json_integer_value(rej);
    else if (json_is_string(rej))
        r->rejected = strtoll(json_string_value(rej), NULL, 10);
    json_t *msg = json_is_object(ps) ? (success ? member(ps, "errorMessage", "error_message")
                                                : json_object_get(ps, "message"))
                                     : NULL;
    if (json_is_string(msg))
        snprintf(r->message, sizeof(r->message), "%s", json_string_value(msg));
    json_decref(root);
}

static void read_proto(const pg_http_client_response *resp, int success, pg_otlphttp_reply *r)
{
    pg_arena *a = pg_arena_new(0, resp->body_len * 8 + 4096);
    if (!a)
        return;
    ProtobufCAllocator alloc = pg_arena_protobuf_allocator(a);
    if (success) {
        Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceResponse *m =
            opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__unpack(
                &alloc, resp->body_len, resp->body);
        r->parsed = m != NULL;
        if (m && m->partial_success) {
            r->rejected = m->partial_success->rejected_profiles;
            if (m->partial_success->error_message)
                snprintf(r->message, sizeof(r->message), "%s", m->partial_success->error_message);
        }
    } else {
        Google__Rpc__Status *st = google__rpc__status__unpack(&alloc, resp->body_len, resp->body);
        r->parsed = st != NULL;
        if (st && st->message)
            snprintf(r->message, sizeof(r->message), "%s", st->message);
    }
    pg_arena_free(a);
}

void pg_otlphttp_read(const pg_http_client_response *resp, int json, pg_otlphttp_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
    int success = resp->status >= 200 && resp->status < 300;
    if (json)
        read_json(resp, success, reply);
    else
        read_proto(resp, success, reply);
}

/* The body's encoding: its Content-Type, else what we sent. */
static int body_is_json(const pg_http_client_response *resp, const pg_component *self)
{
    const char *ct = pg_http_client_response_header(resp, "content-type");
    if (ct && strstr(ct, "json"))
        return 1;
    if (ct && strstr(ct, "proto"))
        return 0;
    const pg_otlphttp_exporter_config *cfg = self ? self->config : NULL;
    return cfg && cfg->encoding == PG_OTLP_BODY_JSON;
}

void pg_otlphttp_classify(void *arg, const pg_delivery_request *req,
                          const pg_http_client_response *resp, pg_delivery_outcome *out)
{
    pg_component *self = arg;
    pg_delivery_classify_http(NULL, req, resp, out);
    if (resp->outcome != PG_HTTP_RESPONSE)
        return;
    pg_otlphttp_reply r;
    pg_otlphttp_read(resp, body_is_json(resp, self), &r);
    if (out->verdict != PG_DELIVERY_DELIVERED) {
        if (r.parsed && r.message[0])
            snprintf(out->message, sizeof(out->message), "%s", r.message);
        return;
    }
    pg_otlp_export_partial(self, req, r.rejected, r.message, out);
}
