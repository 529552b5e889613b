/* Merge builder: de-duplication, pruning, index remapping, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model/otlp_merge.h"
#include "test_otlp_merge_util.h"

typedef struct fixture {
    uint8_t *bytes;
    size_t len;
    pg_arena *arena;
    pg_otlp_request *req;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->bytes = tu_read_fixture(&f->len);
    assert_non_null(f->bytes);
    f->arena = pg_arena_new(0, 0);
    f->req = tu_unpack(f->arena, f->bytes, f->len);
    assert_non_null(f->req);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pg_arena_free(f->arena);
    free(f->bytes);
    free(f);
    return 0;
}

/* ---- index checks and reference counting (pruning) ---- */

typedef struct refs {
    uint32_t *str, *fn, *map, *loc, *link, *attr, *stack;
} refs;

#define CHECK(table, i) assert_true((i) >= 0 && (size_t)(i) < d->n_##table)

static void mark_attrs(const pg_otlp_dictionary *d, refs *rf, const int32_t *a, size_t n);

static void mark_any(const pg_otlp_dictionary *d, refs *rf,
                     const Opentelemetry__Proto__Common__V1__AnyValue *v)
{
    if (!v)
        return;
    if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE_STRINDEX) {
        CHECK(string_table, v->string_value_strindex);
        rf->str[v->string_value_strindex]++;
    } else if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE) {
        for (size_t i = 0; i < v->array_value->n_values; i++)
            mark_any(d, rf, v->array_value->values[i]);
    } else if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE) {
        for (size_t i = 0; i < v->kvlist_value->n_values; i++) {
            CHECK(string_table, v->kvlist_value->values[i]->key_strindex);
            rf->str[v->kvlist_value->values[i]->key_strindex]++;
            mark_any(d, rf, v->kvlist_value->values[i]->value);
        }
    }
}

static void mark_attrs(const pg_otlp_dictionary *d, refs *rf, const int32_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(attribute_table, a[i]);
        if (rf->attr[a[i]]++)
            continue;
        const Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit *kv =
            d->attribute_table[a[i]];
        CHECK(string_table, kv->key_strindex);
        CHECK(string_table, kv->unit_strindex);
        rf->str[kv->key_strindex]++;
        rf->str[kv->unit_strindex]++;
        mark_any(d, rf, kv->value);
    }
}

static void mark_stack(const pg_otlp_dictionary *d, refs *rf, int32_t s)
{
    CHECK(stack_table, s);
    if (rf->stack[s]++)
        return;
    const Opentelemetry__Proto__Profiles__V1development__Stack *st = d->stack_table[s];
    for (size_t i = 0; i < st->n_location_indices; i++) {
        int32_t li = st->location_indices[i];
        CHECK(location_table, li);
        if (rf->loc[li]++)
            continue;
        const Opentelemetry__Proto__Profiles__V1development__Location *l = d->location_table[li];
        CHECK(mapping_table, l->mapping_index);
        if (!rf->map[l->mapping_index]++) {
            const Opentelemetry__Proto__Profiles__V1development__Mapping *m =
                d->mapping_table[l->mapping_index];
            CHECK(string_table, m->filename_strindex);
            rf->str[m->filename_strindex]++;
            mark_attrs(d, rf, m->attribute_indices, m->n_attribute_indices);
        }
        mark_attrs(d, rf, l->attribute_indices, l->n_attribute_indices);
        for (size_t k = 0; k < l->n_lines; k++) {
            int32_t fi = l->lines[k]->function_index;
            CHECK(function_table, fi);
            if (rf->fn[fi]++)
                continue;
            CHECK(string_table, d->function_table[fi]->name_strindex);
            CHECK(string_table, d->function_table[fi]->system_name_strindex);
            CHECK(string_table, d->function_table[fi]->filename_strindex);
            rf->str[d->function_table[fi]->name_strindex]++;
            rf->str[d->function_table[fi]->system_name_strindex]++;
            rf->str[d->function_table[fi]->filename_strindex]++;
        }
    }
}

static void mark_kvs(const pg_otlp_dictionary *d, refs *rf,
                     Opentelemetry__Proto__Common__V1__KeyValue *const *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(string_table, kv[i]->key_strindex);
        rf->str[kv[i]->key_strindex]++;
        mark_any(d, rf, kv[i]->value);
    }
}

