/* OTLP -> pprof on hand-built requests: one test per conversion rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "convert/convert.h"
#include "convert/otlp_to_pprof_internal.h"

/* ---- request builder (everything in one arena) ---- */

typedef struct tb {
    pg_arena *a;
    pg_otlp_request *req;
    pg_otlp_dictionary *d;
} tb;

/* A new message of type T initialised from its protobuf-c INIT macro. */
#define NEW(b, T, init) ((T *)pg_arena_memdup((b)->a, &(T)init, sizeof(T)))

/* Appends item to an arena pointer array (copying: tests are small). */
static size_t push(tb *b, void *arrp, size_t *n, void *item)
{
    void ***arr = arrp;
    void **v = pg_arena_alloc(b->a, (*n + 1) * sizeof(void *));
    if (*n)
        memcpy(v, *arr, *n * sizeof(void *));
    v[*n] = item;
    *arr = v;
    return (*n)++;
}

static int32_t *ints(tb *b, size_t n, const int32_t *v)
{
    return n ? pg_arena_memdup(b->a, v, n * sizeof(int32_t)) : NULL;
}

static int32_t tb_str(tb *b, const char *s)
{
    for (size_t i = 0; i < b->d->n_string_table; i++) {
        if (strcmp(b->d->string_table[i], s) == 0)
            return (int32_t)i;
    }
    return (int32_t)push(b, &b->d->string_table, &b->d->n_string_table, pg_arena_strdup(b->a, s));
}

static tb tb_new(void)
{
    tb b = {pg_arena_new(0, 0), NULL, NULL};
    b.req = NEW(
        &b, pg_otlp_request,
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_REQUEST__INIT);
    b.d = NEW(&b, pg_otlp_dictionary,
              OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__PROFILES_DICTIONARY__INIT);
    b.req->dictionary = b.d;
    tb_str(&b, "");
    push(&b, &b.d->mapping_table, &b.d->n_mapping_table,
         NEW(&b, pg_otlp_mapping, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__MAPPING__INIT));
    push(&b, &b.d->location_table, &b.d->n_location_table,
         NEW(&b, pg_otlp_location, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__LOCATION__INIT));
    push(&b, &b.d->function_table, &b.d->n_function_table,
         NEW(&b, pg_otlp_function, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__FUNCTION__INIT));
    push(&b, &b.d->link_table, &b.d->n_link_table,
         NEW(&b, pg_otlp_link, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__LINK__INIT));
    push(&b, &b.d->attribute_table, &b.d->n_attribute_table,
         NEW(&b, pg_otlp_kvu,
             OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__KEY_VALUE_AND_UNIT__INIT));
    push(&b, &b.d->stack_table, &b.d->n_stack_table,
         NEW(&b, pg_otlp_stack, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__STACK__INIT));
    return b;
}

static int32_t tb_fun(tb *b, const char *name)
{
    pg_otlp_function *f =
        NEW(b, pg_otlp_function, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__FUNCTION__INIT);
    f->name_strindex = tb_str(b, name);
    f->filename_strindex = tb_str(b, "main.c");
    f->start_line = 7;
    return (int32_t)push(b, &b->d->function_table, &b->d->n_function_table, f);
}

static int32_t tb_map(tb *b, const char *file, size_t n_attrs, const int32_t *attrs)
{
    pg_otlp_mapping *m =
        NEW(b, pg_otlp_mapping, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__MAPPING__INIT);
    m->memory_start = 0x1000;
    m->memory_limit = 0x9000;
    m->file_offset = 0x100;
    m->filename_strindex = tb_str(b, file);
    m->attribute_indices = ints(b, n_attrs, attrs);
    m->n_attribute_indices = n_attrs;
    return (int32_t)push(b, &b->d->mapping_table, &b->d->n_mapping_table, m);
}

/* A location with one line per function given (inlined frames). */
static int32_t tb_loc(tb *b, int32_t mapping, uint64_t address, size_t n_fun, const int32_t *fun)
{
    pg_otlp_location *l =
        NEW(b, pg_otlp_location, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__LOCATION__INIT);
    l->mapping_index = mapping;
    l->address = address;
    for (size_t i = 0; i < n_fun; i++) {
        pg_otlp_line *ln =
            NEW(b, pg_otlp_line, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__LINE__INIT);
        ln->function_index = fun[i];
        ln->line = 10 + (int64_t)i;
        push(b, &l->lines, &l->n_lines, ln);
    }
    return (int32_t)push(b, &b->d->location_table, &b->d->n_location_table, l);
}

static int32_t tb_stack(tb *b, size_t n, const int32_t *locs)
{
    pg_otlp_stack *s =
        NEW(b, pg_otlp_stack, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__STACK__INIT);
    s->location_indices = ints(b, n, locs);
    s->n_location_indices = n;
    return (int32_t)push(b, &b->d->stack_table, &b->d->n_stack_table, s);
}

