/* Applying compiled rules to one label set (Prometheus model/relabel). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "processors/relabel/relabel_internal.h"

/* The label set being rewritten: sorted by name, unique, no empty value. */
typedef struct work_set {
    pg_arena *a;
    pg_label *v;
    size_t n, cap;
    int limit_hits;
} work_set;

/* Index of name, or -(insertion point) - 1. */
static long ws_find(const work_set *ws, const char *name)
{
    size_t lo = 0, hi = ws->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ws->v[mid].name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

static const char *ws_get(const work_set *ws, const char *name)
{
    long i = ws_find(ws, name);
    return i >= 0 ? ws->v[i].value : "";
}

static void ws_del(work_set *ws, const char *name)
{
    long i = ws_find(ws, name);
    if (i < 0)
        return;
    memmove(&ws->v[i], &ws->v[i + 1], (ws->n - (size_t)i - 1) * sizeof(*ws->v));
    ws->n--;
}

/* Sets name to value (both copied unless they already live in the arena's
 * result); an empty value deletes, as Prometheus's labels.Builder does. */
static int ws_set(work_set *ws, const char *name, const char *value)
{
    if (!*value) {
        ws_del(ws, name);
        return PG_OK;
    }
    long i = ws_find(ws, name);
    if (i >= 0) {
        ws->v[i].value = value;
        return PG_OK;
    }
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? ws->cap * 2 : 8;
        pg_label *nv = pg_arena_alloc(ws->a, cap * sizeof(*nv));
        if (!nv)
            return PG_ERR_NOMEM;
        if (ws->n)
            memcpy(nv, ws->v, ws->n * sizeof(*nv));
        ws->v = nv;
        ws->cap = cap;
    }
    size_t at = (size_t)(-i - 1);
    memmove(&ws->v[at + 1], &ws->v[at], (ws->n - at) * sizeof(*ws->v));
    ws->v[at].name = name;
    ws->v[at].value = value;
    ws->n++;
    return PG_OK;
}

/* 1 match, 0 no match (a match-limit hit counts as none), PG_ERR_NOMEM. */
static int match(work_set *ws, const pg_regex *re, const char *s, size_t len, pg_regex_groups *g)
{
    int rc = pg_regex_match(re, s, len, g);
    if (rc == PG_ERR_NOMEM)
        return rc;
    if (rc < 0) {
        ws->limit_hits++;
        return 0;
    }
    return rc;
}

/* The source labels' values joined by the separator. */
static const char *join_sources(work_set *ws, const relabel_rule *r, size_t *len)
{
    if (r->n_source_labels == 1) {
        const char *v = ws_get(ws, r->source_labels[0]);
        *len = strlen(v);
        return v;
    }
    size_t total = 0;
    for (size_t i = 0; i < r->n_source_labels; i++)
        total += strlen(ws_get(ws, r->source_labels[i])) + (i ? r->separator_len : 0);
    char *out = pg_arena_alloc(ws->a, total + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < r->n_source_labels; i++) {
        if (i) {
            memcpy(out + o, r->separator, r->separator_len);
            o += r->separator_len;
        }
        const char *v = ws_get(ws, r->source_labels[i]);
        size_t l = strlen(v);
        memcpy(out + o, v, l);
        o += l;
    }
    out[o] = '\0';
    *len = o;
    return out;
}

static int do_replace(work_set *ws, const relabel_rule *r, const char *val, size_t len)
{
    pg_regex_groups g;
    int m = match(ws, r->re, val, len, &g);
    if (m <= 0)
        return m;
    char *target = relabel_template_expand(ws->a, &r->target, val, &g);
    if (!target)
        return PG_ERR_NOMEM;
    if (!*target || !relabel_valid_utf8(target, strlen(target)))
        return PG_OK;
    char *res = relabel_template_expand(ws->a, &r->replacement, val, &g);
    if (!res)
        return PG_ERR_NOMEM;
    return ws_set(ws, target, res);
}

static int do_labelmap(work_set *ws, const relabel_rule *r)
{
    /* like labels.Builder.Range: the labels as they were before this rule */
    size_t n = ws->n;
    pg_label *snap = n ? pg_arena_memdup(ws->a, ws->v, n * sizeof(*snap)) : NULL;
    if (n && !snap)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        pg_regex_groups g;
        size_t len = strlen(snap[i].name);
        int m = match(ws, r->re, snap[i].name, len, &g);
        if (m < 0)
            return m;
        if (!m)
            continue;
        char *name = relabel_template_expand(ws->a, &r->replacement, snap[i].name, &g);
        if (!name)
            return PG_ERR_NOMEM;
        if (*name && relabel_valid_utf8(name, strlen(name)) &&
            ws_set(ws, name, snap[i].value) != PG_OK)
            return PG_ERR_NOMEM;
    }
    return PG_OK;
}

