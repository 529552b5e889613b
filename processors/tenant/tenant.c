#include "processors/tenant/tenant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry/log_throttle.h"
#include "telemetry/processor_metrics.h"

#define CFG(field) offsetof(pg_tenant_processor_config, field)

static const pg_config_key tenant_keys[] = {
    {.name = "from",
     .type = PG_CFG_STRING_LIST,
     .offset = CFG(from),
     .default_value = "[auth, header]",
     .help = "where to look for the tenant, in order: auth (the credential the receiver "
             "authenticated), header (X-Scope-OrgID), label (from_label); the first non-empty "
             "value wins"},
    {.name = "from_label",
     .type = PG_CFG_STRING,
     .offset = CFG(from_label),
     .help = "label read by the `label` source (required when from lists label)"},
    {.name = "default",
     .type = PG_CFG_STRING,
     .offset = CFG(default_tenant),
     .default_value = "",
     .help = "tenant of a profile no source names; \"\" leaves it without a tenant"},
    {.name = "to_label",
     .type = PG_CFG_STRING,
     .offset = CFG(to_label),
     .help = "also write the resulting tenant into this label"},
    {.name = "check_tenant_ids",
     .type = PG_CFG_BOOL,
     .offset = CFG(check_tenant_ids),
     .default_value = "true",
     .help = "drop profiles whose tenant id Pyroscope/Cortex would refuse (counted as "
             "reason=\"invalid_tenant\")"},
    PG_CONFIG_END,
};

static const char *const source_names[] = {"auth", "header", "label"};
#define N_SOURCES (sizeof(source_names) / sizeof(source_names[0]))

int pg_tenant_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > PG_TENANT_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("!-_.*'()", c)))
            return 0;
    }
    return 1;
}

static int source_of(const char *name)
{
    for (size_t i = 0; i < N_SOURCES; i++)
        if (strcmp(name, source_names[i]) == 0)
            return (int)i;
    return -1;
}

/* Label names as Pyroscope accepts them (dots allowed). */
static int label_name_ok(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static const pg_config_node *at_key(const pg_config_node *node, const char *key)
{
    const pg_config_node *n = pg_config_map_get(node, key);
    return n ? n : node;
}

static void validate_from(const pg_tenant_processor_config *c, pg_config_report *report,
                          const pg_config_node *node)
{
    const pg_config_node *from = at_key(node, "from");
    int seen[N_SOURCES] = {0};
    for (size_t i = 0; i < c->from.n; i++) {
        const pg_config_node *at =
            from->kind == PG_NODE_SEQ && i < from->n ? from->values[i] : from;
        int s = source_of(c->from.items[i]);
        if (s < 0)
            pg_config_report_error(report, at,
                                   "from: unknown source '%s' (use auth, header, label)",
                                   c->from.items[i]);
        else if (seen[s]++)
            pg_config_report_error(report, at, "from: '%s' is listed twice", c->from.items[i]);
    }
    if (c->from.n == 0 && !(c->default_tenant && *c->default_tenant))
        pg_config_report_error(report, from,
                               "from is empty and there is no default: the processor would "
                               "remove every tenant");
    if (seen[PG_TENANT_FROM_LABEL] && !c->from_label)
        pg_config_report_error(report, from, "from lists label: set from_label");
    if (!seen[PG_TENANT_FROM_LABEL] && c->from_label)
        pg_config_report_warning(report, at_key(node, "from_label"),
                                 "from_label is set but from does not list label; it is unused");
}

static void validate_labels(const pg_tenant_processor_config *c, pg_config_report *report,
                            const pg_config_node *node)
{
    if (c->from_label && (!label_name_ok(c->from_label) || !strcmp(c->from_label, PG_LABEL_TENANT)))
        pg_config_report_error(report, at_key(node, "from_label"),
                               "from_label: '%s' is not a label name ([A-Za-z_][A-Za-z0-9_.]*, "
                               "not " PG_LABEL_TENANT ")",
                               c->from_label);
    if (c->to_label && (!label_name_ok(c->to_label) || !strncmp(c->to_label, "__", 2)))
        pg_config_report_error(report, at_key(node, "to_label"),
                               "to_label: '%s' is not an exported label name "
                               "([A-Za-z_][A-Za-z0-9_.]*, not starting with __)",
                               c->to_label);
}

static void tenant_validate(const void *config, pg_config_report *report,
                            const pg_config_node *node)
{
    const pg_tenant_processor_config *c = config;
    validate_from(c, report, node);
    validate_labels(c, report, node);
    if (c->default_tenant && *c->default_tenant && !pg_tenant_id_valid(c->default_tenant))
        pg_config_report_error(report, at_key(node, "default"),
                               "default: '%s' is not a valid tenant id (1..150 of A-Z a-z 0-9 "
                               "!-_.*'(), not . or ..)",
                               c->default_tenant);
}

typedef struct tenant_state {
    pg_tenant_source order[N_SOURCES];
    size_t n_order;
    pg_metric *dropped_invalid;
    pg_metric *by_source[N_SOURCES + 2]; /* + default, none */
    pg_log_throttle log_throttle;
} tenant_state;

enum { BY_DEFAULT = N_SOURCES, BY_NONE = N_SOURCES + 1 };

static int tenant_create(pg_component *self, pg_error *err)
{
    const pg_tenant_processor_config *c = self->config;
    tenant_state *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < c->from.n && st->n_order < N_SOURCES; i++) {
        int s = source_of(c->from.items[i]);
        if (s < 0) {
            free(st);
            return pg_error_set(err, PG_ERR_INVALID, "unknown tenant source '%s'",
                                c->from.items[i]);
        }
        if (s == PG_TENANT_FROM_LABEL && !c->from_label) {
            free(st);
            return pg_error_set(err, PG_ERR_INVALID, "from lists label: set from_label");
        }
        st->order[st->n_order++] = (pg_tenant_source)s;
    }
    st->dropped_invalid =
        pg_processor_counter(PG_PROCESSOR_DROPPED_PROFILES, NULL, self->id, "invalid_tenant");
    static const char *const by_names[] = {"auth", "header", "label", "default", "none"};
    for (size_t i = 0; i < N_SOURCES + 2; i++) {
        char labels[200];
        snprintf(labels, sizeof(labels), "processor=\"%s\",source=\"%s\"", self->id, by_names[i]);
        st->by_source[i] = pg_metric_counter(
            "profgate_processor_tenant_profiles_total",
            "Profiles by where the tenant processor found their tenant (source=\"none\": left "
            "without a tenant).",
            labels);
    }
    self->state = st;
    return PG_OK;
}

