/*
 * The `service` section apart from pipelines: applied with an ordinary key
 * table over a private struct that wraps pg_service_config, so that the
 * nested sections have somewhere to keep their present flags.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/apply.h"
#include "config/load.h"
#include "config/load_state.h"
#include "config/values.h"

typedef struct service_typed {
    pg_service_config svc;
    int telemetry, logs, metrics; /* section present flags */
} service_typed;

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

static const pg_config_key logs_keys[] = {
    {.name = "level",
     .type = PG_CFG_ENUM,
     .offset = offsetof(service_typed, svc.log_level),
     .default_value = "info",
     .enum_values = log_levels,
     .help = "Lowest level written to stderr."},
    PG_CONFIG_END,
};

static const pg_config_key metrics_keys[] = {
    {.name = "address",
     .type = PG_CFG_STRING,
     .offset = offsetof(service_typed, svc.metrics_address),
     .default_value = "127.0.0.1:8888",
     .help = "host:port of the Prometheus /metrics listener; \"none\" disables it."},
    PG_CONFIG_END,
};

static const pg_config_key telemetry_keys[] = {
    {.name = "logs",
     .type = PG_CFG_SECTION,
     .offset = offsetof(service_typed, logs),
     .children = logs_keys,
     .help = "The gateway's own log."},
    {.name = "metrics",
     .type = PG_CFG_SECTION,
     .offset = offsetof(service_typed, metrics),
     .children = metrics_keys,
     .help = "The gateway's own metrics."},
    PG_CONFIG_END,
};

static const pg_config_key service_keys[] = {
    {.name = "workers",
     .type = PG_CFG_INT,
     .offset = offsetof(service_typed, svc.workers),
     .default_value = "0",
     .min = 0,
     .max = 256,
     .help = "Event-loop threads; 0 = one per CPU."},
    {.name = "shutdown_timeout",
     .type = PG_CFG_DURATION,
     .offset = offsetof(service_typed, svc.shutdown_timeout_ms),
     .default_value = "10s",
     .help = "How long shutdown may take to drain accepted data."},
    {.name = "telemetry",
     .type = PG_CFG_SECTION,
     .offset = offsetof(service_typed, telemetry),
     .children = telemetry_keys,
     .help = "The gateway's own logs and metrics."},
    PG_CONFIG_END,
};

const pg_config_key *pg_config_service_keys(void)
{
    return service_keys;
}

static void check_metrics_address(pg_load *l, const pg_config_node *service, const char *addr)
{
    const pg_config_node *metrics =
        pg_config_map_get(pg_config_map_get(service, "telemetry"), "metrics");
    const pg_config_node *at = pg_config_map_get(metrics, "address");
    char host[256];
    int port;
    const char *why = "invalid";
    if (!at || at->kind == PG_NODE_NULL)
        at = metrics && metrics->kind != PG_NODE_NULL ? metrics : (service ? service : l->root);
    if (!addr || !*addr || strcmp(addr, "none") == 0)
        return;
    if (pg_config_parse_endpoint(addr, host, sizeof(host), &port, &why) != 0) {
        pg_config_report_error(l->report, at,
                               "service.telemetry.metrics.address: invalid endpoint '%s': %s "
                               "(use host:port or \"none\")",
                               addr, why);
        return;
    }
    pg_load_add_listener(l, addr, "service.telemetry.metrics.address", at, SIZE_MAX);
}

void pg_load_service(pg_load *l, const pg_config_node *service)
{
    static const char *const extra[] = {"pipelines", NULL};
    pg_config_apply_ctx ctx = {
        .arena = l->arena, .report = l->report, .path_prefix = "service", .extra_keys = extra};
    service_typed t;
    memset(&t, 0, sizeof(t));
    pg_config_apply(&ctx, service_keys, &t, service, service ? service : l->root);
    l->cfg->service = t.svc;
    check_metrics_address(l, service, t.svc.metrics_address);
}
