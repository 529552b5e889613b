/*
 * The pprof string table and the mapping/location/function tables of the
 * document being built. Entries are created on first use, so ids run 1..n in
 * first-use order and only what the selected samples reach is emitted; the
 * one exception is a document holding the whole request, which keeps every
 * mapping in table order (o2p_all_mappings).
 */
#include "convert/otlp_to_pprof_internal.h"
#include "common/hash.h"

#include <stdlib.h>
#include <string.h>

typedef struct str_key {
    const o2p_ctx *c;
    const char *s;
    size_t len;
} str_key;

static int str_eq(const void *ctx, uint32_t entry)
{
    const str_key *k = ctx;
    const char *t = k->c->p->string_table[entry];
    return strncmp(t, k->s, k->len) == 0 && t[k->len] == 0;
}

int64_t o2p_str(o2p_ctx *c, const char *s)
{
    pg_pprof *p = c->p;
    if (!s)
        s = "";
    str_key k = {c, s, strlen(s)};
    if (o2p_grow(c, (void ***)&p->string_table, p->n_string_table, &c->cap_str) < 0)
        return -1;
    int inserted = 0;
    uint64_t h = pg_hash_bytes(s, k.len, 0x5bd1e995);
    int64_t e = o2p_index_intern(c->a, &c->str_index, h, str_eq, &k, (uint32_t)p->n_string_table,
                                 &inserted);
    if (e < 0)
        return o2p_nomem(c);
    if (inserted) {
        /* documents outlive nothing but the caller's arena: copy out of the request */
        char *copy = pg_arena_strndup(c->a, s, k.len);
        if (!copy)
            return o2p_nomem(c);
        p->string_table[p->n_string_table++] = copy;
    }
    return e;
}

int64_t o2p_strx(o2p_ctx *c, int32_t i)
{
    o2p_stamp *st = &c->str_cache[i];
    if (st->gen == c->gen)
        return st->val;
    int64_t v = o2p_str(c, c->d->string_table[i]);
    if (v < 0)
        return v;
    *st = (o2p_stamp){c->gen, (uint32_t)v};
    return v;
}

static int attr_true(const pg_otlp_request *req, const int32_t *idx, size_t n, const char *key)
{
    const pg_otlp_any *v = o2p_attr_lookup(req, idx, n, key);
    return v && v->value_case == PG_ANY(BOOL_VALUE) && v->bool_value;
}

static int is_zero_mapping(const pg_otlp_mapping *m)
{
    return !m->memory_start && !m->memory_limit && !m->file_offset && !m->filename_strindex &&
           !m->n_attribute_indices;
}

/* pprof mapping id of mapping_table[i]: 0 for the unset entry 0 (pprof's "no
 * mapping"), UINT64_MAX on allocation failure. */
static uint64_t mapping_id(o2p_ctx *c, int32_t i)
{
    o2p_stamp *st = &c->map_cache[i];
    if (st->gen == c->gen)
        return st->val;
    const pg_otlp_mapping *om = c->d->mapping_table[i];
    if (i == 0 && is_zero_mapping(om)) {
        *st = (o2p_stamp){c->gen, 0};
        return 0;
    }
    pg_pprof *p = c->p;
    pg_pprof_mapping *m = pg_arena_alloc(c->a, sizeof(*m));
    if (!m || o2p_grow(c, (void ***)&p->mapping, p->n_mapping, &c->cap_map) < 0) {
        o2p_nomem(c);
        return UINT64_MAX;
    }
    perftools__profiles__mapping__init(m);
    const int32_t *ai = om->attribute_indices;
    size_t na = om->n_attribute_indices;
    const char *build_id =
        o2p_any_string(c->req, o2p_attr_lookup(c->req, ai, na, PG_ATTR_BUILD_ID));
    int64_t fn = o2p_strx(c, om->filename_strindex);
    int64_t bid = build_id ? o2p_str(c, build_id) : 0;
    if (fn < 0 || bid < 0)
        return UINT64_MAX;
    m->id = p->n_mapping + 1;
    m->memory_start = om->memory_start;
    m->memory_limit = om->memory_limit;
    m->file_offset = om->file_offset;
    m->filename = fn;
    m->build_id = bid;
    m->has_functions = attr_true(c->req, ai, na, PG_ATTR_HAS_FUNCTIONS);
    m->has_filenames = attr_true(c->req, ai, na, PG_ATTR_HAS_FILENAMES);
    m->has_line_numbers = attr_true(c->req, ai, na, PG_ATTR_HAS_LINE_NUMBERS);
    m->has_inline_frames = attr_true(c->req, ai, na, PG_ATTR_HAS_INLINE_FRAMES);
    p->mapping[p->n_mapping++] = m;
    *st = (o2p_stamp){c->gen, (uint32_t)m->id};
    return m->id;
}

