/*
 * Walks a pg_config_key table over a YAML map: unknown keys, defaults, user
 * values, required keys, nested sections and endpoint collection.
 */
#include "config/apply.h"

#include <stdio.h>
#include <string.h>

#include "config/internal.h"
#include "config/yaml.h"

typedef struct walk {
    const pg_config_apply_ctx *ctx;
    void *typed;
} walk;

static const char *key_path(const pg_config_apply_ctx *ctx, const char *prefix, const char *name)
{
    const char *p = pg_arena_sprintf(ctx->arena, "%s%s%s", prefix ? prefix : "",
                                     prefix && *prefix ? "." : "", name);
    return p ? p : name;
}

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static int known_key(const pg_config_key *keys, const char *const *extra, const char *s)
{
    for (size_t i = 0; keys && keys[i].name; i++)
        if (strcmp(keys[i].name, s) == 0)
            return 1;
    return in_list(extra, s);
}

static void check_unknown(const walk *w, const pg_config_key *keys, const pg_config_node *map,
                          const char *const *extra, const char *prefix)
{
    enum { MAX_NAMES = 64 };
    const char *names[MAX_NAMES];
    size_t n = 0;
    char allowed[1024];
    for (size_t i = 0; keys && keys[i].name && n < MAX_NAMES; i++)
        names[n++] = keys[i].name;
    for (size_t i = 0; extra && extra[i] && n < MAX_NAMES; i++)
        names[n++] = extra[i];
    pg_config_join(allowed, sizeof(allowed), names, n);
    for (size_t i = 0; i < map->n; i++) {
        const pg_config_node *key = map->keys[i];
        if (key->kind != PG_NODE_SCALAR || known_key(keys, extra, key->scalar))
            continue;
        pg_config_report_error(w->ctx->report, key, "unknown key '%s'%s%s; allowed keys: %s",
                               key->scalar, prefix && *prefix ? " in " : "", prefix ? prefix : "",
                               allowed);
    }
}

/* A built-in default as a node at `at`: scalars are taken literally, lists
 * and maps are YAML flow text. */
static const pg_config_node *default_node(const walk *w, const pg_config_key *k,
                                          const pg_config_node *at)
{
    if (k->type == PG_CFG_STRING_LIST || k->type == PG_CFG_STRING_MAP) {
        const pg_config_node *n =
            pg_config_yaml_parse(w->ctx->arena, at ? at->file : NULL, k->default_value,
                                 strlen(k->default_value), 0, w->ctx->report);
        return n && n->kind != PG_NODE_NULL ? n : NULL;
    }
    pg_config_node *n = pg_arena_calloc(w->ctx->arena, 1, sizeof(*n));
    if (!n)
        return NULL;
    n->kind = PG_NODE_SCALAR;
    n->scalar = k->default_value;
    if (at) {
        n->file = at->file;
        n->line = at->line;
        n->col = at->col;
    }
    return n;
}

static void apply_keys(const walk *w, const pg_config_key *keys, const pg_config_node *map,
                       const pg_config_node *at, const char *prefix, int active,
                       const char *const *extra);

static void apply_section(const walk *w, const pg_config_key *k, const pg_config_node *map,
                          const pg_config_node *at, const char *path, int active)
{
    const pg_config_node *v = pg_config_map_get(map, k->name);
    int present = v != NULL;
    memcpy((char *)w->typed + k->offset, &present, sizeof(present));
    if (!present && k->required && active)
        pg_config_report_error(w->ctx->report, at, "missing required section '%s'", path);
    if (v && v->kind != PG_NODE_MAP && v->kind != PG_NODE_NULL) {
        pg_config_report_error(w->ctx->report, v, "%s: expected a map", path);
        /* Only the defaults go in; "missing required key" would repeat the same error. */
        apply_keys(w, k->children, NULL, v, path, 0, NULL);
        return;
    }
    apply_keys(w, k->children, v, v ? v : at, path, active && present, NULL);
}

/* One element of a LIST / MAP_OF: its own struct, walked with the key's children. */
static void apply_element(const walk *w, const pg_config_key *k, void *elem, const char *name,
                          const pg_config_node *v, const char *path, int active)
{
    pg_cfg_elem head = {.key = name, .node = v};
    memcpy(elem, &head, sizeof(head));
    walk inner = {w->ctx, elem};
    if (v->kind != PG_NODE_MAP && v->kind != PG_NODE_NULL) {
        pg_config_report_error(w->ctx->report, v, "%s: expected a map", path);
        apply_keys(&inner, k->children, NULL, v, path, 0, NULL);
        return;
    }
    apply_keys(&inner, k->children, v, v, path, active, NULL);
}

