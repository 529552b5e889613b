#include "receivers/otlp/otlp_receiver.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "receivers/otlp/otlp_ingest.h"
#include "model/otlp_status.h"
#include "transport/http_server.h"

#define CFG(field) offsetof(pg_otlp_receiver_config, field)

#define TLS_KEYS(proto)                                                                            \
    {                                                                                              \
        {.name = "cert_file",                                                                      \
         .type = PG_CFG_STRING,                                                                    \
         .offset = CFG(proto.tls.cert_file),                                                       \
         .help = "PEM certificate chain; enables TLS"},                                            \
            {.name = "key_file",                                                                   \
             .type = PG_CFG_STRING,                                                                \
             .offset = CFG(proto.tls.key_file),                                                    \
             .help = "PEM private key for cert_file"},                                             \
            {.name = "client_ca_file",                                                             \
             .type = PG_CFG_STRING,                                                                \
             .offset = CFG(proto.tls.client_ca_file),                                              \
             .help = "PEM CA bundle; when set, clients must present a certificate it signed"},     \
            PG_CONFIG_END                                                                          \
    }

static const pg_config_key grpc_tls_keys[] = TLS_KEYS(grpc);
static const pg_config_key http_tls_keys[] = TLS_KEYS(http);

/* Connection limits both transports share; proto is the config field (grpc or http). */
#define CONNECTION_KEYS(proto)                                                                     \
    {.name = "read_timeout",                                                                       \
     .type = PG_CFG_DURATION,                                                                      \
     .offset = CFG(proto.read_timeout_ms),                                                         \
     .default_value = "30s",                                                                       \
     .min = 100,                                                                                   \
     .max = 3600000,                                                                               \
     .help = "a request (HTTP/2: some stream) must complete within this; the connection is "       \
             "closed otherwise"},                                                                  \
        {.name = "idle_timeout",                                                                   \
         .type = PG_CFG_DURATION,                                                                  \
         .offset = CFG(proto.idle_timeout_ms),                                                     \
         .default_value = "60s",                                                                   \
         .min = 100,                                                                               \
         .max = 86400000,                                                                          \
         .help = "a kept-alive connection with no request in flight is closed after this"},        \
        {.name = "max_header_size",                                                                \
         .type = PG_CFG_SIZE,                                                                      \
         .offset = CFG(proto.max_header_size),                                                     \
         .default_value = "64KiB",                                                                 \
         .min = 1024,                                                                              \
         .max = 16777216,                                                                          \
         .help = "largest request header block (431 / RESOURCE_EXHAUSTED above)"},                 \
    {                                                                                              \
        .name = "max_concurrent_streams", .type = PG_CFG_INT,                                      \
        .offset = CFG(proto.max_concurrent_streams), .default_value = "1000", .min = 1,            \
        .max = 100000, .help = "HTTP/2 streams a client may have open on one connection"           \
    }

static const pg_config_key grpc_keys[] = {
    {.name = "endpoint",
     .type = PG_CFG_ENDPOINT,
     .offset = CFG(grpc.endpoint),
     .default_value = "127.0.0.1:4317",
     .help = "host:port to listen on"},
    {.name = "max_recv_msg_size",
     .type = PG_CFG_SIZE,
     .offset = CFG(grpc.max_body_size),
     .default_value = "64MiB",
     .min = 1024,
     .max = (int64_t)1 << 31,
     .help =
         "largest request message, compressed and after decompression (RESOURCE_EXHAUSTED above)"},
    CONNECTION_KEYS(grpc),
    {.name = "tls",
     .type = PG_CFG_SECTION,
     .offset = CFG(grpc.tls.present),
     .children = grpc_tls_keys,
     .help = "serve gRPC over TLS (ALPN h2)"},
    PG_CONFIG_END,
};