static pg_otlp_any *any_new(tb *b)
{
    return NEW(b, pg_otlp_any, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT);
}

static pg_otlp_any *any_str(tb *b, const char *s)
{
    pg_otlp_any *v = any_new(b);
    v->value_case = PG_ANY(STRING_VALUE);
    v->string_value = pg_arena_strdup(b->a, s);
    return v;
}

static pg_otlp_any *any_array(tb *b, size_t n, pg_otlp_any **items)
{
    pg_otlp_any *v = any_new(b);
    v->value_case = PG_ANY(ARRAY_VALUE);
    v->array_value = NEW(b, Opentelemetry__Proto__Common__V1__ArrayValue,
                         OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT);
    for (size_t i = 0; i < n; i++)
        push(b, &v->array_value->values, &v->array_value->n_values, items[i]);
    return v;
}

static int32_t tb_attr(tb *b, const char *key, pg_otlp_any *v, const char *unit)
{
    pg_otlp_kvu *kv = NEW(b, pg_otlp_kvu,
                          OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__KEY_VALUE_AND_UNIT__INIT);
    kv->key_strindex = tb_str(b, key);
    kv->value = v;
    kv->unit_strindex = unit ? tb_str(b, unit) : 0;
    return (int32_t)push(b, &b->d->attribute_table, &b->d->n_attribute_table, kv);
}

static int32_t tb_attr_str(tb *b, const char *key, const char *value)
{
    return tb_attr(b, key, any_str(b, value), NULL);
}

static int32_t tb_attr_bool(tb *b, const char *key)
{
    pg_otlp_any *v = any_new(b);
    v->value_case = PG_ANY(BOOL_VALUE);
    v->bool_value = 1;
    return tb_attr(b, key, v, NULL);
}

/* A scope in a new resource, optionally carrying the sample-type order. */
static pg_otlp_scope_profiles *tb_scope(tb *b, size_t n_order, const char **order,
                                        const char *default_type)
{
    pg_otlp_resource_profiles *rp =
        NEW(b, pg_otlp_resource_profiles,
            OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__RESOURCE_PROFILES__INIT);
    pg_otlp_scope_profiles *sp =
        NEW(b, pg_otlp_scope_profiles,
            OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__SCOPE_PROFILES__INIT);
    sp->scope =
        NEW(b, pg_otlp_scope, OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT);
    push(b, &rp->scope_profiles, &rp->n_scope_profiles, sp);
    push(b, &b->req->resource_profiles, &b->req->n_resource_profiles, rp);
    if (order) {
        pg_otlp_any *names[8];
        for (size_t i = 0; i < n_order; i++)
            names[i] = any_str(b, order[i]);
        pg_otlp_kv *kv = NEW(b, pg_otlp_kv, OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT);
        kv->key = PG_ATTR_SAMPLE_TYPE_ORDER;
        kv->value = any_array(b, n_order, names);
        push(b, &sp->scope->attributes, &sp->scope->n_attributes, kv);
    }
    if (default_type) {
        /* the key by reference, as v1.10 producers may send it */
        pg_otlp_kv *kv = NEW(b, pg_otlp_kv, OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT);
        kv->key_strindex = tb_str(b, PG_ATTR_DEFAULT_SAMPLE_TYPE);
        kv->value = any_str(b, default_type);
        push(b, &sp->scope->attributes, &sp->scope->n_attributes, kv);
    }
    return sp;
}

static pg_otlp_value_type *vt(tb *b, const char *type, const char *unit)
{
    pg_otlp_value_type *v =
        NEW(b, pg_otlp_value_type, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__VALUE_TYPE__INIT);
    v->type_strindex = tb_str(b, type);
    v->unit_strindex = tb_str(b, unit);
    return v;
}

static pg_otlp_profile *tb_profile(tb *b, pg_otlp_scope_profiles *sp, const char *type,
                                   uint64_t time)
{
    pg_otlp_profile *p =
        NEW(b, pg_otlp_profile, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__PROFILE__INIT);
    p->sample_type = vt(b, type, "count");
    p->period_type = vt(b, "cpu", "nanoseconds");
    p->period = 10000000;
    p->time_unix_nano = time;
    p->duration_nano = 1000000000;
    push(b, &sp->profiles, &sp->n_profiles, p);
    return p;
}

static pg_otlp_sample *tb_sample(tb *b, pg_otlp_profile *p, int32_t stack, int64_t value)
{
    pg_otlp_sample *s =
        NEW(b, pg_otlp_sample, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__SAMPLE__INIT);
    s->stack_index = stack;
    if (value) {
        s->values = pg_arena_memdup(b->a, &value, sizeof(value));
        s->n_values = 1;
    }
    push(b, &p->samples, &p->n_samples, s);
    return s;
}