static int do_labelfilter(work_set *ws, const relabel_rule *r, int keep_matching)
{
    size_t o = 0;
    for (size_t i = 0; i < ws->n; i++) {
        int m = match(ws, r->re, ws->v[i].name, strlen(ws->v[i].name), NULL);
        if (m < 0)
            return m;
        if (m == keep_matching)
            ws->v[o++] = ws->v[i];
    }
    ws->n = o;
    return PG_OK;
}

static int set_target(work_set *ws, const relabel_rule *r, const char *value)
{
    char *name = pg_arena_strdup(ws->a, r->target_label);
    if (!value || !name)
        return PG_ERR_NOMEM;
    return ws_set(ws, name, value);
}

static int do_hashmod(work_set *ws, const relabel_rule *r, const char *val, size_t len)
{
    uint64_t mod = 0;
    if (relabel_hashmod(val, len, r->modulus, &mod) != PG_OK)
        return PG_ERR_NOMEM;
    return set_target(ws, r, pg_arena_sprintf(ws->a, "%" PRIu64, mod));
}

/* 1: keep the set, 0: drop it, < 0: error. */
static int apply_rule(work_set *ws, const relabel_rule *r)
{
    size_t len = 0;
    const char *val = r->n_source_labels ? join_sources(ws, r, &len) : "";
    if (!val)
        return PG_ERR_NOMEM;
    int m, rc = PG_OK;
    switch (r->action) {
    case PG_RELABEL_KEEP:
    case PG_RELABEL_DROP:
        m = match(ws, r->re, val, len, NULL);
        return m < 0 ? m : (m == (r->action == PG_RELABEL_KEEP));
    case PG_RELABEL_KEEPEQUAL:
        return strcmp(ws_get(ws, r->target_label), val) == 0;
    case PG_RELABEL_DROPEQUAL:
        return strcmp(ws_get(ws, r->target_label), val) != 0;
    case PG_RELABEL_REPLACE:
        rc = do_replace(ws, r, val, len);
        break;
    case PG_RELABEL_HASHMOD:
        rc = do_hashmod(ws, r, val, len);
        break;
    case PG_RELABEL_LABELMAP:
        rc = do_labelmap(ws, r);
        break;
    case PG_RELABEL_LABELDROP:
    case PG_RELABEL_LABELKEEP:
        rc = do_labelfilter(ws, r, r->action == PG_RELABEL_LABELKEEP);
        break;
    case PG_RELABEL_LOWERCASE:
        rc = set_target(ws, r, relabel_lower(ws->a, val, len));
        break;
    case PG_RELABEL_UPPERCASE:
        rc = set_target(ws, r, relabel_upper(ws->a, val, len));
        break;
    case PG_RELABEL_ACTIONS:
        break;
    }
    return rc < 0 ? rc : 1;
}

/* Whether the result differs from the input (empty input values ignored). */
static int differs(const work_set *ws, const pg_label *in, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].value || !*in[i].value)
            continue;
        if (j >= ws->n || strcmp(in[i].name, ws->v[j].name) != 0 ||
            strcmp(in[i].value, ws->v[j].value) != 0)
            return 1;
        j++;
    }
    return j != ws->n;
}

int pg_relabel_apply(const pg_relabel_rules *r, pg_arena *a, const pg_label *in, size_t n,
                     pg_relabel_result *out)
{
    memset(out, 0, sizeof(*out));
    out->dropped_by = -1;
    work_set ws = {.a = a, .cap = n + 4};
    ws.v = pg_arena_alloc(a, ws.cap * sizeof(*ws.v));
    if (!ws.v)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (in[i].value && *in[i].value)
            ws.v[ws.n++] = in[i];
    for (size_t i = 0; r && i < r->n; i++) {
        int rc = apply_rule(&ws, &r->rules[i]);
        if (rc < 0)
            return rc;
        if (!rc) {
            out->dropped_by = (int)i;
            out->limit_hits = ws.limit_hits;
            return PG_OK;
        }
    }
    out->kept = 1;
    out->labels = ws.v;
    out->n_labels = ws.n;
    out->changed = differs(&ws, in, n);
    out->limit_hits = ws.limit_hits;
    return PG_OK;
}