static void apply_elements(const walk *w, const pg_config_key *k, const pg_config_node *map,
                           const pg_config_node *at, const char *path, int active)
{
    const pg_config_node *v = pg_config_map_get(map, k->name);
    pg_cfg_list list = {0};
    int is_map = k->type == PG_CFG_MAP_OF;
    if (!v || v->kind == PG_NODE_NULL) {
        if (k->required && active)
            pg_config_report_error(w->ctx->report, at, "missing required key '%s'", path);
    } else if (v->kind != (is_map ? PG_NODE_MAP : PG_NODE_SEQ)) {
        pg_config_report_error(w->ctx->report, v, "%s: expected %s", path,
                               is_map ? "a map of names to maps" : "a list of maps");
    } else if (v->n > 0) {
        list.items = pg_arena_calloc(w->ctx->arena, v->n, k->elem_size);
        if (!list.items) {
            pg_config_report_error(w->ctx->report, v, "out of memory");
        } else {
            list.n = v->n;
            for (size_t i = 0; i < v->n; i++) {
                const char *name = is_map ? v->keys[i]->scalar : NULL;
                const char *elem_path = is_map
                                            ? pg_arena_sprintf(w->ctx->arena, "%s.%s", path, name)
                                            : pg_arena_sprintf(w->ctx->arena, "%s[%zu]", path, i);
                apply_element(w, k, (char *)list.items + i * k->elem_size, name, v->values[i],
                              elem_path ? elem_path : path, active);
            }
        }
    }
    memcpy((char *)w->typed + k->offset, &list, sizeof(list));
}

static void apply_key(const walk *w, const pg_config_key *k, const pg_config_node *map,
                      const pg_config_node *at, const char *path, int active)
{
    const pg_config_node *v = pg_config_map_get(map, k->name);
    const pg_config_node *where = v ? v : at;
    const char *from = NULL;
    if (k->default_value) {
        const pg_config_node *d = default_node(w, k, at);
        if (d && pg_config_apply_value(w->ctx, k, w->typed, d, path, 1) == 0)
            from = k->default_value;
    }
    if (v && v->kind != PG_NODE_NULL) {
        from = NULL;
        if (pg_config_apply_value(w->ctx, k, w->typed, v, path, 0) == 0)
            from = v->scalar;
    } else if (k->required && active) {
        pg_config_report_error(w->ctx->report, where, "missing required key '%s'", path);
    }
    if (k->type == PG_CFG_ENDPOINT && from && active && w->ctx->on_endpoint) {
        const char *value;
        memcpy(&value, (char *)w->typed + k->offset, sizeof(value));
        if (value)
            w->ctx->on_endpoint(w->ctx->endpoint_ud, path, value, where);
    }
}

static void apply_keys(const walk *w, const pg_config_key *keys, const pg_config_node *map,
                       const pg_config_node *at, const char *prefix, int active,
                       const char *const *extra)
{
    for (size_t i = 0; keys && keys[i].name; i++) {
        const char *path = key_path(w->ctx, prefix, keys[i].name);
        if (keys[i].type == PG_CFG_SECTION)
            apply_section(w, &keys[i], map, at, path, active);
        else if (keys[i].type == PG_CFG_LIST || keys[i].type == PG_CFG_MAP_OF)
            apply_elements(w, &keys[i], map, at, path, active);
        else
            apply_key(w, &keys[i], map, at, path, active);
    }
    if (map && map->kind == PG_NODE_MAP)
        check_unknown(w, keys, map, extra, prefix);
}

size_t pg_config_apply(const pg_config_apply_ctx *ctx, const pg_config_key *keys, void *typed,
                       const pg_config_node *map, const pg_config_node *at)
{
    walk w = {ctx, typed};
    size_t before = pg_config_report_errors(ctx->report);
    if (map && map->kind != PG_NODE_MAP && map->kind != PG_NODE_NULL) {
        pg_config_report_error(ctx->report, map, "%s%sexpected a map",
                               ctx->path_prefix ? ctx->path_prefix : "",
                               ctx->path_prefix ? ": " : "");
        map = NULL;
    }
    if (map && map->kind == PG_NODE_NULL)
        map = NULL;
    apply_keys(&w, keys, map, map ? map : at, ctx->path_prefix, 1, ctx->extra_keys);
    return pg_config_report_errors(ctx->report) - before;
}

void *pg_config_apply_new(const pg_config_apply_ctx *ctx, const pg_config_key *keys, size_t size,
                          const pg_config_node *map, const pg_config_node *at)
{
    void *typed = pg_arena_calloc(ctx->arena, 1, size ? size : 1);
    if (!typed) {
        pg_config_report_error(ctx->report, at, "out of memory");
        return NULL;
    }
    pg_config_apply(ctx, keys, typed, map, at);
    return typed;
}
