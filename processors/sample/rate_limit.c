#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/hash.h"
#include "processors/sample/sample_internal.h"

/* Distinct seeds keep a tenant's key and a service key from meeting in one
 * slot by construction. */
#define TENANT_SEED  0x74656e616e74ull
#define SERVICE_SEED 0x736572766963ull

static uint64_t monotonic_ns(void *ud)
{
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_rates(pg_rate_limiter *rl, int limit, const pg_sample_rates *r)
{
    rl->limit[limit].rate[PG_GCRA_PROFILES] = r->profiles_per_second;
    rl->limit[limit].rate[PG_GCRA_BYTES] = (double)r->bytes_per_second;
    rl->limit[limit].enabled = r->profiles_per_second > 0 || r->bytes_per_second > 0;
}

int pg_rate_limiter_init(pg_rate_limiter *rl, const pg_sample_processor_config *cfg)
{
    memset(rl, 0, sizeof(*rl));
    rl->burst_ns = cfg->burst_ms * 1000000u;
    rl->now_ns = monotonic_ns;
    set_rates(rl, PG_RL_TENANT, &cfg->per_tenant);
    set_rates(rl, PG_RL_SERVICE, &cfg->per_service);
    for (int l = 0; l < PG_RL_LIMITS; l++) {
        if (!rl->limit[l].enabled)
            continue;
        if (pg_gcra_table_init(&rl->limit[l].table, (size_t)cfg->max_keys) != PG_OK) {
            pg_rate_limiter_free(rl);
            return PG_ERR_NOMEM;
        }
    }
    return PG_OK;
}

void pg_rate_limiter_free(pg_rate_limiter *rl)
{
    for (int l = 0; l < PG_RL_LIMITS; l++)
        pg_gcra_table_free(&rl->limit[l].table);
}

void pg_rate_limiter_refund(const pg_rl_ticket *ticket)
{
    for (int i = ticket->n; i-- > 0;)
        pg_gcra_refund(ticket->take[i].tat, ticket->take[i].cost);
}

static uint64_t key_hash(int limit, const char *tenant, const char *service)
{
    uint64_t h = pg_hash_bytes(tenant, strlen(tenant), TENANT_SEED);
    if (limit == PG_RL_SERVICE)
        h = pg_hash_bytes(service, strlen(service), h ^ SERVICE_SEED);
    return h;
}

int pg_rate_limiter_admit(pg_rate_limiter *rl, const char *tenant, const char *service,
                          double bytes, pg_rl_ticket *ticket, pg_rl_denial *why, int *overflowed)
{
    const double units[PG_GCRA_DIMS] = {1.0, bytes};
    uint64_t now = rl->now_ns(rl->clock_ud);
    ticket->n = 0;
    *overflowed = 0;
    tenant = tenant ? tenant : "";
    service = service ? service : "";
    for (int l = 0; l < PG_RL_LIMITS; l++) {
        if (!rl->limit[l].enabled)
            continue;
        int over = 0;
        pg_gcra_slot *slot =
            pg_gcra_table_get(&rl->limit[l].table, key_hash(l, tenant, service), &over);
        if (over)
            *overflowed |= 1 << l;
        for (int d = 0; d < PG_GCRA_DIMS; d++) {
            double rate = rl->limit[l].rate[d];
            if (rate <= 0)
                continue;
            uint64_t cost = pg_gcra_cost_ns(units[d], rate), wait = 0;
            if (!pg_gcra_take(&slot->tat[d], now, cost, rl->burst_ns, &wait)) {
                pg_rate_limiter_refund(ticket);
                ticket->n = 0;
                why->limit = l;
                why->dim = d;
                why->wait_ns = wait;
                return 0;
            }
            ticket->take[ticket->n].tat = &slot->tat[d];
            ticket->take[ticket->n].cost = cost;
            ticket->n++;
        }
    }
    return 1;
}
