/* Debug exporter: line contents, top stacks, and output through pg_log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporters/debug/debug_exporter.h"
#include "telemetry/log.h"
#include "test_convert_processor_util.h"
#include "test_otlp_merge_util.h"

typedef struct env {
    pg_payload *payload;
    const pg_otlp_request *req;
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof(*e));
    size_t len = 0;
    uint8_t *bytes = tu_read_fixture(&len);
    assert_non_null(bytes);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_decode(a, bytes, len, &req, &err), PG_OK);
    e->payload = pg_payload_new(PG_PAYLOAD_OTLP, bytes, len);
    pg_payload_set_decoded(e->payload, req, a);
    e->req = req;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    pg_payload_unref(e->payload);
    free(e);
    return 0;
}

static pg_profile *add_profile(pg_batch *b, env *e, uint32_t ri)
{
    pg_profile *p = pg_batch_add(b, e->payload);
    p->resource_index = ri;
    pg_profile_set_tenant(b, p, "team-a");
    pg_profile_set_type(b, p, "cpu:nanoseconds:cpu:nanoseconds");
    pg_profile_set_label(b, p, "service_name", "checkout");
    pg_profile_set_label(b, p, "host", "h1");
    const pg_otlp_profile *prof = e->req->resource_profiles[ri]->scope_profiles[0]->profiles[0];
    p->sample_count = prof->n_samples;
    p->value_total = tu_value_total(prof);
    return p;
}

static char *to_str(pg_buf *b)
{
    pg_buf_append(b, "", 1);
    return (char *)b->data;
}

static void test_basic_line(void **state)
{
    env *e = *state;
    pg_batch *b = pg_batch_new();
    pg_profile *p = add_profile(b, e, 0);
    p->sample_count = 7;
    p->value_total = 12345;
    pg_buf out;
    pg_buf_init(&out);
    pg_debug_format_basic(p, &out);
    assert_string_equal(to_str(&out), "profile service=\"checkout\" "
                                      "type=cpu:nanoseconds:cpu:nanoseconds samples=7 "
                                      "value_total=12345 tenant=\"team-a\" labels=2");
    pg_buf_free(&out);
    pg_batch_free(b);
}

/* The heaviest stack of a profile computed here independently, rendered
 * leaf first as function names. */
static void heaviest(const pg_otlp_request *req, const pg_otlp_profile *prof, int64_t *value,
                     pg_buf *names, size_t *distinct)
{
    const pg_otlp_dictionary *d = req->dictionary;
    int64_t *sum = calloc(d->n_stack_table, sizeof(*sum));
    char *seen = calloc(d->n_stack_table, 1);
    *distinct = 0;
    for (size_t i = 0; i < prof->n_samples; i++) {
        int64_t v = 0;
        for (size_t k = 0; k < prof->samples[i]->n_values; k++)
            v += prof->samples[i]->values[k];
        if (!prof->samples[i]->n_values)
            v = (int64_t)prof->samples[i]->n_timestamps_unix_nano;
        sum[prof->samples[i]->stack_index] += v;
        if (!seen[prof->samples[i]->stack_index]++)
            (*distinct)++;
    }
    size_t best = 0;
    int found = 0;
    for (size_t s = 0; s < d->n_stack_table; s++)
        if (seen[s] && (!found || sum[s] > sum[best])) {
            best = s;
            found = 1;
        }
    *value = sum[best];
    const Opentelemetry__Proto__Profiles__V1development__Stack *st = d->stack_table[best];
    const Opentelemetry__Proto__Profiles__V1development__Location *leaf =
        d->location_table[st->location_indices[0]];
    if (leaf->n_lines)
        pg_buf_append_str(
            names, tu_str(req, d->function_table[leaf->lines[0]->function_index]->name_strindex));
    free(sum);
    free(seen);
}

static void test_detailed_top_stacks(void **state)
{
    env *e = *state;
    pg_batch *b = pg_batch_new();
    pg_profile *p = add_profile(b, e, 0);
    const pg_otlp_profile *prof = e->req->resource_profiles[0]->scope_profiles[0]->profiles[0];
    pg_buf out, leaf;
    pg_buf_init(&out);
    pg_buf_init(&leaf);
    assert_int_equal(pg_debug_format_details(p, &out), PG_OK);
    char *text = to_str(&out);

    char want[256];
    snprintf(want, sizeof(want), "sample_type=%s/%s",
             tu_str(e->req, prof->sample_type->type_strindex),
             tu_str(e->req, prof->sample_type->unit_strindex));
    assert_non_null(strstr(text, want));

    int64_t top;
    size_t distinct;
    heaviest(e->req, prof, &top, &leaf, &distinct);
    snprintf(want, sizeof(want), "  top 1: value=%" PRId64 " stack=%s", top,
             leaf.len ? to_str(&leaf) : "0x");
    assert_non_null(strstr(text, want));
    size_t tops = 0;
    for (const char *s = text; (s = strstr(s, "  top ")); s++)
        tops++;
    assert_int_equal(tops, distinct < 5 ? distinct : 5);
    assert_null(strstr(text, "  top 6:"));
    pg_buf_free(&out);
    pg_buf_free(&leaf);
    pg_batch_free(b);
}

