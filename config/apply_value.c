/*
 * One value of a table key: type check, parse, bounds, store. Messages name
 * the key by its dotted path and quote what was written.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/internal.h"
#include "config/values.h"
#include "config/yaml.h"

#define DEFAULT_NOTE(d) ((d) ? " (built-in default)" : "")

static void store(void *typed, size_t off, const void *v, size_t n)
{
    memcpy((char *)typed + off, v, n);
}

static int need_scalar(const pg_config_apply_ctx *ctx, const pg_config_node *v, const char *path,
                       const char *what)
{
    if (v->kind == PG_NODE_SCALAR)
        return 0;
    pg_config_report_error(ctx->report, v, "%s: expected %s, got a %s", path, what,
                           v->kind == PG_NODE_MAP ? "map" : "list");
    return -1;
}

static int has_bounds(const pg_config_key *k)
{
    return k->min != 0 || k->max != 0;
}

/* Bounds check for unsigned SIZE/DURATION values; renders the bounds with fmt. */
static int check_unsigned(const pg_config_apply_ctx *ctx, const pg_config_key *k,
                          const pg_config_node *v, const char *path, uint64_t val,
                          void (*fmt)(uint64_t, char *, size_t), int is_default)
{
    char lo[32], hi[32];
    uint64_t min = k->min > 0 ? (uint64_t)k->min : 0;
    int upper = k->max >= k->min && k->max >= 0;
    if (!has_bounds(k) || (val >= min && (!upper || val <= (uint64_t)k->max)))
        return 0;
    fmt(min, lo, sizeof(lo));
    fmt(upper ? (uint64_t)k->max : 0, hi, sizeof(hi));
    if (upper)
        pg_config_report_error(ctx->report, v,
                               "%s: '%s' is out of range: must be between %s and %s%s", path,
                               v->scalar, lo, hi, DEFAULT_NOTE(is_default));
    else
        pg_config_report_error(ctx->report, v, "%s: '%s' is out of range: must be at least %s%s",
                               path, v->scalar, lo, DEFAULT_NOTE(is_default));
    return -1;
}

static int check_int(const pg_config_apply_ctx *ctx, const pg_config_key *k,
                     const pg_config_node *v, const char *path, int64_t val, int is_default)
{
    int upper = k->max >= k->min;
    if (!has_bounds(k) || (val >= k->min && (!upper || val <= k->max)))
        return 0;
    if (upper)
        pg_config_report_error(ctx->report, v,
                               "%s: %" PRId64 " is out of range: must be between %" PRId64
                               " and %" PRId64 "%s",
                               path, val, k->min, k->max, DEFAULT_NOTE(is_default));
    else
        pg_config_report_error(ctx->report, v,
                               "%s: %" PRId64 " is out of range: must be at least %" PRId64 "%s",
                               path, val, k->min, DEFAULT_NOTE(is_default));
    return -1;
}

static int check_float(const pg_config_apply_ctx *ctx, const pg_config_key *k,
                       const pg_config_node *v, const char *path, double val, int is_default)
{
    if ((k->fmin == 0 && k->fmax == 0) || (val >= k->fmin && val <= k->fmax))
        return 0;
    pg_config_report_error(ctx->report, v, "%s: %g is out of range: must be between %g and %g%s",
                           path, val, k->fmin, k->fmax, DEFAULT_NOTE(is_default));
    return -1;
}

static int apply_enum(const pg_config_apply_ctx *ctx, const pg_config_key *k, void *typed,
                      const pg_config_node *v, const char *path, int is_default)
{
    size_t n = 0;
    char allowed[512];
    while (k->enum_values && k->enum_values[n]) {
        if (strcmp(k->enum_values[n], v->scalar) == 0) {
            int idx = (int)n;
            store(typed, k->offset, &idx, sizeof(idx));
            return 0;
        }
        n++;
    }
    pg_config_join(allowed, sizeof(allowed), k->enum_values, n);
    pg_config_report_error(ctx->report, v, "%s: invalid value '%s'; allowed values: %s%s", path,
                           v->scalar, allowed, DEFAULT_NOTE(is_default));
    return -1;
}

static int apply_endpoint(const pg_config_apply_ctx *ctx, const pg_config_key *k, void *typed,
                          const pg_config_node *v, const char *path, int is_default)
{
    char host[256];
    int port;
    const char *why = "invalid";
    if (pg_config_parse_endpoint(v->scalar, host, sizeof(host), &port, &why) != 0) {
        pg_config_report_error(ctx->report, v, "%s: invalid endpoint '%s': %s%s", path, v->scalar,
                               why, DEFAULT_NOTE(is_default));
        return -1;
    }
    char *s = pg_arena_strdup(ctx->arena, v->scalar);
    store(typed, k->offset, &s, sizeof(s));
    return s ? 0 : -1;
}

static int apply_list(const pg_config_apply_ctx *ctx, const pg_config_key *k, void *typed,
                      const pg_config_node *v, const char *path)
{
    pg_str_list list = {0};
    if (v->kind != PG_NODE_SEQ) {
        pg_config_report_error(ctx->report, v, "%s: expected a list of strings", path);
        return -1;
    }
    for (size_t i = 0; i < v->n; i++) {
        if (v->values[i]->kind != PG_NODE_SCALAR) {
            pg_config_report_error(ctx->report, v->values[i], "%s: list items must be strings",
                                   path);
            return -1;
        }
    }
    list.items = v->n ? pg_arena_calloc(ctx->arena, v->n, sizeof(char *)) : NULL;
    for (size_t i = 0; list.items && i < v->n; i++)
        list.items[list.n++] = pg_arena_strdup(ctx->arena, v->values[i]->scalar);
    store(typed, k->offset, &list, sizeof(list));
    return 0;
}

