/*
 * Builds the node tree from libyaml events. Each container collects its
 * children in a temporary heap array and moves them into the arena when it
 * closes, so the arena holds only final arrays.
 */
#include "config/yaml.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/env.h"
#include "config/internal.h"

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_MAP "tag:yaml.org,2002:map"
#define TAG_SEQ "tag:yaml.org,2002:seq"

typedef struct yaml_ctx {
    yaml_parser_t parser;
    pg_arena *arena;
    const char *file;
    const char *text;
    size_t len;
    pg_config_report *report;
    int expand_env;
    int failed; /* parsing cannot go on: no more events are read */
} yaml_ctx;

typedef struct node_vec {
    pg_config_node **items;
    size_t n, cap;
} node_vec;

static void yerror(yaml_ctx *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void yerror(yaml_ctx *c, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pg_config_report_vat(c->report, PG_CFG_SEV_ERROR, c->file, line, col, fmt, ap);
    va_end(ap);
}

static void offset_to_pos(const yaml_ctx *c, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < c->len; i++) {
        if (c->text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)c->text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static void report_parser_error(yaml_ctx *c)
{
    const yaml_parser_t *p = &c->parser;
    int line, col;
    c->failed = 1;
    if (p->error == YAML_MEMORY_ERROR) {
        yerror(c, 0, 0, "out of memory while reading YAML");
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        offset_to_pos(c, p->problem_offset, &line, &col);
    } else {
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
    }
    if (p->context)
        pg_config_report_at(c->report, PG_CFG_SEV_ERROR, c->file, line, col,
                            "invalid YAML: %s %s (line %d)", p->problem ? p->problem : "error",
                            p->context, (int)p->context_mark.line + 1);
    else
        yerror(c, line, col, "invalid YAML: %s", p->problem ? p->problem : "error");
}

static int next_event(yaml_ctx *c, yaml_event_t *ev)
{
    if (c->failed)
        return -1;
    if (!yaml_parser_parse(&c->parser, ev)) {
        report_parser_error(c);
        return -1;
    }
    return 0;
}

static int vec_push(yaml_ctx *c, node_vec *v, pg_config_node *n)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        pg_config_node **items = realloc(v->items, cap * sizeof(*items));
        if (!items) {
            c->failed = 1;
            yerror(c, 0, 0, "out of memory while reading YAML");
            return -1;
        }
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = n;
    return 0;
}

static pg_config_node **vec_finish(yaml_ctx *c, node_vec *v)
{
    pg_config_node **out = NULL;
    if (v->n)
        out = pg_arena_memdup(c->arena, v->items, v->n * sizeof(*out));
    if (v->n && !out)
        c->failed = 1;
    free(v->items);
    return out;
}

static int is_null_word(const char *s)
{
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* Column of byte `off` of a scalar value, when the value is written on one
 * line without escapes (its width matches the source); else the scalar start. */
static int scalar_col(const yaml_event_t *ev, const char *value, size_t off)
{
    size_t chars = 0, before = 0, len = ev->data.scalar.length;
    yaml_scalar_style_t st = ev->data.scalar.style;
    size_t quotes = st == YAML_PLAIN_SCALAR_STYLE ? 0 : 2;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)value[i] & 0xC0) != 0x80) {
            chars++;
            before += i < off;
        }
    }
    int one_line = ev->start_mark.line == ev->end_mark.line &&
                   ev->end_mark.column - ev->start_mark.column == chars + quotes;
    int simple = st == YAML_PLAIN_SCALAR_STYLE || st == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                 st == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (!one_line || !simple)
        return (int)ev->start_mark.column + 1;
    return (int)(ev->start_mark.column + 1 + quotes / 2 + before);
}

