/*
 * POST /push.v1.PusherService/Push in the three protocols one connect-go
 * handler speaks: Connect unary (application/proto, application/json),
 * gRPC (HTTP/2; routed by the transport) and gRPC-Web.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/utf8.h"
#include "model/json_pb.h"
#include "pyroscope_push.pb-c.h"
#include "receivers/pyroscope/pyroscope_internal.h"
#include "transport/decompress.h"
#include "transport/grpc_frame.h"

typedef Push__V1__PushRequest push_request;
typedef Push__V1__RawProfileSeries push_series;

static int utf8_ok(const char *s)
{
    size_t n = strlen(s);
    return pg_utf8_invalid_at((const uint8_t *)s, n) == n;
}

static int check_series_labels(const push_series *s, size_t si, pg_pyro_outcome *o)
{
    int has_name = 0;
    for (size_t i = 0; i < s->n_labels; i++) {
        const char *name = s->labels[i]->name, *value = s->labels[i]->value;
        if (!*name || !utf8_ok(name) || !utf8_ok(value)) {
            pg_pyro_fail(o, 400, "series[%zu].labels[%zu]: empty name or invalid UTF-8", si, i);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->labels[j]->name, name) == 0) {
                pg_pyro_fail(o, 400, "series[%zu]: duplicate label name '%.64s'", si, name);
                return -1;
            }
        has_name |= strcmp(name, "__name__") == 0;
    }
    if (!has_name) {
        pg_pyro_fail(o, 400,
                     "series[%zu] has no __name__ label (the profile name, e.g. "
                     "process_cpu)",
                     si);
        return -1;
    }
    return 0;
}

static int add_series(pg_pyro_receiver *r, pg_batch *b, pg_arena *scratch, const push_series *s,
                      size_t si, const pg_auth_result *who, pg_pyro_outcome *o)
{
    if (check_series_labels(s, si, o))
        return -1;
    pg_pyro_pprof_meta m = {.who = who};
    for (size_t k = 0; k < s->n_samples; k++) {
        const Push__V1__RawSample *smp = s->samples[k];
        /* one sample's document is needed only while its profile is added */
        pg_arena_reset(scratch);
        pg_profile *p = pg_pyro_add_pprof(r, b, scratch, smp->raw_profile.data,
                                          smp->raw_profile.len, &m, NULL, o);
        if (!p) {
            char why[sizeof(o->message)];
            memcpy(why, o->message, sizeof(why));
            snprintf(o->message, sizeof(o->message), "series[%zu].samples[%zu]: %.300s", si, k,
                     why);
            return -1;
        }
        for (size_t i = 0; i < s->n_labels; i++)
            if (pg_profile_set_label(b, p, s->labels[i]->name, s->labels[i]->value) != PG_OK)
                goto nomem;
        if (smp->id && *smp->id) {
            if (!utf8_ok(smp->id)) {
                pg_pyro_fail(o, 400, "series[%zu].samples[%zu].ID is not valid UTF-8", si, k);
                return -1;
            }
            if (pg_profile_set_label(b, p, "__profile_id__", smp->id) != PG_OK)
                goto nomem;
        }
    }
    if (s->n_annotations)
        PG_CLOG(r->self, PG_LOG_DEBUG,
                "series[%zu]: %zu annotation(s) dropped (clients may not set them)", si,
                s->n_annotations);
    return 0;
nomem:
    pg_pyro_fail(o, 503, "out of memory setting labels");
    return -1;
}

/* Decodes nothing itself: runs a decoded request through the pipeline. */
static void push_request_run(pg_pyro_receiver *r, pg_worker *w, const push_request *req,
                             const pg_auth_result *who, size_t len, pg_pyro_outcome *o)
{
    pg_batch *b = pg_batch_new();
    pg_arena *scratch = pg_pyro_scratch_new(r);
    int rc = b && scratch ? 0 : -1;
    if (rc)
        pg_pyro_fail(o, 503, "out of memory");
    size_t n_profiles = 0;
    for (size_t i = 0; rc == 0 && i < req->n_series; i++) {
        n_profiles += req->series[i]->n_samples;
        rc = add_series(r, b, scratch, req->series[i], i, who, o);
    }
    if (rc == 0)
        pg_pyro_submit(r, &r->push, w, b, len, o);
    else
        pg_pyro_count_refused(r, &r->push, n_profiles, len, o);
    pg_batch_free(b);
    pg_arena_free(scratch);
}