static void sample_attrs(tb *b, pg_otlp_sample *s, size_t n, const int32_t *attrs)
{
    s->attribute_indices = ints(b, n, attrs);
    s->n_attribute_indices = n;
}

/* A stack of two locations (leaf "leaf", root "main") in one mapping. */
static int32_t simple_stack(tb *b, const char *leaf)
{
    int32_t f[2] = {tb_fun(b, leaf), tb_fun(b, "main")};
    int32_t m = tb_map(b, "/bin/app", 0, NULL);
    int32_t l[2] = {tb_loc(b, m, 0x1100, 1, &f[0]), tb_loc(b, m, 0x1200, 1, &f[1])};
    return tb_stack(b, 2, l);
}

/* ---- checking the output ---- */

static pg_pprof_doc *convert(tb *b, const pg_otlp_ref *refs, size_t n_refs, size_t *n_docs)
{
    pg_error err = {0};
    assert_int_equal(pg_otlp_validate(b->req, &err), PG_OK);
    pg_pprof_doc *docs = NULL;
    int rc = pg_otlp_to_pprof(b->a, b->req, refs, n_refs, &docs, n_docs, &err);
    if (rc != PG_OK)
        fail_msg("pg_otlp_to_pprof: %s", err.msg);
    for (size_t i = 0; i < *n_docs; i++) {
        if (o2p_check_doc(docs[i].profile, &err) != 0)
            fail_msg("document %zu: %s", i, err.msg);
        const pg_pprof *p = docs[i].profile;
        for (size_t k = 0; k < p->n_string_table; k++) {
            for (size_t j = k + 1; j < p->n_string_table; j++)
                assert_string_not_equal(p->string_table[k], p->string_table[j]);
        }
    }
    return docs;
}

static const char *S(const pg_pprof *p, int64_t i)
{
    return p->string_table[i];
}

static const char *type_of(const pg_pprof *p, size_t i)
{
    return S(p, p->sample_type[i]->type);
}

/* "k=v;k=n[unit];" for a sample's labels, in order. */
static const char *labels_text(const pg_pprof *p, const pg_pprof_sample *s, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < s->n_label; i++) {
        const pg_pprof_label *l = s->label[i];
        if (l->str)
            used += snprintf(buf + used, cap - used, "%s=%s;", S(p, l->key), S(p, l->str));
        else
            used += snprintf(buf + used, cap - used, "%s=%lld[%s];", S(p, l->key),
                             (long long)l->num, S(p, l->num_unit));
    }
    return buf;
}

/* The sample whose leaf function is named leaf (first match). */
static const pg_pprof_sample *sample_by_leaf(const pg_pprof *p, const char *leaf)
{
    for (size_t i = 0; i < p->n_sample; i++) {
        const pg_pprof_sample *s = p->sample[i];
        if (!s->n_location_id)
            continue;
        const pg_pprof_location *l = p->location[s->location_id[0] - 1];
        const pg_pprof_function *f = p->function[l->line[0]->function_id - 1];
        if (strcmp(S(p, f->name), leaf) == 0)
            return s;
    }
    fail_msg("no sample with leaf %s", leaf);
    return NULL;
}

/* ---- grouping ---- */

static const char *ORDER[] = {"samples", "cpu", "wall"};

static void test_group_recorded_order_and_default(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 3, ORDER, "cpu");
    int32_t st1 = simple_stack(&b, "work"), st2 = simple_stack(&b, "idle");
    /* stored out of order: cpu, wall, samples */
    pg_otlp_profile *cpu = tb_profile(&b, sp, "cpu", 100);
    pg_otlp_profile *wall = tb_profile(&b, sp, "wall", 100);
    pg_otlp_profile *samples = tb_profile(&b, sp, "samples", 100);
    tb_sample(&b, cpu, st1, 30);
    tb_sample(&b, cpu, st2, 5);
    tb_sample(&b, wall, st1, 70);
    tb_sample(&b, samples, st1, 3);
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    assert_int_equal(n, 1);
    const pg_pprof *p = d[0].profile;
    assert_int_equal(p->n_sample_type, 3);
    assert_string_equal(type_of(p, 0), "samples");
    assert_string_equal(type_of(p, 1), "cpu");
    assert_string_equal(type_of(p, 2), "wall");
    assert_string_equal(S(p, p->sample_type[1]->unit), "count");
    assert_string_equal(S(p, p->default_sample_type), "cpu");
    assert_int_equal(d[0].n_sources, 3);
    assert_int_equal(d[0].sources[0].profile_index, 2);
    assert_int_equal(d[0].sources[1].profile_index, 0);
    assert_int_equal(d[0].sources[2].profile_index, 1);
    assert_int_equal(p->time_nanos, 100);
    assert_int_equal(p->duration_nanos, 1000000000);
    assert_int_equal(p->period, 10000000);
    assert_string_equal(S(p, p->period_type->type), "cpu");
    assert_string_equal(S(p, p->period_type->unit), "nanoseconds");
    /* one pprof sample per stack, one column per profile, 0 where absent */
    assert_int_equal(p->n_sample, 2);
    const pg_pprof_sample *w = sample_by_leaf(p, "work"), *i = sample_by_leaf(p, "idle");
    assert_int_equal(w->value[0], 3);
    assert_int_equal(w->value[1], 30);
    assert_int_equal(w->value[2], 70);
    assert_int_equal(i->value[0], 0);
    assert_int_equal(i->value[1], 5);
    assert_int_equal(i->value[2], 0);
    assert_int_equal(w->n_location_id, 2);
    pg_arena_free(b.a);
}

