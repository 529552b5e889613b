#include "exporters/otlphttp/otlphttp_exporter.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/otlp/otlp_export.h"
#include "exporters/otlphttp/otlphttp_call.h"
#include "transport/compress.h"

#define CFG(field) offsetof(pg_otlphttp_exporter_config, field)

_Static_assert(offsetof(pg_otlphttp_exporter_config, delivery) == 0, "delivery first");

/* in pg_otlp_body_encoding and pg_compression order */
static const char *const encoding_values[] = {"proto", "json", NULL};
static const char *const compression_values[] = {"none", "gzip", "zstd", NULL};

static const pg_config_key otlphttp_keys[] = {
    PG_DELIVERY_CONFIG_KEYS,
    {.name = "profiles_endpoint",
     .type = PG_CFG_STRING,
     .offset = CFG(profiles_endpoint),
     .help = "full URL profiles are POSTed to (default: <endpoint>/v1development/profiles)"},
    {.name = "encoding",
     .type = PG_CFG_ENUM,
     .offset = CFG(encoding),
     .default_value = "proto",
     .enum_values = encoding_values,
     .help = "request body: proto (application/x-protobuf) or json (application/json)"},
    {.name = "compression",
     .type = PG_CFG_ENUM,
     .offset = CFG(compression),
     .default_value = "gzip",
     .enum_values = compression_values,
     .help = "Content-Encoding of every request: gzip, zstd or none"},
    PG_CONFIG_END,
};

typedef struct otlphttp_state {
    /* the delivery settings, with profiles_endpoint as the endpoint when set */
    pg_delivery_config delivery;
    const char *path;
} otlphttp_state;

static void otlphttp_validate(const void *config, pg_config_report *report,
                              const pg_config_node *node)
{
    const pg_otlphttp_exporter_config *c = config;
    pg_delivery_config_validate(&c->delivery, report, node);
    const char *pe = c->profiles_endpoint;
    if (pe && strncmp(pe, "http://", 7) != 0 && strncmp(pe, "https://", 8) != 0) {
        const pg_config_node *at = pg_config_map_get(node, "profiles_endpoint");
        pg_config_report_error(report, at ? at : node,
                               "profiles_endpoint must be a full URL (http:// or https://)");
    }
}

static pg_delivery_request *make_post(pg_component *self, const char *tenant, pg_otlp_body *body,
                                      pg_error *err)
{
    const pg_otlphttp_exporter_config *cfg = self->config;
    const otlphttp_state *hs = ((pg_otlp_export *)self->state)->exporter;
    pg_otlphttp_call call;
    if (pg_otlphttp_call_build((pg_otlp_body_encoding)cfg->encoding,
                               (pg_compression)cfg->compression, body->data, body->len, &call,
                               err) != PG_OK)
        return NULL;
    return pg_delivery_request_build(hs->path, call.content_type, tenant, body->profiles,
                                     call.headers, call.n_headers, call.body, call.len, err);
}

static int otlphttp_create(pg_component *self, pg_error *err)
{
    const pg_otlphttp_exporter_config *cfg = self->config;
    otlphttp_state *hs = calloc(1, sizeof(*hs));
    if (!hs)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    hs->delivery = cfg->delivery;
    hs->path = PG_OTLPHTTP_DEFAULT_PATH;
    if (cfg->profiles_endpoint) {
        /* a full URL of its own: the chain's target, with nothing appended */
        hs->delivery.endpoint = cfg->profiles_endpoint;
        hs->path = "";
    }
    pg_otlp_export_opts o = {
        .config = &hs->delivery,
        .http2 = 0,
        .classify = pg_otlphttp_classify,
        .encoding = (pg_otlp_body_encoding)cfg->encoding,
        .make = make_post,
        .exporter = hs,
    };
    int rc = pg_otlp_export_create(self, &o, err);
    if (rc != PG_OK)
        free(hs);
    return rc;
}

static void otlphttp_destroy(pg_component *self)
{
    free(pg_otlp_export_destroy(self));
}

const pg_component_def pg_otlphttp_exporter_def = {
    .type = "otlphttp",
    .kind = PG_KIND_EXPORTER,
    .description = "POSTs OTLP profiles (protobuf or JSON) to an OTLP/HTTP endpoint, one merged "
                   "request per batch and tenant, with queue, retries and per-attempt timeout",
    .config_keys = otlphttp_keys,
    .config_size = sizeof(pg_otlphttp_exporter_config),
    .validate = otlphttp_validate,
    .create = otlphttp_create,
    .start = pg_otlp_export_start,
    .worker_start = pg_otlp_export_worker_start,
    .consume = pg_otlp_export_consume,
    .worker_stop = pg_otlp_export_worker_stop,
    .shutdown = pg_otlp_export_shutdown,
    .destroy = otlphttp_destroy,
};
