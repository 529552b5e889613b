#include "receivers/pyroscope/pyroscope_receiver.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "receivers/pyroscope/pyroscope_internal.h"

#define CFG(field) offsetof(pg_pyro_receiver_config, field)

static const pg_config_key tls_keys[] = {
    {.name = "cert_file",
     .type = PG_CFG_STRING,
     .offset = CFG(tls.cert_file),
     .help = "PEM certificate chain; enables TLS"},
    {.name = "key_file",
     .type = PG_CFG_STRING,
     .offset = CFG(tls.key_file),
     .help = "PEM private key for cert_file"},
    {.name = "client_ca_file",
     .type = PG_CFG_STRING,
     .offset = CFG(tls.client_ca_file),
     .help = "PEM CA bundle; when set, clients must present a certificate it signed"},
    PG_CONFIG_END,
};

static const pg_config_key pprof_keys[] = {
    {.name = "service_name",
     .type = PG_CFG_STRING,
     .offset = CFG(pprof.service_name),
     .help = "service_name of POST /v1/pprof uploads whose query does not give one"},
    PG_CONFIG_END,
};

static const pg_config_key auth_keys[] = PG_AUTH_CONFIG_KEYS(pg_pyro_receiver_config, auth);

static const pg_config_key pyroscope_keys[] = {
    {.name = "endpoint",
     .type = PG_CFG_ENDPOINT,
     .offset = CFG(endpoint),
     .default_value = "127.0.0.1:4040",
     .help = "host:port to listen on (HTTP/1.1 and h2c, or TLS with ALPN h2 and http/1.1)"},
    {.name = "max_request_body_size",
     .type = PG_CFG_SIZE,
     .offset = CFG(max_body_size),
     .default_value = "64MiB",
     .min = 1024,
     .max = (int64_t)1 << 31,
     .help = "largest request body on the wire, after Content-Encoding, and of an inflated pprof "
             "(413 above)"},
    {.name = "read_timeout",
     .type = PG_CFG_DURATION,
     .offset = CFG(read_timeout_ms),
     .default_value = "30s",
     .min = 100,
     .max = 3600000,
     .help = "a request (HTTP/2: some stream) must complete within this; the connection is "
             "closed otherwise"},
    {.name = "idle_timeout",
     .type = PG_CFG_DURATION,
     .offset = CFG(idle_timeout_ms),
     .default_value = "60s",
     .min = 100,
     .max = 86400000,
     .help = "a kept-alive connection with no request in flight is closed after this"},
    {.name = "max_header_size",
     .type = PG_CFG_SIZE,
     .offset = CFG(max_header_size),
     .default_value = "64KiB",
     .min = 1024,
     .max = 16777216,
     .help = "largest request header block (431 / RESOURCE_EXHAUSTED above)"},
    {.name = "max_concurrent_streams",
     .type = PG_CFG_INT,
     .offset = CFG(max_concurrent_streams),
     .default_value = "1000",
     .min = 1,
     .max = 100000,
     .help = "HTTP/2 streams a client may have open on one connection"},
    {.name = "tls",
     .type = PG_CFG_SECTION,
     .offset = CFG(tls.present),
     .children = tls_keys,
     .help = "serve HTTPS (ALPN h2 and http/1.1)"},
    {.name = "pprof",
     .type = PG_CFG_SECTION,
     .offset = CFG(pprof.present),
     .children = pprof_keys,
     .help = "settings of POST /v1/pprof"},
    {.name = "auth",
     .type = PG_CFG_SECTION,
     .offset = CFG(auth.present),
     .children = auth_keys,
     .help = PG_AUTH_HELP " (every route)"},
    PG_CONFIG_END,
};

static void pyroscope_validate(const void *config, pg_config_report *report,
                               const pg_config_node *node)
{
    const pg_pyro_receiver_config *c = config;
    if (c->tls.present && (!c->tls.cert_file || !c->tls.key_file))
        pg_config_report_error(report, node, "tls needs both cert_file and key_file");
    pg_auth_config_validate(&c->auth, report, node);
}

