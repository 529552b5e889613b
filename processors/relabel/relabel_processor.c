/* The relabel processor: configuration, lifecycle and the series labels. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "processors/relabel/relabel_proc_internal.h"
#include "telemetry/log.h"
#include "telemetry/processor_metrics.h"

#define RULE(field) offsetof(pg_relabel_rule_config, spec.field)
#define CFG(field)  offsetof(pg_relabel_processor_config, field)

static const pg_config_key rule_keys[] = {
    {.name = "source_labels",
     .type = PG_CFG_STRING_LIST,
     .offset = RULE(source_labels),
     .help = "labels whose values, joined by separator, the rule reads (absent = \"\")"},
    {.name = "separator",
     .type = PG_CFG_STRING,
     .offset = RULE(separator),
     .default_value = PG_RELABEL_DEFAULT_SEPARATOR,
     .help = "placed between the source label values"},
    {.name = "regex",
     .type = PG_CFG_STRING,
     .offset = RULE(regex),
     .default_value = PG_RELABEL_DEFAULT_REGEX,
     .help = "RE2-syntax regex matched against the whole value (or label name for "
             "labelmap/labeldrop/labelkeep)"},
    {.name = "modulus",
     .type = PG_CFG_INT,
     .offset = RULE(modulus),
     .default_value = "0",
     .min = 0,
     .max = INT64_MAX,
     .help = "hashmod: the modulus"},
    {.name = "target_label",
     .type = PG_CFG_STRING,
     .offset = RULE(target_label),
     .help = "label the rule writes (replace expands $1, ${name} in it)"},
    {.name = "replacement",
     .type = PG_CFG_STRING,
     .offset = RULE(replacement),
     .default_value = PG_RELABEL_DEFAULT_REPLACEMENT,
     .help = "replace/labelmap: value (name for labelmap) written, with $1, ${1}, $name, $$"},
    {.name = "action",
     .type = PG_CFG_STRING,
     .offset = RULE(action),
     .default_value = PG_RELABEL_DEFAULT_ACTION,
     .help = "replace, keep, drop, keepequal, dropequal, hashmod, labelmap, labeldrop, "
             "labelkeep, lowercase, uppercase (case-insensitive)"},
    PG_CONFIG_END,
};

static const pg_config_key relabel_keys[] = {
    {.name = "rules",
     .type = PG_CFG_LIST,
     .offset = CFG(rules),
     .children = rule_keys,
     .elem_size = sizeof(pg_relabel_rule_config),
     .help = "Prometheus relabel_config rules, applied in order"},
    {.name = "sample_labels",
     .type = PG_CFG_BOOL,
     .offset = CFG(sample_labels),
     .default_value = "false",
     .help = "also apply the rules to pprof sample labels and OTLP sample attributes"},
    PG_CONFIG_END,
};

static const char *const drop_reason[RELABEL_DROP_REASONS] = {
    "dropped_by_rule",
    "no_labels",
    "no_service_name",
};

static void relabel_validate(const void *config, pg_config_report *report,
                             const pg_config_node *node)
{
    const pg_relabel_processor_config *c = config;
    for (size_t i = 0; i < c->rules.n; i++) {
        const pg_relabel_rule_config *r = PG_CFG_LIST_AT(c->rules, pg_relabel_rule_config, i);
        const char *field = NULL;
        pg_error err;
        pg_error_clear(&err);
        if (pg_relabel_rule_check(&r->spec, &field, &err) == PG_OK)
            continue;
        const pg_config_node *at = field ? pg_config_map_get(r->elem.node, field) : NULL;
        pg_config_report_error(report, at ? at : (r->elem.node ? r->elem.node : node),
                               "rules[%zu]: %s", i, err.msg);
    }
}

static int relabel_create(pg_component *self, pg_error *err)
{
    const pg_relabel_processor_config *c = self->config;
    relabel_state *st = calloc(1, sizeof(*st));
    pg_relabel_rule_spec *specs = calloc(c->rules.n ? c->rules.n : 1, sizeof(*specs));
    if (!st || !specs) {
        free(st);
        free(specs);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->rules.n; i++)
        specs[i] = PG_CFG_LIST_AT(c->rules, pg_relabel_rule_config, i)->spec;
    int rc = pg_relabel_compile(specs, c->rules.n, &st->rules, err);
    free(specs);
    if (rc != PG_OK) {
        free(st);
        return rc;
    }
    for (int i = 0; i < RELABEL_DROP_REASONS; i++)
        st->dropped[i] =
            pg_processor_counter(PG_PROCESSOR_DROPPED_PROFILES, NULL, self->id, drop_reason[i]);
    char labels[256];
    snprintf(labels, sizeof(labels), "processor=\"%s\",reason=\"sample_labels_undecodable\"",
             self->id);
    st->undecodable = pg_metric_counter(
        "profgate_processor_relabel_sample_labels_skipped_total",
        "Profiles whose sample labels a relabel processor left alone, by reason", labels);
    st->changed = pg_processor_counter(
        "profgate_processor_relabel_changed_profiles_total",
        "Profiles whose labels or sample labels a relabel processor changed", self->id, NULL);
    self->state = st;
    return PG_OK;
}

void relabel_warn(pg_component *self, int kind, const char *fmt, ...)
{
    relabel_state *st = self->state;
    uint64_t now = pg_now_ms(), last = atomic_load(&st->last_warn_ms[kind]);
    if ((last && now - last < 1000) ||
        !atomic_compare_exchange_strong(&st->last_warn_ms[kind], &last, now ? now : 1))
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    PG_CLOG(self, PG_LOG_WARN, "%s", msg);
}

/* prof's labels plus the tenant as __tenant__, sorted. */
static pg_label *with_tenant(pg_arena *a, const pg_profile *prof, size_t *n)
{
    pg_label *in = pg_arena_alloc(a, (prof->n_labels + 1) * sizeof(*in));
    if (!in)
        return NULL;
    size_t o = 0, inserted = !prof->tenant || !*prof->tenant;
    for (uint32_t i = 0; i < prof->n_labels; i++) {
        if (!inserted && strcmp(prof->labels[i].name, PG_LABEL_TENANT) > 0) {
            in[o++] = (pg_label){PG_LABEL_TENANT, prof->tenant};
            inserted = 1;
        }
        if (strcmp(prof->labels[i].name, PG_LABEL_TENANT) != 0)
            in[o++] = prof->labels[i];
    }
    if (!inserted)
        in[o++] = (pg_label){PG_LABEL_TENANT, prof->tenant};
    *n = o;
    return in;
}

