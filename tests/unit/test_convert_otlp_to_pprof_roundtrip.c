/* pprof -> OTLP -> pprof on real pprof files: the OTLP -> pprof direction
 * re-assembles one document with the original header, sample types, default
 * type, comments and per-type totals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "convert/convert.h"
#include "convert/otlp_to_pprof_internal.h"
#include "test_otlp_util.h"

static const char *const FILES[] = {
    OT_DIR "dotnet-multi.pb",       OT_DIR "go-cpu-labels.pb.gz",
    OT_DIR "go-cpu-span-id.pb.gz",  OT_DIR "go-heap-delta.pb.gz",
    OT_DIR "go-heap.pb.gz",         OT_DIR "java-cpu.pb.gz",
    OT_DIR "nodejs-wall.pb.gz",     OT_DIR "python-cpu-merged.pb.gz",
    OT_DIR "rust-cpu-merged.pb.gz", OT_DIR "pyspy-cpu-timenanos-in-us.pb",
    OT_DIR "ingest-go-heap.pb.gz",  OT_DIR "go-heap-large-truncated.pb.gz",
};

static const char *S(const pg_pprof *p, int64_t i)
{
    return p->string_table[i];
}

static void same_header(const pg_pprof *a, const pg_pprof *b)
{
    assert_int_equal(a->n_sample_type, b->n_sample_type);
    for (size_t t = 0; t < a->n_sample_type; t++) {
        assert_string_equal(S(a, a->sample_type[t]->type), S(b, b->sample_type[t]->type));
        assert_string_equal(S(a, a->sample_type[t]->unit), S(b, b->sample_type[t]->unit));
        int64_t ta = 0, tb = 0;
        for (size_t i = 0; i < a->n_sample; i++)
            ta += a->sample[i]->value[t];
        for (size_t i = 0; i < b->n_sample; i++)
            tb += b->sample[i]->value[t];
        assert_int_equal(ta, tb);
    }
    assert_string_equal(S(a, a->default_sample_type), S(b, b->default_sample_type));
    assert_int_equal(a->time_nanos, b->time_nanos);
    assert_int_equal(a->duration_nanos, b->duration_nanos);
    assert_int_equal(a->period, b->period);
    if (a->period_type && (a->period_type->type || a->period_type->unit)) {
        assert_non_null(b->period_type);
        assert_string_equal(S(a, a->period_type->type), S(b, b->period_type->type));
        assert_string_equal(S(a, a->period_type->unit), S(b, b->period_type->unit));
    }
    assert_string_equal(S(a, a->drop_frames), S(b, b->drop_frames));
    assert_string_equal(S(a, a->keep_frames), S(b, b->keep_frames));
    assert_int_equal(a->n_comment, b->n_comment);
    for (size_t i = 0; i < a->n_comment; i++)
        assert_string_equal(S(a, a->comment[i]), S(b, b->comment[i]));
}

/* ---- samples as (frames + sorted labels) -> values, ids resolved ---- */

typedef struct sig {
    char *text;
    const int64_t *values;
} sig;

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_sig(const void *x, const void *y)
{
    return strcmp(((const sig *)x)->text, ((const sig *)y)->text);
}

static void append(pg_buf *b, const char *s)
{
    assert_int_equal(pg_buf_append(b, s, strlen(s)), 0);
}

/* Finds an entry by id in a table whose ids may be arbitrary (the original). */
#define FIND(table, n, want)                                                                       \
    do {                                                                                           \
        if ((want) && (want) <= (n) && (table)[(want)-1]->id == (want))                            \
            return (table)[(want)-1];                                                              \
        for (size_t i_ = 0; i_ < (n); i_++)                                                        \
            if ((table)[i_]->id == (want))                                                         \
                return (table)[i_];                                                                \
        fail_msg("id %llu not found", (unsigned long long)(want));                                 \
        return NULL;                                                                               \
    } while (0)

static const pg_pprof_location *loc(const pg_pprof *p, uint64_t id)
{
    FIND(p->location, p->n_location, id);
}

static const pg_pprof_function *fun(const pg_pprof *p, uint64_t id)
{
    FIND(p->function, p->n_function, id);
}

