#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "receivers/pyroscope/profile_name.h"
#include "receivers/pyroscope/pyroscope_internal.h"

void pg_pyro_outcome_ok(pg_pyro_outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->http_status = 200;
    o->grpc_status = PG_GRPC_OK;
}

static void set_codes(pg_pyro_outcome *o, int http_status)
{
    o->http_status = http_status;
    switch (http_status) {
    case 400:
    case 422:
        o->grpc_status = PG_GRPC_INVALID_ARGUMENT;
        break;
    case 401:
        o->grpc_status = PG_GRPC_UNAUTHENTICATED;
        break;
    case 403:
        o->grpc_status = PG_GRPC_PERMISSION_DENIED;
        break;
    case 413:
    case 429:
        o->grpc_status = PG_GRPC_RESOURCE_EXHAUSTED;
        break;
    case 415:
        o->grpc_status = PG_GRPC_UNIMPLEMENTED;
        break;
    case 503:
        o->grpc_status = PG_GRPC_UNAVAILABLE;
        break;
    default:
        o->grpc_status = PG_GRPC_INTERNAL;
        break;
    }
}

void pg_pyro_fail(pg_pyro_outcome *o, int http_status, const char *fmt, ...)
{
    set_codes(o, http_status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->message, sizeof(o->message), fmt, ap);
    va_end(ap);
}

void pg_pyro_fail_error(pg_pyro_outcome *o, const pg_error *err, const char *prefix)
{
    int status = 400;
    if (err->code == PG_ERR_LIMIT)
        status = 413;
    else if (err->code == PG_ERR_NOMEM)
        status = 503;
    else if (err->code == PG_ERR_UNSUPPORTED)
        status = 415;
    if (err->code == PG_ERR_NOMEM)
        pg_pyro_fail(o, status, "%s: out of memory", prefix);
    else
        pg_pyro_fail(o, status, "%s: %s", prefix, err->msg);
}

void pg_pyro_reply_error(const pg_pyro_receiver *r, pg_http_request *req, pg_http_response *resp,
                         const pg_pyro_outcome *o)
{
    pg_http_response_json_error(resp, o->http_status, o->message);
    if (o->http_status == 401)
        pg_auth_add_challenges(r->auth, req, resp);
    if (o->retry_after_s && (o->http_status == 429 || o->http_status == 503)) {
        char *v = pg_arena_sprintf(req->arena, "%u", o->retry_after_s);
        if (v)
            pg_http_response_add_header(req, resp, "retry-after", v);
    }
}

int pg_pyro_authorize(pg_pyro_receiver *r, pg_pyro_counters *c, const pg_http_request *req,
                      pg_auth_result *who, pg_pyro_outcome *o)
{
    pg_auth_status st = pg_auth_check_request(r->auth, req, who);
    if (st == PG_AUTH_OK)
        return 0;
    pg_pyro_fail(o, pg_auth_http_status(st), "%s", who->message);
    pg_pyro_count_refused(r, c, 0, req->body_len, o);
    return -1;
}

/* Display name of a sample type: the sent config's, else Pyroscope's
 * server default, else the type itself. */
static const char *display_name(const char *type, const pg_pyro_stconfig_entry *cfg, size_t n_cfg)
{
    const pg_pyro_stconfig_entry *e = pg_pyro_stconfig_find(cfg, n_cfg, type);
    if (!e || !e->display_name || !*e->display_name) {
        size_t n_def = 0;
        const pg_pyro_stconfig_entry *def = pg_pyro_stconfig_defaults(&n_def);
        e = pg_pyro_stconfig_find(def, n_def, type);
    }
    return e && e->display_name && *e->display_name ? e->display_name : type;
}

const char *pg_pyro_name_for(const pg_pprof *doc, const pg_pyro_stconfig_entry *cfg, size_t n_cfg)
{
    enum { MAX_TYPES = 64 };
    const char *types[MAX_TYPES];
    size_t n = doc->n_sample_type < MAX_TYPES ? doc->n_sample_type : MAX_TYPES;
    for (size_t i = 0; i < n; i++)
        types[i] = pg_pprof_str(doc, doc->sample_type[i]->type);
    /* "wall" is looked for among the types themselves, then every type is
     * classified by its display name */
    for (size_t i = 0; i < n; i++)
        if (strcmp(types[i], "wall") == 0)
            return "wall";
    const char *shown[MAX_TYPES];
    for (size_t i = 0; i < n; i++)
        shown[i] = display_name(types[i], cfg, n_cfg);
    const char *name = pg_pyro_profile_name(shown, n, NULL, 0);
    if (name)
        return name;
    return n ? types[0] : "unknown";
}

pg_arena *pg_pyro_scratch_new(const pg_pyro_receiver *r)
{
    /* the decoded form may be several times the wire size; the limit keeps a
     * hostile document from taking the process down */
    return pg_arena_new(0, (size_t)(r->cfg->max_body_size * 8 + (1u << 20)));
}

static pg_profile *add_payload(pg_batch *b, pg_payload *payload, const pg_pprof *doc,
                               const pg_pyro_pprof_meta *meta, pg_pyro_outcome *o)
{
    pg_profile *prof = pg_batch_add(b, payload);
    pg_payload_unref(payload); /* the batch holds the reference now */
    const char *auth_tenant = meta->who ? meta->who->auth_tenant : NULL;
    const char *header_tenant = meta->who ? meta->who->header_tenant : NULL;
    if (!prof || pg_profile_set_tenant_sources(b, prof, auth_tenant, header_tenant) != PG_OK ||
        pg_profile_set_type(b, prof, pg_pprof_profile_type(b->arena, doc)) != PG_OK) {
        pg_pyro_fail(o, 503, "out of memory building the batch");
        return NULL;
    }
    /* Pyroscope takes the request window when the document has no time */
    prof->time_unix_nano = doc->time_nanos > 0 ? (uint64_t)doc->time_nanos : meta->from_ns;
    if (doc->duration_nanos > 0)
        prof->duration_nano = (uint64_t)doc->duration_nanos;
    else if (meta->until_ns > meta->from_ns && meta->from_ns)
        prof->duration_nano = meta->until_ns - meta->from_ns;
    pg_pprof_totals(doc, &prof->sample_count, &prof->value_total);
    return prof;
}