static void test_without_order_each_profile_alone(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 0, NULL, NULL);
    int32_t st = simple_stack(&b, "work");
    tb_sample(&b, tb_profile(&b, sp, "cpu", 100), st, 1);
    tb_sample(&b, tb_profile(&b, sp, "samples", 100), st, 2);
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    assert_int_equal(n, 2);
    assert_int_equal(d[0].profile->n_sample_type, 1);
    assert_string_equal(type_of(d[0].profile, 0), "cpu");
    assert_string_equal(type_of(d[1].profile, 0), "samples");
    assert_int_equal(d[1].sources[0].profile_index, 1);
    assert_int_equal(d[0].profile->default_sample_type, 0);
    assert_int_equal(d[1].profile->sample[0]->value[0], 2);
    pg_arena_free(b.a);
}

static void test_documents_told_apart_by_time(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 3, ORDER, NULL);
    int32_t st = simple_stack(&b, "work");
    tb_sample(&b, tb_profile(&b, sp, "cpu", 100), st, 1);
    tb_sample(&b, tb_profile(&b, sp, "cpu", 200), st, 2);
    tb_sample(&b, tb_profile(&b, sp, "samples", 200), st, 3);
    tb_sample(&b, tb_profile(&b, sp, "samples", 100), st, 4);
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    assert_int_equal(n, 2);
    assert_int_equal(d[0].profile->time_nanos, 100);
    assert_int_equal(d[1].profile->time_nanos, 200);
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(d[k].profile->n_sample_type, 2);
        assert_string_equal(type_of(d[k].profile, 0), "samples");
        assert_string_equal(type_of(d[k].profile, 1), "cpu");
        assert_int_equal(d[k].profile->n_sample, 1);
        assert_int_equal(d[k].profile->default_sample_type, 0);
    }
    assert_int_equal(d[0].profile->sample[0]->value[0], 4);
    assert_int_equal(d[0].profile->sample[0]->value[1], 1);
    assert_int_equal(d[1].profile->sample[0]->value[0], 3);
    assert_int_equal(d[1].profile->sample[0]->value[1], 2);
    pg_arena_free(b.a);
}

static void test_repeated_or_unknown_type_starts_another(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 3, ORDER, "samples");
    int32_t st = simple_stack(&b, "work");
    tb_sample(&b, tb_profile(&b, sp, "samples", 1), st, 1); /* doc 0 */
    tb_sample(&b, tb_profile(&b, sp, "cpu", 1), st, 2);     /* doc 0 */
    tb_sample(&b, tb_profile(&b, sp, "samples", 1), st, 3); /* seen twice: doc 1 */
    tb_sample(&b, tb_profile(&b, sp, "alloc", 1), st, 4);   /* not listed: doc 2 */
    tb_sample(&b, tb_profile(&b, sp, "cpu", 1), st, 5);     /* joins doc 1 */
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    assert_int_equal(n, 3);
    assert_int_equal(d[0].n_sources, 2);
    assert_int_equal(d[0].sources[0].profile_index, 0);
    assert_int_equal(d[0].sources[1].profile_index, 1);
    assert_int_equal(d[1].n_sources, 2);
    assert_int_equal(d[1].sources[0].profile_index, 2);
    assert_int_equal(d[1].sources[1].profile_index, 4);
    assert_int_equal(d[1].profile->sample[0]->value[1], 5);
    assert_string_equal(S(d[1].profile, d[1].profile->default_sample_type), "samples");
    assert_int_equal(d[2].n_sources, 1);
    assert_string_equal(type_of(d[2].profile, 0), "alloc");
    assert_int_equal(d[2].profile->default_sample_type, 0);
    pg_arena_free(b.a);
}