static const pg_config_key http_keys[] = {
    {.name = "endpoint",
     .type = PG_CFG_ENDPOINT,
     .offset = CFG(http.endpoint),
     .default_value = "127.0.0.1:4318",
     .help = "host:port to listen on"},
    {.name = "max_request_body_size",
     .type = PG_CFG_SIZE,
     .offset = CFG(http.max_body_size),
     .default_value = "64MiB",
     .min = 1024,
     .max = (int64_t)1 << 31,
     .help = "largest request body, compressed and after decompression (413 above)"},
    CONNECTION_KEYS(http),
    {.name = "tls",
     .type = PG_CFG_SECTION,
     .offset = CFG(http.tls.present),
     .children = http_tls_keys,
     .help = "serve HTTPS (ALPN h2 and http/1.1)"},
    PG_CONFIG_END,
};

static const pg_config_key protocol_keys[] = {
    {.name = "grpc",
     .type = PG_CFG_SECTION,
     .offset = CFG(grpc.present),
     .children = grpc_keys,
     .help = "OTLP/gRPC (HTTP/2, h2c or TLS)"},
    {.name = "http",
     .type = PG_CFG_SECTION,
     .offset = CFG(http.present),
     .children = http_keys,
     .help = "OTLP/HTTP (HTTP/1.1 and HTTP/2 on one port)"},
    PG_CONFIG_END,
};

static const pg_config_key auth_keys[] = PG_AUTH_CONFIG_KEYS(pg_otlp_receiver_config, auth);

static const pg_config_key otlp_keys[] = {
    {.name = "protocols",
     .type = PG_CFG_SECTION,
     .offset = CFG(protocols_present),
     .children = protocol_keys,
     .required = true,
     .help = "which OTLP transports to serve; at least one of grpc and http"},
    {.name = "auth",
     .type = PG_CFG_SECTION,
     .offset = CFG(auth.present),
     .children = auth_keys,
     .help = PG_AUTH_HELP " (both transports)"},
    PG_CONFIG_END,
};

static void validate_tls(const pg_otlp_tls_config *tls, const char *proto, pg_config_report *report,
                         const pg_config_node *node)
{
    if (!tls->present)
        return;
    if (!tls->cert_file || !tls->key_file)
        pg_config_report_error(report, node, "protocols.%s.tls needs both cert_file and key_file",
                               proto);
}

static void otlp_validate(const void *config, pg_config_report *report, const pg_config_node *node)
{
    const pg_otlp_receiver_config *c = config;
    if (!c->grpc.present && !c->http.present)
        pg_config_report_error(
            report, node, "receiver otlp needs at least one of protocols.grpc and protocols.http");
    validate_tls(&c->grpc.tls, "grpc", report, node);
    validate_tls(&c->http.tls, "http", report, node);
    pg_auth_config_validate(&c->auth, report, node);
}

typedef struct otlp_receiver {
    pg_component *self;
    pg_http_server *grpc_server, *http_server;
    pg_otlp_counters grpc_counters, http_counters;
    pg_auth *auth; /* NULL: no authentication */
} otlp_receiver;

/* Runs before the body is decoded; a refusal is counted as a failed request
 * of the transport (and by reason, in pg_auth_check_request). */
static int authorize(otlp_receiver *r, pg_otlp_counters *c, const pg_http_request *req,
                     pg_otlp_tenants *t, pg_auth_result *res)
{
    if (pg_auth_check_request(r->auth, req, res) != PG_AUTH_OK) {
        pg_metric_add(c->requests_failed, 1);
        pg_metric_add(c->refused_bytes, (int64_t)req->body_len);
        return -1;
    }
    t->auth_tenant = res->auth_tenant;
    t->header_tenant = res->header_tenant;
    return 0;
}

static void grpc_export(void *ctx, pg_http_request *req, pg_grpc_response *resp)
{
    otlp_receiver *r = ctx;
    const pg_otlp_receiver_config *cfg = r->self->config;
    pg_otlp_tenants t;
    pg_auth_result ar;
    if (authorize(r, &r->grpc_counters, req, &t, &ar) != 0) {
        resp->status = pg_auth_grpc_status(ar.status);
        resp->message = pg_arena_strdup(req->arena, ar.message);
        return;
    }
    pg_otlp_outcome o;
    pg_otlp_ingest(r->self, &r->grpc_counters, req->worker, PG_OTLP_PROTO, req->body, req->body_len,
                   cfg->grpc.max_body_size, &t, &o);
    resp->status = o.grpc_status;
    if (o.grpc_status != PG_GRPC_OK) {
        resp->message = pg_arena_strdup(req->arena, o.message);
        return;
    }
    pg_otlp_export_response_pack(o.rejected_profiles, o.message, &resp->body);
}