static push_request *decode_proto(pg_arena *a, const uint8_t *body, size_t len, pg_pyro_outcome *o)
{
    ProtobufCAllocator alloc = pg_arena_protobuf_allocator(a);
    push_request *req = push__v1__push_request__unpack(&alloc, len, body);
    if (!req)
        pg_pyro_fail(o, 400, "undecodable PushRequest (%zu bytes of protobuf)", len);
    return req;
}

static push_request *decode_json(pg_arena *a, const uint8_t *body, size_t len, pg_pyro_outcome *o)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        pg_pyro_fail(o, 400, "invalid JSON PushRequest at line %d column %d: %s", jerr.line,
                     jerr.column, jerr.text);
        return NULL;
    }
    ProtobufCMessage *msg = NULL;
    pg_error err;
    pg_error_clear(&err);
    pg_jpb_options opt = {.max_depth = 16};
    int rc = pg_jpb_decode(a, &push__v1__push_request__descriptor, root, &opt, &msg, &err);
    json_decref(root);
    if (rc != PG_OK) {
        pg_pyro_fail_error(o, &err, "invalid JSON PushRequest");
        return NULL;
    }
    return (push_request *)msg;
}

void pg_pyro_push_grpc_handler(void *ctx, pg_http_request *req, pg_grpc_response *resp)
{
    pg_pyro_receiver *r = ctx;
    pg_pyro_outcome o;
    pg_pyro_outcome_ok(&o);
    pg_auth_result who;
    push_request *pr = NULL;
    if (pg_pyro_authorize(r, &r->push, req, &who, &o) == 0 &&
        !(pr = decode_proto(req->arena, req->body, req->body_len, &o)))
        pg_pyro_count_refused(r, &r->push, 0, req->body_len, &o);
    if (pr)
        push_request_run(r, req->worker, pr, &who, req->body_len, &o);
    resp->status = o.grpc_status;
    if (o.grpc_status != PG_GRPC_OK)
        resp->message = pg_arena_strdup(req->arena, o.message);
    /* an empty PushResponse encodes to zero bytes: resp->body stays empty */
}

/* Media type without parameters, compared case-insensitively. */
static int media_is(const char *ct, const char *want)
{
    if (!ct)
        return 0;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == strlen(want) && strncasecmp(ct, want, n) == 0;
}

static void grpc_web_run(pg_pyro_receiver *r, pg_http_request *req, const pg_auth_result *who,
                         pg_pyro_outcome *o)
{
    pg_error err;
    pg_error_clear(&err);
    const uint8_t *data = NULL;
    size_t len = 0;
    int code = pg_grpc_unary_message(req->arena, pg_http_request_header(req, "grpc-encoding"),
                                     req->body, req->body_len, r->cfg->max_body_size,
                                     r->cfg->max_body_size, &data, &len, &err);
    if (code != PG_GRPC_OK) {
        o->grpc_status = code;
        snprintf(o->message, sizeof(o->message), "%.380s", err.msg);
        pg_pyro_count_refused(r, &r->push, 0, req->body_len, o);
    } else {
        push_request *pr = decode_proto(req->arena, data, len, o);
        if (pr)
            push_request_run(r, req->worker, pr, who, len, o);
        else
            pg_pyro_count_refused(r, &r->push, 0, len, o);
    }
}

