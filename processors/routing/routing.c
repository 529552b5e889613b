/* routing: configuration, validation and the resolved route table. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/routing/routing_internal.h"
#include "telemetry/log.h"
#include "telemetry/processor_metrics.h"

#define CFG(field)   offsetof(pg_routing_processor_config, field)
#define ROUTE(field) offsetof(pg_routing_route, field)

static const pg_config_key route_keys[] = {
    {.name = "match",
     .type = PG_CFG_STRING,
     .offset = ROUTE(match),
     .help = "label selector the profile must match, e.g. '{service_name=~\"api-.*\"}'"},
    {.name = "tenants",
     .type = PG_CFG_STRING_LIST,
     .offset = ROUTE(tenants),
     .help = "the profile's tenant must be one of these"},
    {.name = "exporters",
     .type = PG_CFG_STRING_LIST,
     .offset = ROUTE(exporters),
     .help = "exporters (of this pipeline) that get the matching profiles"},
    PG_CONFIG_END,
};

static const pg_config_key routing_keys[] = {
    {.name = "routes",
     .type = PG_CFG_LIST,
     .offset = CFG(routes),
     .children = route_keys,
     .elem_size = sizeof(pg_routing_route),
     .help = "routes, tried in order; the first that matches wins"},
    {.name = "default_exporters",
     .type = PG_CFG_STRING_LIST,
     .offset = CFG(default_exporters),
     .help = "exporters for profiles no route matches; unset = such profiles are dropped"},
    PG_CONFIG_END,
};

static const pg_config_node *at_key(const pg_config_node *map, const char *key)
{
    const pg_config_node *n = pg_config_map_get(map, key);
    return n ? n : map;
}

static void validate_route(const pg_routing_route *r, size_t i, pg_config_report *report)
{
    const pg_config_node *at = r->elem.node;
    if (!r->match && !r->tenants.n)
        pg_config_report_error(report, at, "routes[%zu]: a route needs match, tenants or both", i);
    if (r->match) {
        pg_selector *s = NULL;
        pg_error err;
        pg_error_clear(&err);
        if (pg_selector_parse(r->match, &s, &err) != PG_OK)
            pg_config_report_error(report, at_key(at, "match"), "routes[%zu].match: %s", i,
                                   err.msg);
        pg_selector_free(s);
    }
    if (!r->exporters.n)
        pg_config_report_error(report, at_key(at, "exporters"),
                               "routes[%zu]: exporters must name at least one exporter", i);
}

static void routing_validate(const void *config, pg_config_report *report,
                             const pg_config_node *node)
{
    const pg_routing_processor_config *c = config;
    for (size_t i = 0; i < c->routes.n; i++)
        validate_route(PG_CFG_LIST_AT(c->routes, pg_routing_route, i), i, report);
    if (!c->routes.n && !c->default_exporters.n)
        pg_config_report_error(report, node, "routing needs routes, default_exporters or both");
    else if (!c->default_exporters.n)
        pg_config_report_warning(report, at_key(node, "routes"),
                                 "routing has no default_exporters: profiles that no route "
                                 "matches will be dropped");
}

static void report_list(const pg_str_list *l, const pg_config_node *list, pg_exporter_ref_fn ref,
                        void *ud)
{
    for (size_t i = 0; i < l->n; i++) {
        const pg_config_node *at = list;
        if (list && list->kind == PG_NODE_SEQ && i < list->n)
            at = list->values[i];
        ref(ud, l->items[i], at);
    }
}

static void routing_exporter_refs(const void *config, const pg_config_node *node,
                                  pg_exporter_ref_fn ref, void *ud)
{
    const pg_routing_processor_config *c = config;
    for (size_t i = 0; i < c->routes.n; i++) {
        const pg_routing_route *r = PG_CFG_LIST_AT(c->routes, pg_routing_route, i);
        report_list(&r->exporters, at_key(r->elem.node, "exporters"), ref, ud);
    }
    report_list(&c->default_exporters, at_key(node, "default_exporters"), ref, ud);
}

static void routing_destroy(pg_component *self)
{
    routing_state *st = self->state;
    if (!st)
        return;
    for (size_t i = 0; i < st->n_rules; i++)
        pg_selector_free(st->rules[i].match);
    for (size_t i = 0; i < st->n_sets; i++)
        free(st->sets[i].exporters);
    free(st->rules);
    free(st->sets);
    free(st->routed);
    free(st);
    self->state = NULL;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The set for exporter ids `l` (sorted, duplicates removed, shared with an
 * equal earlier set). */
