/* pprof -> OTLP: every mapping rule of convert/convert.h on a hand-built
 * document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model/otlp_types.h"
#include "test_pprof_util.h"

enum {
    S_EMPTY,
    S_SAMPLES,
    S_COUNT,
    S_CPU,
    S_NS,
    S_MAIN,
    S_MAIN_GO,
    S_FOO,
    S_APP,
    S_BUILD,
    S_THREAD,
    S_T1,
    S_BYTES,
    S_SIZE,
    S_TAG,
    S_X,
    S_Y,
    S_DROP,
    S_KEEP,
    S_DOC,
    S_C0,
    S_C1,
    S_INLINED,
    S_SYS_MAIN,
    S_SAMPLES_AGAIN,
    S_EMPTY_AGAIN,
    S_N
};

static const char *const strings[S_N] = {
    "",
    "samples",
    "count",
    "cpu",
    "nanoseconds",
    "main",
    "main.go",
    "foo",
    "/bin/app",
    "abc123",
    "thread",
    "t1",
    "bytes",
    "size",
    "tag",
    "x",
    "y",
    "drop.*",
    "keep.*",
    "https://doc",
    "comment zero",
    "c one",
    "runtime.inlined",
    "sys_main",
    "samples",
    "",
};

typedef struct rich {
    pg_pprof p;
    char *strs[S_N];
    tp_vt st[2], *stp[2], period;
    tp_mapping m[2], *mp[2];
    tp_function f[3], *fp[3];
    tp_location l[3], *lp[3];
    tp_line ln[3], *lnp[3];
    tp_sample s[5], *sp[5];
    uint64_t locs[5][2];
    int64_t vals[5][2];
    tp_label lab[9], *labp[9];
    int64_t comments[2];
} rich;

static void label(rich *r, int i, int64_t key, int64_t str, int64_t num, int64_t unit)
{
    r->lab[i] = (tp_label)PERFTOOLS__PROFILES__LABEL__INIT;
    r->lab[i].key = key;
    r->lab[i].str = str;
    r->lab[i].num = num;
    r->lab[i].num_unit = unit;
    r->labp[i] = &r->lab[i];
}

static void sample(rich *r, int i, size_t n_locs, uint64_t l0, uint64_t l1, int64_t v0,
                   size_t first_label, size_t n_labels)
{
    r->s[i] = (tp_sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
    r->locs[i][0] = l0;
    r->locs[i][1] = l1;
    r->s[i].n_location_id = n_locs;
    r->s[i].location_id = r->locs[i];
    r->vals[i][0] = v0;
    r->vals[i][1] = v0 * 10;
    r->s[i].n_value = 2;
    r->s[i].value = r->vals[i];
    r->s[i].n_label = n_labels;
    r->s[i].label = n_labels ? &r->labp[first_label] : NULL;
    r->sp[i] = &r->s[i];
}

static void mapping(rich *r, int i, uint64_t id, int64_t file, int64_t build, int flags)
{
    r->m[i] = (tp_mapping)PERFTOOLS__PROFILES__MAPPING__INIT;
    r->m[i].id = id;
    r->m[i].memory_start = 0x1000u * (i + 1);
    r->m[i].memory_limit = 0x2000u * (i + 1);
    r->m[i].file_offset = 0x10u * (i + 1);
    r->m[i].filename = file;
    r->m[i].build_id = build;
    r->m[i].has_functions = flags & 1;
    r->m[i].has_line_numbers = (flags & 2) != 0;
    r->mp[i] = &r->m[i];
}

static void function(rich *r, int i, uint64_t id, int64_t name, int64_t sys, int64_t start)
{
    r->f[i] = (tp_function)PERFTOOLS__PROFILES__FUNCTION__INIT;
    r->f[i].id = id;
    r->f[i].name = name;
    r->f[i].system_name = sys;
    r->f[i].filename = S_MAIN_GO;
    r->f[i].start_line = start;
    r->fp[i] = &r->f[i];
}

static void line(rich *r, int i, uint64_t fn, int64_t ln, int64_t col)
{
    r->ln[i] = (tp_line)PERFTOOLS__PROFILES__LINE__INIT;
    r->ln[i].function_id = fn;
    r->ln[i].line = ln;
    r->ln[i].column = col;
    r->lnp[i] = &r->ln[i];
}

static void location(rich *r, int i, uint64_t mapping_id, uint64_t addr, size_t first_line,
                     size_t n_lines, int folded)
{
    r->l[i] = (tp_location)PERFTOOLS__PROFILES__LOCATION__INIT;
    r->l[i].id = (uint64_t)i + 1;
    r->l[i].mapping_id = mapping_id;
    r->l[i].address = addr;
    r->l[i].n_line = n_lines;
    r->l[i].line = n_lines ? &r->lnp[first_line] : NULL;
    r->l[i].is_folded = folded;
    r->lp[i] = &r->l[i];
}

/* Sparse function ids (hash index), dense mapping ids (direct array),
 * sequential location ids; a duplicate "samples" string; every field set. */
