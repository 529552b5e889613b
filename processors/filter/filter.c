#include "processors/filter/filter.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/common/selector.h"
#include "processors/filter/filter_internal.h"
#include "telemetry/log_throttle.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "telemetry/processor_metrics.h"

#define CFG(field) offsetof(pg_filter_processor_config, field)

static const char *const undecodable_values[] = {"drop", "forward", NULL};

static const pg_config_key sample_type_keys[] = {
    {.name = "keep",
     .type = PG_CFG_STRING_LIST,
     .offset = CFG(types_keep),
     .help = "sample types to keep (\"alloc_space\" or \"alloc_space:bytes\"); empty = all"},
    {.name = "drop",
     .type = PG_CFG_STRING_LIST,
     .offset = CFG(types_drop),
     .help = "sample types to remove (\"type\" or \"type:unit\")"},
    {.name = "undecodable",
     .type = PG_CFG_ENUM,
     .offset = CFG(undecodable),
     .default_value = "drop",
     .enum_values = undecodable_values,
     .help = "a pprof payload that does not decode is dropped or forwarded unfiltered"},
    PG_CONFIG_END,
};

static const pg_config_key filter_keys[] = {
    {.name = "keep",
     .type = PG_CFG_STRING_LIST,
     .offset = CFG(keep),
     .help = "label selectors; when set, a profile must match one of them to stay"},
    {.name = "drop",
     .type = PG_CFG_STRING_LIST,
     .offset = CFG(drop),
     .help = "label selectors; a profile matching any of them is dropped"},
    {.name = "sample_types",
     .type = PG_CFG_SECTION,
     .offset = CFG(sample_types_present),
     .children = sample_type_keys,
     .help = "keep or drop sample types inside profiles"},
    PG_CONFIG_END,
};

enum { DROP_FILTERED, DROP_NO_TYPES, DROP_UNDECODABLE, DROP_KINDS };
static const char *const drop_reason[DROP_KINDS] = {"filtered", "no_sample_types", "undecodable"};

typedef struct filter_state {
    pg_selector **keep, **drop;
    size_t n_keep, n_drop;
    pg_filter_types types;
    pg_metric *dropped[DROP_KINDS];
    pg_metric *rewritten, *unfiltered;
    pg_log_throttle throttle[DROP_KINDS + 1]; /* the last one: forwarded unfiltered */
} filter_state;

/* The YAML node of item i of list `key` (inside section `section` when set). */
static const pg_config_node *item_node(const pg_config_node *node, const char *section,
                                       const char *key, size_t i)
{
    const pg_config_node *parent = section ? pg_config_map_get(node, section) : node;
    const pg_config_node *list = pg_config_map_get(parent, key);
    if (list && list->kind == PG_NODE_SEQ && i < list->n)
        return list->values[i];
    return list ? list : node;
}

static void validate_selectors(const pg_str_list *l, const char *key, pg_config_report *report,
                               const pg_config_node *node)
{
    for (size_t i = 0; i < l->n; i++) {
        pg_selector *s = NULL;
        pg_error err;
        pg_error_clear(&err);
        if (pg_selector_parse(l->items[i], &s, &err) != PG_OK)
            pg_config_report_error(report, item_node(node, NULL, key, i), "%s[%zu]: %s", key, i,
                                   err.msg);
        pg_selector_free(s);
    }
}

static void validate_types(const pg_str_list *l, const char *key, pg_config_report *report,
                           const pg_config_node *node)
{
    for (size_t i = 0; i < l->n; i++) {
        pg_error err;
        pg_error_clear(&err);
        if (pg_filter_type_check(l->items[i], &err) != PG_OK)
            pg_config_report_error(report, item_node(node, "sample_types", key, i),
                                   "sample_types.%s[%zu]: %s", key, i, err.msg);
    }
}

static void filter_validate(const void *config, pg_config_report *report,
                            const pg_config_node *node)
{
    const pg_filter_processor_config *c = config;
    validate_selectors(&c->keep, "keep", report, node);
    validate_selectors(&c->drop, "drop", report, node);
    validate_types(&c->types_keep, "keep", report, node);
    validate_types(&c->types_drop, "drop", report, node);
    if (!c->keep.n && !c->drop.n && !c->types_keep.n && !c->types_drop.n)
        pg_config_report_warning(report, node,
                                 "filter has no keep, drop or sample_types list: it passes "
                                 "every profile unchanged");
}