static pg_profile *add_bytes(pg_batch *b, uint8_t *bytes, size_t len, const pg_pprof *doc,
                             const pg_pyro_pprof_meta *meta, pg_pyro_outcome *o)
{
    pg_payload *payload = pg_payload_new(PG_PAYLOAD_PPROF, bytes, len);
    if (!payload) {
        free(bytes);
        pg_pyro_fail(o, 503, "out of memory");
        return NULL;
    }
    return add_payload(b, payload, doc, meta, o);
}

pg_profile *pg_pyro_add_pprof(pg_pyro_receiver *r, pg_batch *b, pg_arena *scratch,
                              const uint8_t *bytes, size_t len, const pg_pyro_pprof_meta *meta,
                              const pg_pprof **doc_out, pg_pyro_outcome *o)
{
    if (len == 0) {
        pg_pyro_fail(o, 400, "empty profile: the pprof document has no bytes");
        return NULL;
    }
    pg_pprof *doc = NULL;
    pg_error err;
    pg_error_clear(&err);
    if (pg_pprof_decode(scratch, bytes, len, r->cfg->max_body_size, &doc, &err) != PG_OK) {
        if (err.code == PG_ERR_LIMIT)
            pg_pyro_fail(o, 413, "pprof inflates or decodes beyond the limit (%llu bytes): %s",
                         (unsigned long long)r->cfg->max_body_size, err.msg);
        else
            pg_pyro_fail_error(o, &err, "undecodable pprof");
        return NULL;
    }
    uint8_t *copy = malloc(len);
    if (!copy) {
        pg_pyro_fail(o, 503, "out of memory");
        return NULL;
    }
    memcpy(copy, bytes, len);
    if (doc_out)
        *doc_out = doc;
    return add_bytes(b, copy, len, doc, meta, o);
}

pg_profile *pg_pyro_add_built_pprof(pg_batch *b, const pg_pprof *doc,
                                    const pg_pyro_pprof_meta *meta, pg_pyro_outcome *o)
{
    pg_buf out;
    pg_buf_init(&out);
    pg_error err;
    pg_error_clear(&err);
    if (pg_pprof_encode(doc, 1, &out, &err) != PG_OK) {
        pg_buf_free(&out);
        pg_pyro_fail_error(o, &err, "encoding the profile");
        return NULL;
    }
    size_t n = 0;
    uint8_t *bytes = pg_buf_detach(&out, &n);
    return add_bytes(b, bytes, n, doc, meta, o);
}

static void outcome_from_consume(pg_pyro_outcome *o, const pg_consume_result *res, size_t n)
{
    switch (res->status) {
    case PG_CONSUME_OK:
        if (res->rejected)
            pg_pyro_fail(o, 400, "%u of %zu profile(s) refused: %s", res->rejected, n, res->msg);
        else
            pg_pyro_outcome_ok(o);
        break;
    case PG_CONSUME_RETRYABLE:
        pg_pyro_fail(o, 503, "pipeline unavailable: %s", res->msg);
        break;
    case PG_CONSUME_RESOURCE_EXHAUSTED:
        pg_pyro_fail(o, 429, "pipeline overloaded: %s", res->msg);
        break;
    case PG_CONSUME_PERMANENT:
        pg_pyro_fail(o, 400, "%zu profile(s) refused: %s", n, res->msg);
        break;
    }
    o->retry_after_s = (res->retry_after_ms + 999) / 1000;
}

void pg_pyro_count_refused(pg_pyro_receiver *r, pg_pyro_counters *c, size_t n_profiles, size_t len,
                           const pg_pyro_outcome *o)
{
    pg_metric_add(c->refused_profiles, (int64_t)n_profiles);
    pg_metric_add(c->refused_bytes, (int64_t)len);
    pg_metric_add(c->requests_failed, 1);
    PG_CLOG(r->self, PG_LOG_DEBUG, "refused request (%zu bytes): %d %s", len, o->http_status,
            o->message);
}

void pg_pyro_submit(pg_pyro_receiver *r, pg_pyro_counters *c, pg_worker *w, pg_batch *b, size_t len,
                    pg_pyro_outcome *o)
{
    size_t n = b->count;
    pg_pyro_outcome_ok(o);
    if (n == 0) {
        pg_metric_add(c->accepted_bytes, (int64_t)len);
        return;
    }
    pg_consume_result res;
    pg_consume_result_init(&res);
    pg_consumer_send(&r->self->next, w, b, &res);
    outcome_from_consume(o, &res, n);
    if (res.status == PG_CONSUME_OK) {
        /* partly refused requests are answered with an error, but what was
         * accepted stays accepted: count it so */
        pg_metric_add(c->accepted_profiles, (int64_t)(n - res.rejected));
        pg_metric_add(c->accepted_bytes, (int64_t)len);
        if (res.rejected) {
            pg_metric_add(c->refused_profiles, (int64_t)res.rejected);
            pg_metric_add(c->requests_failed, 1);
        }
        return;
    }
    pg_pyro_count_refused(r, c, n, len, o);
}