static void rich_init(rich *r)
{
    memset(r, 0, sizeof(*r));
    r->p = (pg_pprof)PERFTOOLS__PROFILES__PROFILE__INIT;
    for (int i = 0; i < S_N; i++)
        r->strs[i] = (char *)strings[i];
    r->p.n_string_table = S_N;
    r->p.string_table = r->strs;
    for (int i = 0; i < 2; i++) {
        r->st[i] = (tp_vt)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
        r->stp[i] = &r->st[i];
    }
    r->st[0].type = S_SAMPLES_AGAIN;
    r->st[0].unit = S_COUNT;
    r->st[1].type = S_CPU;
    r->st[1].unit = S_NS;
    r->period = (tp_vt)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    r->period.type = S_CPU;
    r->period.unit = S_NS;
    mapping(r, 0, 10, S_APP, S_BUILD, 3);
    mapping(r, 1, 20, S_EMPTY, S_EMPTY_AGAIN, 0);
    function(r, 0, 100, S_MAIN, S_SYS_MAIN, 3);
    function(r, 1, 200, S_FOO, S_EMPTY, 10);
    function(r, 2, 300, S_INLINED, S_EMPTY, 0);
    line(r, 0, 300, 42, 7); /* innermost (inlined) first */
    line(r, 1, 200, 12, 0);
    line(r, 2, 100, 5, 0);
    location(r, 0, 10, 0x1100, 0, 2, 1);
    location(r, 1, 20, 0x1200, 2, 1, 0);
    location(r, 2, 0, 0x99, 0, 0, 0);
    label(r, 0, S_THREAD, S_T1, 0, 0);
    label(r, 1, S_SIZE, 0, 64, S_BYTES);
    label(r, 2, S_THREAD, S_T1, 0, 0);
    label(r, 3, S_TAG, S_X, 0, 0);
    label(r, 4, S_SIZE, 0, 5, S_BYTES);
    label(r, 5, S_TAG, S_Y, 0, 0);
    label(r, 6, S_SIZE, 0, 1, S_BYTES);
    label(r, 7, S_SIZE, 0, 2, S_BYTES);
    sample(r, 0, 2, 1, 2, 1, 0, 2);
    sample(r, 1, 2, 1, 2, 0, 2, 1); /* zero values: kept */
    sample(r, 2, 2, 3, 2, 2, 3, 3); /* tag=x, size=5, tag=y */
    sample(r, 3, 0, 0, 0, 3, 0, 0); /* no locations */
    sample(r, 4, 1, 2, 0, 4, 6, 2); /* size=1, size=2 */
    r->p.n_sample_type = 2;
    r->p.sample_type = r->stp;
    r->p.period_type = &r->period;
    r->p.period = 10000000;
    r->p.time_nanos = 1000;
    r->p.duration_nanos = 2000;
    r->p.n_mapping = 2;
    r->p.mapping = r->mp;
    r->p.n_function = 3;
    r->p.function = r->fp;
    r->p.n_location = 3;
    r->p.location = r->lp;
    r->p.n_sample = 5;
    r->p.sample = r->sp;
    r->p.drop_frames = S_DROP;
    r->p.keep_frames = S_KEEP;
    r->p.doc_url = S_DOC;
    r->comments[0] = S_C0;
    r->comments[1] = S_C1;
    r->p.n_comment = 2;
    r->p.comment = r->comments;
    r->p.default_sample_type = S_CPU;
}

