/*
 * The merge builder. Every output table is an interner: a growable array of
 * entries plus an open-addressing hash index over a canonical key of each
 * entry, so equal entries coming from different sources (or repeated within
 * one) land on one index. Keys are built after the entry's own references
 * were remapped, which is what makes de-duplication transitive (two
 * locations pointing at equal functions in different requests are equal).
 *
 * Each source request gets memo arrays (source index -> output index + 1) so
 * an entry is remapped once however many profiles reference it; an entry
 * reached by no chosen profile is never visited, which is the pruning.
 */
#include "model/otlp_merge.h"
#include "model/otlp_merge_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef Opentelemetry__Proto__Profiles__V1development__ResourceProfiles pb_res_profiles;
typedef Opentelemetry__Proto__Profiles__V1development__ScopeProfiles pb_scope_profiles;
typedef Opentelemetry__Proto__Profiles__V1development__Sample pb_sample;
typedef Opentelemetry__Proto__Profiles__V1development__ValueType pb_value_type;
typedef Opentelemetry__Proto__Profiles__V1development__Mapping pb_mapping;
typedef Opentelemetry__Proto__Profiles__V1development__Location pb_location;
typedef Opentelemetry__Proto__Profiles__V1development__Line pb_line;
typedef Opentelemetry__Proto__Profiles__V1development__Function pb_function;
typedef Opentelemetry__Proto__Profiles__V1development__Link pb_link;
typedef Opentelemetry__Proto__Profiles__V1development__Stack pb_stack;
typedef Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit pb_attr;

typedef struct out_res {
    pb_res_profiles *rp;
    pg_merge_vec scopes; /* out_scope * */
} out_res;

typedef struct out_scope {
    pb_scope_profiles *sp;
    pg_merge_vec profiles;
} out_scope;

/* What one source request's indices became in the output. */
typedef struct pg_merge_src {
    const pg_otlp_request *req;
    uint32_t *str, *fn, *map, *loc, *link, *attr, *stack; /* out index + 1 */
    uint32_t *res;                                        /* per resource: out_res index + 1 */
    uint32_t **scope; /* per resource, per scope: out_scope index + 1 */
    struct pg_merge_src *next;
} src_ctx;

struct pg_otlp_builder {
    pg_arena *a;
    pg_merge_table strs, fns, maps, locs, links, attrs, stacks;
    pg_merge_table res, scopes; /* items: out_res *, out_scope * */
    pg_merge_key kb;
    src_ctx *srcs;
};

/* ---- per-source memo ---- */

static size_t dict_len(const pg_otlp_request *req, size_t off)
{
    if (!req->dictionary)
        return 0;
    return *(const size_t *)((const char *)req->dictionary + off);
}

#define DICT_N(req, table) dict_len((req), offsetof(pg_otlp_dictionary, n_##table))

static uint32_t *memo_new(pg_arena *a, size_t n)
{
    return pg_arena_calloc(a, n ? n : 1, sizeof(uint32_t));
}

static src_ctx *src_get(pg_otlp_builder *b, const pg_otlp_request *req)
{
    for (src_ctx *s = b->srcs; s; s = s->next)
        if (s->req == req)
            return s;
    src_ctx *s = pg_arena_calloc(b->a, 1, sizeof(*s));
    if (!s)
        return NULL;
    s->req = req;
    s->str = memo_new(b->a, DICT_N(req, string_table));
    s->fn = memo_new(b->a, DICT_N(req, function_table));
    s->map = memo_new(b->a, DICT_N(req, mapping_table));
    s->loc = memo_new(b->a, DICT_N(req, location_table));
    s->link = memo_new(b->a, DICT_N(req, link_table));
    s->attr = memo_new(b->a, DICT_N(req, attribute_table));
    s->stack = memo_new(b->a, DICT_N(req, stack_table));
    s->res = memo_new(b->a, req->n_resource_profiles);
    s->scope = pg_arena_calloc(b->a, req->n_resource_profiles + 1, sizeof(*s->scope));
    if (!s->str || !s->fn || !s->map || !s->loc || !s->link || !s->attr || !s->stack || !s->res ||
        !s->scope)
        return NULL;
    s->next = b->srcs;
    b->srcs = s;
    return s;
}

