#include "telemetry/telemetry_server.h"

#include <stdlib.h>
#include <string.h>

#include "telemetry/metrics.h"
#include "transport/http_server.h"

struct pg_telemetry_server {
    pg_http_server *http;
};

static void serve_metrics(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    pg_metrics_render(&resp->body);
}

static void serve_healthz(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 200;
    resp->content_type = "text/plain; charset=utf-8";
    pg_buf_append_str(&resp->body, "ok\n");
}

int pg_telemetry_server_new(const char *address, pg_telemetry_server **out, pg_error *err)
{
    *out = NULL;
    if (!address || !address[0] || strcmp(address, "none") == 0)
        return PG_OK;
    pg_telemetry_server *t = calloc(1, sizeof(*t));
    if (!t)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    pg_http_server_config hc;
    memset(&hc, 0, sizeof(hc));
    hc.endpoint = address;
    hc.max_body_bytes = 64 * 1024;
    hc.max_decompressed_bytes = 64 * 1024;
    hc.log_scope = "telemetry";
    t->http = pg_http_server_new(&hc, err);
    if (!t->http) {
        free(t);
        return err ? err->code : PG_ERR_INVALID;
    }
    pg_http_server_route(t->http, "GET", "/metrics", serve_metrics, t);
    pg_http_server_route(t->http, "GET", "/healthz", serve_healthz, t);
    *out = t;
    return PG_OK;
}

int pg_telemetry_server_worker_start(pg_telemetry_server *t, pg_worker *w, pg_error *err)
{
    if (!t)
        return PG_OK;
    return pg_http_server_worker_start(t->http, w, err);
}

void pg_telemetry_server_worker_stop(pg_telemetry_server *t, pg_worker *w)
{
    if (t)
        pg_http_server_worker_stop(t->http, w);
}

void pg_telemetry_server_free(pg_telemetry_server *t)
{
    if (!t)
        return;
    pg_http_server_free(t->http);
    free(t);
}