static void mark_profile(const pg_otlp_dictionary *d, refs *rf, const pg_otlp_profile *p)
{
    if (p->sample_type) {
        CHECK(string_table, p->sample_type->type_strindex);
        CHECK(string_table, p->sample_type->unit_strindex);
        rf->str[p->sample_type->type_strindex]++;
        rf->str[p->sample_type->unit_strindex]++;
    }
    if (p->period_type) {
        CHECK(string_table, p->period_type->type_strindex);
        CHECK(string_table, p->period_type->unit_strindex);
        rf->str[p->period_type->type_strindex]++;
        rf->str[p->period_type->unit_strindex]++;
    }
    mark_attrs(d, rf, p->attribute_indices, p->n_attribute_indices);
    for (size_t i = 0; i < p->n_samples; i++) {
        mark_stack(d, rf, p->samples[i]->stack_index);
        mark_attrs(d, rf, p->samples[i]->attribute_indices, p->samples[i]->n_attribute_indices);
        CHECK(link_table, p->samples[i]->link_index);
        rf->link[p->samples[i]->link_index]++;
    }
}

static size_t unreferenced(const uint32_t *r, size_t n)
{
    size_t u = 0;
    for (size_t i = 1; i < n; i++)
        u += r[i] == 0;
    return u;
}

/* Every index in range, zero entries in place, and (when pruned) no entry
 * that nothing references. */
static void check_request(const pg_otlp_request *req, int expect_pruned)
{
    const pg_otlp_dictionary *d = req->dictionary;
    assert_non_null(d);
    pg_error err = {0};
    if (pg_otlp_validate(req, &err) != PG_OK)
        fail_msg("output does not validate: %s", err.msg);
    assert_true(d->n_string_table >= 1 && d->n_function_table >= 1 && d->n_mapping_table >= 1 &&
                d->n_location_table >= 1 && d->n_link_table >= 1 && d->n_attribute_table >= 1 &&
                d->n_stack_table >= 1);
    assert_string_equal(d->string_table[0], "");
    assert_int_equal(d->stack_table[0]->n_location_indices, 0);
    assert_int_equal(d->function_table[0]->name_strindex, 0);
    assert_int_equal(d->location_table[0]->n_lines, 0);
    refs rf = {
        calloc(d->n_string_table, 4),  calloc(d->n_function_table, 4),
        calloc(d->n_mapping_table, 4), calloc(d->n_location_table, 4),
        calloc(d->n_link_table, 4),    calloc(d->n_attribute_table, 4),
        calloc(d->n_stack_table, 4),
    };
    for (size_t r = 0; r < req->n_resource_profiles; r++) {
        const Opentelemetry__Proto__Profiles__V1development__ResourceProfiles *rp =
            req->resource_profiles[r];
        if (rp->resource)
            mark_kvs(d, &rf, rp->resource->attributes, rp->resource->n_attributes);
        for (size_t s = 0; s < rp->n_scope_profiles; s++) {
            const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sp =
                rp->scope_profiles[s];
            if (sp->scope)
                mark_kvs(d, &rf, sp->scope->attributes, sp->scope->n_attributes);
            for (size_t p = 0; p < sp->n_profiles; p++)
                mark_profile(d, &rf, sp->profiles[p]);
        }
    }
    if (expect_pruned) {
        assert_int_equal(unreferenced(rf.str, d->n_string_table), 0);
        assert_int_equal(unreferenced(rf.fn, d->n_function_table), 0);
        assert_int_equal(unreferenced(rf.map, d->n_mapping_table), 0);
        assert_int_equal(unreferenced(rf.loc, d->n_location_table), 0);
        assert_int_equal(unreferenced(rf.link, d->n_link_table), 0);
        assert_int_equal(unreferenced(rf.attr, d->n_attribute_table), 0);
        assert_int_equal(unreferenced(rf.stack, d->n_stack_table), 0);
    }
    free(rf.str);
    free(rf.fn);
    free(rf.map);
    free(rf.loc);
    free(rf.link);
    free(rf.attr);
    free(rf.stack);
}