typedef struct fixture {
    pg_arena *a;
    rich r;
    pg_otlp_request *req;
} fixture;

static const uint8_t payload[] = "original bytes";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->a = pg_arena_new(0, 0);
    rich_init(&f->r);
    pg_error err = {0};
    if (pg_pprof_validate(&f->r.p, &err) != PG_OK) {
        fprintf(stderr, "hand-built document: %s\n", err.msg);
        return -1;
    }
    static const pg_convert_attr extra[] = {{"deployment.environment", "prod"},
                                            {"host.name", "h1"}};
    pg_pprof_to_otlp_options opt = {.service_name = "checkout",
                                    .resource_attrs = extra,
                                    .n_resource_attrs = 2,
                                    .original_payload = payload,
                                    .original_payload_len = sizeof(payload)};
    if (pg_pprof_to_otlp(f->a, &f->r.p, &opt, &f->req, &err) != PG_OK) {
        fprintf(stderr, "conversion: %s\n", err.msg);
        return -1;
    }
    if (pg_otlp_validate(f->req, &err) != PG_OK) {
        fprintf(stderr, "output: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pg_arena_free(f->a);
    free(f);
    return 0;
}

#define DICT(f)    ((f)->req->dictionary)
#define STR(f, i)  pg_otlp_string((f)->req, (i))
#define SCOPE(f)   ((f)->req->resource_profiles[0]->scope_profiles[0])
#define PROF(f, t) (SCOPE(f)->profiles[t])

/* The attribute of a list with this key, or NULL. */
static const pg_otlp_kvu *find_attr(const fixture *f, const int32_t *list, size_t n,
                                    const char *key)
{
    const pg_otlp_kvu *found = NULL;
    for (size_t i = 0; i < n; i++) {
        const pg_otlp_kvu *a = DICT(f)->attribute_table[list[i]];
        if (strcmp(STR(f, a->key_strindex), key) == 0) {
            assert_null(found); /* one key appears once per list */
            found = a;
        }
    }
    return found;
}

static void expect_string_attr(const fixture *f, const int32_t *list, size_t n, const char *key,
                               const char *value)
{
    const pg_otlp_kvu *a = find_attr(f, list, n, key);
    assert_non_null(a);
    assert_int_equal(a->value->value_case, PG_ANY(STRING_VALUE));
    assert_string_equal(a->value->string_value, value);
    assert_int_equal(a->unit_strindex, 0);
}

static void expect_bool_attr(const fixture *f, const int32_t *list, size_t n, const char *key)
{
    const pg_otlp_kvu *a = find_attr(f, list, n, key);
    assert_non_null(a);
    assert_int_equal(a->value->value_case, PG_ANY(BOOL_VALUE));
    assert_true(a->value->bool_value);
}

static void test_shape_and_times(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->req->n_resource_profiles, 1);
    assert_int_equal(f->req->resource_profiles[0]->n_scope_profiles, 1);
    assert_int_equal(SCOPE(f)->n_profiles, 2);
    const char *types[2][2] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
    for (int t = 0; t < 2; t++) {
        const pg_otlp_profile *p = PROF(f, t);
        assert_string_equal(STR(f, p->sample_type->type_strindex), types[t][0]);
        assert_string_equal(STR(f, p->sample_type->unit_strindex), types[t][1]);
        assert_int_equal(p->time_unix_nano, 1000);
        assert_int_equal(p->duration_nano, 2000);
        assert_int_equal(p->period, 10000000);
        assert_string_equal(STR(f, p->period_type->type_strindex), "cpu");
        assert_string_equal(STR(f, p->period_type->unit_strindex), "nanoseconds");
        assert_int_equal(p->n_samples, 5);
    }
}