/* ---- remapping dictionary entries ---- */

typedef pg_merge_ctx ctx;

static int64_t bad_index(ctx *c, const char *table, int64_t i, size_t n)
{
    return pg_error_set(c->err, PG_ERR_INVALID, "index %lld out of range (%s has %zu entries)",
                        (long long)i, table, n);
}

int64_t pg_merge_nomem(pg_merge_ctx *c)
{
    return pg_error_set(c->err, PG_ERR_NOMEM, "out of memory while merging profiles");
}

/* Shared prologue of every map_* function: the zero entry stays 0, indices
 * are checked, and an entry seen before answers from the memo. */
#define MAP_PROLOGUE(c, memo, table, i)                                                            \
    do {                                                                                           \
        if ((i) == 0)                                                                              \
            return 0;                                                                              \
        size_t n_ = DICT_N((c)->s->req, table);                                                    \
        if ((i) < 0 || (size_t)(i) >= n_)                                                          \
            return bad_index((c), #table, (i), n_);                                                \
        if ((c)->s->memo[(i)])                                                                     \
            return (int64_t)(c)->s->memo[(i)] - 1;                                                 \
    } while (0)

static int64_t remember(ctx *c, uint32_t *memo, int32_t i, int64_t r)
{
    if (r >= 0)
        memo[i] = (uint32_t)r + 1;
    else if (r == PG_ERR_NOMEM)
        pg_merge_nomem(c);
    else if (r == PG_ERR_LIMIT)
        pg_error_set(c->err, PG_ERR_LIMIT, "merged dictionary table exceeds 2^31 entries");
    return r;
}

/* Interns message m (whose references are already remapped) into t. */
static int64_t put_message(ctx *c, pg_merge_table *t, void *m)
{
    c->b->kb.len = 0;
    if (pg_merge_key_message(c->a, &c->b->kb, m) != PG_OK)
        return PG_ERR_NOMEM;
    return pg_merge_table_put(c->a, t, &c->b->kb, m);
}

int64_t pg_merge_map_str(pg_merge_ctx *c, int32_t i)
{
    MAP_PROLOGUE(c, str, string_table, i);
    const char *s = c->s->req->dictionary->string_table[i];
    c->b->kb.len = 0;
    if (pg_merge_key_reserve(c->a, &c->b->kb, strlen(s) + 1) != PG_OK)
        return remember(c, c->s->str, i, PG_ERR_NOMEM);
    memcpy(c->b->kb.p, s, strlen(s));
    c->b->kb.len = strlen(s);
    return remember(c, c->s->str, i, pg_merge_table_put(c->a, &c->b->strs, &c->b->kb, NULL));
}

static int64_t map_attr(ctx *c, int32_t i);

static int64_t map_attr_list(ctx *c, const int32_t *in, size_t n, int32_t **out)
{
    *out = NULL;
    if (!n)
        return 0;
    int32_t *o = pg_arena_alloc(c->b->a, n * sizeof(*o));
    if (!o)
        return pg_merge_nomem(c);
    for (size_t k = 0; k < n; k++) {
        o[k] = in[k];
        REMAP(c, map_attr, o[k]);
    }
    *out = o;
    return 0;
}

static int64_t map_fn(ctx *c, int32_t i)
{
    MAP_PROLOGUE(c, fn, function_table, i);
    const pb_function *f = c->s->req->dictionary->function_table[i];
    pb_function *o = NEW_MSG(c->b->a, pb_function, PROF_INIT(FUNCTION));
    if (!o)
        return pg_merge_nomem(c);
    o->name_strindex = f->name_strindex;
    o->system_name_strindex = f->system_name_strindex;
    o->filename_strindex = f->filename_strindex;
    o->start_line = f->start_line;
    REMAP(c, pg_merge_map_str, o->name_strindex);
    REMAP(c, pg_merge_map_str, o->system_name_strindex);
    REMAP(c, pg_merge_map_str, o->filename_strindex);
    return remember(c, c->s->fn, i, put_message(c, &c->b->fns, o));
}

static int64_t map_map(ctx *c, int32_t i)
{
    MAP_PROLOGUE(c, map, mapping_table, i);
    const pb_mapping *m = c->s->req->dictionary->mapping_table[i];
    pb_mapping *o = NEW_MSG(c->b->a, pb_mapping, PROF_INIT(MAPPING));
    if (!o)
        return pg_merge_nomem(c);
    o->memory_start = m->memory_start;
    o->memory_limit = m->memory_limit;
    o->file_offset = m->file_offset;
    o->filename_strindex = m->filename_strindex;
    REMAP(c, pg_merge_map_str, o->filename_strindex);
    int64_t r =
        map_attr_list(c, m->attribute_indices, m->n_attribute_indices, &o->attribute_indices);
    if (r < 0)
        return r;
    o->n_attribute_indices = m->n_attribute_indices;
    return remember(c, c->s->map, i, put_message(c, &c->b->maps, o));
}

static int64_t copy_lines(ctx *c, const pb_location *l, pb_location *o)
{
    if (!l->n_lines)
        return 0;
    o->lines = pg_arena_alloc(c->b->a, l->n_lines * sizeof(*o->lines));
    if (!o->lines)
        return pg_merge_nomem(c);
    for (size_t k = 0; k < l->n_lines; k++) {
        pb_line *ln = NEW_MSG(c->b->a, pb_line, PROF_INIT(LINE));
        if (!ln)
            return pg_merge_nomem(c);
        ln->function_index = l->lines[k]->function_index;
        ln->line = l->lines[k]->line;
        ln->column = l->lines[k]->column;
        REMAP(c, map_fn, ln->function_index);
        o->lines[k] = ln;
    }
    o->n_lines = l->n_lines;
    return 0;
}

static int64_t map_loc(ctx *c, int32_t i)
{
    MAP_PROLOGUE(c, loc, location_table, i);
    const pb_location *l = c->s->req->dictionary->location_table[i];
    pb_location *o = NEW_MSG(c->b->a, pb_location, PROF_INIT(LOCATION));
    if (!o)
        return pg_merge_nomem(c);
    o->mapping_index = l->mapping_index;
    o->address = l->address;
    REMAP(c, map_map, o->mapping_index);
    int64_t r = copy_lines(c, l, o);
    if (r >= 0)
        r = map_attr_list(c, l->attribute_indices, l->n_attribute_indices, &o->attribute_indices);
    if (r < 0)
        return r;
    o->n_attribute_indices = l->n_attribute_indices;
    return remember(c, c->s->loc, i, put_message(c, &c->b->locs, o));
}

static int64_t map_stack(ctx *c, int32_t i)
{
    MAP_PROLOGUE(c, stack, stack_table, i);
    const pb_stack *st = c->s->req->dictionary->stack_table[i];
    pb_stack *o = NEW_MSG(c->b->a, pb_stack, PROF_INIT(STACK));
    if (!o)
        return pg_merge_nomem(c);
    if (st->n_location_indices) {
        o->location_indices = pg_arena_alloc(c->b->a, st->n_location_indices * sizeof(int32_t));
        if (!o->location_indices)
            return pg_merge_nomem(c);
        for (size_t k = 0; k < st->n_location_indices; k++) {
            o->location_indices[k] = st->location_indices[k];
            REMAP(c, map_loc, o->location_indices[k]);
        }
        o->n_location_indices = st->n_location_indices;
    }
    return remember(c, c->s->stack, i, put_message(c, &c->b->stacks, o));
}

static int64_t map_link(ctx *c, int32_t i)
{
    MAP_PROLOGUE(c, link, link_table, i);
    const pb_link *l = c->s->req->dictionary->link_table[i];
    pb_link *o = NEW_MSG(c->b->a, pb_link, PROF_INIT(LINK));
    if (!o || pg_merge_copy_bytes(c->b->a, &l->trace_id, &o->trace_id) != PG_OK ||
        pg_merge_copy_bytes(c->b->a, &l->span_id, &o->span_id) != PG_OK)
        return pg_merge_nomem(c);
    return remember(c, c->s->link, i, put_message(c, &c->b->links, o));
}

static int64_t map_attr(ctx *c, int32_t i)
{
    MAP_PROLOGUE(c, attr, attribute_table, i);
    const pb_attr *in = c->s->req->dictionary->attribute_table[i];
    pb_attr *o = NEW_MSG(c->b->a, pb_attr, PROF_INIT(KEY_VALUE_AND_UNIT));
    if (!o)
        return pg_merge_nomem(c);
    o->key_strindex = in->key_strindex;
    o->unit_strindex = in->unit_strindex;
    REMAP(c, pg_merge_map_str, o->key_strindex);
    REMAP(c, pg_merge_map_str, o->unit_strindex);
    int64_t r = pg_merge_copy_any(c, in->value, &o->value, 0);
    if (r < 0)
        return r;
    return remember(c, c->s->attr, i, put_message(c, &c->b->attrs, o));
}

/* ---- resources and scopes ---- */

static int64_t map_resource(ctx *c, size_t ri, out_res **out)
{
    pg_otlp_builder *b = c->b;
    if (c->s->res[ri]) {
        *out = b->res.items.v[c->s->res[ri] - 1];
        return 0;
    }
    const pb_res_profiles *in = c->s->req->resource_profiles[ri];
    out_res *o = pg_arena_calloc(b->a, 1, sizeof(*o));
    if (!o || !(o->rp = NEW_MSG(b->a, pb_res_profiles, PROF_INIT(RESOURCE_PROFILES))) ||
        !(o->rp->schema_url = pg_merge_dup_str(b->a, in->schema_url)))
        return pg_merge_nomem(c);
    int64_t r = pg_merge_copy_resource(c, in->resource, &o->rp->resource);
    if (r < 0)
        return r;
    b->kb.len = 0;
    if (pg_merge_key_message(b->a, &b->kb, o->rp->resource ? &o->rp->resource->base : NULL) !=
            PG_OK ||
        pg_merge_key_bytes(b->a, &b->kb, o->rp->schema_url, strlen(o->rp->schema_url)) != PG_OK)
        return pg_merge_nomem(c);
    r = remember(c, c->s->res, (int32_t)ri, pg_merge_table_put(b->a, &b->res, &b->kb, o));
    if (r >= 0)
        *out = b->res.items.v[r];
    return r;
}

static int64_t map_scope(ctx *c, size_t ri, size_t si, out_res *res, out_scope **out)
{
    pg_otlp_builder *b = c->b;
    const pb_res_profiles *rin = c->s->req->resource_profiles[ri];
    uint32_t **memo = &c->s->scope[ri];
    if (!*memo && !(*memo = memo_new(b->a, rin->n_scope_profiles)))
        return pg_merge_nomem(c);
    if ((*memo)[si]) {
        *out = b->scopes.items.v[(*memo)[si] - 1];
        return 0;
    }
    const pb_scope_profiles *in = rin->scope_profiles[si];
    out_scope *o = pg_arena_calloc(b->a, 1, sizeof(*o));
    if (!o || !(o->sp = NEW_MSG(b->a, pb_scope_profiles, PROF_INIT(SCOPE_PROFILES))) ||
        !(o->sp->schema_url = pg_merge_dup_str(b->a, in->schema_url)))
        return pg_merge_nomem(c);
    int64_t r = pg_merge_copy_scope(c, in->scope, &o->sp->scope);
    if (r < 0)
        return r;
    /* the key starts with the resource: equal scopes under different
     * resources stay apart */
    b->kb.len = 0;
    if (pg_merge_key_u64(b->a, &b->kb, (uint64_t)(uintptr_t)res) != PG_OK ||
        pg_merge_key_message(b->a, &b->kb, o->sp->scope ? &o->sp->scope->base : NULL) != PG_OK ||
        pg_merge_key_bytes(b->a, &b->kb, o->sp->schema_url, strlen(o->sp->schema_url)) != PG_OK)
        return pg_merge_nomem(c);
    r = remember(c, *memo, (int32_t)si, pg_merge_table_put(b->a, &b->scopes, &b->kb, o));
    if (r < 0)
        return r;
    *out = b->scopes.items.v[r];
    if (*out == o && pg_merge_vec_push(b->a, &res->scopes, o) != PG_OK)
        return pg_merge_nomem(c);
    return 0;
}

/* ---- profiles ---- */

static int64_t copy_value_type(ctx *c, const pb_value_type *in, pb_value_type **out)
{
    *out = NULL;
    if (!in)
        return 0;
    pb_value_type *o = NEW_MSG(c->b->a, pb_value_type, PROF_INIT(VALUE_TYPE));
    if (!o)
        return pg_merge_nomem(c);
    o->type_strindex = in->type_strindex;
    o->unit_strindex = in->unit_strindex;
    REMAP(c, pg_merge_map_str, o->type_strindex);
    REMAP(c, pg_merge_map_str, o->unit_strindex);
    *out = o;
    return 0;
}

static int64_t copy_sample(ctx *c, const pb_sample *in, pb_sample **out)
{
    pg_arena *a = c->b->a;
    pb_sample *o = NEW_MSG(a, pb_sample, PROF_INIT(SAMPLE));
    if (!o)
        return pg_merge_nomem(c);
    o->stack_index = in->stack_index;
    o->link_index = in->link_index;
    REMAP(c, map_stack, o->stack_index);
    REMAP(c, map_link, o->link_index);
    int64_t r =
        map_attr_list(c, in->attribute_indices, in->n_attribute_indices, &o->attribute_indices);
    if (r < 0)
        return r;
    o->n_attribute_indices = in->n_attribute_indices;
    if (in->n_values && !(o->values = pg_arena_memdup(a, in->values, in->n_values * 8)))
        return pg_merge_nomem(c);
    o->n_values = in->n_values;
    if (in->n_timestamps_unix_nano &&
        !(o->timestamps_unix_nano =
              pg_arena_memdup(a, in->timestamps_unix_nano, in->n_timestamps_unix_nano * 8)))
        return pg_merge_nomem(c);
    o->n_timestamps_unix_nano = in->n_timestamps_unix_nano;
    *out = o;
    return 0;
}

static int64_t copy_profile(ctx *c, const pg_otlp_profile *in, pg_otlp_profile **out)
{
    pg_arena *a = c->b->a;
    pg_otlp_profile *o = NEW_MSG(a, pg_otlp_profile, PROF_INIT(PROFILE));
    if (!o)
        return pg_merge_nomem(c);
    int64_t r = copy_value_type(c, in->sample_type, &o->sample_type);
    if (r >= 0)
        r = copy_value_type(c, in->period_type, &o->period_type);
    if (r >= 0)
        r = map_attr_list(c, in->attribute_indices, in->n_attribute_indices, &o->attribute_indices);
    if (r < 0)
        return r;
    o->n_attribute_indices = in->n_attribute_indices;
    o->time_unix_nano = in->time_unix_nano;
    o->duration_nano = in->duration_nano;
    o->period = in->period;
    o->dropped_attributes_count = in->dropped_attributes_count;
    o->original_payload_format = pg_merge_dup_str(a, in->original_payload_format);
    if (!o->original_payload_format ||
        pg_merge_copy_bytes(a, &in->profile_id, &o->profile_id) != PG_OK ||
        pg_merge_copy_bytes(a, &in->original_payload, &o->original_payload) != PG_OK)
        return pg_merge_nomem(c);
    if (in->n_samples && !(o->samples = pg_arena_alloc(a, in->n_samples * sizeof(*o->samples))))
        return pg_merge_nomem(c);
    for (size_t k = 0; k < in->n_samples; k++)
        if ((r = copy_sample(c, in->samples[k], &o->samples[k])) < 0)
            return r;
    o->n_samples = in->n_samples;
    *out = o;
    return 0;
}

/* ---- public API ---- */

static int seed(pg_otlp_builder *b, pg_merge_table *t, void *zero)
{
    b->kb.len = 0;
    if (zero && pg_merge_key_message(b->a, &b->kb, zero) != PG_OK)
        return PG_ERR_NOMEM;
    return pg_merge_table_put(b->a, t, &b->kb, zero) == 0 ? PG_OK : PG_ERR_NOMEM;
}

pg_otlp_builder *pg_otlp_builder_new(pg_arena *arena)
{
    pg_otlp_builder *b = pg_arena_calloc(arena, 1, sizeof(*b));
    if (!b)
        return NULL;
    b->a = arena;
    /* entry 0 of every table is the zero entry, present even when unused */
    if (seed(b, &b->strs, NULL) != PG_OK ||
        seed(b, &b->fns, NEW_MSG(arena, pb_function, PROF_INIT(FUNCTION))) != PG_OK ||
        seed(b, &b->maps, NEW_MSG(arena, pb_mapping, PROF_INIT(MAPPING))) != PG_OK ||
        seed(b, &b->locs, NEW_MSG(arena, pb_location, PROF_INIT(LOCATION))) != PG_OK ||
        seed(b, &b->links, NEW_MSG(arena, pb_link, PROF_INIT(LINK))) != PG_OK ||
        seed(b, &b->attrs, NEW_MSG(arena, pb_attr, PROF_INIT(KEY_VALUE_AND_UNIT))) != PG_OK ||
        seed(b, &b->stacks, NEW_MSG(arena, pb_stack, PROF_INIT(STACK))) != PG_OK)
        return NULL;
    return b;
}

int pg_otlp_builder_add(pg_otlp_builder *b, const pg_otlp_request *src, size_t ri, size_t si,
                        size_t pi, pg_error *err)
{
    if (ri >= src->n_resource_profiles || si >= src->resource_profiles[ri]->n_scope_profiles ||
        pi >= src->resource_profiles[ri]->scope_profiles[si]->n_profiles)
        return pg_error_set(err, PG_ERR_INVALID, "no profile at resource %zu scope %zu index %zu",
                            ri, si, pi);
    ctx c = {.a = b->a, .b = b, .s = src_get(b, src), .err = err};
    if (!c.s)
        return (int)pg_merge_nomem(&c);
    out_res *res = NULL;
    out_scope *scope = NULL;
    pg_otlp_profile *p = NULL;
    int64_t r = map_resource(&c, ri, &res);
    if (r >= 0)
        r = map_scope(&c, ri, si, res, &scope);
    if (r >= 0)
        r = copy_profile(&c, src->resource_profiles[ri]->scope_profiles[si]->profiles[pi], &p);
    if (r >= 0 && pg_merge_vec_push(b->a, &scope->profiles, p) != PG_OK)
        r = pg_merge_nomem(&c);
    if (r < 0) {
        pg_error_prefix(err, "resource_profiles[%zu].scope_profiles[%zu].profiles[%zu]: ", ri, si,
                        pi);
        return (int)r;
    }
    return PG_OK;
}

#define TABLE(d, name, t, type)                                                                    \
    do {                                                                                           \
        (d)->name = (type **)(t).items.v;                                                          \
        (d)->n_##name = (t).items.n;                                                               \
    } while (0)

pg_otlp_request *pg_otlp_builder_finish(pg_otlp_builder *b)
{
    pg_otlp_request *req = NEW_MSG(
        b->a, pg_otlp_request,
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_REQUEST__INIT);
    pg_otlp_dictionary *d = NEW_MSG(b->a, pg_otlp_dictionary, PROF_INIT(PROFILES_DICTIONARY));
    if (!req || !d)
        return NULL;
    TABLE(d, string_table, b->strs, char);
    TABLE(d, function_table, b->fns, pb_function);
    TABLE(d, mapping_table, b->maps, pb_mapping);
    TABLE(d, location_table, b->locs, pb_location);
    TABLE(d, link_table, b->links, pb_link);
    TABLE(d, attribute_table, b->attrs, pb_attr);
    TABLE(d, stack_table, b->stacks, pb_stack);
    req->dictionary = d;
    size_t nr = b->res.items.n;
    req->resource_profiles = pg_arena_alloc(b->a, (nr ? nr : 1) * sizeof(*req->resource_profiles));
    if (!req->resource_profiles)
        return NULL;
    for (size_t r = 0; r < nr; r++) {
        out_res *o = b->res.items.v[r];
        o->rp->scope_profiles =
            pg_arena_alloc(b->a, (o->scopes.n + 1) * sizeof(pb_scope_profiles *));
        if (!o->rp->scope_profiles)
            return NULL;
        o->rp->n_scope_profiles = o->scopes.n;
        for (size_t s = 0; s < o->scopes.n; s++) {
            out_scope *os = o->scopes.v[s];
            o->rp->scope_profiles[s] = os->sp;
            os->sp->profiles = (pg_otlp_profile **)os->profiles.v;
            os->sp->n_profiles = os->profiles.n;
        }
        req->resource_profiles[r] = o->rp;
    }
    req->n_resource_profiles = nr;
    return req;
}