static int pyroscope_create(pg_component *self, pg_error *err)
{
    const pg_pyro_receiver_config *cfg = self->config;
    pg_pyro_receiver *r = calloc(1, sizeof(*r));
    if (!r)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    r->self = self;
    r->cfg = cfg;
    self->state = r;
    if (pg_auth_new(&cfg->auth, self->id, &r->auth, err) != PG_OK)
        return err->code;
    pg_receiver_counters_init(&r->ingest, self->id, "ingest");
    pg_receiver_counters_init(&r->push, self->id, "push");
    pg_receiver_counters_init(&r->pprof, self->id, "pprof");

    pg_http_server_config hc;
    memset(&hc, 0, sizeof(hc));
    hc.endpoint = cfg->endpoint;
    hc.max_body_bytes = cfg->max_body_size;
    hc.max_decompressed_bytes = cfg->max_body_size;
    hc.idle_timeout_ms = cfg->idle_timeout_ms;
    hc.read_timeout_ms = cfg->read_timeout_ms;
    hc.max_header_bytes = cfg->max_header_size;
    hc.max_concurrent_streams = (uint32_t)cfg->max_concurrent_streams;
    if (cfg->tls.present) {
        hc.tls.cert_file = cfg->tls.cert_file;
        hc.tls.key_file = cfg->tls.key_file;
        hc.tls.client_ca_file = cfg->tls.client_ca_file;
    }
    char scope[160];
    snprintf(scope, sizeof(scope), "receiver/%s", self->id);
    hc.log_scope = scope; /* the server copies what it keeps */
    hc.error_style = PG_HTTP_ERRORS_JSON;
    if (!(r->server = pg_http_server_new(&hc, err)))
        return err->code ? err->code : PG_ERR_INVALID;
    static const char push_path[] = "/push.v1.PusherService/Push";
    if (pg_http_server_route(r->server, "POST", "/ingest", pg_pyro_ingest_handler, r) ||
        pg_http_server_route(r->server, "POST", "/pyroscope/ingest", pg_pyro_ingest_handler, r) ||
        pg_http_server_route(r->server, "POST", "/v1/pprof", pg_pyro_pprof_handler, r) ||
        pg_http_server_route(r->server, "POST", push_path, pg_pyro_push_http_handler, r) ||
        pg_http_server_grpc_route(r->server, push_path, pg_pyro_push_grpc_handler, r))
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory registering routes");
    return PG_OK;
}

static int pyroscope_worker_start(pg_component *self, pg_worker *w, pg_error *err)
{
    pg_pyro_receiver *r = self->state;
    if (pg_http_server_worker_start(r->server, w, err) != PG_OK)
        return err->code ? err->code : PG_ERR_IO;
    if (w->id == 0)
        PG_CLOG(self, PG_LOG_INFO, "Pyroscope ingest, push and pprof APIs listening on %s",
                r->cfg->endpoint);
    return PG_OK;
}

static void pyroscope_worker_stop(pg_component *self, pg_worker *w)
{
    pg_pyro_receiver *r = self->state;
    if (r->server)
        pg_http_server_worker_stop(r->server, w);
}

static void pyroscope_destroy(pg_component *self)
{
    pg_pyro_receiver *r = self->state;
    if (!r)
        return;
    pg_http_server_free(r->server);
    pg_auth_free(r->auth);
    free(r);
    self->state = NULL;
}

const pg_component_def pg_pyroscope_receiver_def = {
    .type = "pyroscope",
    .kind = PG_KIND_RECEIVER,
    .description = "Pyroscope /ingest, push API (Connect, gRPC, gRPC-Web) and POST /v1/pprof",
    .config_keys = pyroscope_keys,
    .config_size = sizeof(pg_pyro_receiver_config),
    .validate = pyroscope_validate,
    .create = pyroscope_create,
    .worker_start = pyroscope_worker_start,
    .worker_stop = pyroscope_worker_stop,
    .destroy = pyroscope_destroy,
};