/* The first non-empty source of prof; *by says which (BY_DEFAULT, BY_NONE). */
static const char *choose(const pg_tenant_processor_config *c, const tenant_state *st,
                          const pg_profile *prof, size_t *by)
{
    for (size_t i = 0; i < st->n_order; i++) {
        const char *v = NULL;
        switch (st->order[i]) {
        case PG_TENANT_FROM_AUTH:
            v = prof->auth_tenant;
            break;
        case PG_TENANT_FROM_HEADER:
            v = prof->header_tenant;
            break;
        case PG_TENANT_FROM_LABEL:
            v = pg_profile_label(prof, c->from_label);
            break;
        }
        if (v && *v) {
            *by = (size_t)st->order[i];
            return v;
        }
    }
    *by = c->default_tenant && *c->default_tenant ? BY_DEFAULT : BY_NONE;
    return *by == BY_DEFAULT ? c->default_tenant : "";
}

/* One warn line per second per processor about dropped profiles. */
static void log_invalid(pg_component *self, tenant_state *st, const char *tenant, size_t by)
{
    uint64_t skipped;
    if (!pg_log_throttle_allow(&st->log_throttle, &skipped))
        return;
    char shown[64];
    size_t n = 0;
    for (; tenant[n] && n < sizeof(shown) - 1; n++)
        shown[n] = tenant[n] >= 0x20 && tenant[n] < 0x7f ? tenant[n] : '?';
    shown[n] = '\0';
    char more[64];
    PG_CLOG(self, PG_LOG_WARN,
            "dropped a profile: its tenant '%s%s' (from %s) is not a valid tenant id%s", shown,
            tenant[n] ? "..." : "", by < N_SOURCES ? source_names[by] : "default",
            pg_log_throttle_note(skipped, more, sizeof(more)));
}

static int tenant_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    const pg_tenant_processor_config *c = self->config;
    tenant_state *st = self->state;
    uint8_t *keep = NULL;
    size_t dropped = 0;
    for (size_t i = 0; i < b->count; i++) {
        pg_profile *prof = &b->profiles[i];
        size_t by = BY_NONE;
        const char *t = choose(c, st, prof, &by);
        if (c->check_tenant_ids && *t && !pg_tenant_id_valid(t)) {
            if (!keep && !(keep = pg_arena_alloc(b->arena, b->count))) {
                pg_consume_fail(res, PG_CONSUME_RETRYABLE, "tenant: out of memory");
                return res->status;
            }
            if (!dropped)
                memset(keep, 1, b->count);
            keep[i] = 0;
            dropped++;
            log_invalid(self, st, t, by);
            continue;
        }
        pg_metric_add(st->by_source[by], 1);
        if (strcmp(prof->tenant, t) != 0 && pg_profile_set_tenant(b, prof, t) != PG_OK)
            goto nomem;
        if (c->to_label && *t) {
            const char *old = pg_profile_label(prof, c->to_label);
            if (!old || strcmp(old, t) != 0) {
                if (pg_profile_set_label(b, prof, c->to_label, t) != PG_OK)
                    goto nomem;
                prof->labels_changed = 1;
            }
        }
    }
    if (dropped) {
        pg_metric_add(st->dropped_invalid, (int64_t)dropped);
        pg_batch_compact(b, keep);
    }
    if (b->count == 0)
        return res->status;
    return pg_consumer_send(&self->next, w, b, res);
nomem:
    pg_consume_fail(res, PG_CONSUME_RETRYABLE, "tenant: out of memory setting the tenant");
    return res->status;
}

static void tenant_destroy(pg_component *self)
{
    free(self->state);
    self->state = NULL;
}

const pg_component_def pg_tenant_processor_def = {
    .type = "tenant",
    .kind = PG_KIND_PROCESSOR,
    .description = "sets each profile's tenant from the authenticated identity, X-Scope-OrgID, "
                   "a label or a default; can copy it into a label",
    .config_keys = tenant_keys,
    .config_size = sizeof(pg_tenant_processor_config),
    .mutates_data = 1,
    .validate = tenant_validate,
    .create = tenant_create,
    .consume = tenant_consume,
    .destroy = tenant_destroy,
};