static int apply_map(const pg_config_apply_ctx *ctx, const pg_config_key *k, void *typed,
                     const pg_config_node *v, const char *path)
{
    pg_str_map map = {0};
    if (v->kind != PG_NODE_MAP) {
        pg_config_report_error(ctx->report, v, "%s: expected a map of strings", path);
        return -1;
    }
    for (size_t i = 0; i < v->n; i++) {
        if (v->values[i]->kind != PG_NODE_SCALAR) {
            pg_config_report_error(ctx->report, v->values[i], "%s: value of '%s' must be a string",
                                   path, v->keys[i]->scalar);
            return -1;
        }
    }
    if (v->n) {
        map.keys = pg_arena_calloc(ctx->arena, v->n, sizeof(char *));
        map.values = pg_arena_calloc(ctx->arena, v->n, sizeof(char *));
    }
    for (size_t i = 0; map.keys && map.values && i < v->n; i++) {
        map.keys[map.n] = pg_arena_strdup(ctx->arena, v->keys[i]->scalar);
        map.values[map.n++] = pg_arena_strdup(ctx->arena, v->values[i]->scalar);
    }
    store(typed, k->offset, &map, sizeof(map));
    return 0;
}

static int bad_syntax(const pg_config_apply_ctx *ctx, const pg_config_node *v, const char *path,
                      const char *what, int is_default)
{
    pg_config_report_error(ctx->report, v, "%s: expected %s, got '%s'%s", path, what, v->scalar,
                           DEFAULT_NOTE(is_default));
    return -1;
}

static int apply_scalar(const pg_config_apply_ctx *ctx, const pg_config_key *k, void *typed,
                        const pg_config_node *v, const char *path, int is_default)
{
    int b;
    int64_t i;
    uint64_t u;
    double f;
    char *s;
    switch (k->type) {
    case PG_CFG_BOOL:
        if (pg_config_parse_bool(v->scalar, &b) != 0)
            return bad_syntax(ctx, v, path, "true or false", is_default);
        store(typed, k->offset, &(bool){b != 0}, sizeof(bool));
        return 0;
    case PG_CFG_INT:
        if (pg_config_parse_int(v->scalar, &i) != 0)
            return bad_syntax(ctx, v, path, "an integer", is_default);
        if (check_int(ctx, k, v, path, i, is_default) != 0)
            return -1;
        store(typed, k->offset, &i, sizeof(i));
        return 0;
    case PG_CFG_FLOAT:
        if (pg_config_parse_float(v->scalar, &f) != 0)
            return bad_syntax(ctx, v, path, "a decimal number such as 0.5", is_default);
        if (check_float(ctx, k, v, path, f, is_default) != 0)
            return -1;
        store(typed, k->offset, &f, sizeof(f));
        return 0;
    case PG_CFG_SIZE:
        if (pg_config_parse_size(v->scalar, &u) != 0)
            return bad_syntax(ctx, v, path, "a size such as 512KiB, 4MiB or 64MB", is_default);
        if (check_unsigned(ctx, k, v, path, u, pg_config_format_size, is_default) != 0)
            return -1;
        store(typed, k->offset, &u, sizeof(u));
        return 0;
    case PG_CFG_DURATION:
        if (pg_config_parse_duration_ms(v->scalar, &u) != 0)
            return bad_syntax(ctx, v, path, "a duration such as 500ms, 10s or 1m30s", is_default);
        if (check_unsigned(ctx, k, v, path, u, pg_config_format_duration, is_default) != 0)
            return -1;
        store(typed, k->offset, &u, sizeof(u));
        return 0;
    case PG_CFG_STRING:
        s = pg_arena_strdup(ctx->arena, v->scalar);
        store(typed, k->offset, &s, sizeof(s));
        return s ? 0 : -1;
    case PG_CFG_ENDPOINT:
        return apply_endpoint(ctx, k, typed, v, path, is_default);
    case PG_CFG_ENUM:
        return apply_enum(ctx, k, typed, v, path, is_default);
    default:
        return -1;
    }
}

static const char *type_noun(pg_cfg_type t)
{
    switch (t) {
    case PG_CFG_BOOL:
        return "true or false";
    case PG_CFG_INT:
        return "an integer";
    case PG_CFG_FLOAT:
        return "a decimal number";
    case PG_CFG_SIZE:
        return "a size";
    case PG_CFG_DURATION:
        return "a duration";
    case PG_CFG_ENDPOINT:
        return "host:port";
    case PG_CFG_ENUM:
        return "one of the allowed values";
    default:
        return "a string";
    }
}

int pg_config_apply_value(const pg_config_apply_ctx *ctx, const pg_config_key *k, void *typed,
                          const pg_config_node *v, const char *path, int is_default)
{
    if (k->type == PG_CFG_STRING_LIST)
        return apply_list(ctx, k, typed, v, path);
    if (k->type == PG_CFG_STRING_MAP)
        return apply_map(ctx, k, typed, v, path);
    if (need_scalar(ctx, v, path, type_noun(k->type)) != 0)
        return -1;
    return apply_scalar(ctx, k, typed, v, path, is_default);
}

void pg_config_join(char *buf, size_t size, const char *const *items, size_t n)
{
    size_t used = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    if (n == 0)
        snprintf(buf, size, "(none)");
    for (size_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", items[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