static void test_zero_entries_and_unique_strings(void **state)
{
    fixture *f = *state;
    const pg_otlp_dictionary *d = DICT(f);
    assert_string_equal(d->string_table[0], "");
    assert_int_equal(d->mapping_table[0]->filename_strindex, 0);
    assert_int_equal(d->mapping_table[0]->memory_start, 0);
    assert_int_equal(d->location_table[0]->n_lines, 0);
    assert_int_equal(d->function_table[0]->name_strindex, 0);
    assert_int_equal(d->stack_table[0]->n_location_indices, 0);
    assert_null(d->attribute_table[0]->value);
    assert_int_equal(d->n_link_table, 1);
    assert_int_equal(d->link_table[0]->trace_id.len, 0);
    for (size_t i = 0; i < d->n_string_table; i++) {
        for (size_t k = i + 1; k < d->n_string_table; k++)
            assert_string_not_equal(d->string_table[i], d->string_table[k]);
    }
    /* label values are inline: "t1" is not in the string table */
    for (size_t i = 0; i < d->n_string_table; i++)
        assert_string_not_equal(d->string_table[i], "t1");
    pg_error lint;
    assert_int_equal(pg_otlp_lint(f->req, &lint), 0);
}

static void test_stacks_and_lines(void **state)
{
    fixture *f = *state;
    const pg_otlp_dictionary *d = DICT(f);
    const pg_otlp_profile *p = PROF(f, 0);
    const pg_otlp_stack *st = d->stack_table[p->samples[0]->stack_index];
    assert_int_equal(st->n_location_indices, 2);
    const pg_otlp_location *leaf = d->location_table[st->location_indices[0]];
    const pg_otlp_location *caller = d->location_table[st->location_indices[1]];
    assert_int_equal(leaf->address, 0x1100); /* leaf first, as in pprof */
    assert_int_equal(caller->address, 0x1200);
    assert_int_equal(p->samples[1]->stack_index, p->samples[0]->stack_index);
    assert_int_equal(p->samples[3]->stack_index, 0);
    assert_int_equal(d->n_stack_table, 4); /* empty, [1,2], [3,2], [2] */
    const pg_otlp_stack *st2 = d->stack_table[p->samples[2]->stack_index];
    assert_int_equal(d->location_table[st2->location_indices[0]]->address, 0x99);
    assert_int_equal(d->location_table[st2->location_indices[0]]->mapping_index, 0);
    assert_int_equal(d->location_table[st2->location_indices[0]]->n_lines, 0);
    /* inlined lines in order: innermost first */
    assert_int_equal(leaf->n_lines, 2);
    const pg_otlp_function *f0 = d->function_table[leaf->lines[0]->function_index];
    const pg_otlp_function *f1 = d->function_table[leaf->lines[1]->function_index];
    assert_string_equal(STR(f, f0->name_strindex), "runtime.inlined");
    assert_int_equal(leaf->lines[0]->line, 42);
    assert_int_equal(leaf->lines[0]->column, 7);
    assert_string_equal(STR(f, f1->name_strindex), "foo");
    assert_int_equal(f1->start_line, 10);
    assert_int_equal(leaf->lines[1]->line, 12);
    const pg_otlp_function *fm = d->function_table[caller->lines[0]->function_index];
    assert_string_equal(STR(f, fm->name_strindex), "main");
    assert_string_equal(STR(f, fm->system_name_strindex), "sys_main");
    assert_string_equal(STR(f, fm->filename_strindex), "main.go");
    assert_int_equal(fm->start_line, 3);
    /* is_folded */
    expect_bool_attr(f, leaf->attribute_indices, leaf->n_attribute_indices, PG_ATTR_IS_FOLDED);
    assert_int_equal(caller->n_attribute_indices, 0);
}