/* Every referenced function gets an id, entry 0 included: pprof refuses a
 * line without a function. 0 on allocation failure. */
static uint64_t function_id(o2p_ctx *c, int32_t i)
{
    o2p_stamp *st = &c->fun_cache[i];
    if (st->gen == c->gen)
        return st->val;
    const pg_otlp_function *of = c->d->function_table[i];
    pg_pprof *p = c->p;
    pg_pprof_function *f = pg_arena_alloc(c->a, sizeof(*f));
    if (!f || o2p_grow(c, (void ***)&p->function, p->n_function, &c->cap_fun) < 0) {
        o2p_nomem(c);
        return 0;
    }
    perftools__profiles__function__init(f);
    int64_t name = o2p_strx(c, of->name_strindex);
    int64_t sys = o2p_strx(c, of->system_name_strindex);
    int64_t file = o2p_strx(c, of->filename_strindex);
    if (name < 0 || sys < 0 || file < 0)
        return 0;
    f->id = p->n_function + 1;
    f->name = name;
    f->system_name = sys;
    f->filename = file;
    f->start_line = of->start_line;
    p->function[p->n_function++] = f;
    *st = (o2p_stamp){c->gen, (uint32_t)f->id};
    return f->id;
}

static int fill_lines(o2p_ctx *c, pg_pprof_location *l, const pg_otlp_location *ol)
{
    if (!ol->n_lines)
        return 0;
    pg_pprof_line **lines = pg_arena_alloc(c->a, ol->n_lines * sizeof(*lines));
    pg_pprof_line *items = pg_arena_alloc(c->a, ol->n_lines * sizeof(*items));
    if (!lines || !items)
        return o2p_nomem(c);
    for (size_t k = 0; k < ol->n_lines; k++) {
        perftools__profiles__line__init(&items[k]);
        items[k].function_id = function_id(c, ol->lines[k]->function_index);
        if (!items[k].function_id)
            return -1;
        items[k].line = ol->lines[k]->line;
        items[k].column = ol->lines[k]->column;
        lines[k] = &items[k];
    }
    l->line = lines;
    l->n_line = ol->n_lines;
    return 0;
}

uint64_t o2p_location(o2p_ctx *c, int32_t i)
{
    o2p_stamp *st = &c->loc_cache[i];
    if (st->gen == c->gen)
        return st->val;
    const pg_otlp_location *ol = c->d->location_table[i];
    pg_pprof *p = c->p;
    pg_pprof_location *l = pg_arena_alloc(c->a, sizeof(*l));
    if (!l || o2p_grow(c, (void ***)&p->location, p->n_location, &c->cap_loc) < 0) {
        o2p_nomem(c);
        return 0;
    }
    perftools__profiles__location__init(l);
    uint64_t mid = mapping_id(c, ol->mapping_index);
    if (mid == UINT64_MAX || fill_lines(c, l, ol) < 0)
        return 0;
    l->mapping_id = mid;
    l->address = ol->address;
    l->is_folded =
        attr_true(c->req, ol->attribute_indices, ol->n_attribute_indices, PG_ATTR_IS_FOLDED);
    l->id = p->n_location + 1;
    p->location[p->n_location++] = l;
    *st = (o2p_stamp){c->gen, (uint32_t)l->id};
    return l->id;
}

int o2p_all_mappings(o2p_ctx *c)
{
    for (size_t i = 0; i < c->d->n_mapping_table; i++) {
        if (mapping_id(c, (int32_t)i) == UINT64_MAX)
            return -1;
    }
    return 0;
}

int o2p_stack(o2p_ctx *c, int32_t i, uint64_t **ids, size_t *n)
{
    o2p_stack_cache *st = &c->stack_cache[i];
    if (st->gen != c->gen) {
        const pg_otlp_stack *s = c->d->stack_table[i];
        uint64_t *v = NULL;
        if (s->n_location_indices) {
            v = pg_arena_alloc(c->a, s->n_location_indices * sizeof(*v));
            if (!v)
                return o2p_nomem(c);
        }
        for (size_t k = 0; k < s->n_location_indices; k++) {
            v[k] = o2p_location(c, s->location_indices[k]);
            if (!v[k])
                return -1;
        }
        *st = (o2p_stack_cache){c->gen, (uint32_t)s->n_location_indices, v};
    }
    *ids = st->ids;
    *n = st->n;
    return 0;
}