/* ---- rendering whole requests for comparison ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Renders every profile, sorted, into one string (order-independent). */
static char *render_all(const pg_otlp_request *req)
{
    size_t n = tu_profile_count(req), k = 0;
    char **parts = calloc(n + 1, sizeof(*parts));
    for (size_t r = 0; r < req->n_resource_profiles; r++)
        for (size_t s = 0; s < req->resource_profiles[r]->n_scope_profiles; s++)
            for (size_t p = 0; p < req->resource_profiles[r]->scope_profiles[s]->n_profiles; p++) {
                pg_buf b;
                pg_buf_init(&b);
                tu_render(req, r, s, p, &b);
                pg_buf_append(&b, "", 1);
                parts[k++] = (char *)b.data;
            }
    qsort(parts, n, sizeof(*parts), cmp_str);
    pg_buf all;
    pg_buf_init(&all);
    for (size_t i = 0; i < n; i++) {
        pg_buf_append_str(&all, parts[i]);
        free(parts[i]);
    }
    free(parts);
    pg_buf_append(&all, "", 1);
    return (char *)all.data;
}

static void add_all(pg_otlp_builder *b, const pg_otlp_request *req)
{
    pg_error err = {0};
    for (size_t r = 0; r < req->n_resource_profiles; r++)
        for (size_t s = 0; s < req->resource_profiles[r]->n_scope_profiles; s++)
            for (size_t p = 0; p < req->resource_profiles[r]->scope_profiles[s]->n_profiles; p++)
                assert_int_equal(pg_otlp_builder_add(b, req, r, s, p, &err), PG_OK);
}

/* Packs and unpacks: the output must be a well-formed message on the wire. */
static pg_otlp_request *wire_round_trip(pg_arena *a, const pg_otlp_request *req)
{
    size_t n = protobuf_c_message_get_packed_size(&req->base);
    uint8_t *buf = pg_arena_alloc(a, n + 1);
    assert_int_equal(protobuf_c_message_pack(&req->base, buf), n);
    pg_otlp_request *back = tu_unpack(a, buf, n);
    assert_non_null(back);
    return back;
}

#define DICT_SIZES_EQUAL(x, y)                                                                     \
    do {                                                                                           \
        assert_int_equal((x)->n_string_table, (y)->n_string_table);                                \
        assert_int_equal((x)->n_function_table, (y)->n_function_table);                            \
        assert_int_equal((x)->n_mapping_table, (y)->n_mapping_table);                              \
        assert_int_equal((x)->n_location_table, (y)->n_location_table);                            \
        assert_int_equal((x)->n_link_table, (y)->n_link_table);                                    \
        assert_int_equal((x)->n_attribute_table, (y)->n_attribute_table);                          \
        assert_int_equal((x)->n_stack_table, (y)->n_stack_table);                                  \
    } while (0)

static void test_copy_preserves_everything(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->req->n_resource_profiles, 77);
    assert_int_equal(tu_profile_count(f->req), 82);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_builder *b = pg_otlp_builder_new(a);
    add_all(b, f->req);
    pg_otlp_request *out = pg_otlp_builder_finish(b);
    check_request(out, 1);
    assert_int_equal(tu_profile_count(out), 82);
    assert_int_equal(out->n_resource_profiles, f->req->n_resource_profiles);
    /* never larger than the producer's dictionary */
    assert_true(out->dictionary->n_string_table <= f->req->dictionary->n_string_table);
    assert_true(out->dictionary->n_stack_table <= f->req->dictionary->n_stack_table);
    char *want = render_all(f->req), *got = render_all(out);
    assert_string_equal(got, want);
    char *wire = render_all(wire_round_trip(a, out));
    assert_string_equal(wire, want);
    free(want);
    free(got);
    free(wire);
    pg_arena_free(a);
}

static void test_merge_with_itself_dedups(void **state)
{
    fixture *f = *state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_builder *once = pg_otlp_builder_new(a);
    add_all(once, f->req);
    pg_otlp_request *one = pg_otlp_builder_finish(once);

    /* a second decode: same content, different memory and source identity */
    pg_otlp_request *copy = tu_unpack(a, f->bytes, f->len);
    pg_otlp_builder *twice = pg_otlp_builder_new(a);
    add_all(twice, f->req);
    add_all(twice, copy);
    pg_otlp_request *two = pg_otlp_builder_finish(twice);
    check_request(two, 1);
    assert_int_equal(tu_profile_count(two), 2 * 82);
    DICT_SIZES_EQUAL(two->dictionary, one->dictionary);
    /* equal resources and scopes are shared */
    assert_int_equal(two->n_resource_profiles, one->n_resource_profiles);
    assert_int_equal(two->resource_profiles[0]->n_scope_profiles,
                     one->resource_profiles[0]->n_scope_profiles);
    assert_int_equal(two->resource_profiles[0]->scope_profiles[0]->n_profiles,
                     2 * one->resource_profiles[0]->scope_profiles[0]->n_profiles);
    pg_arena_free(a);
}