static void expand_scalar(yaml_ctx *c, pg_config_node *n, const yaml_event_t *ev, int plain)
{
    char msg[512];
    char *out;
    size_t off = 0;
    int expanded;
    int rc = pg_config_expand_env(c->arena, n->scalar, strlen(n->scalar), &out, &expanded, &off,
                                  msg, sizeof(msg));
    if (rc == PG_ERR_INVALID) {
        pg_config_report_at(c->report, PG_CFG_SEV_ERROR, c->file, n->line,
                            scalar_col(ev, n->scalar, off), "%s", msg);
        return;
    }
    if (rc != 0) {
        c->failed = 1;
        yerror(c, n->line, n->col, "out of memory");
        return;
    }
    n->scalar = out;
    if (expanded && plain && !*out)
        n->kind = PG_NODE_NULL;
}

static void build_scalar(yaml_ctx *c, pg_config_node *n, const yaml_event_t *ev, int is_key)
{
    const char *value = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    size_t len = ev->data.scalar.length;
    int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    n->kind = PG_NODE_SCALAR;
    if (tag && strcmp(tag, TAG_STR) == 0)
        plain = 0;
    else if (tag)
        yerror(c, n->line, n->col, "YAML tag '%s' is not supported", tag);
    if (memchr(value, '\0', len)) {
        yerror(c, n->line, n->col, "NUL character in a scalar");
        len = strlen(value);
    }
    n->quoted = !plain;
    n->scalar = pg_arena_strndup(c->arena, value, len);
    if (!n->scalar) {
        c->failed = 1;
        return;
    }
    if (is_key)
        return;
    if (plain && is_null_word(n->scalar)) {
        n->kind = PG_NODE_NULL;
        return;
    }
    if (c->expand_env)
        expand_scalar(c, n, ev, plain);
}

static pg_config_node *parse_node(yaml_ctx *c, yaml_event_t *ev, int depth, int is_key);

static void build_seq(yaml_ctx *c, pg_config_node *n, int depth)
{
    node_vec v = {0};
    yaml_event_t ev;
    n->kind = PG_NODE_SEQ;
    while (next_event(c, &ev) == 0) {
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        pg_config_node *child = parse_node(c, &ev, depth + 1, 0);
        if (!child || vec_push(c, &v, child) != 0)
            break;
    }
    n->n = v.n;
    n->values = vec_finish(c, &v);
}

static void check_key(yaml_ctx *c, const node_vec *keys, const pg_config_node *k)
{
    if (k->kind != PG_NODE_SCALAR) {
        yerror(c, k->line, k->col, "mapping keys must be plain strings");
        return;
    }
    for (size_t i = 0; i < keys->n; i++) {
        const pg_config_node *o = keys->items[i];
        if (o->kind == PG_NODE_SCALAR && strcmp(o->scalar, k->scalar) == 0) {
            pg_config_report_at(c->report, PG_CFG_SEV_ERROR, c->file, k->line, k->col,
                                "duplicate key '%s' (first defined at line %d)", k->scalar,
                                o->line);
            return;
        }
    }
}

static void build_map(yaml_ctx *c, pg_config_node *n, int depth)
{
    node_vec keys = {0}, values = {0};
    yaml_event_t ev;
    n->kind = PG_NODE_MAP;
    while (next_event(c, &ev) == 0) {
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        pg_config_node *k = parse_node(c, &ev, depth + 1, 1);
        if (!k)
            break;
        check_key(c, &keys, k);
        if (next_event(c, &ev) != 0)
            break;
        pg_config_node *v = parse_node(c, &ev, depth + 1, 0);
        if (!v)
            break;
        /* Dropping pairs with a non-scalar key (already reported) lets every
         * reader of the tree rely on keys[i]->scalar. */
        if (k->kind != PG_NODE_SCALAR)
            continue;
        if (vec_push(c, &keys, k) != 0 || vec_push(c, &values, v) != 0)
            break;
    }
    n->n = keys.n < values.n ? keys.n : values.n;
    n->keys = vec_finish(c, &keys);
    n->values = vec_finish(c, &values);
}

static const char *event_anchor(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return (const char *)ev->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT:
        return (const char *)ev->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT:
        return (const char *)ev->data.mapping_start.anchor;
    default:
        return NULL;
    }
}