static void test_selection_by_refs(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 3, ORDER, "samples");
    int32_t st = simple_stack(&b, "work"), other = simple_stack(&b, "other");
    tb_sample(&b, tb_profile(&b, sp, "samples", 1), other, 1);
    tb_sample(&b, tb_profile(&b, sp, "cpu", 1), st, 2);
    tb_sample(&b, tb_profile(&b, sp, "wall", 1), st, 3);
    pg_otlp_ref refs[] = {{0, 0, 2}, {0, 0, 1}};
    size_t n;
    pg_pprof_doc *d = convert(&b, refs, 2, &n);
    assert_int_equal(n, 1);
    const pg_pprof *p = d[0].profile;
    assert_int_equal(p->n_sample_type, 2);
    assert_string_equal(type_of(p, 0), "cpu");
    assert_string_equal(type_of(p, 1), "wall");
    assert_int_equal(p->default_sample_type, 0); /* "samples" is not in this document */
    assert_int_equal(p->n_sample, 1);
    assert_int_equal(p->sample[0]->value[0], 2);
    assert_int_equal(p->sample[0]->value[1], 3);
    assert_int_equal(p->n_location, 2); /* the unselected profile's stack is not emitted */

    pg_error err = {0};
    pg_otlp_ref bad = {0, 0, 3};
    assert_int_equal(pg_otlp_to_pprof(b.a, b.req, &bad, 1, &d, &n, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "refs[0]"));
    assert_int_equal(pg_otlp_to_pprof(b.a, b.req, refs, 0, &d, &n, &err), PG_OK);
    assert_int_equal(n, 0);
    pg_arena_free(b.a);
}

/* ---- samples ---- */

static void test_values_and_timestamps(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 0, NULL, NULL);
    int32_t st1 = simple_stack(&b, "events"), st2 = simple_stack(&b, "summed");
    int32_t st3 = simple_stack(&b, "empty");
    int32_t a1 = tb_attr_str(&b, "k1", "v1"), a2 = tb_attr_str(&b, "k2", "v2");
    pg_otlp_profile *p = tb_profile(&b, sp, "samples", 1);
    static const uint64_t ts[] = {11, 12, 13};
    static const int64_t vals[] = {5, 7};
    pg_otlp_sample *s = tb_sample(&b, p, st1, 0); /* timestamps only: 3 events */
    s->timestamps_unix_nano = pg_arena_memdup(b.a, ts, sizeof(ts));
    s->n_timestamps_unix_nano = 3;
    s = tb_sample(&b, p, st2, 0); /* values with timestamps: the values' sum */
    s->values = pg_arena_memdup(b.a, vals, sizeof(vals));
    s->n_values = 2;
    s->timestamps_unix_nano = pg_arena_memdup(b.a, ts, 2 * sizeof(uint64_t));
    s->n_timestamps_unix_nano = 2;
    tb_sample(&b, p, st3, 0); /* neither: 0 */
    /* same stack and attribute set (other order, one repeated) merge; another link does not */
    int32_t x[] = {a1, a2}, y[] = {a2, a1, a2};
    sample_attrs(&b, tb_sample(&b, p, st2, 100), 2, x);
    sample_attrs(&b, tb_sample(&b, p, st2, 1000), 3, y);
    pg_otlp_link *ln =
        NEW(&b, pg_otlp_link, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__LINK__INIT);
    int32_t link = (int32_t)push(&b, &b.d->link_table, &b.d->n_link_table, ln);
    pg_otlp_sample *linked = tb_sample(&b, p, st2, 10000);
    sample_attrs(&b, linked, 2, x);
    linked->link_index = link;
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    assert_int_equal(n, 1);
    const pg_pprof *pp = d[0].profile;
    assert_int_equal(pp->n_sample, 5);
    assert_int_equal(sample_by_leaf(pp, "events")->value[0], 3);
    assert_int_equal(sample_by_leaf(pp, "empty")->value[0], 0);
    assert_int_equal(pp->sample[1]->value[0], 12);
    assert_int_equal(pp->sample[3]->value[0], 1100);
    assert_int_equal(pp->sample[4]->value[0], 10000);
    char buf[256];
    assert_string_equal(labels_text(pp, pp->sample[3], buf, sizeof(buf)), "k1=v1;k2=v2;");
    assert_string_equal(labels_text(pp, pp->sample[4], buf, sizeof(buf)), "k1=v1;k2=v2;");
    /* samples sharing a stack share its location ids */
    assert_ptr_equal(pp->sample[1]->location_id, pp->sample[3]->location_id);
    pg_arena_free(b.a);
}

