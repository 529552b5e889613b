/* sample_labels: the rules over one sample's label set, and the pass over a
 * batch's payloads. */
#include <stdlib.h>
#include <string.h>

#include "processors/relabel/relabel_proc_internal.h"

/* Entry indices of the string labels, sorted by key and then by position, so
 * that the last of several values of one key comes last. */
static int cmp_entry(const void *a, const void *b, void *ctx)
{
    const relabel_entry *e = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(e[x].key, e[y].key);
    return c ? c : (x > y) - (x < y);
}

/* The sorted, unique input set (last value wins). */
static pg_label *input_set(pg_arena *a, const relabel_entry *e, size_t n, size_t *n_out)
{
    size_t *idx = pg_arena_alloc(a, (n ? n : 1) * sizeof(*idx));
    pg_label *set = pg_arena_alloc(a, (n ? n : 1) * sizeof(*set));
    if (!idx || !set)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].is_string)
            idx[k++] = i;
    qsort_r(idx, k, sizeof(*idx), cmp_entry, (void *)e);
    size_t o = 0;
    for (size_t i = 0; i < k; i++) {
        const relabel_entry *x = &e[idx[i]];
        if (o && strcmp(set[o - 1].name, x->key) == 0)
            set[o - 1].value = x->value;
        else
            set[o++] = (pg_label){x->key, x->value ? x->value : ""};
    }
    *n_out = o;
    return set;
}

static const char *lookup(const pg_label *set, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(set[mid].name, key);
        if (!c)
            return set[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return "";
}

int relabel_sample_set(const pg_relabel_rules *rules, pg_arena *a, const relabel_entry *e, size_t n,
                       relabel_outcome *out)
{
    memset(out, 0, sizeof(*out));
    size_t n_in = 0;
    pg_label *in = input_set(a, e, n, &n_in);
    pg_relabel_result r;
    if (!in || pg_relabel_apply(rules, a, in, n_in, &r) != PG_OK)
        return PG_ERR_NOMEM;
    out->kept = r.kept;
    if (!r.kept || !r.changed)
        return PG_OK;
    out->changed = 1;
    out->keep_entry = pg_arena_calloc(a, n ? n : 1, 1);
    out->added = pg_arena_alloc(a, (r.n_labels ? r.n_labels : 1) * sizeof(*out->added));
    if (!out->keep_entry || !out->added)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < r.n_labels; i++)
        if (strcmp(lookup(in, n_in, r.labels[i].name), r.labels[i].value) != 0)
            out->added[out->n_added++] = r.labels[i];
    for (size_t i = 0; i < n; i++) {
        const char *now = lookup(r.labels, r.n_labels, e[i].key);
        if (e[i].is_string)
            /* untouched keys keep every value they had */
            out->keep_entry[i] = strcmp(lookup(in, n_in, e[i].key), now) == 0;
        else
            out->keep_entry[i] = !*now || strcmp(lookup(in, n_in, e[i].key), now) == 0;
    }
    return PG_OK;
}

/* ---- memo: int64 key sequences -> a pointer ---- */

typedef struct memo_slot {
    const int64_t *key;
    size_t n;
    uint64_t hash;
    void *value;
} memo_slot;

struct relabel_memo {
    pg_arena *a;
    memo_slot *slots;
    size_t cap, used;
};

relabel_memo *relabel_memo_new(pg_arena *a)
{
    relabel_memo *m = pg_arena_calloc(a, 1, sizeof(*m));
    if (!m || !(m->slots = pg_arena_calloc(a, 64, sizeof(*m->slots))))
        return NULL;
    m->a = a;
    m->cap = 64;
    return m;
}

static uint64_t hash_key(const int64_t *key, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint64_t)key[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h ^ n;
}

static int memo_grow(relabel_memo *m)
{
    size_t cap = m->cap * 2;
    memo_slot *ns = pg_arena_calloc(m->a, cap, sizeof(*ns));
    if (!ns)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (ns[j].key)
            j = (j + 1) & (cap - 1);
        ns[j] = m->slots[i];
    }
    m->slots = ns;
    m->cap = cap;
    return PG_OK;
}

