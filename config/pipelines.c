/*
 * service.pipelines: pipeline ids, their component lists and the references
 * from those lists to the components defined at the top level.
 */
#include <stdint.h>
#include <string.h>

#include "config/load_state.h"

static const char *const list_names[PG_KINDS] = {"receivers", "processors", "exporters"};

static void check_pipeline_id(pg_load *l, const pg_config_node *key)
{
    const char *id = key->scalar, *slash = strchr(id, '/');
    size_t type_len = slash ? (size_t)(slash - id) : strlen(id);
    static const char *const other[] = {"traces", "metrics", "logs"};
    for (size_t i = 0; i < 3; i++) {
        if (strlen(other[i]) == type_len && strncmp(id, other[i], type_len) == 0) {
            pg_config_report_error(l->report, key,
                                   "pipeline '%s': profgate handles only profiles pipelines", id);
            return;
        }
    }
    if (type_len != strlen("profiles") || strncmp(id, "profiles", type_len) != 0) {
        pg_config_report_error(
            l->report, key, "invalid pipeline id '%s': expected profiles or profiles/<name>", id);
        return;
    }
    if (slash && (!slash[1] || strchr(slash + 1, '/')))
        pg_config_report_error(l->report, key,
                               "invalid pipeline id '%s': the name after '/' must be non-empty "
                               "and contain no '/'",
                               id);
}

static size_t find_component(pg_load *l, pg_component_kind kind, const char *id)
{
    size_t n;
    pg_config_component *list = pg_load_components(l, kind, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].id, id) == 0)
            return i;
    return SIZE_MAX;
}

/* Resolves one list of a pipeline; returns the index array (arena) and its length. */
static size_t *resolve_list(pg_load *l, pg_component_kind kind, const pg_config_pipeline *p,
                            const pg_config_node *list, size_t *n_out)
{
    size_t k = (size_t)kind - 1, n = 0;
    const char *what = pg_component_kind_name(kind);
    if (list->kind != PG_NODE_SEQ) {
        pg_config_report_error(l->report, list, "pipeline '%s': '%s' must be a list of ids", p->id,
                               list_names[k]);
        return NULL;
    }
    size_t *idx = pg_arena_calloc(l->arena, list->n ? list->n : 1, sizeof(*idx));
    for (size_t i = 0; idx && i < list->n; i++) {
        const pg_config_node *ref = list->values[i];
        if (ref->kind != PG_NODE_SCALAR) {
            pg_config_report_error(l->report, ref, "pipeline '%s': expected a %s id", p->id, what);
            continue;
        }
        size_t c = find_component(l, kind, ref->scalar);
        if (c == SIZE_MAX) {
            pg_config_report_error(l->report, ref,
                                   "pipeline '%s' references %s '%s', which is not defined in "
                                   "'%s'",
                                   p->id, what, ref->scalar, list_names[k]);
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < n && !dup; j++)
            dup = idx[j] == c;
        if (dup) {
            pg_config_report_error(l->report, ref, "pipeline '%s' lists %s '%s' twice", p->id, what,
                                   ref->scalar);
            continue;
        }
        l->used[k][c] = 1;
        idx[n++] = c;
    }
    *n_out = n;
    return idx;
}

typedef struct route_check {
    pg_load *l;
    const pg_config_pipeline *p;
    const char *processor;
} route_check;

static void check_exporter_ref(void *ud, const char *id, const pg_config_node *at)
{
    route_check *rc = ud;
    for (size_t i = 0; i < rc->p->n_exporters; i++)
        if (strcmp(rc->l->cfg->exporters[rc->p->exporters[i]].id, id) == 0)
            return;
    pg_config_report_error(rc->l->report, at,
                           "processor '%s' sends to exporter '%s', which is not one of the "
                           "exporters of pipeline '%s'",
                           rc->processor, id, rc->p->id);
}

/* Processors that send to exporters themselves (routing) must come last and
 * name only exporters of this pipeline. */