/* Stores the rules' result on prof: tenant out of __tenant__, labels copied
 * into the batch arena when they changed. */
static int store_result(pg_batch *b, pg_profile *prof, const pg_relabel_result *r)
{
    const char *tenant = "";
    size_t n = 0;
    pg_label *labels = pg_arena_alloc(b->arena, (r->n_labels ? r->n_labels : 1) * sizeof(*labels));
    if (!labels)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < r->n_labels; i++) {
        if (strcmp(r->labels[i].name, PG_LABEL_TENANT) == 0) {
            tenant = r->labels[i].value;
            continue;
        }
        labels[n++] = r->labels[i];
    }
    if (strcmp(tenant, prof->tenant ? prof->tenant : "") != 0 &&
        pg_profile_set_tenant(b, prof, tenant) != PG_OK)
        return PG_ERR_NOMEM;
    int same = n == prof->n_labels;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(labels[i].name, prof->labels[i].name) == 0 &&
               strcmp(labels[i].value, prof->labels[i].value) == 0;
    if (same)
        return PG_OK;
    for (size_t i = 0; i < n; i++) {
        labels[i].name = pg_arena_strdup(b->arena, labels[i].name);
        labels[i].value = pg_arena_strdup(b->arena, labels[i].value);
        if (!labels[i].name || !labels[i].value)
            return PG_ERR_NOMEM;
    }
    prof->labels = labels;
    prof->n_labels = (uint32_t)n;
    prof->labels_changed = 1;
    return PG_OK;
}