static void test_attribute_kinds_to_labels(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 0, NULL, NULL);
    int32_t st = simple_stack(&b, "work");
    pg_otlp_any *i = any_new(&b), *bo = any_new(&b), *db = any_new(&b), *ref = any_new(&b);
    i->value_case = PG_ANY(INT_VALUE);
    i->int_value = -4096;
    bo->value_case = PG_ANY(BOOL_VALUE);
    db->value_case = PG_ANY(DOUBLE_VALUE);
    db->double_value = 0.1;
    ref->value_case = PG_ANY(STRING_VALUE_STRINDEX);
    ref->string_value_strindex = tb_str(&b, "by-ref");
    pg_otlp_any *elems[] = {any_str(&b, "a"), any_str(&b, "b"), i};
    pg_otlp_any *kvl = any_new(&b), *bytes = any_new(&b);
    kvl->value_case = PG_ANY(KVLIST_VALUE);
    kvl->kvlist_value = NEW(&b, Opentelemetry__Proto__Common__V1__KeyValueList,
                            OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT);
    bytes->value_case = PG_ANY(BYTES_VALUE);
    bytes->bytes_value = (ProtobufCBinaryData){3, (uint8_t *)"abc"};
    pg_otlp_any *nums[] = {any_new(&b), any_new(&b)};
    nums[0]->value_case = nums[1]->value_case = PG_ANY(INT_VALUE);
    nums[0]->int_value = 1;
    nums[1]->int_value = 2;
    int32_t attrs[] = {
        tb_attr(&b, "s", any_str(&b, "text"), NULL),
        tb_attr(&b, "bytes", i, "bytes"),
        tb_attr(&b, "flag", bo, NULL),
        tb_attr(&b, "ratio", db, NULL),
        tb_attr(&b, "ref", ref, NULL),
        tb_attr(&b, "arr", any_array(&b, 3, elems), NULL),
        tb_attr(&b, "kv", kvl, NULL),
        tb_attr(&b, "raw", bytes, NULL),
        tb_attr(&b, "sizes", any_array(&b, 2, nums), "kilobytes"),
    };
    pg_otlp_sample *s = tb_sample(&b, tb_profile(&b, sp, "samples", 1), st, 1);
    sample_attrs(&b, s, 9, attrs);
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    char buf[512];
    assert_string_equal(labels_text(d[0].profile, d[0].profile->sample[0], buf, sizeof(buf)),
                        "s=text;bytes=-4096[bytes];flag=false;ratio=0.1;ref=by-ref;"
                        "arr=a;arr=b;arr=-4096[];sizes=1[kilobytes];sizes=2[kilobytes];");
    assert_int_equal(d[0].skipped_attributes, 2);
    pg_arena_free(b.a);
}

