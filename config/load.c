/*
 * Whole-file loading: top-level keys and the component sections. The service
 * section, pipelines and listener collisions live in their own files.
 */
#include "config/load.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/apply.h"
#include "config/load_state.h"
#include "config/yaml.h"

/* Far above any real configuration; keeps a wrong path (a device, a log) from
 * being read whole. */
#define PG_CONFIG_MAX_FILE (16 << 20)

static const char *const section_names[PG_KINDS] = {"receivers", "processors", "exporters"};

pg_config_component *pg_load_components(pg_load *l, pg_component_kind kind, size_t *n)
{
    switch (kind) {
    case PG_KIND_RECEIVER:
        *n = l->cfg->n_receivers;
        return l->cfg->receivers;
    case PG_KIND_PROCESSOR:
        *n = l->cfg->n_processors;
        return l->cfg->processors;
    default:
        *n = l->cfg->n_exporters;
        return l->cfg->exporters;
    }
}

static const pg_component_def *const *all_defs(const pg_load *l)
{
    return l->defs ? l->defs : pg_registry_all();
}

static const pg_component_def *find_def(const pg_load *l, pg_component_kind kind, const char *type)
{
    if (!l->defs)
        return pg_registry_find(kind, type);
    for (size_t i = 0; l->defs[i]; i++)
        if (l->defs[i]->kind == kind && strcmp(l->defs[i]->type, type) == 0)
            return l->defs[i];
    return NULL;
}

static void report_unknown_type(pg_load *l, pg_component_kind kind, const pg_config_node *key,
                                const char *type)
{
    const char *names[64];
    size_t n = 0;
    char known[1024];
    const pg_component_def *const *defs = all_defs(l);
    for (size_t i = 0; defs && defs[i] && n < 64; i++)
        if (defs[i]->kind == kind)
            names[n++] = defs[i]->type;
    pg_config_join(known, sizeof(known), names, n);
    pg_config_report_error(l->report, key, "unknown %s type '%s'; known %s types: %s",
                           pg_component_kind_name(kind), type, pg_component_kind_name(kind), known);
}

/* Checks "type" or "type/name"; returns the type in arena memory or NULL. */
static char *split_id(pg_load *l, pg_component_kind kind, const pg_config_node *key)
{
    const char *id = key->scalar, *slash = strchr(id, '/');
    const char *what = pg_component_kind_name(kind);
    if (!*id || slash == id) {
        pg_config_report_error(l->report, key, "%s id '%s' has an empty type", what, id);
        return NULL;
    }
    if (slash && (!slash[1] || strchr(slash + 1, '/'))) {
        pg_config_report_error(l->report, key,
                               "invalid %s id '%s': expected <type> or <type>/<name> with a "
                               "non-empty name and no further '/'",
                               what, id);
        return NULL;
    }
    return pg_arena_strndup(l->arena, id, slash ? (size_t)(slash - id) : strlen(id));
}

static void on_receiver_endpoint(void *ud, const char *path, const char *value,
                                 const pg_config_node *at)
{
    pg_load *l = ud;
    const char *id = l->cfg->receivers[l->current].id;
    const char *owner = pg_arena_sprintf(l->arena, "receiver '%s' (%s)", id, path);
    pg_load_add_listener(l, value, owner ? owner : id, at, l->current);
}

static void load_component(pg_load *l, pg_component_kind kind, pg_config_component *c,
                           const pg_config_node *key, const pg_config_node *value)
{
    const char *type = split_id(l, kind, key);
    c->id = key->scalar;
    c->node = value;
    if (!type)
        return;
    c->def = find_def(l, kind, type);
    if (!c->def) {
        report_unknown_type(l, kind, key, type);
        return;
    }
    pg_config_apply_ctx ctx = {.arena = l->arena, .report = l->report};
    if (kind == PG_KIND_RECEIVER) {
        ctx.on_endpoint = on_receiver_endpoint;
        ctx.endpoint_ud = l;
    }
    size_t before = pg_config_report_errors(l->report);
    c->typed = pg_config_apply_new(&ctx, c->def->config_keys, c->def->config_size, value, key);
    /* A component's own checks assume its table was applied cleanly. */
    if (c->typed && c->def->validate && pg_config_report_errors(l->report) == before)
        c->def->validate(c->typed, l->report, value && value->kind == PG_NODE_MAP ? value : key);
}