static void test_mappings(void **state)
{
    fixture *f = *state;
    const pg_otlp_dictionary *d = DICT(f);
    const pg_otlp_stack *st = d->stack_table[PROF(f, 0)->samples[0]->stack_index];
    const pg_otlp_mapping *m =
        d->mapping_table[d->location_table[st->location_indices[0]]->mapping_index];
    assert_string_equal(STR(f, m->filename_strindex), "/bin/app");
    assert_int_equal(m->memory_start, 0x1000);
    assert_int_equal(m->memory_limit, 0x2000);
    assert_int_equal(m->file_offset, 0x10);
    assert_int_equal(m->n_attribute_indices, 3);
    expect_string_attr(f, m->attribute_indices, 3, PG_ATTR_BUILD_ID, "abc123");
    expect_bool_attr(f, m->attribute_indices, 3, PG_ATTR_HAS_FUNCTIONS);
    expect_bool_attr(f, m->attribute_indices, 3, PG_ATTR_HAS_LINE_NUMBERS);
    assert_null(find_attr(f, m->attribute_indices, 3, PG_ATTR_HAS_FILENAMES));
    assert_null(find_attr(f, m->attribute_indices, 3, PG_ATTR_HAS_INLINE_FRAMES));
    const pg_otlp_mapping *m2 =
        d->mapping_table[d->location_table[st->location_indices[1]]->mapping_index];
    assert_int_equal(m2->memory_start, 0x2000);
    assert_int_equal(m2->n_attribute_indices, 0); /* empty build id, no flags */
}

static void test_labels(void **state)
{
    fixture *f = *state;
    const pg_otlp_dictionary *d = DICT(f);
    const pg_otlp_sample *s0 = PROF(f, 0)->samples[0];
    expect_string_attr(f, s0->attribute_indices, s0->n_attribute_indices, "thread", "t1");
    const pg_otlp_kvu *size = find_attr(f, s0->attribute_indices, s0->n_attribute_indices, "size");
    assert_int_equal(size->value->value_case, PG_ANY(INT_VALUE));
    assert_int_equal(size->value->int_value, 64);
    assert_string_equal(STR(f, size->unit_strindex), "bytes");
    /* the same label on another sample is the same table entry */
    const pg_otlp_sample *s1 = PROF(f, 0)->samples[1];
    assert_int_equal(s1->n_attribute_indices, 1);
    assert_int_equal(s1->attribute_indices[0], s0->attribute_indices[0]);
    /* tag=x, size=5, tag=y: one array attribute for tag, in order */
    const pg_otlp_sample *s2 = PROF(f, 0)->samples[2];
    assert_int_equal(s2->n_attribute_indices, 2);
    const pg_otlp_kvu *tag = find_attr(f, s2->attribute_indices, 2, "tag");
    assert_int_equal(tag->value->value_case, PG_ANY(ARRAY_VALUE));
    assert_int_equal(tag->value->array_value->n_values, 2);
    assert_string_equal(tag->value->array_value->values[0]->string_value, "x");
    assert_string_equal(tag->value->array_value->values[1]->string_value, "y");
    assert_int_equal(find_attr(f, s2->attribute_indices, 2, "size")->value->int_value, 5);
    /* size=1, size=2 with a unit: an int array keeping the unit */
    const pg_otlp_sample *s4 = PROF(f, 0)->samples[4];
    assert_int_equal(s4->n_attribute_indices, 1);
    const pg_otlp_kvu *sizes = d->attribute_table[s4->attribute_indices[0]];
    assert_int_equal(sizes->value->value_case, PG_ANY(ARRAY_VALUE));
    assert_int_equal(sizes->value->array_value->values[0]->int_value, 1);
    assert_int_equal(sizes->value->array_value->values[1]->int_value, 2);
    assert_string_equal(STR(f, sizes->unit_strindex), "bytes");
    assert_int_equal(PROF(f, 0)->samples[3]->n_attribute_indices, 0);
    /* both profiles share the lists */
    assert_ptr_equal(PROF(f, 1)->samples[2]->attribute_indices, s2->attribute_indices);
}

static void test_values_keep_zero_samples(void **state)
{
    fixture *f = *state;
    const int64_t want[5] = {1, 0, 2, 3, 4};
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < 5; i++) {
            const pg_otlp_sample *s = PROF(f, t)->samples[i];
            assert_int_equal(s->n_values, 1);
            assert_int_equal(s->values[0], want[i] * (t ? 10 : 1));
            assert_int_equal(s->n_timestamps_unix_nano, 0);
            assert_int_equal(s->link_index, 0);
        }
    }
}