static int compile_list(const pg_str_list *l, pg_selector ***out, size_t *n, pg_error *err)
{
    *n = 0;
    *out = calloc(l->n ? l->n : 1, sizeof(**out));
    if (!*out)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    for (; *n < l->n; (*n)++) {
        int rc = pg_selector_parse(l->items[*n], &(*out)[*n], err);
        if (rc != PG_OK)
            return rc;
    }
    return PG_OK;
}

static void filter_destroy(pg_component *self)
{
    filter_state *st = self->state;
    if (!st)
        return;
    for (size_t i = 0; i < st->n_keep; i++)
        pg_selector_free(st->keep[i]);
    for (size_t i = 0; i < st->n_drop; i++)
        pg_selector_free(st->drop[i]);
    free(st->keep);
    free(st->drop);
    pg_filter_types_free(&st->types);
    free(st);
    self->state = NULL;
}

static int filter_create(pg_component *self, pg_error *err)
{
    const pg_filter_processor_config *c = self->config;
    filter_state *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    self->state = st;
    int rc = compile_list(&c->keep, &st->keep, &st->n_keep, err);
    if (rc == PG_OK)
        rc = compile_list(&c->drop, &st->drop, &st->n_drop, err);
    if (rc == PG_OK)
        rc = pg_filter_types_init(&st->types, &c->types_keep, &c->types_drop, err);
    if (rc != PG_OK) {
        filter_destroy(self);
        return rc;
    }
    for (int i = 0; i < DROP_KINDS; i++)
        st->dropped[i] =
            pg_processor_counter(PG_PROCESSOR_DROPPED_PROFILES, NULL, self->id, drop_reason[i]);
    st->rewritten = pg_processor_counter("profgate_processor_filter_rewritten_profiles_total",
                                         "pprof profiles a filter re-encoded without the sample "
                                         "types it removed",
                                         self->id, NULL);
    st->unfiltered = pg_processor_counter(
        "profgate_processor_filter_unfiltered_profiles_total",
        "pprof profiles a filter could not decode and forwarded unfiltered (undecodable: forward)",
        self->id, NULL);
    return PG_OK;
}

static int any_match(pg_selector *const *l, size_t n, const pg_profile *p)
{
    for (size_t i = 0; i < n; i++)
        if (pg_selector_match(l[i], p))
            return 1;
    return 0;
}

/* What consume learnt about one batch. */
typedef struct filter_call {
    pg_component *self;
    pg_batch *b;
    pg_arena *tmp; /* created on the first pprof rewrite */
    size_t dropped[DROP_KINDS], rewritten, unfiltered;
    char why[DROP_KINDS + 1][200]; /* an example per kind, for the log */
} filter_call;

/* Filters the sample types of one profile: 1 to keep it, 0 to drop it,
 * PG_ERR_NOMEM. */
static int filter_types(filter_call *c, pg_profile *p)
{
    filter_state *st = c->self->state;
    const pg_filter_processor_config *cfg = c->self->config;
    if (p->payload->format != PG_PAYLOAD_PPROF) {
        if (pg_filter_profile_type_wanted(&st->types, p->profile_type))
            return 1;
        c->dropped[DROP_NO_TYPES]++;
        snprintf(c->why[DROP_NO_TYPES], sizeof(c->why[0]), "profile type %s",
                 p->profile_type ? p->profile_type : "(none)");
        return 0;
    }
    if (!c->tmp && !(c->tmp = pg_arena_new(0, 0)))
        return PG_ERR_NOMEM;
    pg_arena_reset(c->tmp);
    pg_filter_outcome out;
    pg_error err;
    pg_error_clear(&err);
    if (pg_filter_pprof_profile(c->tmp, &st->types, c->b, p, &out, &err) != PG_OK)
        return PG_ERR_NOMEM;
    switch (out) {
    case PG_FILTER_UNCHANGED:
        return 1;
    case PG_FILTER_REWRITTEN:
        c->rewritten++;
        return 1;
    case PG_FILTER_NO_TYPES:
        c->dropped[DROP_NO_TYPES]++;
        snprintf(c->why[DROP_NO_TYPES], sizeof(c->why[0]), "pprof document of type %s",
                 p->profile_type ? p->profile_type : "(none)");
        return 0;
    case PG_FILTER_UNDECODABLE:
        break;
    }
    int forward = cfg->undecodable == PG_FILTER_UNDECODABLE_FORWARD;
    int kind = forward ? DROP_KINDS : DROP_UNDECODABLE;
    snprintf(c->why[kind], sizeof(c->why[0]), "%.199s", err.msg);
    if (forward)
        c->unfiltered++;
    else
        c->dropped[DROP_UNDECODABLE]++;
    return forward;
}