static void load_kind(pg_load *l, pg_component_kind kind, const pg_config_node *section)
{
    size_t k = (size_t)kind - 1, n;
    if (!section || section->kind == PG_NODE_NULL)
        return;
    if (section->kind != PG_NODE_MAP) {
        pg_config_report_error(l->report, section,
                               "'%s' must be a map of <type>[/<name>] to "
                               "settings",
                               section_names[k]);
        return;
    }
    n = section->n;
    pg_config_component *list = pg_arena_calloc(l->arena, n ? n : 1, sizeof(*list));
    l->key_nodes[k] = pg_arena_calloc(l->arena, n ? n : 1, sizeof(*l->key_nodes[k]));
    l->used[k] = pg_arena_calloc(l->arena, n ? n : 1, 1);
    if (!list || !l->key_nodes[k] || !l->used[k]) {
        pg_config_report_error(l->report, section, "out of memory");
        return;
    }
    if (kind == PG_KIND_RECEIVER)
        l->cfg->receivers = list;
    else if (kind == PG_KIND_PROCESSOR)
        l->cfg->processors = list;
    else
        l->cfg->exporters = list;
    for (size_t i = 0; i < n; i++) {
        l->key_nodes[k][i] = section->keys[i];
        l->current = i;
        load_component(l, kind, &list[i], section->keys[i], section->values[i]);
        if (kind == PG_KIND_RECEIVER)
            l->cfg->n_receivers = i + 1;
        else if (kind == PG_KIND_PROCESSOR)
            l->cfg->n_processors = i + 1;
        else
            l->cfg->n_exporters = i + 1;
    }
}

static int check_top(pg_load *l, const pg_config_node *root)
{
    static const char *const allowed = "receivers, processors, exporters, service";
    if (root->kind == PG_NODE_NULL) {
        pg_config_report_error(l->report, root, "the configuration is empty");
        return -1;
    }
    if (root->kind != PG_NODE_MAP) {
        pg_config_report_error(l->report, root, "expected a map with keys %s", allowed);
        return -1;
    }
    for (size_t i = 0; i < root->n; i++) {
        const char *k = root->keys[i]->scalar;
        if (!strcmp(k, "extensions") || !strcmp(k, "connectors"))
            pg_config_report_error(l->report, root->keys[i], "'%s' are not supported by profgate",
                                   k);
        else if (strcmp(k, "receivers") && strcmp(k, "processors") && strcmp(k, "exporters") &&
                 strcmp(k, "service"))
            pg_config_report_error(l->report, root->keys[i], "unknown key '%s'; allowed keys: %s",
                                   k, allowed);
    }
    return 0;
}

static void warn_unused(pg_load *l)
{
    for (int k = 0; k < PG_KINDS; k++) {
        size_t n;
        const pg_config_component *list = pg_load_components(l, (pg_component_kind)(k + 1), &n);
        for (size_t i = 0; i < n; i++)
            /* A component whose type is unknown was already reported. */
            if (!l->used[k][i] && list[i].def)
                pg_config_report_warning(
                    l->report, l->key_nodes[k][i], "%s '%s' is not used by any pipeline",
                    pg_component_kind_name((pg_component_kind)(k + 1)), l->key_nodes[k][i]->scalar);
    }
}