static void test_profile_attributes(void **state)
{
    fixture *f = *state;
    for (int t = 0; t < 2; t++) {
        const pg_otlp_profile *p = PROF(f, t);
        assert_int_equal(p->n_attribute_indices, 5);
        expect_string_attr(f, p->attribute_indices, 5, PG_ATTR_DROP_FRAMES, "drop.*");
        expect_string_attr(f, p->attribute_indices, 5, PG_ATTR_KEEP_FRAMES, "keep.*");
        expect_string_attr(f, p->attribute_indices, 5, PG_ATTR_DOC_URL, "https://doc");
        expect_string_attr(f, p->attribute_indices, 5, PG_ATTR_COMMENT_PREFIX "0", "comment zero");
        expect_string_attr(f, p->attribute_indices, 5, PG_ATTR_COMMENT_PREFIX "1", "c one");
    }
}

static void test_scope_and_resource(void **state)
{
    fixture *f = *state;
    const pg_otlp_scope *sc = SCOPE(f)->scope;
    assert_string_equal(sc->name, "");
    assert_string_equal(sc->version, "");
    assert_int_equal(sc->n_attributes, 2);
    assert_string_equal(sc->attributes[0]->key, PG_ATTR_SAMPLE_TYPE_ORDER);
    const Opentelemetry__Proto__Common__V1__ArrayValue *order =
        sc->attributes[0]->value->array_value;
    assert_int_equal(order->n_values, 2);
    assert_string_equal(order->values[0]->string_value, "samples");
    assert_string_equal(order->values[1]->string_value, "cpu");
    assert_string_equal(sc->attributes[1]->key, PG_ATTR_DEFAULT_SAMPLE_TYPE);
    assert_string_equal(sc->attributes[1]->value->string_value, "cpu");
    const pg_otlp_resource *r = f->req->resource_profiles[0]->resource;
    assert_int_equal(r->n_attributes, 3);
    const char *kv[3][2] = {
        {"service.name", "checkout"}, {"deployment.environment", "prod"}, {"host.name", "h1"}};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(r->attributes[i]->key, kv[i][0]);
        assert_int_equal(r->attributes[i]->key_strindex, 0);
        assert_string_equal(r->attributes[i]->value->string_value, kv[i][1]);
    }
}

static void test_original_payload(void **state)
{
    fixture *f = *state;
    assert_string_equal(PROF(f, 0)->original_payload_format, "pprof");
    assert_int_equal(PROF(f, 0)->original_payload.len, sizeof(payload));
    assert_memory_equal(PROF(f, 0)->original_payload.data, payload, sizeof(payload));
    assert_ptr_not_equal(PROF(f, 0)->original_payload.data, payload); /* arena copy */
    assert_int_equal(PROF(f, 1)->original_payload.len, 0);
    assert_string_equal(PROF(f, 1)->original_payload_format, "");
}

/* Defaults: no options, no default sample type, no profile attributes. */
static void test_defaults(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    tp_doc d;
    tp_doc_init(&d);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pprof_to_otlp(a, &d.p, NULL, &req, &err), PG_OK);
    assert_int_equal(pg_otlp_validate(req, &err), PG_OK);
    const pg_otlp_resource *r = req->resource_profiles[0]->resource;
    assert_int_equal(r->n_attributes, 0);
    const pg_otlp_scope *sc = req->resource_profiles[0]->scope_profiles[0]->scope;
    assert_int_equal(sc->n_attributes, 1);
    const pg_otlp_profile *p = req->resource_profiles[0]->scope_profiles[0]->profiles[0];
    assert_int_equal(p->original_payload.len, 0);
    assert_int_equal(p->n_attribute_indices, 0);
    assert_null(p->period_type);
    /* drop_frames etc. never enter the string table when unset */
    for (size_t i = 0; i < req->dictionary->n_string_table; i++)
        assert_null(strstr(req->dictionary->string_table[i], "pprof."));
    pg_arena_free(a);
}