/* Splits the fixture into single-profile requests, checks each, then merges
 * them back and compares with the original. */
static void test_split_and_merge_back(void **state)
{
    fixture *f = *state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    size_t n = tu_profile_count(f->req), k = 0;
    pg_otlp_request **parts = pg_arena_alloc(a, n * sizeof(*parts));
    size_t smaller = 0;
    for (size_t r = 0; r < f->req->n_resource_profiles; r++)
        for (size_t s = 0; s < f->req->resource_profiles[r]->n_scope_profiles; s++)
            for (size_t p = 0; p < f->req->resource_profiles[r]->scope_profiles[s]->n_profiles;
                 p++) {
                pg_otlp_builder *b = pg_otlp_builder_new(a);
                assert_int_equal(pg_otlp_builder_add(b, f->req, r, s, p, &err), PG_OK);
                pg_otlp_request *part = pg_otlp_builder_finish(b);
                check_request(part, 1);
                assert_int_equal(tu_profile_count(part), 1);
                pg_buf want, got;
                pg_buf_init(&want);
                pg_buf_init(&got);
                tu_render(f->req, r, s, p, &want);
                tu_render(part, 0, 0, 0, &got);
                assert_int_equal(got.len, want.len);
                assert_memory_equal(got.data, want.data, want.len);
                assert_int_equal(
                    tu_value_total(part->resource_profiles[0]->scope_profiles[0]->profiles[0]),
                    tu_value_total(f->req->resource_profiles[r]->scope_profiles[s]->profiles[p]));
                pg_buf_free(&want);
                pg_buf_free(&got);
                smaller += part->dictionary->n_string_table < f->req->dictionary->n_string_table;
                parts[k++] = wire_round_trip(a, part);
            }
    /* pruning happened: a single profile never needs every string */
    assert_int_equal(smaller, n);

    pg_otlp_builder *b = pg_otlp_builder_new(a);
    for (size_t i = 0; i < n; i++)
        add_all(b, parts[i]);
    pg_otlp_request *back = pg_otlp_builder_finish(b);
    check_request(back, 1);
    pg_otlp_builder *once = pg_otlp_builder_new(a);
    add_all(once, f->req);
    DICT_SIZES_EQUAL(back->dictionary, pg_otlp_builder_finish(once)->dictionary);
    assert_int_equal(back->n_resource_profiles, f->req->n_resource_profiles);
    char *want = render_all(f->req), *got = render_all(back);
    assert_string_equal(got, want);
    free(want);
    free(got);
    pg_arena_free(a);
}

static void test_bad_position_and_index(void **state)
{
    fixture *f = *state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    pg_otlp_builder *b = pg_otlp_builder_new(a);
    assert_int_equal(pg_otlp_builder_add(b, f->req, 77, 0, 0, &err), PG_ERR_INVALID);
    assert_int_equal(pg_otlp_builder_add(b, f->req, 0, 0, 99, &err), PG_ERR_INVALID);

    /* an unvalidated request with a dangling stack index is refused, not read */
    pg_otlp_request *bad = tu_unpack(a, f->bytes, f->len);
    bad->resource_profiles[0]->scope_profiles[0]->profiles[0]->samples[0]->stack_index = 1 << 30;
    assert_int_equal(pg_otlp_builder_add(b, bad, 0, 0, 0, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "stack_table"));
    assert_non_null(strstr(err.msg, "profiles[0]"));
    pg_arena_free(a);
}

/* ---- references by string index, nested values ---- */

typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

static any_t *any_strindex(pg_arena *a, int32_t i)
{
    any_t *v = pg_arena_alloc(a, sizeof(*v));
    *v = (any_t)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE_STRINDEX;
    v->string_value_strindex = i;
    return v;
}

static kv_t *kv_strindex(pg_arena *a, int32_t key, int32_t val)
{
    kv_t *kv = pg_arena_alloc(a, sizeof(*kv));
    *kv = (kv_t)OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    kv->key_strindex = key;
    kv->value = any_strindex(a, val);
    return kv;
}

#define NEWP(a, T, INIT) memcpy(pg_arena_alloc((a), sizeof(T)), &(T)INIT, sizeof(T))
#define PP(x)            OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__##x##__INIT

enum { S_K, S_V, S_UNIT, S_SVC, S_SNAME, S_F1, S_COUNT };

/* A small request whose strings are laid out by perm (string -> index), so
 * that two requests with equal meaning have different indices. */