/* "application/json; charset=utf-8" -> JSON; parameters are ignored. */
static int content_type_encoding(const char *ct, pg_otlp_encoding *enc)
{
    if (!ct)
        return -1;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if ((n == 22 && strncasecmp(ct, "application/x-protobuf", n) == 0) ||
        (n == 20 && strncasecmp(ct, "application/protobuf", n) == 0)) {
        *enc = PG_OTLP_PROTO;
        return 0;
    }
    if (n == 16 && strncasecmp(ct, "application/json", n) == 0) {
        *enc = PG_OTLP_JSON;
        return 0;
    }
    return -1;
}

/* 401 / 403 as a Status in the request's encoding (plain text when the
 * content type is not one of OTLP's), with the challenges on a 401. */
static void http_auth_refusal(otlp_receiver *r, pg_http_request *req, pg_http_response *resp,
                              const pg_auth_result *ar)
{
    pg_otlp_encoding enc;
    resp->status = pg_auth_http_status(ar->status);
    if (ar->status == PG_AUTH_UNAUTHENTICATED)
        pg_auth_add_challenges(r->auth, req, resp);
    if (content_type_encoding(pg_http_request_header(req, "content-type"), &enc) != 0) {
        resp->content_type = "text/plain; charset=utf-8";
        pg_buf_printf(&resp->body, "%s\n", ar->message);
    } else if (enc == PG_OTLP_JSON) {
        resp->content_type = "application/json";
        pg_rpc_status_json(pg_auth_grpc_status(ar->status), ar->message, &resp->body);
    } else {
        resp->content_type = "application/x-protobuf";
        pg_rpc_status_pack(pg_auth_grpc_status(ar->status), ar->message, &resp->body);
    }
}

static void http_export(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    otlp_receiver *r = ctx;
    const pg_otlp_receiver_config *cfg = r->self->config;
    pg_otlp_tenants t;
    pg_auth_result ar;
    if (authorize(r, &r->http_counters, req, &t, &ar) != 0) {
        http_auth_refusal(r, req, resp, &ar);
        return;
    }
    const char *ct = pg_http_request_header(req, "content-type");
    pg_otlp_encoding enc;
    if (content_type_encoding(ct, &enc) != 0) {
        pg_metric_add(r->http_counters.requests_failed, 1);
        resp->status = 415;
        resp->content_type = "text/plain; charset=utf-8";
        pg_buf_printf(&resp->body,
                      "unsupported content type '%s': use application/x-protobuf or "
                      "application/json\n",
                      ct ? ct : "(none)");
        return;
    }
    pg_otlp_outcome o;
    pg_otlp_ingest(r->self, &r->http_counters, req->worker, enc, req->body, req->body_len,
                   cfg->http.max_body_size, &t, &o);
    int json = enc == PG_OTLP_JSON;
    resp->status = o.http_status;
    resp->content_type = json ? "application/json" : "application/x-protobuf";
    if (o.http_status == 200) {
        if (json)
            pg_otlp_export_response_json(o.rejected_profiles, o.message, &resp->body);
        else
            pg_otlp_export_response_pack(o.rejected_profiles, o.message, &resp->body);
        return;
    }
    if (o.retry_after_s && (o.http_status == 429 || o.http_status == 503)) {
        char *v = pg_arena_sprintf(req->arena, "%u", o.retry_after_s);
        if (v)
            pg_http_response_add_header(req, resp, "retry-after", v);
    }
    if (json)
        pg_rpc_status_json(o.grpc_status, o.message, &resp->body);
    else
        pg_rpc_status_pack(o.grpc_status, o.message, &resp->body);
}