static void grpc_web_reply(pg_http_request *req, pg_http_response *resp, const pg_pyro_outcome *o)
{
    resp->status = 200;
    resp->content_type = "application/grpc-web+proto";
    if (o->grpc_status == PG_GRPC_OK)
        pg_grpc_frame_append(&resp->body, NULL, 0); /* the empty PushResponse */
    const char *m = o->grpc_status ? pg_grpc_percent_encode(req->arena, o->message) : NULL;
    char *trailer =
        m ? pg_arena_sprintf(req->arena, "grpc-status:%d\r\ngrpc-message:%s\r\n", o->grpc_status, m)
          : pg_arena_sprintf(req->arena, "grpc-status:%d\r\n", o->grpc_status);
    if (!trailer)
        trailer = "grpc-status:13\r\n";
    size_t tl = strlen(trailer);
    uint8_t prefix[5] = {0x80, (uint8_t)(tl >> 24), (uint8_t)(tl >> 16), (uint8_t)(tl >> 8),
                         (uint8_t)tl};
    pg_buf_append(&resp->body, prefix, sizeof(prefix));
    pg_buf_append(&resp->body, trailer, tl);
}

/* gRPC-Web: the body holds one framed message; the answer carries the
 * status in a trailer frame (flag 0x80) after the message frame. */
static void grpc_web(pg_pyro_receiver *r, pg_http_request *req, pg_http_response *resp)
{
    pg_pyro_outcome o;
    pg_pyro_outcome_ok(&o);
    pg_auth_result who;
    if (pg_pyro_authorize(r, &r->push, req, &who, &o) == 0)
        grpc_web_run(r, req, &who, &o);
    grpc_web_reply(req, resp, &o);
}

/* Connect unary: the message is the body; errors are JSON. */
static void connect_unary(pg_pyro_receiver *r, pg_http_request *req, pg_http_response *resp,
                          int json)
{
    pg_pyro_outcome o;
    pg_pyro_outcome_ok(&o);
    pg_auth_result who;
    if (pg_pyro_authorize(r, &r->push, req, &who, &o) != 0) {
        pg_pyro_reply_error(r, req, resp, &o);
        return;
    }
    const char *ver = pg_http_request_header(req, "connect-protocol-version");
    const char *tmo = pg_http_request_header(req, "connect-timeout-ms");
    push_request *pr = NULL;
    if (ver && strcmp(ver, "1") != 0)
        pg_pyro_fail(&o, 400, "unsupported Connect-Protocol-Version '%.16s' (supported: 1)", ver);
    else if (tmo && (!*tmo || strlen(tmo) > 10 || strspn(tmo, "0123456789") != strlen(tmo)))
        pg_pyro_fail(&o, 400, "malformed Connect-Timeout-Ms '%.16s' (1 to 10 digits)", tmo);
    else
        pr = json ? decode_json(req->arena, req->body, req->body_len, &o)
                  : decode_proto(req->arena, req->body, req->body_len, &o);
    if (pr)
        push_request_run(r, req->worker, pr, &who, req->body_len, &o);
    else
        pg_pyro_count_refused(r, &r->push, 0, req->body_len, &o);
    if (o.http_status != 200) {
        pg_pyro_reply_error(r, req, resp, &o);
        return;
    }
    resp->status = 200;
    resp->content_type = json ? "application/json" : "application/proto";
    if (json)
        pg_buf_append(&resp->body, "{}", 2);
}

void pg_pyro_push_http_handler(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    pg_pyro_receiver *r = ctx;
    const char *ct = pg_http_request_header(req, "content-type");
    if (media_is(ct, "application/proto")) {
        connect_unary(r, req, resp, 0);
    } else if (media_is(ct, "application/json")) {
        connect_unary(r, req, resp, 1);
    } else if (media_is(ct, "application/grpc-web") || media_is(ct, "application/grpc-web+proto")) {
        grpc_web(r, req, resp);
    } else {
        pg_pyro_outcome o;
        pg_pyro_outcome_ok(&o);
        pg_auth_result who;
        if (pg_pyro_authorize(r, &r->push, req, &who, &o) != 0) {
            pg_pyro_reply_error(r, req, resp, &o);
            return;
        }
        pg_pyro_fail(&o, 415,
                     "content type '%.64s' is not supported on the push API (supported: "
                     "application/proto, application/json, application/grpc, "
                     "application/grpc-web+proto)",
                     ct ? ct : "(none)");
        pg_pyro_count_refused(r, &r->push, 0, req->body_len, &o);
        pg_pyro_reply_error(r, req, resp, &o);
    }
}