static pg_otlp_request *synthetic(pg_arena *a, const int32_t perm[S_COUNT])
{
    static const char *const names[S_COUNT] = {"k", "v", "unit", "svc", "service.name", "f1"};
    pg_otlp_dictionary *d = NEWP(a, pg_otlp_dictionary, PP(PROFILES_DICTIONARY));
    d->n_string_table = S_COUNT + 1;
    d->string_table = pg_arena_alloc(a, d->n_string_table * sizeof(char *));
    d->string_table[0] = "";
    for (int i = 0; i < S_COUNT; i++)
        d->string_table[perm[i]] = (char *)names[i];

    typedef Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit attr_t;
    d->n_attribute_table = 4;
    d->attribute_table = pg_arena_alloc(a, 4 * sizeof(attr_t *));
    for (int i = 0; i < 4; i++)
        d->attribute_table[i] = NEWP(a, attr_t, PP(KEY_VALUE_AND_UNIT));
    d->attribute_table[1]->key_strindex = perm[S_K];
    d->attribute_table[1]->unit_strindex = perm[S_UNIT];
    d->attribute_table[1]->value = any_strindex(a, perm[S_V]);
    /* entry 3 means the same as entry 1: the merge keeps one */
    *d->attribute_table[3] = *d->attribute_table[1];
    d->attribute_table[2]->key_strindex = perm[S_K];
    any_t *list = NEWP(a, any_t, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT);
    list->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
    list->kvlist_value = NEWP(a, Opentelemetry__Proto__Common__V1__KeyValueList,
                              OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT);
    list->kvlist_value->n_values = 1;
    list->kvlist_value->values = pg_arena_alloc(a, sizeof(kv_t *));
    list->kvlist_value->values[0] = kv_strindex(a, perm[S_SNAME], perm[S_SVC]);
    d->attribute_table[2]->value = list;

    typedef Opentelemetry__Proto__Profiles__V1development__Function fn_t;
    typedef Opentelemetry__Proto__Profiles__V1development__Location loc_t;
    typedef Opentelemetry__Proto__Profiles__V1development__Line line_t;
    typedef Opentelemetry__Proto__Profiles__V1development__Stack stack_t;
    d->n_function_table = d->n_location_table = d->n_stack_table = 2;
    d->n_mapping_table = d->n_link_table = 1;
    d->function_table = pg_arena_alloc(a, 2 * sizeof(fn_t *));
    d->location_table = pg_arena_alloc(a, 2 * sizeof(loc_t *));
    d->stack_table = pg_arena_alloc(a, 2 * sizeof(stack_t *));
    d->mapping_table = pg_arena_alloc(a, sizeof(void *));
    d->link_table = pg_arena_alloc(a, sizeof(void *));
    d->mapping_table[0] =
        NEWP(a, Opentelemetry__Proto__Profiles__V1development__Mapping, PP(MAPPING));
    d->link_table[0] = NEWP(a, Opentelemetry__Proto__Profiles__V1development__Link, PP(LINK));
    for (int i = 0; i < 2; i++) {
        d->function_table[i] = NEWP(a, fn_t, PP(FUNCTION));
        d->location_table[i] = NEWP(a, loc_t, PP(LOCATION));
        d->stack_table[i] = NEWP(a, stack_t, PP(STACK));
    }
    d->function_table[1]->name_strindex = perm[S_F1];
    d->location_table[1]->n_lines = 1;
    d->location_table[1]->lines = pg_arena_alloc(a, sizeof(line_t *));
    d->location_table[1]->lines[0] = NEWP(a, line_t, PP(LINE));
    d->location_table[1]->lines[0]->function_index = 1;
    d->location_table[1]->address = 0x1234;
    d->stack_table[1]->n_location_indices = 1;
    d->stack_table[1]->location_indices = pg_arena_alloc(a, sizeof(int32_t));
    d->stack_table[1]->location_indices[0] = 1;

    typedef Opentelemetry__Proto__Profiles__V1development__Sample sample_t;
    pg_otlp_profile *p = NEWP(a, pg_otlp_profile, PP(PROFILE));
    p->sample_type =
        NEWP(a, Opentelemetry__Proto__Profiles__V1development__ValueType, PP(VALUE_TYPE));
    p->sample_type->type_strindex = perm[S_K];
    p->sample_type->unit_strindex = perm[S_UNIT];
    p->n_samples = 2;
    p->samples = pg_arena_alloc(a, 2 * sizeof(sample_t *));
    static const int32_t attrs0[] = {1, 2}, attrs1[] = {3};
    static const int64_t v0[] = {5}, v1[] = {7};
    for (int i = 0; i < 2; i++) {
        sample_t *s = p->samples[i] = NEWP(a, sample_t, PP(SAMPLE));
        s->stack_index = 1;
        s->attribute_indices = pg_arena_memdup(a, i ? attrs1 : attrs0, (i ? 1 : 2) * 4);
        s->n_attribute_indices = i ? 1 : 2;
        s->values = pg_arena_memdup(a, i ? v1 : v0, 8);
        s->n_values = 1;
    }

    typedef Opentelemetry__Proto__Profiles__V1development__ScopeProfiles sp_t;
    typedef Opentelemetry__Proto__Profiles__V1development__ResourceProfiles rp_t;
    sp_t *sp = NEWP(a, sp_t, PP(SCOPE_PROFILES));
    sp->n_profiles = 1;
    sp->profiles = pg_arena_alloc(a, sizeof(void *));
    sp->profiles[0] = p;
    rp_t *rp = NEWP(a, rp_t, PP(RESOURCE_PROFILES));
    rp->n_scope_profiles = 1;
    rp->scope_profiles = pg_arena_alloc(a, sizeof(void *));
    rp->scope_profiles[0] = sp;
    rp->resource = NEWP(a, Opentelemetry__Proto__Resource__V1__Resource,
                        OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT);
    rp->resource->n_attributes = 1;
    rp->resource->attributes = pg_arena_alloc(a, sizeof(kv_t *));
    rp->resource->attributes[0] = kv_strindex(a, perm[S_SNAME], perm[S_SVC]);

    pg_otlp_request *req = NEWP(
        a, pg_otlp_request,
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_REQUEST__INIT);
    req->dictionary = d;
    req->n_resource_profiles = 1;
    req->resource_profiles = pg_arena_alloc(a, sizeof(void *));
    req->resource_profiles[0] = rp;
    return req;
}