static int intern_set(pg_component *self, const pg_str_list *l, size_t *out, pg_error *err)
{
    routing_state *st = self->state;
    size_t *idx = calloc(l->n ? l->n : 1, sizeof(*idx));
    if (!idx)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t e = 0;
        while (e < self->n_pipeline_exporters &&
               strcmp(self->pipeline_exporters[e].id, l->items[i]))
            e++;
        if (e == self->n_pipeline_exporters) {
            free(idx);
            return pg_error_set(err, PG_ERR_INVALID, "exporter '%s' is not in this pipeline",
                                l->items[i]);
        }
        idx[n++] = e;
    }
    qsort(idx, n, sizeof(*idx), cmp_size);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || idx[u - 1] != idx[i])
            idx[u++] = idx[i];
    for (size_t s = 0; s < st->n_sets; s++)
        if (st->sets[s].n == u && !memcmp(st->sets[s].exporters, idx, u * sizeof(*idx))) {
            free(idx);
            *out = s;
            return PG_OK;
        }
    st->sets[st->n_sets] = (routing_set){idx, u};
    *out = st->n_sets++;
    return PG_OK;
}

static int build_rules(pg_component *self, pg_error *err)
{
    const pg_routing_processor_config *c = self->config;
    routing_state *st = self->state;
    for (size_t i = 0; i < c->routes.n; i++) {
        const pg_routing_route *r = PG_CFG_LIST_AT(c->routes, pg_routing_route, i);
        routing_rule *rule = &st->rules[st->n_rules++];
        rule->tenants = r->tenants.items;
        rule->n_tenants = r->tenants.n;
        int rc = r->match ? pg_selector_parse(r->match, &rule->match, err) : PG_OK;
        if (rc == PG_OK)
            rc = intern_set(self, &r->exporters, &rule->set, err);
        if (rc != PG_OK) {
            pg_error_prefix(err, "routes[%zu]: ", i);
            return rc;
        }
    }
    st->default_set = ROUTING_NO_SET;
    if (!c->default_exporters.n)
        return PG_OK;
    int rc = intern_set(self, &c->default_exporters, &st->default_set, err);
    if (rc != PG_OK)
        pg_error_prefix(err, "default_exporters: ");
    return rc;
}

static int routing_create(pg_component *self, pg_error *err)
{
    const pg_routing_processor_config *c = self->config;
    routing_state *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    self->state = st;
    st->rules = calloc(c->routes.n + 1, sizeof(*st->rules));
    st->sets = calloc(c->routes.n + 1, sizeof(*st->sets));
    st->routed = calloc(self->n_pipeline_exporters + 1, sizeof(*st->routed));
    int rc = st->rules && st->sets && st->routed ? build_rules(self, err)
                                                 : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    if (rc != PG_OK) {
        routing_destroy(self);
        return rc;
    }
    st->no_route = pg_processor_counter(PG_PROCESSOR_DROPPED_PROFILES, NULL, self->id, "no_route");
    for (size_t e = 0; e < self->n_pipeline_exporters; e++) {
        char labels[384];
        snprintf(labels, sizeof(labels), "processor=\"%s\",exporter=\"%s\"", self->id,
                 self->pipeline_exporters[e].id);
        st->routed[e] =
            pg_metric_counter("profgate_processor_routed_profiles_total",
                              "Profiles a routing processor handed to an exporter", labels);
    }
    return PG_OK;
}

const pg_component_def pg_routing_processor_def = {
    .type = "routing",
    .kind = PG_KIND_PROCESSOR,
    .description = "sends each profile to the exporters of the first route whose selector or "
                   "tenant list it matches",
    .config_keys = routing_keys,
    .config_size = sizeof(pg_routing_processor_config),
    .mutates_data = 0,
    .validate = routing_validate,
    .exporter_refs = routing_exporter_refs,
    .create = routing_create,
    .consume = pg_routing_consume,
    .destroy = routing_destroy,
};