static void test_link_to_trace_labels(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 0, NULL, NULL);
    int32_t st = simple_stack(&b, "work");
    static uint8_t trace[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
    static uint8_t span[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
    pg_otlp_link *ln =
        NEW(&b, pg_otlp_link, OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__LINK__INIT);
    ln->trace_id = (ProtobufCBinaryData){16, trace};
    ln->span_id = (ProtobufCBinaryData){8, span};
    int32_t link = (int32_t)push(&b, &b.d->link_table, &b.d->n_link_table, ln);
    int32_t a = tb_attr_str(&b, "thread", "main");
    pg_otlp_sample *s = tb_sample(&b, tb_profile(&b, sp, "samples", 1), st, 1);
    s->link_index = link;
    sample_attrs(&b, s, 1, &a);
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    char buf[256];
    assert_string_equal(labels_text(d[0].profile, d[0].profile->sample[0], buf, sizeof(buf)),
                        "thread=main;trace_id=4bf92f3577b34da6a3ce929d0e0e4736;"
                        "span_id=00f067aa0ba902b7;");
    pg_arena_free(b.a);
}

/* ---- dictionary entries and profile fields ---- */

static void test_attributes_back_to_pprof_fields(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 0, NULL, NULL);
    int32_t mattrs[] = {tb_attr_str(&b, PG_ATTR_BUILD_ID, "abc123"),
                        tb_attr_bool(&b, PG_ATTR_HAS_FUNCTIONS),
                        tb_attr_bool(&b, PG_ATTR_HAS_LINE_NUMBERS)};
    int32_t m = tb_map(&b, "/lib/libc.so", 3, mattrs);
    int32_t f[] = {tb_fun(&b, "inlined"), tb_fun(&b, "outer")};
    int32_t loc = tb_loc(&b, m, 0x1234, 2, f);
    int32_t folded = tb_attr_bool(&b, PG_ATTR_IS_FOLDED);
    b.d->location_table[loc]->attribute_indices = ints(&b, 1, &folded);
    b.d->location_table[loc]->n_attribute_indices = 1;
    int32_t st = tb_stack(&b, 1, &loc);
    pg_otlp_profile *p = tb_profile(&b, sp, "samples", 1);
    int32_t pattrs[] = {tb_attr_str(&b, PG_ATTR_COMMENT_PREFIX "10", "third"),
                        tb_attr_str(&b, PG_ATTR_DROP_FRAMES, "runtime\\..*"),
                        tb_attr_str(&b, PG_ATTR_COMMENT_PREFIX "2", "second"),
                        tb_attr_str(&b, PG_ATTR_KEEP_FRAMES, "main"),
                        tb_attr_str(&b, PG_ATTR_DOC_URL, "https://example.com/doc"),
                        tb_attr_str(&b, PG_ATTR_COMMENT_PREFIX "0", "first"),
                        tb_attr_str(&b, "profile.other", "ignored")};
    p->attribute_indices = ints(&b, 7, pattrs);
    p->n_attribute_indices = 7;
    tb_sample(&b, p, st, 1);
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    const pg_pprof *pp = d[0].profile;
    assert_int_equal(pp->n_mapping, 1);
    const pg_pprof_mapping *mm = pp->mapping[0];
    assert_string_equal(S(pp, mm->filename), "/lib/libc.so");
    assert_string_equal(S(pp, mm->build_id), "abc123");
    assert_true(mm->has_functions && mm->has_line_numbers);
    assert_false(mm->has_filenames || mm->has_inline_frames);
    assert_int_equal(mm->memory_start, 0x1000);
    assert_int_equal(mm->memory_limit, 0x9000);
    assert_int_equal(mm->file_offset, 0x100);
    assert_int_equal(pp->n_location, 1);
    const pg_pprof_location *l = pp->location[0];
    assert_true(l->is_folded);
    assert_int_equal(l->mapping_id, 1);
    assert_int_equal(l->address, 0x1234);
    assert_int_equal(l->n_line, 2);
    assert_string_equal(S(pp, pp->function[l->line[0]->function_id - 1]->name), "inlined");
    assert_string_equal(S(pp, pp->function[l->line[1]->function_id - 1]->name), "outer");
    assert_int_equal(l->line[1]->line, 11);
    assert_int_equal(pp->function[0]->start_line, 7);
    assert_string_equal(S(pp, pp->function[0]->filename), "main.c");
    assert_string_equal(S(pp, pp->drop_frames), "runtime\\..*");
    assert_string_equal(S(pp, pp->keep_frames), "main");
    assert_string_equal(S(pp, pp->doc_url), "https://example.com/doc");
    assert_int_equal(pp->n_comment, 3);
    assert_string_equal(S(pp, pp->comment[0]), "first");
    assert_string_equal(S(pp, pp->comment[1]), "second");
    assert_string_equal(S(pp, pp->comment[2]), "third");
    assert_int_equal(d[0].profile->sample[0]->n_label, 0); /* profile attributes are no labels */
    pg_arena_free(b.a);
}

static void test_only_referenced_entries_in_first_use_order(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 0, NULL, NULL);
    int32_t unused_fun = tb_fun(&b, "never_called");
    int32_t unused_map = tb_map(&b, "/unused.so", 0, NULL);
    tb_loc(&b, unused_map, 0x10, 1, &unused_fun);
    int32_t f[] = {tb_fun(&b, "a"), tb_fun(&b, "b")};
    int32_t m = tb_map(&b, "/bin/app", 0, NULL);
    /* stack listed root-last; b is used first (as the leaf) */
    int32_t locs[] = {tb_loc(&b, m, 0x1, 1, &f[1]), tb_loc(&b, m, 0x2, 1, &f[0])};
    int32_t st = tb_stack(&b, 2, locs);
    int32_t unmapped = tb_loc(&b, 0, 0x99, 1, &f[0]); /* mapping_index 0: no mapping */
    int32_t st2 = tb_stack(&b, 1, &unmapped);
    pg_otlp_profile *p = tb_profile(&b, sp, "samples", 1);
    tb_sample(&b, p, st, 1);
    tb_sample(&b, p, st2, 1);
    tb_sample(&b, p, 0, 1); /* the empty stack */
    /* another document of the request uses the rest */
    int32_t other = tb_stack(&b, 1, &locs[0]);
    tb_sample(&b, tb_profile(&b, sp, "cpu", 1), other, 1);
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    assert_int_equal(n, 2);
    const pg_pprof *pp = d[0].profile;
    assert_int_equal(pp->n_function, 2);
    assert_int_equal(pp->n_mapping, 1);
    assert_int_equal(pp->n_location, 3);
    assert_string_equal(S(pp, pp->function[0]->name), "b");
    assert_string_equal(S(pp, pp->function[1]->name), "a");
    assert_string_equal(S(pp, pp->mapping[0]->filename), "/bin/app");
    assert_int_equal(pp->sample[0]->location_id[0], 1);
    assert_int_equal(pp->sample[0]->location_id[1], 2);
    assert_int_equal(pp->location[0]->address, 0x1);
    assert_int_equal(pp->location[2]->mapping_id, 0);
    assert_int_equal(pp->sample[2]->n_location_id, 0);
    for (size_t i = 0; i < pp->n_string_table; i++) {
        assert_string_not_equal(pp->string_table[i], "never_called");
        assert_string_not_equal(pp->string_table[i], "/unused.so");
    }
    assert_string_equal(pp->string_table[0], "");
    pg_arena_free(b.a);
}

