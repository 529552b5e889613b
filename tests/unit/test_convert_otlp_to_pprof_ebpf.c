/* OTLP -> pprof on a real eBPF capture: totals kept, output valid for our
 * validator and for google/pprof (go tool pprof -raw) when Go is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "convert/convert.h"
#include "convert/otlp_to_pprof_internal.h"
#include "test_otlp_util.h"

typedef struct fixture {
    pg_arena *a;
    pg_otlp_request *req;
    pg_pprof_doc *docs;
    size_t n_docs;
} fixture;

static int setup(void **state)
{
    size_t len;
    uint8_t *buf = ot_read(OT_V110, &len);
    if (!buf) {
        fprintf(stderr, "missing fixture %s (set PG_SHARED_DIR)\n", OT_V110);
        return -1;
    }
    fixture *f = calloc(1, sizeof(*f));
    f->a = pg_arena_new(0, 0);
    pg_error err = {0};
    int rc = pg_otlp_decode(f->a, buf, len, &f->req, &err);
    free(buf);
    if (rc == PG_OK)
        rc = pg_otlp_to_pprof(f->a, f->req, NULL, 0, &f->docs, &f->n_docs, &err);
    if (rc != PG_OK) {
        fprintf(stderr, "eBPF fixture: %s\n", err.msg);
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

/* What a profile records, computed straight from the OTLP samples. */
static int64_t otlp_total(const pg_otlp_profile *p)
{
    int64_t t = 0;
    for (size_t i = 0; i < p->n_samples; i++) {
        const pg_otlp_sample *s = p->samples[i];
        if (!s->n_values)
            t += (int64_t)s->n_timestamps_unix_nano;
        for (size_t k = 0; k < s->n_values; k++)
            t += s->values[k];
    }
    return t;
}

static const pg_otlp_profile *source(const fixture *f, pg_otlp_ref r)
{
    return f->req->resource_profiles[r.resource_index]
        ->scope_profiles[r.scope_index]
        ->profiles[r.profile_index];
}

static void test_totals_per_sample_type(void **state)
{
    fixture *f = *state;
    size_t n_profiles = pg_otlp_profile_count(f->req), n_sources = 0;
    assert_true(n_profiles > 0);
    assert_true(f->n_docs > 0);
    int64_t otlp_sum = 0, pprof_sum = 0;
    for (size_t d = 0; d < f->n_docs; d++) {
        const pg_pprof *p = f->docs[d].profile;
        assert_int_equal(p->n_sample_type, f->docs[d].n_sources);
        for (size_t col = 0; col < p->n_sample_type; col++) {
            const pg_otlp_profile *src = source(f, f->docs[d].sources[col]);
            int64_t t = 0;
            for (size_t i = 0; i < p->n_sample; i++)
                t += p->sample[i]->value[col];
            assert_int_equal(t, otlp_total(src));
            assert_string_equal(p->string_table[p->sample_type[col]->type],
                                pg_otlp_string(f->req, src->sample_type->type_strindex));
            otlp_sum += otlp_total(src);
            pprof_sum += t;
        }
        n_sources += f->docs[d].n_sources;
    }
    /* every profile went into exactly one document */
    assert_int_equal(n_sources, n_profiles);
    assert_int_equal(otlp_sum, pprof_sum);
    assert_true(otlp_sum > 0);
}

static void test_documents_valid(void **state)
{
    fixture *f = *state;
    for (size_t d = 0; d < f->n_docs; d++) {
        pg_error err = {0};
        if (o2p_check_doc(f->docs[d].profile, &err) != 0)
            fail_msg("document %zu: %s", d, err.msg);
        if (pg_pprof_validate(f->docs[d].profile, &err) != PG_OK)
            fail_msg("document %zu: pg_pprof_validate: %s", d, err.msg);
        assert_true(f->docs[d].profile->n_sample > 0);
        assert_true(f->docs[d].profile->n_location > 0);
    }
}

/* Encoding and decoding again gives the same document size and validates. */
static void test_encode_decode(void **state)
{
    fixture *f = *state;
    for (size_t d = 0; d < f->n_docs; d++) {
        pg_buf out;
        pg_buf_init(&out);
        pg_error err = {0};
        assert_int_equal(pg_pprof_encode(f->docs[d].profile, 1, &out, &err), PG_OK);
        pg_pprof *back = NULL;
        pg_arena *a = pg_arena_new(0, 0);
        if (pg_pprof_decode(a, out.data, out.len, 1 << 28, &back, &err) != PG_OK)
            fail_msg("document %zu: decode: %s", d, err.msg);
        assert_int_equal(back->n_sample, f->docs[d].profile->n_sample);
        assert_int_equal(back->n_location, f->docs[d].profile->n_location);
        pg_arena_free(a);
        pg_buf_free(&out);
    }
}

static void test_go_pprof_reads_them(void **state)
{
    fixture *f = *state;
    if (system("command -v go >/dev/null 2>&1") != 0) {
        print_message("go not installed: skipping the go tool pprof check\n");
        skip();
    }
    char dir[] = "/tmp/pg_o2p_XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (size_t d = 0; d < f->n_docs; d++) {
        pg_buf out;
        pg_buf_init(&out);
        pg_error err = {0};
        assert_int_equal(pg_pprof_encode(f->docs[d].profile, 1, &out, &err), PG_OK);
        char path[128], cmd[400];
        snprintf(path, sizeof(path), "%s/doc%zu.pb.gz", dir, d);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(out.data, 1, out.len, fp), out.len);
        fclose(fp);
        pg_buf_free(&out);
        snprintf(cmd, sizeof(cmd), "go tool pprof -raw %s > %s.raw 2>&1", path, path);
        int rc = system(cmd);
        if (rc != 0) {
            snprintf(cmd, sizeof(cmd), "cat %s.raw >&2", path);
            (void)system(cmd);
            fail_msg("go tool pprof -raw %s exited with %d", path, rc);
        }
        unlink(path);
        snprintf(path, sizeof(path), "%s/doc%zu.pb.gz.raw", dir, d);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totals_per_sample_type),
        cmocka_unit_test(test_documents_valid),
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test(test_go_pprof_reads_them),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
