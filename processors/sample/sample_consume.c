#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/values.h"
#include "processors/sample/sample.h"
#include "processors/sample/sample_state.h"
#include "telemetry/processor_metrics.h"

static const char *const limit_name[PG_RL_LIMITS] = {"tenant", "service"};

void pg_sample_metrics_init(pg_component *self, sample_state *st)
{
    st->sampled_out =
        pg_processor_counter(PG_PROCESSOR_DROPPED_PROFILES, NULL, self->id, "sampled_out");
    if (!st->limiting)
        return;
    st->rate_dropped =
        pg_processor_counter(PG_PROCESSOR_DROPPED_PROFILES, NULL, self->id, "rate_limited");
    st->refused =
        pg_processor_counter(PG_PROCESSOR_REFUSED_PROFILES, NULL, self->id, "rate_limited");
    for (int l = 0; l < PG_RL_LIMITS; l++) {
        if (!st->rl.limit[l].enabled)
            continue;
        char labels[256];
        snprintf(labels, sizeof(labels), "processor=\"%s\",limit=\"%s\"", self->id, limit_name[l]);
        st->overflow[l] = pg_metric_counter(
            "profgate_processor_rate_limit_overflow_profiles_total",
            "Profiles whose key found the rate limit's table full (max_keys) and shared its "
            "overflow bucket",
            labels);
        st->keys[l] = pg_metric_gauge("profgate_processor_rate_limit_keys",
                                      "Keys holding a rate limit bucket of their own", labels);
    }
}

/* "tenant \"a\": 10 profiles/s" or "service \"api\" of tenant \"a\": 2MiB/s" */
static void describe(const sample_state *st, const pg_profile *prof, const pg_rl_denial *why,
                     char *out, size_t size)
{
    const char *tenant = prof->tenant ? prof->tenant : "";
    const char *service = pg_profile_label(prof, "service_name");
    char rate[64];
    double r = st->rl.limit[why->limit].rate[why->dim];
    if (why->dim == PG_GCRA_PROFILES) {
        snprintf(rate, sizeof(rate), "%g profiles/s", r);
    } else {
        pg_config_format_size((uint64_t)r, rate, sizeof(rate) - 2);
        strcat(rate, "/s");
    }
    if (why->limit == PG_RL_TENANT)
        snprintf(out, size, "tenant \"%s\": %s", tenant, rate);
    else
        snprintf(out, size, "service \"%s\" of tenant \"%s\": %s", service ? service : "", tenant,
                 rate);
}

static void note_overflow(pg_component *self, sample_state *st, int overflowed)
{
    for (int l = 0; l < PG_RL_LIMITS; l++) {
        if (!(overflowed & (1 << l)))
            continue;
        pg_metric_add(st->overflow[l], 1);
        uint64_t skipped;
        char note[64];
        if (pg_log_throttle_allow(&st->log_overflow, &skipped))
            PG_CLOG(self, PG_LOG_WARN,
                    "rate limit per %s: every one of max_keys buckets is taken; new keys share one "
                    "overflow bucket%s",
                    limit_name[l], pg_log_throttle_note(skipped, note, sizeof(note)));
    }
}

/* Bytes charged to each profile of the run of neighbours sharing the
 * payload of profile i (an OTLP request): its size split evenly. *end gets
 * the index after the run. */
static double share_of_payload(const pg_batch *b, size_t i, size_t *end)
{
    const pg_payload *p = b->profiles[i].payload;
    size_t last = i;
    while (last + 1 < b->count && b->profiles[last + 1].payload == p)
        last++;
    *end = last + 1;
    return (double)p->len / (double)(last - i + 1);
}

static void refund_kept(const sample_state *st, const pg_rl_ticket *tickets, const uint8_t *keep,
                        size_t n)
{
    if (!st->limiting)
        return;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            pg_rate_limiter_refund(&tickets[i]);
}

static int refuse(pg_component *self, sample_state *st, pg_batch *b, size_t at,
                  const pg_rl_denial *why, pg_consume_result *res)
{
    char what[256];
    describe(st, &b->profiles[at], why, what, sizeof(what));
    uint64_t ms = (why->wait_ns + 999999u) / 1000000u;
    res->retry_after_ms = ms < 1 ? 1 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    pg_consume_fail(res, PG_CONSUME_RESOURCE_EXHAUSTED, "rate limit exceeded for %s", what);
    pg_metric_add(st->refused, (int64_t)b->count);
    uint64_t skipped;
    char note[64];
    if (pg_log_throttle_allow(&st->log_refuse, &skipped))
        PG_CLOG(self, PG_LOG_WARN,
                "refused a batch of %zu profiles: rate limit exceeded for %s, retry in %u ms%s",
                b->count, what, res->retry_after_ms,
                pg_log_throttle_note(skipped, note, sizeof(note)));
    return res->status;
}