static void load_root(pg_load *l)
{
    const pg_config_node *root = l->root;
    if (check_top(l, root) != 0)
        return;
    load_kind(l, PG_KIND_RECEIVER, pg_config_map_get(root, "receivers"));
    load_kind(l, PG_KIND_PROCESSOR, pg_config_map_get(root, "processors"));
    load_kind(l, PG_KIND_EXPORTER, pg_config_map_get(root, "exporters"));
    const pg_config_node *service = pg_config_map_get(root, "service");
    if (service && service->kind != PG_NODE_MAP && service->kind != PG_NODE_NULL) {
        pg_config_report_error(l->report, service, "'service' must be a map");
        service = NULL;
    }
    pg_load_service(l, service);
    pg_load_pipelines(l, service);
    warn_unused(l);
    pg_load_check_listeners(l);
}

static int load(pg_load *l, const char *name, const char *yaml, size_t len, pg_config **out)
{
    size_t before = pg_config_report_errors(l->report);
    l->arena = pg_arena_new(0, 0);
    pg_config *cfg = l->arena ? pg_arena_calloc(l->arena, 1, sizeof(*cfg)) : NULL;
    struct pg_config_internal *in =
        cfg ? pg_arena_calloc(l->arena, 1, sizeof(struct pg_config_internal)) : NULL;
    if (!in) {
        pg_arena_free(l->arena);
        pg_config_report_error(l->report, NULL, "out of memory");
        return PG_ERR_NOMEM;
    }
    l->cfg = cfg;
    cfg->internal = in;
    in->arena = l->arena;
    cfg->file = pg_arena_strdup(l->arena, name);
    l->root = pg_config_yaml_parse(l->arena, name, yaml, len, 1, l->report);
    in->root = l->root;
    if (l->root)
        load_root(l);
    if (!l->root || pg_config_report_errors(l->report) != before) {
        pg_arena_free(l->arena);
        return PG_ERR_INVALID;
    }
    *out = cfg;
    return 0;
}

int pg_config_load_string_with(const char *name, const char *yaml, size_t len,
                               const pg_component_def *const *components, pg_config **out,
                               pg_config_report *report)
{
    pg_load l = {.defs = components, .report = report};
    int rc;
    if (!name)
        name = "<config>";
    if (!report && !(l.report = pg_config_report_new()))
        return PG_ERR_NOMEM;
    pg_config_report_set_file(l.report, name);
    rc = load(&l, name, yaml ? yaml : "", yaml ? len : 0, out);
    if (!report)
        pg_config_report_free(l.report);
    return rc;
}

int pg_config_load_string(const char *name, const char *yaml, size_t len, pg_config **out,
                          pg_config_report *report)
{
    return pg_config_load_string_with(name, yaml, len, NULL, out, report);
}

/* Reads the whole stream; PG_ERR_LIMIT beyond PG_CONFIG_MAX_FILE bytes. */
static int read_all(FILE *f, char **text, size_t *len)
{
    size_t cap = 0;
    *text = NULL;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            if (cap >= PG_CONFIG_MAX_FILE)
                return PG_ERR_LIMIT;
            char *t = realloc(*text, cap = cap ? cap * 2 : 8192);
            if (!t)
                return PG_ERR_NOMEM;
            *text = t;
        }
        size_t got = fread(*text + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0)
            return ferror(f) ? PG_ERR_IO : 0;
    }
}

int pg_config_load_file(const char *path, pg_config **out, pg_config_report *report)
{
    FILE *f = fopen(path, "rb");
    char *text;
    size_t len;
    int rc;
    pg_config_report_set_file(report, path);
    if (!f) {
        pg_config_report_error(report, NULL, "cannot open: %s", strerror(errno));
        return PG_ERR_IO;
    }
    rc = read_all(f, &text, &len);
    fclose(f);
    if (rc == 0)
        rc = pg_config_load_string(path, text, len, out, report);
    else if (rc == PG_ERR_LIMIT)
        pg_config_report_error(report, NULL, "configuration file larger than %d MiB",
                               PG_CONFIG_MAX_FILE >> 20);
    else
        pg_config_report_error(report, NULL, "cannot read: %s", pg_strerror(rc));
    free(text);
    return rc;
}

void pg_config_free(pg_config *cfg)
{
    if (cfg)
        pg_arena_free(cfg->internal->arena);
}
