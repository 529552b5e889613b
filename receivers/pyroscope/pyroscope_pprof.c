/* POST /v1/pprof: a raw pprof body, as the OpenTelemetry Collector's pprof
 * receiver takes it; the series labels come from the query. */
#include <string.h>

#include "receivers/pyroscope/pyroscope_internal.h"

/* Prometheus-style label names, plus '.' as Pyroscope 2.x keeps dotted names. */
static int valid_label_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.'))
            return 0;
    }
    return 1;
}

/* Query parameters as tags; service_name falls back to the configuration. */
static int query_tags(pg_pyro_receiver *r, pg_http_request *req, pg_pyro_series *s,
                      pg_pyro_outcome *o)
{
    pg_http_header *params = NULL;
    size_t n = 0;
    if (pg_http_request_query_params(req, &params, &n) != PG_OK) {
        pg_pyro_fail(o, 503, "out of memory reading the query");
        return -1;
    }
    pg_label *tags = pg_arena_alloc(req->arena, (n + 1) * sizeof(*tags));
    if (!tags) {
        pg_pyro_fail(o, 503, "out of memory reading the query");
        return -1;
    }
    const char *service = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *k = params[i].name;
        if (!valid_label_name(k) || strncmp(k, "__", 2) == 0) {
            pg_pyro_fail(
                o, 400,
                "query parameter '%.64s' is not a valid label name ([A-Za-z_.][A-Za-z0-9_.]*, "
                "not starting with __)",
                k);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(params[j].name, k) == 0) {
                pg_pyro_fail(o, 400, "query parameter '%.64s' is given twice", k);
                return -1;
            }
        if (strcmp(k, "service_name") == 0) {
            service = params[i].value;
            continue;
        }
        if (*params[i].value)
            tags[s->n_tags++] = (pg_label){k, params[i].value};
    }
    if (!service || !*service)
        service = r->cfg->pprof.service_name;
    s->app_name = service;
    s->tags = tags;
    return 0;
}

void pg_pyro_pprof_handler(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    pg_pyro_receiver *r = ctx;
    pg_pyro_outcome o;
    pg_pyro_outcome_ok(&o);
    pg_auth_result who;
    if (pg_pyro_authorize(r, &r->pprof, req, &who, &o) != 0) {
        pg_pyro_reply_error(r, req, resp, &o);
        return;
    }
    pg_pyro_series s = {0};
    pg_batch *b = NULL;
    int rc = query_tags(r, req, &s, &o);
    if (rc == 0 && req->body_len == 0) {
        pg_pyro_fail(&o, 400, "empty body: expected a pprof document");
        rc = -1;
    }
    if (rc == 0 && !(b = pg_batch_new())) {
        pg_pyro_fail(&o, 503, "out of memory");
        rc = -1;
    }
    const pg_pprof *doc = NULL;
    pg_profile *p = NULL;
    pg_arena *scratch = rc == 0 ? pg_pyro_scratch_new(r) : NULL;
    if (rc == 0 && !scratch) {
        pg_pyro_fail(&o, 503, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        pg_pyro_pprof_meta m = {.who = &who};
        p = pg_pyro_add_pprof(r, b, scratch, req->body, req->body_len, &m, &doc, &o);
        rc = p ? 0 : -1;
    }
    if (rc == 0) {
        s.profile_name = pg_pyro_name_for(doc, NULL, 0);
        if (pg_pyro_set_series_labels(b, p, &s) != PG_OK) {
            pg_pyro_fail(&o, 503, "out of memory setting labels");
            rc = -1;
        }
    }
    if (rc == 0)
        pg_pyro_submit(r, &r->pprof, req->worker, b, req->body_len, &o);
    else
        pg_pyro_count_refused(r, &r->pprof, 1, req->body_len, &o);
    pg_batch_free(b);
    pg_arena_free(scratch);
    if (o.http_status != 200) {
        pg_pyro_reply_error(r, req, resp, &o);
        return;
    }
    resp->status = 204;
}