static pg_http_server *server_new(otlp_receiver *r, const pg_otlp_protocol_config *p,
                                  const char *scope_suffix, pg_error *err)
{
    pg_http_server_config hc;
    memset(&hc, 0, sizeof(hc));
    hc.endpoint = p->endpoint;
    hc.max_body_bytes = p->max_body_size;
    hc.max_decompressed_bytes = p->max_body_size;
    hc.idle_timeout_ms = p->idle_timeout_ms;
    hc.read_timeout_ms = p->read_timeout_ms;
    hc.max_header_bytes = p->max_header_size;
    hc.max_concurrent_streams = (uint32_t)p->max_concurrent_streams;
    if (p->tls.present) {
        hc.tls.cert_file = p->tls.cert_file;
        hc.tls.key_file = p->tls.key_file;
        hc.tls.client_ca_file = p->tls.client_ca_file;
    }
    char *scope = malloc(strlen(r->self->id) + 32);
    if (!scope) {
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sprintf(scope, "receiver/%s/%s", r->self->id, scope_suffix);
    hc.log_scope = scope; /* the server copies what it keeps */
    pg_http_server *s = pg_http_server_new(&hc, err);
    free(scope);
    return s;
}

static int otlp_create(pg_component *self, pg_error *err)
{
    const pg_otlp_receiver_config *cfg = self->config;
    otlp_receiver *r = calloc(1, sizeof(*r));
    if (!r)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    r->self = self;
    self->state = r;
    if (pg_auth_new(&cfg->auth, self->id, &r->auth, err) != PG_OK)
        return err->code;
    if (cfg->grpc.present) {
        pg_receiver_counters_init(&r->grpc_counters, self->id, "grpc");
        if (!(r->grpc_server = server_new(r, &cfg->grpc, "grpc", err)))
            return err->code ? err->code : PG_ERR_INVALID;
        pg_http_server_grpc_route(
            r->grpc_server,
            "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export",
            grpc_export, r);
    }
    if (cfg->http.present) {
        pg_receiver_counters_init(&r->http_counters, self->id, "http");
        if (!(r->http_server = server_new(r, &cfg->http, "http", err)))
            return err->code ? err->code : PG_ERR_INVALID;
        pg_http_server_route(r->http_server, "POST", "/v1development/profiles", http_export, r);
    }
    return PG_OK;
}

static int otlp_worker_start(pg_component *self, pg_worker *w, pg_error *err)
{
    otlp_receiver *r = self->state;
    if (r->grpc_server && pg_http_server_worker_start(r->grpc_server, w, err) != PG_OK)
        return err->code ? err->code : PG_ERR_IO;
    if (r->http_server && pg_http_server_worker_start(r->http_server, w, err) != PG_OK)
        return err->code ? err->code : PG_ERR_IO;
    if (w->id == 0) {
        const pg_otlp_receiver_config *cfg = self->config;
        if (r->grpc_server)
            PG_CLOG(self, PG_LOG_INFO, "OTLP/gRPC listening on %s", cfg->grpc.endpoint);
        if (r->http_server)
            PG_CLOG(self, PG_LOG_INFO, "OTLP/HTTP listening on %s", cfg->http.endpoint);
    }
    return PG_OK;
}

static void otlp_worker_stop(pg_component *self, pg_worker *w)
{
    otlp_receiver *r = self->state;
    if (r->grpc_server)
        pg_http_server_worker_stop(r->grpc_server, w);
    if (r->http_server)
        pg_http_server_worker_stop(r->http_server, w);
}

static void otlp_destroy(pg_component *self)
{
    otlp_receiver *r = self->state;
    if (!r)
        return;
    pg_http_server_free(r->grpc_server);
    pg_http_server_free(r->http_server);
    pg_auth_free(r->auth);
    free(r);
    self->state = NULL;
}

const pg_component_def pg_otlp_receiver_def = {
    .type = "otlp",
    .kind = PG_KIND_RECEIVER,
    .description = "OTLP profiles over gRPC and HTTP (protobuf and JSON)",
    .config_keys = otlp_keys,
    .config_size = sizeof(pg_otlp_receiver_config),
    .validate = otlp_validate,
    .create = otlp_create,
    .worker_start = otlp_worker_start,
    .worker_stop = otlp_worker_stop,
    .destroy = otlp_destroy,
};