static char *signature(const pg_pprof *p, const pg_pprof_sample *s)
{
    pg_buf b;
    char tmp[512];
    pg_buf_init(&b);
    for (size_t k = 0; k < s->n_location_id; k++) {
        const pg_pprof_location *l = loc(p, s->location_id[k]);
        snprintf(tmp, sizeof(tmp), "%llx@", (unsigned long long)l->address);
        append(&b, tmp);
        for (size_t j = 0; j < l->n_line; j++) {
            snprintf(tmp, sizeof(tmp), "%s:%lld/", S(p, fun(p, l->line[j]->function_id)->name),
                     (long long)l->line[j]->line);
            append(&b, tmp);
        }
        append(&b, ";");
    }
    char **labels = calloc(s->n_label + 1, sizeof(char *));
    for (size_t k = 0; k < s->n_label; k++) {
        const pg_pprof_label *l = s->label[k];
        if (l->str)
            snprintf(tmp, sizeof(tmp), "%s=%s", S(p, l->key), S(p, l->str));
        else
            snprintf(tmp, sizeof(tmp), "%s=#%lld[%s]", S(p, l->key), (long long)l->num,
                     S(p, l->num_unit));
        labels[k] = strdup(tmp);
    }
    qsort(labels, s->n_label, sizeof(char *), cmp_str);
    for (size_t k = 0; k < s->n_label; k++) {
        append(&b, "|");
        append(&b, labels[k]);
        free(labels[k]);
    }
    free(labels);
    assert_int_equal(pg_buf_append(&b, "", 1), 0);
    return (char *)b.data;
}

/* Samples keyed by signature with values summed per key, sorted. */
static sig *canonical(const pg_pprof *p, size_t *n_out, int64_t **sums_out)
{
    sig *v = calloc(p->n_sample + 1, sizeof(sig));
    int64_t *sums = calloc((p->n_sample + 1) * (p->n_sample_type + 1), sizeof(int64_t));
    *sums_out = sums;
    for (size_t i = 0; i < p->n_sample; i++)
        v[i] = (sig){signature(p, p->sample[i]), p->sample[i]->value};
    qsort(v, p->n_sample, sizeof(sig), cmp_sig);
    size_t n = 0;
    for (size_t i = 0; i < p->n_sample; i++) {
        sig cur = v[i]; /* v[n] may be v[i]: read before writing */
        if (n && strcmp(v[n - 1].text, cur.text) == 0) {
            free(cur.text);
        } else {
            v[n] = (sig){cur.text, sums + n * p->n_sample_type};
            n++;
        }
        int64_t *acc = (int64_t *)v[n - 1].values;
        for (size_t t = 0; t < p->n_sample_type; t++)
            acc[t] += cur.values[t];
    }
    *n_out = n;
    return v;
}

static void same_samples(const char *rel, const pg_pprof *a, const pg_pprof *b)
{
    size_t na, nb;
    int64_t *va, *vb;
    sig *sa = canonical(a, &na, &va), *sb = canonical(b, &nb, &vb);
    /* a key whose values are all 0 may vanish: OTLP need not carry it */
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        int c = i < na && j < nb ? strcmp(sa[i].text, sb[j].text) : (i < na ? -1 : 1);
        const sig *only = c < 0 ? &sa[i] : c > 0 ? &sb[j] : NULL;
        if (only) {
            for (size_t t = 0; t < a->n_sample_type; t++) {
                if (only->values[t])
                    fail_msg("%s: sample %s only on one side", rel, only->text);
            }
            c < 0 ? i++ : j++;
            continue;
        }
        for (size_t t = 0; t < a->n_sample_type; t++)
            assert_int_equal(sa[i].values[t], sb[j].values[t]);
        i++;
        j++;
    }
    for (size_t k = 0; k < na; k++)
        free(sa[k].text);
    for (size_t k = 0; k < nb; k++)
        free(sb[k].text);
    free(va);
    free(vb);
    free(sa);
    free(sb);
}

static void roundtrip(const char *rel)
{
    size_t len = 0;
    uint8_t *buf = ot_read(rel, &len);
    if (!buf)
        fail_msg("missing fixture %s", rel);
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    pg_pprof *orig = NULL;
    pg_otlp_request *req = NULL;
    pg_pprof_doc *docs = NULL;
    size_t n = 0;
    if (pg_pprof_decode(a, buf, len, 1u << 30, &orig, &err) != PG_OK ||
        pg_pprof_to_otlp(a, orig, NULL, &req, &err) != PG_OK ||
        pg_otlp_validate(req, &err) != PG_OK ||
        pg_otlp_to_pprof(a, req, NULL, 0, &docs, &n, &err) != PG_OK)
        fail_msg("%s: %s", rel, err.msg);
    assert_int_equal(n, 1);
    const pg_pprof *back = docs[0].profile;
    if (o2p_check_doc(back, &err) != 0 || pg_pprof_validate(back, &err) != PG_OK)
        fail_msg("%s: %s", rel, err.msg);
    same_header(orig, back);
    assert_int_equal(docs[0].skipped_attributes, 0);
    assert_true(back->n_sample <= orig->n_sample);
    same_samples(rel, orig, back);
    pg_arena_free(a);
    free(buf);
}

static void test_fixtures_roundtrip(void **state)
{
    for (size_t i = 0; i < sizeof(FILES) / sizeof(FILES[0]); i++)
        roundtrip(FILES[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
