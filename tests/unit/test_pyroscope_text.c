/* Legacy text bodies (folded "groups" and "lines") turned into pprof. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "receivers/pyroscope/text_profile.h"

static pg_pyro_text_options cpu_opts(void)
{
    return (pg_pyro_text_options){.sample_type = "cpu",
                                  .sample_unit = "nanoseconds",
                                  .period_type = "cpu",
                                  .period_unit = "nanoseconds",
                                  .period = 10000000,
                                  .value_multiplier = 10000000,
                                  .time_nanos = 1795547197000000000,
                                  .duration_nanos = 10000000000,
                                  .max_samples = 100};
}

static pg_pyro_text_options count_opts(void)
{
    return (pg_pyro_text_options){.sample_type = "samples",
                                  .sample_unit = "count",
                                  .value_multiplier = 1,
                                  .max_samples = 100};
}

/* Converts from an exact-length heap copy so that ASan sees over-reads. */
static int convert(pg_arena *a, pg_pyro_text_format f, const char *text, size_t len,
                   const pg_pyro_text_options *o, pg_pprof **out, pg_error *err)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    int rc = pg_pyro_text_to_pprof(a, f, copy, len, o, out, err);
    free(copy);
    return rc;
}

static pg_pprof *convert_ok(pg_arena *a, pg_pyro_text_format f, const char *text,
                            const pg_pyro_text_options *o)
{
    pg_pprof *p = NULL;
    pg_error err = {0};
    if (convert(a, f, text, strlen(text), o, &p, &err) != PG_OK)
        fail_msg("%s", err.msg);
    if (pg_pprof_validate(p, &err) != PG_OK)
        fail_msg("invalid pprof: %s", err.msg);
    return p;
}

static void expect_strings(const pg_pprof *p, const char *const *want, size_t n)
{
    assert_int_equal(p->n_string_table, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(p->string_table[i], want[i]);
}

/* Function i+1 is named string name_idx[i]; location i+1 has one line for it. */
static void expect_frames(const pg_pprof *p, const int64_t *name_idx, size_t n)
{
    assert_int_equal(p->n_function, n);
    assert_int_equal(p->n_location, n);
    assert_int_equal(p->n_mapping, 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p->function[i]->id, i + 1);
        assert_int_equal(p->function[i]->name, name_idx[i]);
        assert_int_equal(p->function[i]->filename, 0);
        assert_int_equal(p->location[i]->id, i + 1);
        assert_int_equal(p->location[i]->mapping_id, 0);
        assert_int_equal(p->location[i]->n_line, 1);
        assert_int_equal(p->location[i]->line[0]->function_id, i + 1);
    }
}

static void expect_sample(const pg_pprof *p, size_t i, const uint64_t *locs, size_t depth,
                          int64_t value)
{
    assert_true(i < p->n_sample);
    const Perftools__Profiles__Sample *s = p->sample[i];
    assert_int_equal(s->n_location_id, depth);
    for (size_t k = 0; k < depth; k++)
        assert_int_equal(s->location_id[k], locs[k]);
    assert_int_equal(s->n_value, 1);
    assert_int_equal(s->value[0], value);
    assert_int_equal(s->n_label, 0);
}

static void test_folded_exact(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_text_options o = cpu_opts();
    pg_pprof *p = convert_ok(a, PG_PYRO_TEXT_FOLDED,
                             "main;work;cpu 3\nmain;work 2\r\n"
                             "\n  \nmain;work;cpu 4\nmain;idle 0",
                             &o);
    static const char *const strs[] = {"", "cpu", "nanoseconds", "main", "work", "idle"};
    expect_strings(p, strs, 6);
    assert_int_equal(p->n_sample_type, 1);
    assert_int_equal(p->sample_type[0]->type, 1);
    assert_int_equal(p->sample_type[0]->unit, 2);
    assert_non_null(p->period_type);
    assert_int_equal(p->period_type->type, 1);
    assert_int_equal(p->period_type->unit, 2);
    assert_int_equal(p->period, 10000000);
    assert_int_equal(p->time_nanos, 1795547197000000000);
    assert_int_equal(p->duration_nanos, 10000000000);
    /* "cpu" the frame shares its string with the sample type */
    static const int64_t names[] = {3, 4, 1, 5};
    expect_frames(p, names, 4);
    assert_int_equal(p->n_sample, 3);
    static const uint64_t s0[] = {3, 2, 1}, s1[] = {2, 1}, s2[] = {4, 1};
    expect_sample(p, 0, s0, 3, 70000000);
    expect_sample(p, 1, s1, 2, 20000000);
    expect_sample(p, 2, s2, 2, 0);
    pg_arena_free(a);
}