static void check_routing(pg_load *l, const pg_config_pipeline *p, const pg_config_node *list)
{
    for (size_t i = 0; i < p->n_processors; i++) {
        const pg_config_component *c = &l->cfg->processors[p->processors[i]];
        if (!c->def || !c->def->exporter_refs || !c->typed)
            continue;
        if (i + 1 != p->n_processors)
            pg_config_report_error(l->report, list,
                                   "pipeline '%s': processor '%s' sends to exporters itself and "
                                   "must be the last processor",
                                   p->id, c->id);
        route_check rc = {l, p, c->id};
        c->def->exporter_refs(c->typed, c->node, check_exporter_ref, &rc);
    }
}

static void load_pipeline(pg_load *l, pg_config_pipeline *p, const pg_config_node *key,
                          const pg_config_node *value)
{
    const pg_config_node *at = value && value->kind == PG_NODE_MAP ? value : key;
    size_t *idx[PG_KINDS] = {0}, n[PG_KINDS] = {0};
    p->id = key->scalar;
    /* A bad id is reported but its lists are still resolved: their references
     * are checked and count as uses, so no misleading "unused" warnings follow. */
    check_pipeline_id(l, key);
    if (value && value->kind != PG_NODE_MAP && value->kind != PG_NODE_NULL) {
        pg_config_report_error(l->report, value, "pipeline '%s' must be a map", p->id);
        return;
    }
    for (size_t i = 0; value && value->kind == PG_NODE_MAP && i < value->n; i++) {
        const char *k = value->keys[i]->scalar;
        if (strcmp(k, "receivers") && strcmp(k, "processors") && strcmp(k, "exporters"))
            pg_config_report_error(l->report, value->keys[i],
                                   "unknown key '%s' in pipeline '%s'; allowed keys: receivers, "
                                   "processors, exporters",
                                   k, p->id);
    }
    for (int k = 0; k < PG_KINDS; k++) {
        const pg_config_node *list = pg_config_map_get(value, list_names[k]);
        if (list && list->kind != PG_NODE_NULL) {
            idx[k] = resolve_list(l, (pg_component_kind)(k + 1), p, list, &n[k]);
            if (!idx[k])
                continue; /* not a list: already reported */
        }
        if (k != 1 && (!list || list->kind == PG_NODE_NULL || list->n == 0))
            pg_config_report_error(l->report, list && list->kind != PG_NODE_NULL ? list : at,
                                   "pipeline '%s' needs at least one %s", p->id,
                                   pg_component_kind_name((pg_component_kind)(k + 1)));
    }
    p->receivers = idx[0];
    p->n_receivers = n[0];
    p->processors = idx[1];
    p->n_processors = n[1];
    p->exporters = idx[2];
    p->n_exporters = n[2];
    if (p->n_processors)
        check_routing(l, p, pg_config_map_get(value, list_names[1]));
}

void pg_load_pipelines(pg_load *l, const pg_config_node *service)
{
    const pg_config_node *pipes = pg_config_map_get(service, "pipelines");
    if (pipes && pipes->kind != PG_NODE_MAP && pipes->kind != PG_NODE_NULL) {
        pg_config_report_error(l->report, pipes, "service.pipelines must be a map");
        return;
    }
    if (!pipes || pipes->kind != PG_NODE_MAP || pipes->n == 0) {
        const pg_config_node *at = pipes ? pipes : (service ? service : l->root);
        pg_config_report_error(l->report, at,
                               "at least one pipeline is required (service.pipelines)");
        return;
    }
    l->cfg->pipelines = pg_arena_calloc(l->arena, pipes->n, sizeof(pg_config_pipeline));
    if (!l->cfg->pipelines) {
        pg_config_report_error(l->report, pipes, "out of memory");
        return;
    }
    l->cfg->n_pipelines = pipes->n;
    for (size_t i = 0; i < pipes->n; i++)
        load_pipeline(l, &l->cfg->pipelines[i], pipes->keys[i], pipes->values[i]);
}
