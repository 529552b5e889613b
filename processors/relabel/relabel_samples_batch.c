/* sample_labels over a batch: each payload rewritten once, every profile
 * that referenced it moved to the rewritten one. */
#include <string.h>

#include "convert/convert.h"
#include "model/otlp.h"
#include "processors/relabel/relabel_proc_internal.h"
#include "telemetry/log.h"

#define WARN_UNDECODABLE RELABEL_DROP_REASONS

/* Sample count and value total of prof in its (new) payload. */
static int refresh_summary(pg_arena *tmp, pg_profile *prof)
{
    const pg_payload *p = prof->payload;
    if (p->format == PG_PAYLOAD_OTLP) {
        pg_otlp_profile_view v;
        if (pg_otlp_view(tmp, p->decoded, prof->resource_index, prof->scope_index,
                         prof->profile_index, &v) != PG_OK)
            return PG_ERR_NOMEM;
        prof->sample_count = v.sample_count;
        prof->value_total = v.value_total;
        return PG_OK;
    }
    pg_pprof *doc = NULL;
    pg_error err;
    if (pg_pprof_decode(tmp, p->bytes, p->len, UINT64_MAX, &doc, &err) != PG_OK)
        return err.code == PG_ERR_NOMEM ? PG_ERR_NOMEM : PG_OK;
    pg_pprof_totals(doc, &prof->sample_count, &prof->value_total);
    return PG_OK;
}

/* Rewrites the payload of profile `first` and moves every kept profile from
 * there on that refers to it, marking them handled. */
static int rewrite_payload(pg_component *self, pg_batch *b, const uint8_t *keep, uint8_t *handled,
                           size_t first, pg_arena *tmp)
{
    relabel_state *st = self->state;
    pg_payload *p = b->profiles[first].payload;
    pg_payload *np = NULL;
    pg_error err;
    pg_error_clear(&err);
    int rc = p->format == PG_PAYLOAD_PPROF ? relabel_pprof_payload(st->rules, tmp, p, &np, &err)
                                           : relabel_otlp_payload(st->rules, tmp, p, &np, &err);
    if (rc == PG_ERR_NOMEM)
        return rc;
    size_t n = 0;
    for (size_t i = first; i < b->count; i++)
        if (keep[i] && b->profiles[i].payload == p) {
            handled[i] = 1;
            n++;
        }
    if (rc != PG_OK) {
        pg_metric_add(st->undecodable, (int64_t)n);
        relabel_warn(
            self, WARN_UNDECODABLE,
            "sample labels of %zu profiles left as they are: payload cannot be decoded: %s", n,
            err.msg);
        return PG_OK;
    }
    if (!np)
        return PG_OK;
    pg_metric_add(st->changed, (int64_t)n);
    pg_payload_ref(p); /* alive until every profile has moved off it */
    for (size_t i = first; i < b->count; i++) {
        pg_profile *prof = &b->profiles[i];
        if (!keep[i] || !handled[i] || prof->payload != p)
            continue;
        pg_profile_replace_payload(b, prof, np);
        if (refresh_summary(tmp, prof) != PG_OK) {
            rc = PG_ERR_NOMEM;
            break;
        }
    }
    pg_payload_unref(p);
    pg_payload_unref(np);
    return rc;
}

int relabel_batch_samples(pg_component *self, pg_batch *b, const uint8_t *keep, pg_arena *tmp)
{
    /* by profile, not by payload pointer: a rewritten payload replaces the
     * old one in its profiles, and must not be rewritten again */
    uint8_t *handled = pg_arena_calloc(tmp, b->count ? b->count : 1, 1);
    if (!handled)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < b->count; i++) {
        if (!keep[i] || handled[i])
            continue;
        int rc = rewrite_payload(self, b, keep, handled, i, tmp);
        if (rc != PG_OK)
            return rc;
    }
    return PG_OK;
}