/* A document holding every profile of the request keeps the dictionary's
 * mappings that no location uses (pprof lists every mapped file), in table
 * order; functions and locations are still pruned. */
static void test_whole_request_keeps_every_mapping(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 2, ORDER, NULL);
    int32_t attr = tb_attr_str(&b, PG_ATTR_BUILD_ID, "b1");
    int32_t unused_map = tb_map(&b, "/unused.so", 1, &attr);
    int32_t unused_fun = tb_fun(&b, "never_called");
    tb_loc(&b, unused_map, 0x10, 1, &unused_fun);
    int32_t st = simple_stack(&b, "work");
    tb_sample(&b, tb_profile(&b, sp, "samples", 1), st, 1);
    tb_sample(&b, tb_profile(&b, sp, "cpu", 1), st, 1);
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    assert_int_equal(n, 1);
    const pg_pprof *p = d[0].profile;
    assert_int_equal(p->n_mapping, 2);
    assert_string_equal(S(p, p->mapping[0]->filename), "/unused.so");
    assert_string_equal(S(p, p->mapping[0]->build_id), "b1");
    assert_string_equal(S(p, p->mapping[1]->filename), "/bin/app");
    assert_int_equal(p->location[0]->mapping_id, 2);
    assert_int_equal(p->n_location, 2);
    assert_int_equal(p->n_function, 2);
    /* the same request converted one profile at a time: pruned */
    pg_otlp_ref one = {0, 0, 1};
    d = convert(&b, &one, 1, &n);
    assert_int_equal(d[0].profile->n_mapping, 1);
    assert_string_equal(S(d[0].profile, d[0].profile->mapping[0]->filename), "/bin/app");
    pg_arena_free(b.a);
}

static void test_empty_request(void **state)
{
    tb b = tb_new();
    size_t n = 7;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    assert_int_equal(n, 0);
    assert_null(d);
    pg_arena_free(b.a);
}

/* The self-check used by these tests and the fuzz target does reject broken documents. */
static void test_self_check_rejects_broken_documents(void **state)
{
    tb b = tb_new();
    pg_otlp_scope_profiles *sp = tb_scope(&b, 0, NULL, NULL);
    tb_sample(&b, tb_profile(&b, sp, "samples", 1), simple_stack(&b, "work"), 1);
    size_t n;
    pg_pprof_doc *d = convert(&b, NULL, 0, &n);
    pg_pprof *p = d[0].profile;
    pg_error err = {0};
    p->sample[0]->location_id[0] = 9;
    assert_int_equal(o2p_check_doc(p, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "does not resolve"));
    p->sample[0]->location_id[0] = 2; /* location 1 now unreferenced */
    assert_int_equal(o2p_check_doc(p, &err), PG_ERR_INVALID);
    p->sample[0]->location_id[0] = 1;
    assert_int_equal(o2p_check_doc(p, &err), 0);
    p->sample[0]->n_value = 2;
    assert_int_equal(o2p_check_doc(p, &err), PG_ERR_INVALID);
    p->sample[0]->n_value = 1;
    p->function[1]->id = 1;
    assert_int_equal(o2p_check_doc(p, &err), PG_ERR_INVALID);
    p->function[1]->id = 2;
    p->string_table[0] = "x";
    assert_int_equal(o2p_check_doc(p, &err), PG_ERR_INVALID);
    pg_arena_free(b.a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_recorded_order_and_default),
        cmocka_unit_test(test_without_order_each_profile_alone),
        cmocka_unit_test(test_documents_told_apart_by_time),
        cmocka_unit_test(test_repeated_or_unknown_type_starts_another),
        cmocka_unit_test(test_selection_by_refs),
        cmocka_unit_test(test_values_and_timestamps),
        cmocka_unit_test(test_attribute_kinds_to_labels),
        cmocka_unit_test(test_link_to_trace_labels),
        cmocka_unit_test(test_attributes_back_to_pprof_fields),
        cmocka_unit_test(test_only_referenced_entries_in_first_use_order),
        cmocka_unit_test(test_whole_request_keeps_every_mapping),
        cmocka_unit_test(test_empty_request),
        cmocka_unit_test(test_self_check_rejects_broken_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