static void test_lines_exact(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_text_options o = count_opts();
    o.value_multiplier = 10;
    pg_pprof *p = convert_ok(a, PG_PYRO_TEXT_LINES, "a;b\r\nc\r\na;b\r\n\r\nb;a\n", &o);
    static const char *const strs[] = {"", "samples", "count", "a", "b", "c"};
    expect_strings(p, strs, 6);
    assert_null(p->period_type);
    assert_int_equal(p->period, 0);
    static const int64_t names[] = {3, 4, 5};
    expect_frames(p, names, 3);
    assert_int_equal(p->n_sample, 3);
    static const uint64_t s0[] = {2, 1}, s1[] = {3}, s2[] = {1, 2};
    expect_sample(p, 0, s0, 2, 20);
    expect_sample(p, 1, s1, 1, 10);
    expect_sample(p, 2, s2, 2, 10);
    pg_arena_free(a);
}

/* pyspy/rbspy frames carry spaces ("<file> <func>"); the count is after the
 * last one. Lines format keeps a trailing number as part of the frame. */
static void test_spaces_in_frames(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_text_options o = count_opts();
    pg_pprof *p = convert_ok(a, PG_PYRO_TEXT_FOLDED, "app.py <module>;app.py run 12", &o);
    static const char *const strs[] = {"", "samples", "count", "app.py <module>", "app.py run"};
    expect_strings(p, strs, 5);
    static const uint64_t s0[] = {2, 1};
    expect_sample(p, 0, s0, 2, 12);
    p = convert_ok(a, PG_PYRO_TEXT_LINES, "x y;z 12", &o);
    static const char *const strs2[] = {"", "samples", "count", "x y", "z 12"};
    expect_strings(p, strs2, 5);
    pg_arena_free(a);
}

static void expect_error(pg_pyro_text_format f, const char *text, size_t len,
                         const pg_pyro_text_options *o, int code, const char *msg)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_pprof *p = (pg_pprof *)1;
    pg_error err = {0};
    assert_int_equal(convert(a, f, text, len, o, &p, &err), code);
    assert_string_equal(err.msg, msg);
    assert_null(p);
    pg_arena_free(a);
}

#define ERR(f, text, o, code, msg) expect_error(f, text, strlen(text), o, code, msg)

static void test_errors(void **state)
{
    (void)state;
    pg_pyro_text_options o = count_opts();
    const pg_pyro_text_format F = PG_PYRO_TEXT_FOLDED, L = PG_PYRO_TEXT_LINES;
    ERR(F, "", &o, PG_ERR_INVALID, "no samples");
    ERR(L, "\r\n\n \t\n", &o, PG_ERR_INVALID, "no samples");
    ERR(F, "a;b", &o, PG_ERR_INVALID, "line 1: no count in 'a;b'");
    ERR(F, "a 1\na;b x", &o, PG_ERR_INVALID, "line 2: invalid count 'x'");
    ERR(F, "a;b -1", &o, PG_ERR_INVALID, "line 1: invalid count '-1'");
    ERR(F, "a;b +1", &o, PG_ERR_INVALID, "line 1: invalid count '+1'");
    ERR(F, "a;b ", &o, PG_ERR_INVALID, "line 1: invalid count ''");
    ERR(F, "a;b 1.5", &o, PG_ERR_INVALID, "line 1: invalid count '1.5'");
    ERR(F, "a 99999999999999999999", &o, PG_ERR_INVALID,
        "line 1: invalid count '99999999999999999999'");
    ERR(F, "a;;b 1", &o, PG_ERR_INVALID, "line 1: empty frame name");
    ERR(F, ";a 1", &o, PG_ERR_INVALID, "line 1: empty frame name");
    ERR(F, "a; 1", &o, PG_ERR_INVALID, "line 1: empty frame name");
    ERR(F, " 1", &o, PG_ERR_INVALID, "line 1: empty frame name");
    ERR(L, "a\n\nb;", &o, PG_ERR_INVALID, "line 3: empty frame name");
    ERR(F, "a 1\r\n\r\nb\xff 1", &o, PG_ERR_INVALID, "line 3 is not valid UTF-8 text");
    ERR(L, "a\xed\xa0\x80", &o, PG_ERR_INVALID, "line 1 is not valid UTF-8 text");
    expect_error(L, "a\0b", 3, &o, PG_ERR_INVALID, "line 1 is not valid UTF-8 text");
    ERR(F, "a 9223372036854775807\na 1", &o, PG_ERR_INVALID, "line 2: sum of values overflows");
    o.value_multiplier = 2;
    ERR(F, "a 4611686018427387904", &o, PG_ERR_INVALID, "line 1: value overflows");
    o.value_multiplier = 0;
    ERR(F, "a 1", &o, PG_ERR_INVALID,
        "text profile options need a sample type, a unit and a multiplier >= 1");
    o = count_opts();
    o.sample_unit = NULL;
    ERR(F, "a 1", &o, PG_ERR_INVALID,
        "text profile options need a sample type, a unit and a multiplier >= 1");
}

