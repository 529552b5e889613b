/*
 * Per-sample work of the pprof -> OTLP conversion: the stack (location ids ->
 * a de-duplicated stack_table entry, leaf first as in pprof) and the
 * attribute list (labels, with the labels of one key folded into one array
 * attribute because OTLP forbids repeated keys in one list).
 */
#include "convert/convert_internal.h"
#include "common/hash.h"

#include <string.h>

typedef Opentelemetry__Proto__Profiles__V1development__Stack p2o_stack_msg;

static const p2o_stack_msg stack_init = OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__STACK__INIT;

static uint32_t stack_hash(const int32_t *locs, size_t n)
{
    uint64_t h = pg_hash_bytes(locs, n * sizeof(*locs), 0);
    return (uint32_t)(h ^ (h >> 32));
}

int p2o_stacks_init(p2o_ctx *c)
{
    const pg_pprof *p = c->p;
    size_t max_locs = 0, labels = 0, max_labels = 0;
    for (size_t i = 0; i < p->n_sample; i++) {
        const pg_pprof_sample *s = p->sample[i];
        max_locs = s->n_location_id > max_locs ? s->n_location_id : max_locs;
        max_labels = s->n_label > max_labels ? s->n_label : max_labels;
        labels += s->n_label;
    }
    c->stacks = pg_arena_alloc(c->a, (p->n_sample + 1) * sizeof(*c->stacks));
    c->scratch = pg_arena_alloc(c->a, (max_locs + 1) * sizeof(*c->scratch));
    c->attr_pool = pg_arena_alloc(c->a, (labels + 1) * sizeof(*c->attr_pool));
    p2o_stack_msg *zero = pg_arena_alloc(c->a, sizeof(*zero));
    if (!c->stacks || !c->scratch || !c->attr_pool || !zero ||
        p2o_set_init(c->a, &c->stack_set, p->n_sample + 1) < 0)
        return p2o_nomem(c);
    c->attr_pool_cap = labels;
    c->max_labels = max_labels;
    /* the empty stack is entry 0, so samples without locations use it */
    *zero = stack_init;
    c->stacks[0] = zero;
    c->n_stacks = 1;
    uint32_t h = stack_hash(NULL, 0);
    c->stack_set.slots[h & (c->stack_set.cap - 1)] = (p2o_slot){h, 1};
    c->stack_set.n = 1;
    return PG_OK;
}

static int32_t add_stack(p2o_ctx *c, const int32_t *locs, size_t n)
{
    p2o_stack_msg *st = pg_arena_alloc(c->a, sizeof(*st) + n * sizeof(int32_t));
    if (!st)
        return p2o_nomem(c), -1;
    *st = stack_init;
    st->n_location_indices = n;
    st->location_indices = (int32_t *)(st + 1);
    memcpy(st->location_indices, locs, n * sizeof(int32_t));
    c->stacks[c->n_stacks] = st;
    return (int32_t)c->n_stacks++;
}

int32_t p2o_stack(p2o_ctx *c, const pg_pprof_sample *s, size_t si)
{
    size_t n = s->n_location_id;
    int32_t *locs = c->scratch;
    for (size_t k = 0; k < n; k++) {
        int64_t pos = pg_idmap_find(&c->locations, s->location_id[k]);
        if (pos < 0) {
            pg_error_set(c->err, PG_ERR_INVALID,
                         "sample[%zu].location_id[%zu] %llu does not match any location id", si, k,
                         (unsigned long long)s->location_id[k]);
            return -1;
        }
        locs[k] = (int32_t)pos + 1;
    }
    if (p2o_set_reserve(c->a, &c->stack_set) < 0)
        return p2o_nomem(c), -1;
    uint32_t h = stack_hash(locs, n);
    size_t mask = c->stack_set.cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        p2o_slot *sl = &c->stack_set.slots[i];
        if (!sl->entry) {
            int32_t e = add_stack(c, locs, n);
            if (e >= 0) {
                *sl = (p2o_slot){h, (uint32_t)e + 1};
                c->stack_set.n++;
            }
            return e;
        }
        const p2o_stack_msg *st = c->stacks[sl->entry - 1];
        if (sl->hash == h && st->n_location_indices == n &&
            (n == 0 || memcmp(st->location_indices, locs, n * sizeof(int32_t)) == 0))
            return (int32_t)sl->entry - 1;
    }
}

/* A label's value and unit: a non-zero str makes a string label (as in
 * google/pprof), anything else a numeric one. */