static void check_container_tag(yaml_ctx *c, const pg_config_node *n, const yaml_char_t *tag,
                                const char *allowed)
{
    if (tag && strcmp((const char *)tag, allowed) != 0)
        yerror(c, n->line, n->col, "YAML tag '%s' is not supported", (const char *)tag);
}

/* Takes ownership of ev (deletes it). NULL when parsing must stop. */
static pg_config_node *parse_node(yaml_ctx *c, yaml_event_t *ev, int depth, int is_key)
{
    pg_config_node *n = pg_arena_calloc(c->arena, 1, sizeof(*n));
    if (!n || depth > PG_CONFIG_MAX_DEPTH) {
        if (n)
            yerror(c, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                   "YAML nesting is too deep");
        c->failed = 1;
        yaml_event_delete(ev);
        return NULL;
    }
    n->file = c->file;
    n->line = (int)ev->start_mark.line + 1;
    n->col = (int)ev->start_mark.column + 1;
    n->kind = PG_NODE_NULL;
    if (event_anchor(ev))
        yerror(c, n->line, n->col, "YAML anchors ('&%s') are not supported", event_anchor(ev));
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        build_scalar(c, n, ev, is_key);
        break;
    case YAML_ALIAS_EVENT:
        yerror(c, n->line, n->col, "YAML aliases ('*%s') are not supported",
               (const char *)ev->data.alias.anchor);
        break;
    case YAML_SEQUENCE_START_EVENT:
        check_container_tag(c, n, ev->data.sequence_start.tag, TAG_SEQ);
        build_seq(c, n, depth);
        break;
    case YAML_MAPPING_START_EVENT:
        check_container_tag(c, n, ev->data.mapping_start.tag, TAG_MAP);
        build_map(c, n, depth);
        break;
    default:
        yerror(c, n->line, n->col, "unexpected YAML event");
        c->failed = 1;
        break;
    }
    yaml_event_delete(ev);
    return c->failed ? NULL : n;
}

static pg_config_node *empty_root(yaml_ctx *c)
{
    pg_config_node *n = pg_arena_calloc(c->arena, 1, sizeof(*n));
    if (n) {
        n->kind = PG_NODE_NULL;
        n->file = c->file;
        n->line = 1;
        n->col = 1;
    }
    return n;
}

/* Reads STREAM-START, at most one document and STREAM-END. */
static pg_config_node *parse_stream(yaml_ctx *c)
{
    yaml_event_t ev;
    pg_config_node *root = NULL;
    if (next_event(c, &ev) != 0)
        return NULL;
    yaml_event_delete(&ev); /* STREAM-START */
    if (next_event(c, &ev) != 0)
        return NULL;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return empty_root(c);
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if (next_event(c, &ev) != 0 || !(root = parse_node(c, &ev, 0, 0)))
        return NULL;
    if (next_event(c, &ev) != 0)
        return NULL;
    yaml_event_delete(&ev); /* DOCUMENT-END */
    if (next_event(c, &ev) != 0)
        return NULL;
    if (ev.type == YAML_DOCUMENT_START_EVENT)
        yerror(c, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
               "multiple YAML documents are not supported");
    yaml_event_delete(&ev);
    return root;
}

const pg_config_node *pg_config_yaml_parse(pg_arena *a, const char *file, const char *text,
                                           size_t len, int expand_env, pg_config_report *report)
{
    yaml_ctx c = {.arena = a, .text = text, .len = len, .report = report, .expand_env = expand_env};
    c.file = pg_arena_strdup(a, file ? file : "<config>");
    if (!c.file || !yaml_parser_initialize(&c.parser))
        return NULL;
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
    pg_config_node *root = parse_stream(&c);
    yaml_parser_delete(&c.parser);
    return c.failed ? NULL : root;
}

const pg_config_node *pg_config_map_get(const pg_config_node *map, const char *key)
{
    if (!map || map->kind != PG_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->kind == PG_NODE_SCALAR && strcmp(map->keys[i]->scalar, key) == 0)
            return map->values[i];
    return NULL;
}
