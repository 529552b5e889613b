#include "processors/sample/sample.h"

#include <stddef.h>
#include <stdlib.h>

#include "processors/sample/sample_internal.h"
#include "processors/sample/sample_state.h"

#define CFG(field) offsetof(pg_sample_processor_config, field)

static const char *const action_values[] = {"drop", "refuse", NULL};

#define RATE_KEYS(section)                                                                         \
    {.name = "profiles_per_second",                                                                \
     .type = PG_CFG_FLOAT,                                                                         \
     .offset = CFG(section.profiles_per_second),                                                   \
     .default_value = "0",                                                                         \
     .fmin = 0,                                                                                    \
     .fmax = 1e9,                                                                                  \
     .help = "profiles per second; 0 = not limited"},                                              \
        {.name = "bytes_per_second",                                                               \
         .type = PG_CFG_SIZE,                                                                      \
         .offset = CFG(section.bytes_per_second),                                                  \
         .default_value = "0",                                                                     \
         .min = 0,                                                                                 \
         .max = (int64_t)1 << 40,                                                                  \
         .help = "payload bytes per second, e.g. 16MiB; 0 = not limited"},                         \
        PG_CONFIG_END

static const pg_config_key tenant_rate_keys[] = {RATE_KEYS(per_tenant)};
static const pg_config_key service_rate_keys[] = {RATE_KEYS(per_service)};

static const pg_config_key rate_limit_keys[] = {
    {.name = "action",
     .type = PG_CFG_ENUM,
     .offset = CFG(action),
     .default_value = "drop",
     .enum_values = action_values,
     .help = "over the limit: drop the profile, or refuse the whole batch (429 / "
             "RESOURCE_EXHAUSTED with a retry delay)"},
    {.name = "burst",
     .type = PG_CFG_DURATION,
     .offset = CFG(burst_ms),
     .default_value = "1s",
     .min = 1,
     .max = 3600000,
     .help = "bucket capacity, as time at the configured rate"},
    {.name = "max_keys",
     .type = PG_CFG_INT,
     .offset = CFG(max_keys),
     .default_value = "10000",
     .min = 1,
     .max = 1000000,
     .help = "keys (tenants, services) with a bucket of their own per limit; later keys share "
             "one overflow bucket"},
    {.name = "per_tenant",
     .type = PG_CFG_SECTION,
     .offset = CFG(per_tenant.present),
     .children = tenant_rate_keys,
     .help = "limit per tenant"},
    {.name = "per_service",
     .type = PG_CFG_SECTION,
     .offset = CFG(per_service.present),
     .children = service_rate_keys,
     .help = "limit per tenant and service_name label"},
    PG_CONFIG_END,
};

static const pg_config_key sample_keys[] = {
    {.name = "probability",
     .type = PG_CFG_FLOAT,
     .offset = CFG(probability),
     .default_value = "1",
     .fmin = 0,
     .fmax = 1,
     .help = "share of series kept (a series is the tenant plus the label set)"},
    {.name = "hash_seed",
     .type = PG_CFG_INT,
     .offset = CFG(hash_seed),
     .default_value = "0",
     .help = "seed of the series hash; another seed keeps other series"},
    {.name = "rate_limit",
     .type = PG_CFG_SECTION,
     .offset = CFG(rate_limit_present),
     .children = rate_limit_keys,
     .help = "token buckets per tenant and per service, shared by all workers"},
    PG_CONFIG_END,
};

static int rates_set(const pg_sample_rates *r)
{
    return r->profiles_per_second > 0 || r->bytes_per_second > 0;
}

static void sample_validate(const void *config, pg_config_report *report,
                            const pg_config_node *node)
{
    const pg_sample_processor_config *c = config;
    const pg_config_node *rl = pg_config_map_get(node, "rate_limit");
    if (c->rate_limit_present && !rates_set(&c->per_tenant) && !rates_set(&c->per_service))
        pg_config_report_error(report, rl ? rl : node,
                               "rate_limit sets no rate: give per_tenant or per_service a "
                               "profiles_per_second or bytes_per_second above 0");
    if (!c->rate_limit_present && c->probability >= 1.0)
        pg_config_report_warning(report, node,
                                 "sample keeps everything: probability is 1 and there is no "
                                 "rate_limit");
}

static int sample_create(pg_component *self, pg_error *err)
{
    const pg_sample_processor_config *cfg = self->config;
    sample_state *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    st->limiting =
        cfg->rate_limit_present && (rates_set(&cfg->per_tenant) || rates_set(&cfg->per_service));
    if (st->limiting && pg_rate_limiter_init(&st->rl, cfg) != PG_OK) {
        free(st);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory for %lld rate limit keys",
                            (long long)cfg->max_keys);
    }
    pg_sample_metrics_init(self, st);
    self->state = st;
    return PG_OK;
}

static void sample_destroy(pg_component *self)
{
    sample_state *st = self->state;
    if (!st)
        return;
    if (st->limiting)
        pg_rate_limiter_free(&st->rl);
    free(st);
    self->state = NULL;
}

void pg_sample_set_clock(pg_component *self, pg_rl_clock now_ns, void *ud)
{
    sample_state *st = self->state;
    st->rl.now_ns = now_ns;
    st->rl.clock_ud = ud;
}

const pg_component_def pg_sample_processor_def = {
    .type = "sample",
    .kind = PG_KIND_PROCESSOR,
    .description = "keeps a share of the series (consistent hash) and rate-limits tenants and "
                   "services (drop or refuse with 429)",
    .config_keys = sample_keys,
    .config_size = sizeof(pg_sample_processor_config),
    .mutates_data = 1,
    .validate = sample_validate,
    .create = sample_create,
    .consume = pg_sample_consume,
    .destroy = sample_destroy,
};