static void test_max_samples(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_text_options o = count_opts();
    o.max_samples = 2;
    /* repeats of known stacks do not count */
    pg_pprof *p = convert_ok(a, PG_PYRO_TEXT_LINES, "a\nb\na\nb\na", &o);
    assert_int_equal(p->n_sample, 2);
    ERR(PG_PYRO_TEXT_LINES, "a\nb\na\nc", &o, PG_ERR_LIMIT, "line 4: more than 2 distinct stacks");
    pg_arena_free(a);
}

/* Whatever we build must survive our encoder and decoder unchanged. */
static void test_encode_round_trip(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_text_options o = cpu_opts();
    pg_pprof *p =
        convert_ok(a, PG_PYRO_TEXT_FOLDED,
                   "main;net/http.(*conn).serve;Z\xc3\xbcrich 5\nmain;gc 1\nmain 2\n", &o);
    for (int gzip = 0; gzip < 2; gzip++) {
        pg_buf out;
        pg_buf_init(&out);
        pg_error err = {0};
        assert_int_equal(pg_pprof_encode(p, gzip, &out, &err), PG_OK);
        pg_pprof *q = NULL;
        assert_int_equal(pg_pprof_decode(a, out.data, out.len, 1u << 20, &q, &err), PG_OK);
        assert_int_equal(q->n_string_table, p->n_string_table);
        for (size_t i = 0; i < p->n_string_table; i++)
            assert_string_equal(q->string_table[i], p->string_table[i]);
        assert_int_equal(q->n_sample, 3);
        for (size_t i = 0; i < p->n_sample; i++) {
            assert_int_equal(q->sample[i]->n_location_id, p->sample[i]->n_location_id);
            assert_memory_equal(q->sample[i]->location_id, p->sample[i]->location_id,
                                p->sample[i]->n_location_id * sizeof(uint64_t));
            assert_int_equal(q->sample[i]->value[0], p->sample[i]->value[0]);
        }
        assert_int_equal(q->n_function, 4);
        assert_int_equal(q->n_location, 4);
        assert_int_equal(q->period, p->period);
        assert_int_equal(q->time_nanos, p->time_nanos);
        assert_int_equal(q->duration_nanos, p->duration_nanos);
        pg_buf_free(&out);
    }
    pg_arena_free(a);
}

/* 10k lines of deep stacks over a small vocabulary: hashing keeps this
 * linear (run, not timed). */
static void test_many_lines(void **state)
{
    (void)state;
    const size_t lines = 10000;
    size_t cap = lines * 400, len = 0;
    char *text = malloc(cap);
    uint32_t rng = 12345;
    int64_t total = 0;
    for (size_t i = 0; i < lines; i++) {
        rng = rng * 1103515245u + 12345u;
        size_t depth = 1 + (rng >> 16) % 40;
        for (size_t d = 0; d < depth; d++)
            len +=
                (size_t)sprintf(text + len, "%sfn_%zu", d ? ";" : "", (d * 7 + (rng >> 20)) % 300);
        len += (size_t)sprintf(text + len, " %zu\n", i % 13);
        total += (int64_t)(i % 13);
    }
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_text_options o = count_opts();
    o.max_samples = lines;
    pg_pprof *p = NULL;
    pg_error err = {0};
    assert_int_equal(convert(a, PG_PYRO_TEXT_FOLDED, text, len, &o, &p, &err), PG_OK);
    assert_int_equal(pg_pprof_validate(p, &err), PG_OK);
    int64_t sum = 0;
    for (size_t i = 0; i < p->n_sample; i++)
        sum += p->sample[i]->value[0];
    assert_int_equal(sum, total);
    assert_true(p->n_sample > 1000 && p->n_sample <= lines);
    assert_true(p->n_function > 250 && p->n_function <= 300);
    pg_arena_free(a);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folded_exact),     cmocka_unit_test(test_lines_exact),
        cmocka_unit_test(test_spaces_in_frames), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_max_samples),      cmocka_unit_test(test_encode_round_trip),
        cmocka_unit_test(test_many_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