/* The heaviest stack of column col, summed over samples with equal
 * location ids, found by brute force. */
static int64_t pprof_heaviest(const Perftools__Profiles__Profile *p, size_t col, size_t *distinct)
{
    int64_t best = INT64_MIN;
    *distinct = 0;
    for (size_t i = 0; i < p->n_sample; i++) {
        const Perftools__Profiles__Sample *s = p->sample[i];
        int seen = 0;
        int64_t sum = 0;
        for (size_t j = 0; j < p->n_sample && !seen; j++) {
            const Perftools__Profiles__Sample *t = p->sample[j];
            int same =
                t->n_location_id == s->n_location_id &&
                memcmp(t->location_id, s->location_id, s->n_location_id * sizeof(uint64_t)) == 0;
            if (same && j < i)
                seen = 1;
            else if (same)
                sum += t->value[col];
        }
        if (seen)
            continue;
        ++*distinct;
        if (sum > best)
            best = sum;
    }
    return best;
}

static void test_pprof_payload_details(void **state)
{
    (void)state;
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    assert_non_null(pp);
    pg_batch *b = pg_batch_new();
    pg_profile *p = pg_batch_add(b, pp);
    pg_profile_set_type(b, p, "alloc_space:bytes:space:bytes");
    pg_buf out;
    pg_buf_init(&out);
    assert_int_equal(pg_debug_format_details(p, &out), PG_OK);
    const char *text = to_str(&out);
    assert_non_null(strstr(text, "  sample_types=alloc_objects/count,alloc_space/bytes*,"
                                 "inuse_objects/count,inuse_space/bytes period_type=space/bytes "
                                 "period=524288\n"));
    pg_arena *a = pg_arena_new(0, 0);
    Perftools__Profiles__Profile *doc = tc_unpack_pprof(a, pp->bytes, pp->len);
    size_t distinct = 0;
    char want[96];
    snprintf(want, sizeof(want),
             "  top 1: value=%" PRId64 " stack=", pprof_heaviest(doc, 1, &distinct));
    assert_non_null(strstr(text, want));
    size_t tops = 0;
    for (const char *s = text; (s = strstr(s, "  top ")); s++)
        tops++;
    assert_int_equal(tops, distinct < 5 ? distinct : 5);
    /* Go names its functions: the stacks print names, not addresses */
    assert_non_null(strstr(text, "runtime."));
    pg_buf_free(&out);

    /* a payload that does not decode says so instead of failing */
    pg_payload *bad = pg_payload_new(PG_PAYLOAD_PPROF, calloc(1, 4), 4);
    pg_profile *q = pg_batch_add(b, bad);
    pg_buf_init(&out);
    assert_int_equal(pg_debug_format_details(q, &out), PG_OK);
    assert_non_null(strstr(to_str(&out), "(pprof payload does not decode: "));
    pg_buf_free(&out);
    pg_arena_free(a);
    pg_batch_free(b);
    pg_payload_unref(pp);
    pg_payload_unref(bad);
}

/* Runs consume with stderr redirected into a pipe and returns what was logged. */
static char *consume_captured(pg_component *c, pg_batch *b)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fflush(stderr);
    int saved = dup(2);
    dup2(fds[1], 2);
    pg_consume_result res;
    pg_consume_result_init(&res);
    pg_worker w = {0};
    int st = c->def->consume(c, &w, b, &res);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    assert_int_equal(st, PG_CONSUME_OK);
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    ssize_t n;
    while ((n = read(fds[0], text + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(fds[0]);
    text[len] = 0;
    return text;
}

static void test_consume_logs_through_pg_log(void **state)
{
    env *e = *state;
    pg_log_set_level(PG_LOG_INFO);
    pg_debug_exporter_config cfg = {.verbosity = PG_DEBUG_BASIC};
    pg_component c = {.def = &pg_debug_exporter_def, .config = &cfg, .workers = 1};
    snprintf(c.id, sizeof(c.id), "debug");
    pg_error err = {0};
    assert_int_equal(pg_debug_exporter_def.create(&c, &err), PG_OK);
    pg_batch *b = pg_batch_new();
    add_profile(b, e, 0);
    add_profile(b, e, 1);
    add_profile(b, e, 2);
    char *text = consume_captured(&c, b);
    size_t lines = 0;
    for (const char *s = text; (s = strstr(s, "[exporter/debug] profile service=\"checkout\""));
         s++)
        lines++;
    assert_int_equal(lines, 3);
    assert_null(strstr(text, "top 1:"));
    free(text);

    cfg.verbosity = PG_DEBUG_DETAILED;
    text = consume_captured(&c, b);
    assert_non_null(strstr(text, "[exporter/debug]   top 1: value="));
    assert_non_null(strstr(text, "sample_type="));
    free(text);
    pg_batch_free(b);
    pg_debug_exporter_def.destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detailed_top_stacks, setup, teardown),
        cmocka_unit_test(test_pprof_payload_details),
        cmocka_unit_test_setup_teardown(test_consume_logs_through_pg_log, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
