#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "transport/server_internal.h"

#define KIB 1024ull
#define MIB (1024ull * 1024)

/* Room in the request arena beyond the decompressed body: header copies,
 * header arrays, reply headers. */
#define ARENA_SLACK (256 * KIB)

static void apply_defaults(pg_http_server_config *c)
{
    if (!c->max_header_bytes)
        c->max_header_bytes = 64 * KIB;
    if (!c->max_body_bytes)
        c->max_body_bytes = 64 * MIB;
    if (!c->max_decompressed_bytes)
        c->max_decompressed_bytes = 64 * MIB;
    if (!c->idle_timeout_ms)
        c->idle_timeout_ms = 60 * 1000;
    if (!c->read_timeout_ms)
        c->read_timeout_ms = 30 * 1000;
    if (!c->max_concurrent_streams)
        c->max_concurrent_streams = 1000;
    if (!c->log_scope)
        c->log_scope = "transport/http";
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int copy_config(pg_http_server *s, const pg_http_server_config *cfg)
{
    s->cfg = *cfg;
    apply_defaults(&s->cfg);
    s->cfg.endpoint = s->cfg_endpoint = strdup(cfg->endpoint);
    s->cfg.log_scope = s->cfg_log_scope = strdup(s->cfg.log_scope);
    s->cfg.tls.cert_file = s->cfg_cert = dup_or_null(cfg->tls.cert_file);
    s->cfg.tls.key_file = s->cfg_key = dup_or_null(cfg->tls.key_file);
    s->cfg.tls.client_ca_file = s->cfg_ca = dup_or_null(cfg->tls.client_ca_file);
    if (!s->cfg_endpoint || !s->cfg_log_scope || (cfg->tls.cert_file && !s->cfg_cert) ||
        (cfg->tls.key_file && !s->cfg_key) || (cfg->tls.client_ca_file && !s->cfg_ca))
        return PG_ERR_NOMEM;
    return PG_OK;
}

pg_http_server *pg_http_server_new(const pg_http_server_config *cfg, pg_error *err)
{
    if (!cfg || !cfg->endpoint || !*cfg->endpoint) {
        pg_error_set(err, PG_ERR_INVALID, "http server: endpoint is required");
        return NULL;
    }
    pg_http_server *s = calloc(1, sizeof(*s));
    if (!s) {
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    if (copy_config(s, cfg) != PG_OK) {
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        pg_http_server_free(s);
        return NULL;
    }
    s->arena_limit =
        (size_t)(s->cfg.max_decompressed_bytes + s->cfg.max_header_bytes * 2 + ARENA_SLACK);
    if (s->cfg.tls.cert_file && !(s->tls = pg_tls_ctx_new(&s->cfg.tls, err))) {
        pg_http_server_free(s);
        return NULL;
    }
    /* libhttp-parser's own header cap is process-wide (80 KiB by default);
     * raise it only so far that ours, per server, is the one that applies */
    if (s->cfg.max_header_bytes > 80 * KIB)
        http_parser_set_max_header_size((uint32_t)(s->cfg.max_header_bytes + 4 * KIB));
    snprintf(s->bound_endpoint, sizeof(s->bound_endpoint), "%s", s->cfg.endpoint);
    return s;
}

static int add_route(pg_http_server *s, const char *method, const char *path, pg_http_handler h,
                     pg_grpc_handler g, void *ctx)
{
    if (!path || path[0] != '/' || (!h && !g))
        return PG_ERR_INVALID;
    for (size_t i = 0; i < s->n_routes; i++) {
        pg_route *r = &s->routes[i];
        if ((r->grpc != NULL) == (g != NULL) && strcmp(r->path, path) == 0 &&
            (g || strcmp(r->method, method) == 0))
            return PG_ERR_INVALID; /* duplicate */
    }
    pg_route *nr = realloc(s->routes, (s->n_routes + 1) * sizeof(*nr));
    if (!nr)
        return PG_ERR_NOMEM;
    s->routes = nr;
    pg_route *r = &nr[s->n_routes];
    memset(r, 0, sizeof(*r));
    r->path = strdup(path);
    r->method = method ? strdup(method) : NULL;
    if (!r->path || (method && !r->method)) {
        free(r->path);
        free(r->method);
        return PG_ERR_NOMEM;
    }
    r->http = h;
    r->grpc = g;
    r->ctx = ctx;
    s->n_routes++;
    return PG_OK;
}

int pg_http_server_route(pg_http_server *s, const char *method, const char *path, pg_http_handler h,
                         void *ctx)
{
    if (!method || !*method)
        return PG_ERR_INVALID;
    return add_route(s, method, path, h, NULL, ctx);
}

int pg_http_server_grpc_route(pg_http_server *s, const char *path, pg_grpc_handler h, void *ctx)
{
    return add_route(s, NULL, path, NULL, h, ctx);
}

const char *pg_http_server_endpoint(const pg_http_server *s)
{
    return s->bound_endpoint;
}

void pg_http_server_free(pg_http_server *s)
{
    if (!s)
        return;
    /* workers still listed were never stopped, or their loop never ran the
     * close callbacks; the caller guarantees the loops no longer run */
    while (s->workers) {
        pg_srv_worker *sw = s->workers;
        s->workers = sw->next;
        free(sw);
    }
    for (size_t i = 0; i < s->n_routes; i++) {
        free(s->routes[i].path);
        free(s->routes[i].method);
    }
    free(s->routes);
    pg_tls_ctx_free(s->tls);
    free(s->cfg_endpoint);
    free(s->cfg_log_scope);
    free(s->cfg_cert);
    free(s->cfg_key);
    free(s->cfg_ca);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
