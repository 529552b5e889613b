#include "exporters/otlp/otlp_exporter.h"

#include <stddef.h>
#include <stdlib.h>

#include "exporters/otlp/otlp_export.h"
#include "exporters/otlp/otlp_grpc.h"
#include "transport/compress.h"

_Static_assert(offsetof(pg_otlp_exporter_config, delivery) == 0, "delivery first");

/* in pg_compression order */
static const char *const compression_values[] = {"none", "gzip", "zstd", NULL};

static const pg_config_key otlp_keys[] = {
    PG_DELIVERY_CONFIG_KEYS,
    {.name = "compression",
     .type = PG_CFG_ENUM,
     .offset = offsetof(pg_otlp_exporter_config, compression),
     .default_value = "gzip",
     .enum_values = compression_values,
     .help = "grpc-encoding of every request message: gzip, zstd or none"},
    PG_CONFIG_END,
};

static void otlp_validate(const void *config, pg_config_report *report, const pg_config_node *node)
{
    const pg_otlp_exporter_config *c = config;
    pg_delivery_config_validate(&c->delivery, report, node);
}

static pg_delivery_request *make_call(pg_component *self, const char *tenant, pg_otlp_body *body,
                                      pg_error *err)
{
    const pg_otlp_exporter_config *cfg = self->config;
    pg_otlp_grpc_call call;
    if (pg_otlp_grpc_call_build((pg_compression)cfg->compression, cfg->delivery.timeout_ms,
                                body->data, body->len, &call, err) != PG_OK)
        return NULL;
    return pg_delivery_request_build(PG_OTLP_GRPC_PATH, "application/grpc", tenant, body->profiles,
                                     call.headers, call.n_headers, call.body, call.len, err);
}

static int otlp_create(pg_component *self, pg_error *err)
{
    const pg_otlp_exporter_config *cfg = self->config;
    pg_otlp_export_opts o = {
        .config = &cfg->delivery,
        .http2 = 1,
        .classify = pg_otlp_grpc_classify,
        .encoding = PG_OTLP_BODY_PROTO,
        .make = make_call,
    };
    return pg_otlp_export_create(self, &o, err);
}

static void otlp_destroy(pg_component *self)
{
    pg_otlp_export_destroy(self);
}

const pg_component_def pg_otlp_exporter_def = {
    .type = "otlp",
    .kind = PG_KIND_EXPORTER,
    .description = "sends OTLP profiles over gRPC (ProfilesService/Export), one merged request "
                   "per batch and tenant, with queue, retries and per-attempt timeout",
    .config_keys = otlp_keys,
    .config_size = sizeof(pg_otlp_exporter_config),
    .validate = otlp_validate,
    .create = otlp_create,
    .start = pg_otlp_export_start,
    .worker_start = pg_otlp_export_worker_start,
    .consume = pg_otlp_export_consume,
    .worker_stop = pg_otlp_export_worker_stop,
    .shutdown = pg_otlp_export_shutdown,
    .destroy = otlp_destroy,
};