static int label_value(p2o_ctx *c, const pg_pprof_label *l, p2o_val *v, uint32_t *unit)
{
    int64_t sid;
    *unit = 0;
    if (l->str) {
        if ((sid = p2o_sid(c, l->str, "label.str")) < 0)
            return -1;
        *v = (p2o_val){P2O_STR, sid};
        return 0;
    }
    *v = (p2o_val){P2O_INT, l->num};
    if (l->num_unit) {
        if ((sid = p2o_sid(c, l->num_unit, "label.num_unit")) < 0)
            return -1;
        *unit = (uint32_t)sid;
    }
    return 0;
}

static int grouping_scratch(p2o_ctx *c)
{
    size_t n = c->max_labels, ns = c->cap_strs;
    c->key_seen = pg_arena_calloc(c->a, ns, sizeof(uint32_t));
    c->key_group = pg_arena_alloc(c->a, ns * sizeof(uint32_t));
    c->lab_group = pg_arena_alloc(c->a, n * sizeof(uint32_t));
    c->grp_count = pg_arena_alloc(c->a, n * sizeof(uint32_t));
    c->grp_off = pg_arena_alloc(c->a, n * sizeof(uint32_t));
    c->grp_unit = pg_arena_alloc(c->a, n * sizeof(uint32_t));
    c->lab_val = pg_arena_alloc(c->a, n * sizeof(p2o_val));
    c->grp_vals = pg_arena_alloc(c->a, n * sizeof(p2o_val));
    if (!c->key_seen || !c->key_group || !c->lab_group || !c->grp_count || !c->grp_off ||
        !c->grp_unit || !c->lab_val || !c->grp_vals)
        return p2o_nomem(c);
    return PG_OK;
}

/* Groups the labels by key (first appearance order); returns the group count. */
static int64_t group_labels(p2o_ctx *c, const pg_pprof_sample *s, size_t si, uint32_t *keys)
{
    uint32_t stamp = (uint32_t)si + 1, groups = 0;
    for (size_t k = 0; k < s->n_label; k++) {
        const pg_pprof_label *l = s->label[k];
        int64_t key = p2o_sid(c, l->key, "label.key");
        uint32_t unit;
        if (key < 0 || label_value(c, l, &c->lab_val[k], &unit) < 0)
            return -1;
        if (c->key_seen[key] != stamp) {
            c->key_seen[key] = stamp;
            c->key_group[key] = groups;
            keys[groups] = (uint32_t)key;
            c->grp_count[groups] = 0;
            c->grp_unit[groups++] = unit;
        } else if (c->grp_unit[c->key_group[key]] != unit) {
            pg_error_set(c->err, PG_ERR_UNSUPPORTED,
                         "sample[%zu] has values of label \"%s\" with different units (\"%s\" and "
                         "\"%s\")",
                         si, c->strs[key].src, c->strs[c->grp_unit[c->key_group[key]]].src,
                         c->strs[unit].src);
            return -1;
        }
        c->lab_group[k] = c->key_group[key];
        c->grp_count[c->lab_group[k]]++;
    }
    return groups;
}

int p2o_sample_attrs(p2o_ctx *c, const pg_pprof_sample *s, size_t si, int32_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s->n_label)
        return PG_OK;
    if (s->n_label > c->attr_pool_cap - c->attr_pool_used)
        return pg_error_set(c->err, PG_ERR_INVALID, "sample[%zu] labels changed", si);
    if (!c->key_seen && grouping_scratch(c) != PG_OK)
        return c->err->code;
    int32_t *list = c->attr_pool + c->attr_pool_used;
    uint32_t *keys = (uint32_t *)list; /* group keys, overwritten in order below */
    int64_t groups = group_labels(c, s, si, keys);
    if (groups < 0)
        return c->err->code;
    uint32_t off = 0;
    for (int64_t g = 0; g < groups; g++) {
        c->grp_off[g] = off;
        off += c->grp_count[g];
    }
    for (size_t k = 0; k < s->n_label; k++)
        c->grp_vals[c->grp_off[c->lab_group[k]]++] = c->lab_val[k];
    for (int64_t g = 0; g < groups; g++) {
        uint32_t count = c->grp_count[g];
        const p2o_val *vals = c->grp_vals + c->grp_off[g] - count;
        p2o_attr_key key = {keys[g], c->grp_unit[g], vals[0], NULL};
        if (count > 1) {
            key.val = (p2o_val){P2O_ARRAY, count};
            key.items = vals;
        }
        int32_t a = p2o_attr(c, &key);
        if (a < 0)
            return c->err->code;
        list[g] = a;
    }
    c->attr_pool_used += (size_t)groups;
    *out = list;
    *n = (size_t)groups;
    return PG_OK;
}