/* Relabels one profile; *reason is set when it is to be dropped (else -1). */
static int relabel_series(relabel_state *st, pg_batch *b, pg_profile *prof, pg_arena *tmp,
                          int *reason)
{
    *reason = -1;
    size_t n = 0;
    pg_label *in = with_tenant(tmp, prof, &n);
    pg_relabel_result r;
    if (!in || pg_relabel_apply(st->rules, tmp, in, n, &r) != PG_OK)
        return PG_ERR_NOMEM;
    if (!r.kept) {
        *reason = RELABEL_DROP_RULE;
        return PG_OK;
    }
    if (r.changed) {
        if (store_result(b, prof, &r) != PG_OK)
            return PG_ERR_NOMEM;
        pg_metric_add(st->changed, 1);
    }
    if (!prof->n_labels)
        *reason = RELABEL_DROP_NO_LABELS;
    else if (!pg_profile_label(prof, "service_name"))
        *reason = RELABEL_DROP_NO_SERVICE;
    return PG_OK;
}

/* Applies the series rules to every profile, marking the ones to drop. */
static int relabel_all(pg_component *self, pg_batch *b, uint8_t *keep, pg_arena *tmp,
                       size_t *n_dropped)
{
    relabel_state *st = self->state;
    size_t drops[RELABEL_DROP_REASONS] = {0};
    *n_dropped = 0;
    for (size_t i = 0; i < b->count; i++) {
        int reason = -1;
        if (relabel_series(st, b, &b->profiles[i], tmp, &reason) != PG_OK)
            return PG_ERR_NOMEM;
        keep[i] = reason < 0;
        if (reason >= 0)
            drops[reason]++;
    }
    for (int r = 0; r < RELABEL_DROP_REASONS; r++) {
        if (!drops[r])
            continue;
        *n_dropped += drops[r];
        pg_metric_add(st->dropped[r], (int64_t)drops[r]);
        relabel_warn(self, r, "dropped %zu profiles (%s)", drops[r], drop_reason[r]);
    }
    return PG_OK;
}

static int relabel_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    const pg_relabel_processor_config *cfg = self->config;
    pg_arena *tmp = pg_arena_new(0, 0);
    uint8_t *keep = tmp ? pg_arena_calloc(tmp, b->count ? b->count : 1, 1) : NULL;
    size_t dropped = 0;
    int rc = keep ? relabel_all(self, b, keep, tmp, &dropped) : PG_ERR_NOMEM;
    if (rc == PG_OK && cfg->sample_labels)
        rc = relabel_batch_samples(self, b, keep, tmp);
    if (rc != PG_OK) {
        pg_arena_free(tmp);
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "relabel processor %s: out of memory", self->id);
        return res->status;
    }
    if (dropped)
        pg_batch_compact(b, keep);
    pg_arena_free(tmp);
    if (!b->count)
        return res->status; /* everything dropped on purpose: nothing to send */
    return pg_consumer_send(&self->next, w, b, res);
}

static void relabel_destroy(pg_component *self)
{
    relabel_state *st = self->state;
    if (st)
        pg_relabel_free(st->rules);
    free(st);
    self->state = NULL;
}

const pg_component_def pg_relabel_processor_def = {
    .type = "relabel",
    .kind = PG_KIND_PROCESSOR,
    .description = "Prometheus relabel_config rules over profile labels (and, with "
                   "sample_labels, over the labels inside pprof and OTLP payloads)",
    .config_keys = relabel_keys,
    .config_size = sizeof(pg_relabel_processor_config),
    .mutates_data = 1,
    .validate = relabel_validate,
    .create = relabel_create,
    .consume = relabel_consume,
    .destroy = relabel_destroy,
};