/* 1 to keep profile p, 0 to drop it, PG_ERR_NOMEM. */
static int decide(filter_call *c, pg_profile *p)
{
    filter_state *st = c->self->state;
    if ((st->n_keep && !any_match(st->keep, st->n_keep, p)) || any_match(st->drop, st->n_drop, p)) {
        c->dropped[DROP_FILTERED]++;
        return 0;
    }
    if (!pg_filter_types_active(&st->types))
        return 1;
    return filter_types(c, p);
}

/* Counts and logs (throttled) what one call dropped or could not filter. */
static void account(filter_call *c)
{
    filter_state *st = c->self->state;
    pg_metric_add(st->rewritten, (int64_t)c->rewritten);
    pg_metric_add(st->unfiltered, (int64_t)c->unfiltered);
    uint64_t skipped;
    for (int k = 0; k < DROP_KINDS; k++) {
        if (!c->dropped[k])
            continue;
        pg_metric_add(st->dropped[k], (int64_t)c->dropped[k]);
        if (!pg_log_throttle_allow(&st->throttle[k], &skipped))
            continue;
        /* filtering is what the user asked for; losing undecodable data is not */
        PG_CLOG(c->self, k == DROP_UNDECODABLE ? PG_LOG_WARN : PG_LOG_DEBUG,
                "dropped %zu profiles (%s)%s%s (%llu similar lines suppressed)", c->dropped[k],
                drop_reason[k], c->why[k][0] ? ": " : "", c->why[k], (unsigned long long)skipped);
    }
    if (c->unfiltered && pg_log_throttle_allow(&st->throttle[DROP_KINDS], &skipped))
        PG_CLOG(c->self, PG_LOG_WARN,
                "forwarded %zu pprof profiles unfiltered: %s (%llu similar lines suppressed)",
                c->unfiltered, c->why[DROP_KINDS], (unsigned long long)skipped);
}

static int filter_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    filter_call c = {.self = self, .b = b};
    uint8_t *keep = pg_arena_alloc(b->arena, b->count ? b->count : 1);
    size_t kept = 0;
    int rc = keep ? PG_OK : PG_ERR_NOMEM;
    for (size_t i = 0; rc == PG_OK && i < b->count; i++) {
        int k = decide(&c, &b->profiles[i]);
        if (k < 0)
            rc = k;
        else
            kept += (size_t)(keep[i] = (uint8_t)k);
    }
    pg_arena_free(c.tmp);
    if (rc != PG_OK) {
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "filter processor %s: out of memory", self->id);
        return res->status;
    }
    account(&c);
    if (kept != b->count)
        pg_batch_compact(b, keep);
    if (!b->count)
        return res->status;
    return pg_consumer_send(&self->next, w, b, res);
}

const pg_component_def pg_filter_processor_def = {
    .type = "filter",
    .kind = PG_KIND_PROCESSOR,
    .description = "keeps or drops profiles by label selectors, and sample types inside profiles",
    .config_keys = filter_keys,
    .config_size = sizeof(pg_filter_processor_config),
    .mutates_data = 1,
    .validate = filter_validate,
    .create = filter_create,
    .consume = filter_consume,
    .destroy = filter_destroy,
};