/* Runs the kept profiles through the buckets. Returns PG_CONSUME_OK, or the
 * refusal (action refuse) with every take of the batch given back. */
static int admit(pg_component *self, sample_state *st, pg_batch *b, uint8_t *keep,
                 pg_rl_ticket *tickets, pg_consume_result *res)
{
    const pg_sample_processor_config *cfg = self->config;
    size_t limited = 0, first_limited = 0;
    pg_rl_denial why = {0}, first_why = {0};
    size_t run_end = 0;
    double share = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (i >= run_end)
            share = share_of_payload(b, i, &run_end);
        if (!keep[i])
            continue;
        const pg_profile *prof = &b->profiles[i];
        int overflowed = 0;
        int ok =
            pg_rate_limiter_admit(&st->rl, prof->tenant, pg_profile_label(prof, "service_name"),
                                  share, &tickets[i], &why, &overflowed);
        if (overflowed)
            note_overflow(self, st, overflowed);
        if (ok)
            continue;
        if (cfg->action == PG_SAMPLE_REFUSE) {
            refund_kept(st, tickets, keep, i);
            return refuse(self, st, b, i, &why, res);
        }
        if (!limited++) {
            first_limited = i;
            first_why = why;
        }
        keep[i] = 0;
    }
    for (int l = 0; l < PG_RL_LIMITS; l++)
        if (st->keys[l])
            pg_metric_set(st->keys[l], (int64_t)pg_gcra_table_used(&st->rl.limit[l].table));
    if (limited) {
        pg_metric_add(st->rate_dropped, (int64_t)limited);
        uint64_t skipped;
        char note[64];
        if (pg_log_throttle_allow(&st->log_drop, &skipped)) {
            char what[256];
            describe(st, &b->profiles[first_limited], &first_why, what, sizeof(what));
            PG_CLOG(self, PG_LOG_WARN, "dropped %zu profiles over their rate limit, e.g. %s%s",
                    limited, what, pg_log_throttle_note(skipped, note, sizeof(note)));
        }
    }
    return PG_CONSUME_OK;
}

static size_t sample_series(const pg_component *self, const pg_batch *b, uint8_t *keep)
{
    const pg_sample_processor_config *cfg = self->config;
    size_t out = 0;
    for (size_t i = 0; i < b->count; i++) {
        uint64_t h = pg_sample_series_hash(&b->profiles[i], (uint64_t)cfg->hash_seed);
        keep[i] = (uint8_t)pg_sample_keep(h, cfg->probability);
        out += !keep[i];
    }
    return out;
}

int pg_sample_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    sample_state *st = self->state;
    size_t n = b->count;
    if (!n)
        return pg_consumer_send(&self->next, w, b, res);
    uint8_t *keep = pg_arena_alloc(b->arena, n);
    pg_rl_ticket *tickets = st->limiting ? pg_arena_alloc(b->arena, n * sizeof(*tickets)) : NULL;
    if (!keep || (st->limiting && !tickets)) {
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "sample processor out of memory");
        return res->status;
    }
    size_t sampled = sample_series(self, b, keep);
    if (st->limiting && admit(self, st, b, keep, tickets, res) != PG_CONSUME_OK)
        return res->status;
    if (sampled) {
        pg_metric_add(st->sampled_out, (int64_t)sampled);
        uint64_t skipped;
        char note[64];
        if (pg_log_enabled(PG_LOG_DEBUG) && pg_log_throttle_allow(&st->log_sampled, &skipped))
            PG_CLOG(self, PG_LOG_DEBUG, "sampled out %zu of %zu profiles%s", sampled, n,
                    pg_log_throttle_note(skipped, note, sizeof(note)));
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += keep[i];
    if (kept < n)
        pg_batch_compact(b, keep);
    if (!kept)
        return res->status;
    if (pg_consumer_send(&self->next, w, b, res) != PG_CONSUME_OK && !res->rejected)
        refund_kept(st, tickets, keep, n); /* the client sends them again */
    return res->status;
}
