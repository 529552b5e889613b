/* routing: picking a route per profile and sending the sub-batches. */
#include <stdlib.h>
#include <string.h>

#include "processors/routing/routing_internal.h"
#include "telemetry/log.h"

static int tenant_listed(const routing_rule *r, const char *tenant)
{
    for (size_t i = 0; i < r->n_tenants; i++)
        if (strcmp(r->tenants[i], tenant ? tenant : "") == 0)
            return 1;
    return 0;
}

size_t pg_routing_pick(const routing_state *st, const pg_profile *p)
{
    for (size_t i = 0; i < st->n_rules; i++) {
        const routing_rule *r = &st->rules[i];
        if (r->n_tenants && !tenant_listed(r, p->tenant))
            continue;
        if (r->match && !pg_selector_match(r->match, p))
            continue;
        return r->set;
    }
    return st->default_set;
}

/* Sends sub to every exporter of set s and folds the answers into res. */
static void send_set(pg_component *self, pg_worker *w, size_t s, pg_batch *sub,
                     pg_consume_result *res)
{
    routing_state *st = self->state;
    const routing_set *set = &st->sets[s];
    uint32_t rejected = 0;
    for (size_t k = 0; k < set->n; k++) {
        const pg_pipeline_exporter *e = &self->pipeline_exporters[set->exporters[k]];
        pg_consume_result one;
        pg_consume_result_init(&one);
        pg_consumer_send(&e->consumer, w, sub, &one);
        pg_metric_add(st->routed[set->exporters[k]], (int64_t)sub->count);
        if (one.status != PG_CONSUME_OK)
            pg_consume_fail(res, one.status, "exporter %s: %s", e->id, one.msg);
        if (one.rejected > rejected)
            rejected = one.rejected;
        if (one.retry_after_ms > res->retry_after_ms)
            res->retry_after_ms = one.retry_after_ms;
    }
    /* a profile refused by any exporter of its set counts once */
    res->rejected += rejected;
}

/* The profiles of b routed to set s, as a batch of their own. */
static pg_batch *sub_batch(const pg_batch *b, const size_t *pick, size_t s)
{
    pg_batch *sub = pg_batch_new();
    for (size_t i = 0; sub && i < b->count; i++)
        if (pick[i] == s && !pg_batch_append_copy(sub, &b->profiles[i])) {
            pg_batch_free(sub);
            return NULL;
        }
    return sub;
}

static void log_dropped(pg_component *self, size_t n, const pg_batch *b, const size_t *pick)
{
    routing_state *st = self->state;
    pg_metric_add(st->no_route, (int64_t)n);
    uint64_t skipped;
    if (!pg_log_throttle_allow(&st->throttle, &skipped))
        return;
    const pg_profile *example = NULL;
    for (size_t i = 0; !example && i < b->count; i++)
        if (pick[i] == ROUTING_NO_SET)
            example = &b->profiles[i];
    const char *svc = pg_profile_label(example, "service_name");
    PG_CLOG(self, PG_LOG_WARN,
            "dropped %zu profiles that no route matches and there are no default_exporters "
            "(e.g. tenant '%s', service_name '%s'; %llu similar lines suppressed)",
            n, example->tenant ? example->tenant : "", svc ? svc : "", (unsigned long long)skipped);
}

/* pick[i] (the set of profile i) and count[s] (profiles per set) in one block. */
static size_t *plan(const routing_state *st, const pg_batch *b, size_t **count, size_t *dropped)
{
    size_t *pick = calloc(b->count + st->n_sets + 1, sizeof(*pick));
    if (!pick)
        return NULL;
    *count = pick + b->count;
    *dropped = 0;
    for (size_t i = 0; i < b->count; i++) {
        pick[i] = pg_routing_pick(st, &b->profiles[i]);
        if (pick[i] == ROUTING_NO_SET)
            (*dropped)++;
        else
            (*count)[pick[i]]++;
    }
    return pick;
}

int pg_routing_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    routing_state *st = self->state;
    size_t *count, dropped;
    size_t *pick = plan(st, b, &count, &dropped);
    if (!pick) {
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "routing processor %s: out of memory", self->id);
        return res->status;
    }
    for (size_t s = 0; s < st->n_sets; s++) {
        if (!count[s])
            continue;
        /* exporters only read a batch: one that goes whole to one set needs no copy */
        pg_batch *sub = count[s] == b->count ? b : sub_batch(b, pick, s);
        if (!sub) {
            pg_consume_fail(res, PG_CONSUME_RETRYABLE, "routing processor %s: out of memory",
                            self->id);
            continue;
        }
        send_set(self, w, s, sub, res);
        if (sub != b)
            pg_batch_free(sub);
    }
    if (dropped)
        log_dropped(self, dropped, b, pick);
    free(pick);
    return res->status;
}