static void test_string_references_remapped(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    static const int32_t perm_a[S_COUNT] = {1, 2, 3, 4, 5, 6};
    static const int32_t perm_b[S_COUNT] = {6, 5, 4, 3, 2, 1};
    pg_otlp_request *ra = synthetic(a, perm_a), *rb = synthetic(a, perm_b);
    check_request(ra, 0);
    check_request(rb, 0);

    pg_otlp_builder *b = pg_otlp_builder_new(a);
    add_all(b, ra);
    add_all(b, rb);
    pg_otlp_request *out = pg_otlp_builder_finish(b);
    check_request(out, 1);
    const pg_otlp_dictionary *d = out->dictionary;
    assert_int_equal(d->n_string_table, S_COUNT + 1);
    /* zero entry + {k=v} (entries 1 and 3 merged) + {k={service.name=svc}} */
    assert_int_equal(d->n_attribute_table, 3);
    assert_int_equal(d->n_stack_table, 2);
    /* one resource (equal by value after remapping), holding both profiles */
    assert_int_equal(out->n_resource_profiles, 1);
    assert_int_equal(out->resource_profiles[0]->scope_profiles[0]->n_profiles, 2);
    const pg_otlp_profile *p = out->resource_profiles[0]->scope_profiles[0]->profiles[1];
    assert_int_equal(p->samples[1]->attribute_indices[0], p->samples[0]->attribute_indices[0]);

    pg_buf w, g0, g1;
    pg_buf_init(&w);
    pg_buf_init(&g0);
    pg_buf_init(&g1);
    tu_render(ra, 0, 0, 0, &w);
    tu_render(out, 0, 0, 0, &g0);
    tu_render(out, 0, 0, 1, &g1);
    pg_buf_append(&w, "", 1);
    pg_buf_append(&g0, "", 1);
    pg_buf_append(&g1, "", 1);
    assert_non_null(strstr((char *)w.data, "service.name=s:svc"));
    assert_non_null(strstr((char *)w.data, "<f1|"));
    assert_string_equal((char *)g0.data, (char *)w.data);
    assert_string_equal((char *)g1.data, (char *)w.data);
    pg_buf_free(&w);
    pg_buf_free(&g0);
    pg_buf_free(&g1);
    pg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_preserves_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_with_itself_dedups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_and_merge_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_position_and_index, setup, teardown),
        cmocka_unit_test(test_string_references_remapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