static void test_unit_mismatch_and_bad_input(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    rich r;
    rich_init(&r);
    r.lab[7].num_unit = S_COUNT;
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pprof_to_otlp(a, &r.p, NULL, &req, &err), PG_ERR_UNSUPPORTED);
    assert_null(req);
    assert_string_equal(err.msg, "sample[4] has values of label \"size\" with different units "
                                 "(\"bytes\" and \"count\")");
    rich_init(&r);
    r.locs[2][1] = 9;
    assert_int_equal(pg_pprof_to_otlp(a, &r.p, NULL, &req, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, "sample[2].location_id[1] 9 does not match any location id");
    rich_init(&r);
    r.s[1].n_value = 1;
    assert_int_equal(pg_pprof_to_otlp(a, &r.p, NULL, &req, &err), PG_ERR_INVALID);
    rich_init(&r);
    static const pg_convert_attr bad[] = {{"k", "\xff"}};
    pg_pprof_to_otlp_options opt = {.service_name = NULL,
                                    .resource_attrs = bad,
                                    .n_resource_attrs = 1,
                                    .original_payload = NULL,
                                    .original_payload_len = 0};
    assert_int_equal(pg_pprof_to_otlp(a, &r.p, &opt, &req, &err), PG_ERR_INVALID);
    /* a later resource attribute replaces an earlier one with the same key */
    static const pg_convert_attr dup[] = {{"service.name", "b"}, {"x", "1"}};
    pg_pprof_to_otlp_options opt2 = {.service_name = "a",
                                     .resource_attrs = dup,
                                     .n_resource_attrs = 2,
                                     .original_payload = NULL,
                                     .original_payload_len = 0};
    assert_int_equal(pg_pprof_to_otlp(a, &r.p, &opt2, &req, &err), PG_OK);
    const pg_otlp_resource *res = req->resource_profiles[0]->resource;
    assert_int_equal(res->n_attributes, 2);
    assert_string_equal(res->attributes[0]->value->string_value, "b");
    pg_arena_free(a);
}

/* Attributes given per sample type land on that type's Profile only, after
 * the document-wide ones. */
static void test_type_attributes(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    rich r;
    rich_init(&r);
    static const pg_convert_type_attr ta[] = {
        {"cpu", "pyroscope.sample_type.units", "samples"},
        {"cpu", "pyroscope.sample_type.sampled", "true"},
        {"absent", "pyroscope.sample_type.units", "bytes"},
    };
    pg_pprof_to_otlp_options opt = {.type_attrs = ta, .n_type_attrs = 3};
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pprof_to_otlp(a, &r.p, &opt, &req, &err), PG_OK);
    const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sp =
        req->resource_profiles[0]->scope_profiles[0];
    assert_int_equal(sp->profiles[0]->n_attribute_indices, 5); /* samples: document-wide only */
    const pg_otlp_profile *cpu = sp->profiles[1];
    assert_int_equal(cpu->n_attribute_indices, 7);
    const pg_otlp_dictionary *d = req->dictionary;
    const char *want[2][2] = {{"pyroscope.sample_type.units", "samples"},
                              {"pyroscope.sample_type.sampled", "true"}};
    for (int i = 0; i < 2; i++) {
        const Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit *kv =
            d->attribute_table[cpu->attribute_indices[5 + i]];
        assert_string_equal(d->string_table[kv->key_strindex], want[i][0]);
        assert_string_equal(kv->value->string_value, want[i][1]);
    }
    assert_int_equal(pg_otlp_validate(req, &err), PG_OK);
    pg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_and_times),
        cmocka_unit_test(test_zero_entries_and_unique_strings),
        cmocka_unit_test(test_stacks_and_lines),
        cmocka_unit_test(test_mappings),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_values_keep_zero_samples),
        cmocka_unit_test(test_profile_attributes),
        cmocka_unit_test(test_scope_and_resource),
        cmocka_unit_test(test_original_payload),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_unit_mismatch_and_bad_input),
        cmocka_unit_test(test_type_attributes),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + cmocka_run_group_tests(alone, NULL, NULL);
}
