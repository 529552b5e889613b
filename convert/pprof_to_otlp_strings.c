/*
 * Strings and attributes of the pprof -> OTLP conversion.
 *
 * Every pprof string is hashed once and mapped to the first string with the
 * same bytes (its string id), so that later comparisons are integer compares.
 * A string enters the OTLP string table only when something references it by
 * index, and is copied into the output arena at most once.
 */
#include "convert/convert_internal.h"
#include "common/hash.h"

#include <string.h>

int p2o_nomem(p2o_ctx *c)
{
    if (pg_arena_limit_hit(c->a))
        return pg_error_set(c->err, PG_ERR_LIMIT, "pprof to OTLP: memory limit reached");
    return pg_error_set(c->err, PG_ERR_NOMEM, "pprof to OTLP: out of memory");
}

/* Finds the string with these bytes or records sid for it. */
static int64_t intern(p2o_ctx *c, const char *s, uint32_t len, uint32_t sid)
{
    if (p2o_set_reserve(c->a, &c->str_set) < 0)
        return -1;
    uint32_t h = (uint32_t)pg_hash_bytes(s, len, 0);
    size_t mask = c->str_set.cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        p2o_slot *sl = &c->str_set.slots[i];
        if (!sl->entry) {
            sl->hash = h;
            sl->entry = sid + 1;
            c->str_set.n++;
            return sid;
        }
        const p2o_str *e = &c->strs[sl->entry - 1];
        if (sl->hash == h && e->len == len && memcmp(e->src, s, len) == 0)
            return sl->entry - 1;
    }
}

int p2o_strings_init(p2o_ctx *c, size_t extra)
{
    const pg_pprof *p = c->p;
    size_t n = p->n_string_table;
    if (!n || !p->string_table[0] || p->string_table[0][0])
        return pg_error_set(c->err, PG_ERR_INVALID, "string_table[0] must be empty");
    c->cap_strs = n + extra;
    c->strs = pg_arena_alloc(c->a, c->cap_strs * sizeof(p2o_str));
    c->canon = pg_arena_alloc(c->a, n * sizeof(uint32_t));
    c->out_strings = pg_arena_alloc(c->a, c->cap_strs * sizeof(char *));
    if (!c->strs || !c->canon || !c->out_strings || p2o_set_init(c->a, &c->str_set, n) < 0)
        return p2o_nomem(c);
    for (size_t i = 0; i < n; i++) {
        const char *s = p->string_table[i] ? p->string_table[i] : "";
        size_t len = strlen(s);
        if (len > UINT32_MAX)
            return pg_error_set(c->err, PG_ERR_LIMIT, "string_table[%zu] is too long", i);
        c->strs[i] = (p2o_str){s, (uint32_t)len, -1, NULL};
        int64_t sid = intern(c, s, (uint32_t)len, (uint32_t)i);
        if (sid < 0)
            return p2o_nomem(c);
        c->canon[i] = (uint32_t)sid;
    }
    c->n_strs = n;
    c->strs[0].out = 0;
    c->strs[0].copy = "";
    c->out_strings[0] = (char *)"";
    c->n_out_strings = 1;
    return PG_OK;
}

int64_t p2o_sid(p2o_ctx *c, int64_t index, const char *field)
{
    if (index >= 0 && (uint64_t)index < c->p->n_string_table)
        return c->canon[index];
    pg_error_set(c->err, PG_ERR_INVALID, "%s %lld out of range (string table has %zu entries)",
                 field, (long long)index, c->p->n_string_table);
    return -1;
}

int64_t p2o_sid_literal(p2o_ctx *c, const char *s)
{
    size_t len = strlen(s);
    if (c->n_strs == c->cap_strs || len > UINT32_MAX) {
        pg_error_set(c->err, PG_ERR_NOMEM, "pprof to OTLP: string capacity exceeded");
        return -1;
    }
    uint32_t sid = (uint32_t)c->n_strs;
    c->strs[sid] = (p2o_str){s, (uint32_t)len, -1, s};
    int64_t got = intern(c, s, (uint32_t)len, sid);
    if (got < 0) {
        p2o_nomem(c);
        return -1;
    }
    if (got == sid)
        c->n_strs++;
    return got;
}

char *p2o_strcopy(p2o_ctx *c, uint32_t sid)
{
    p2o_str *e = &c->strs[sid];
    if (!e->copy)
        e->copy = pg_arena_strndup(c->a, e->src, e->len);
    return (char *)e->copy;
}

int32_t p2o_strindex(p2o_ctx *c, uint32_t sid)
{
    p2o_str *e = &c->strs[sid];
    if (e->out >= 0)
        return e->out;
    char *s = p2o_strcopy(c, sid);
    if (!s) {
        p2o_nomem(c);
        return -1;
    }
    e->out = (int32_t)c->n_out_strings;
    c->out_strings[c->n_out_strings++] = s;
    return e->out;
}