void **relabel_memo_slot(relabel_memo *m, const int64_t *key, size_t n, int *found)
{
    static const int64_t empty_key[1] = {0};
    if ((m->used + 1) * 2 > m->cap && memo_grow(m) != PG_OK)
        return NULL;
    uint64_t h = hash_key(key, n);
    size_t j = h & (m->cap - 1);
    for (; m->slots[j].key; j = (j + 1) & (m->cap - 1)) {
        memo_slot *s = &m->slots[j];
        if (s->hash == h && s->n == n && (!n || !memcmp(s->key, key, n * sizeof(*key)))) {
            *found = 1;
            return &s->value;
        }
    }
    *found = 0;
    const int64_t *copy = n ? pg_arena_memdup(m->a, key, n * sizeof(*key)) : empty_key;
    if (!copy)
        return NULL;
    m->slots[j] = (memo_slot){.key = copy, .n = n, .hash = h};
    m->used++;
    return &m->slots[j].value;
}

/* ---- string table with interning ---- */

struct relabel_strtab {
    pg_arena *a;
    char **items;
    size_t n, cap;
    long *index; /* open addressing over items; -1 = empty */
    size_t index_cap;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static int strtab_reindex(relabel_strtab *t, size_t cap)
{
    long *ix = pg_arena_alloc(t->a, cap * sizeof(*ix));
    if (!ix)
        return PG_ERR_NOMEM;
    memset(ix, 0xff, cap * sizeof(*ix));
    for (size_t i = 0; i < t->n; i++) {
        size_t j = hash_str(t->items[i]) & (cap - 1);
        while (ix[j] >= 0) {
            if (strcmp(t->items[ix[j]], t->items[i]) == 0)
                break; /* a duplicate in the input table: keep the first index */
            j = (j + 1) & (cap - 1);
        }
        if (ix[j] < 0)
            ix[j] = (long)i;
    }
    t->index = ix;
    t->index_cap = cap;
    return PG_OK;
}

relabel_strtab *relabel_strtab_new(pg_arena *a, char **strings, size_t n)
{
    relabel_strtab *t = pg_arena_calloc(a, 1, sizeof(*t));
    if (!t)
        return NULL;
    t->a = a;
    t->cap = n + 16;
    if (!(t->items = pg_arena_alloc(a, t->cap * sizeof(*t->items))))
        return NULL;
    if (n)
        memcpy(t->items, strings, n * sizeof(*t->items));
    t->n = n;
    size_t cap = 64;
    while (cap < 2 * (n + 1))
        cap *= 2;
    return strtab_reindex(t, cap) == PG_OK ? t : NULL;
}

long relabel_strtab_intern(relabel_strtab *t, const char *s)
{
    size_t j = hash_str(s) & (t->index_cap - 1);
    for (; t->index[j] >= 0; j = (j + 1) & (t->index_cap - 1))
        if (strcmp(t->items[t->index[j]], s) == 0)
            return t->index[j];
    if (t->n == t->cap) {
        size_t cap = t->cap * 2;
        char **ni = pg_arena_alloc(t->a, cap * sizeof(*ni));
        if (!ni)
            return -1;
        memcpy(ni, t->items, t->n * sizeof(*ni));
        t->items = ni;
        t->cap = cap;
    }
    char *copy = pg_arena_strdup(t->a, s);
    if (!copy)
        return -1;
    t->items[t->n] = copy;
    t->index[j] = (long)t->n;
    t->n++;
    if (t->n * 2 > t->index_cap && strtab_reindex(t, t->index_cap * 2) != PG_OK)
        return -1;
    return (long)(t->n - 1);
}

char **relabel_strtab_items(const relabel_strtab *t, size_t *n)
{
    *n = t->n;
    return t->items;
}
