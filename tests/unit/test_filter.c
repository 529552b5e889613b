/* The filter processor: configured through the real config loader, driven
 * with batches, its output captured downstream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "convert/convert.h"
#include "processors/filter/filter.h"
#include "processors/filter/filter_internal.h"
#include "telemetry/metrics.h"
#include "test_config_util.h"
#include "test_fixture_util.h"

#define MAX_OUT 64

/* What downstream saw of one batch. */
typedef struct seen {
    size_t n;
    char services[MAX_OUT][32];
    pg_payload *payloads[MAX_OUT]; /* referenced */
    char types[MAX_OUT][128];
    int64_t totals[MAX_OUT];
    uint64_t samples[MAX_OUT];
} seen;

typedef struct harness {
    pg_config *cfg;
    pg_component comp;
    seen out;
    int calls;
} harness;

static int capture(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    (void)w;
    harness *h = target;
    h->calls++;
    for (size_t i = 0; i < b->count && h->out.n < MAX_OUT; i++) {
        const pg_profile *p = &b->profiles[i];
        size_t k = h->out.n++;
        const char *svc = pg_profile_label(p, "service_name");
        snprintf(h->out.services[k], sizeof(h->out.services[k]), "%s", svc ? svc : "");
        h->out.payloads[k] = pg_payload_ref(p->payload);
        snprintf(h->out.types[k], sizeof(h->out.types[k]), "%s",
                 p->profile_type ? p->profile_type : "");
        h->out.totals[k] = p->value_total;
        h->out.samples[k] = p->sample_count;
    }
    return res->status;
}

/* A filter configured with the YAML lines `body` (indented under filter:). */
static harness *start(const char *id, const char *body)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:4318}}}}\n"
             "processors:\n  %s:\n%s"
             "exporters: {debug: {}}\n"
             "service: {pipelines: {profiles: {receivers: [otlp], processors: [%s], "
             "exporters: [debug]}}}\n",
             id, body, id);
    harness *h = calloc(1, sizeof(*h));
    pg_config_report *r = pg_config_report_new();
    int rc = pg_config_load_string("f.yaml", yaml, strlen(yaml), &h->cfg, r);
    char *text = report_text(r);
    if (rc != 0)
        fail_msg("config did not load:\n%s", text);
    free(text);
    pg_config_report_free(r);
    h->comp.def = &pg_filter_processor_def;
    snprintf(h->comp.id, sizeof(h->comp.id), "%s", id);
    h->comp.config = h->cfg->processors[0].typed;
    h->comp.workers = 1;
    h->comp.next = (pg_consumer){capture, h};
    pg_error err;
    pg_error_clear(&err);
    assert_int_equal(pg_filter_processor_def.create(&h->comp, &err), PG_OK);
    return h;
}

static void stop(harness *h)
{
    pg_filter_processor_def.destroy(&h->comp);
    for (size_t i = 0; i < h->out.n; i++)
        pg_payload_unref(h->out.payloads[i]);
    pg_config_free(h->cfg);
    free(h);
}

static pg_consume_status run(harness *h, pg_batch *b)
{
    pg_consume_result res;
    pg_consume_result_init(&res);
    pg_worker w = {0};
    pg_consume_status st = pg_filter_processor_def.consume(&h->comp, &w, b, &res);
    assert_int_equal(st, res.status);
    return st;
}

static int64_t dropped(const char *id, const char *reason)
{
    char labels[256];
    snprintf(labels, sizeof(labels), "processor=\"%s\",reason=\"%s\"", id, reason);
    pg_metric *m = pg_metric_find("profgate_processor_dropped_profiles_total", labels);
    return m ? pg_metric_value(m) : -1;
}

static pg_profile *add(pg_batch *b, pg_payload *p, const char *tenant, const char *svc,
                       const char *name, const char *type)
{
    pg_profile *prof = pg_batch_add(b, p);
    assert_non_null(prof);
    assert_int_equal(pg_profile_set_tenant(b, prof, tenant), PG_OK);
    assert_int_equal(pg_profile_set_label(b, prof, "service_name", svc), PG_OK);
    if (name)
        assert_int_equal(pg_profile_set_label(b, prof, "__name__", name), PG_OK);
    if (type)
        assert_int_equal(pg_profile_set_type(b, prof, type), PG_OK);
    return prof;
}

static void test_selectors(void **state)
{
    (void)state;
    harness *h =
        start("filter/sel", "    keep: ['{service_name=~\"api-.*\"}', '{__tenant__=\"vip\"}']\n"
                            "    drop: ['{__name__=\"goroutine\"}']\n");
    pg_payload *p = pg_payload_new(PG_PAYLOAD_OTLP, malloc(1), 1);
    pg_batch *b = pg_batch_new();
    add(b, p, "", "api-1", "cpu", NULL);       /* kept */
    add(b, p, "", "web", "cpu", NULL);         /* not in keep */
    add(b, p, "", "api-2", "goroutine", NULL); /* dropped */
    add(b, p, "vip", "web", "cpu", NULL);      /* kept through the tenant */
    add(b, p, "", "api-3", NULL, NULL);        /* kept: absent __name__ is "" */
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->out.n, 3);
    assert_string_equal(h->out.services[0], "api-1");
    assert_string_equal(h->out.services[1], "web");
    assert_string_equal(h->out.services[2], "api-3");
    assert_int_equal(b->count, 3); /* compacted in place */
    assert_int_equal(dropped("filter/sel", "filtered"), 2);

    /* a batch filtered to nothing is not sent on */
    pg_batch *b2 = pg_batch_new();
    add(b2, p, "", "web", "cpu", NULL);
    assert_int_equal(run(h, b2), PG_CONSUME_OK);
    assert_int_equal(h->calls, 1);
    assert_int_equal(dropped("filter/sel", "filtered"), 3);
    pg_batch_free(b);
    pg_batch_free(b2);
    pg_payload_unref(p);
    stop(h);
}

static void test_otlp_types(void **state)
{
    (void)state;
    harness *h = start("filter/otlp", "    sample_types:\n"
                                      "      keep: [alloc_space, 'cpu:nanoseconds', inuse_space]\n"
                                      "      drop: ['inuse_space:bytes']\n");
    pg_payload *p = pg_payload_new(PG_PAYLOAD_OTLP, malloc(1), 1);
    pg_batch *b = pg_batch_new();
    add(b, p, "", "a", NULL, "alloc_space:bytes:space:bytes");
    add(b, p, "", "b", NULL, "alloc_objects:count:space:bytes");
    add(b, p, "", "c", NULL, "cpu:nanoseconds:cpu:nanoseconds");
    add(b, p, "", "d", NULL, "cpu:count:cpu:nanoseconds"); /* unit differs */
    add(b, p, "", "e", NULL, "inuse_space:bytes:space:bytes");
    add(b, p, "", "f", NULL, "inuse_space:kilobytes:space:bytes");
    add(b, p, "", "g", NULL, NULL);
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->out.n, 3);
    assert_string_equal(h->out.services[0], "a");
    assert_string_equal(h->out.services[1], "c");
    assert_string_equal(h->out.services[2], "f");
    /* OTLP profiles are kept whole: same payload, untouched */
    assert_ptr_equal(h->out.payloads[0], p);
    assert_int_equal(dropped("filter/otlp", "no_sample_types"), 4);
    pg_batch_free(b);
    pg_payload_unref(p);
    stop(h);
}

static pg_payload *fixture_payload(const char *rel)
{
    size_t len;
    uint8_t *bytes = pg_test_read_fixture(rel, &len);
    return pg_payload_new(PG_PAYLOAD_PPROF, bytes, len);
}

static pg_pprof *decode(pg_arena *a, const pg_payload *p)
{
    pg_pprof *doc = NULL;
    pg_error err;
    pg_error_clear(&err);
    if (pg_pprof_decode(a, p->bytes, p->len, 1u << 30, &doc, &err) != PG_OK)
        fail_msg("decode: %s", err.msg);
    return doc;
}

/* Index of sample type `name` in doc, or -1. */
static int type_index(const pg_pprof *doc, const char *name)
{
    for (size_t i = 0; i < doc->n_sample_type; i++)
        if (strcmp(pg_pprof_str(doc, doc->sample_type[i]->type), name) == 0)
            return (int)i;
    return -1;
}

static int64_t column_total(const pg_pprof *doc, int col)
{
    int64_t t = 0;
    for (size_t i = 0; i < doc->n_sample; i++)
        t += doc->sample[i]->value[col];
    return t;
}

static void test_pprof_rewrite(void **state)
{
    (void)state;
    harness *h =
        start("filter/heap", "    sample_types: {keep: [inuse_space, 'alloc_space:bytes']}\n");
    pg_payload *in = fixture_payload("third_party/grafana-pyroscope/go-heap.pb.gz");
    pg_batch *b = pg_batch_new();
    add(b, in, "t", "heap", NULL, "alloc_objects:count:space:bytes");
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->out.n, 1);
    pg_payload *out = h->out.payloads[0];
    assert_ptr_not_equal(out, in);
    assert_int_equal(out->format, PG_PAYLOAD_PPROF);
    assert_true(pg_is_gzip(out->bytes, out->len)); /* gzip in, gzip out */
    assert_true(out->len < in->len);

    pg_arena *a = pg_arena_new(0, 0);
    const pg_pprof *orig = decode(a, in), *got = decode(a, out);
    assert_int_equal(orig->n_sample_type, 4);
    assert_int_equal(got->n_sample_type, 2);
    /* the remaining types keep their order in the document */
    assert_int_equal(type_index(got, "alloc_space"), 0);
    assert_int_equal(type_index(got, "inuse_space"), 1);
    assert_int_equal(column_total(got, 0), column_total(orig, type_index(orig, "alloc_space")));
    assert_int_equal(column_total(got, 1), column_total(orig, type_index(orig, "inuse_space")));
    for (size_t i = 0; i < got->n_sample; i++)
        assert_true(got->sample[i]->value[0] != 0 || got->sample[i]->value[1] != 0);
    assert_true(got->n_sample <= orig->n_sample);
    assert_true(got->n_location <= orig->n_location);
    assert_int_equal(got->time_nanos, orig->time_nanos);
    assert_int_equal(got->period, orig->period);
    /* the profile's summaries follow the new document */
    assert_string_equal(h->out.types[0], pg_pprof_profile_type(a, got));
    uint64_t samples;
    int64_t total;
    pg_pprof_totals(got, &samples, &total);
    assert_int_equal(h->out.totals[0], total);
    assert_int_equal(h->out.samples[0], samples);
    assert_int_equal(
        pg_metric_value(pg_metric_find("profgate_processor_filter_rewritten_profiles_total",
                                       "processor=\"filter/heap\"")),
        1);
    pg_arena_free(a);
    pg_batch_free(b);
    pg_payload_unref(in);
    stop(h);
}

static void test_pprof_untouched_and_emptied(void **state)
{
    (void)state;
    harness *h = start("filter/cpu", "    sample_types: {drop: [alloc_objects, alloc_space, "
                                     "inuse_objects, inuse_space]}\n");
    pg_payload *cpu = fixture_payload("third_party/grafana-pyroscope/go-cpu.pb.gz");
    pg_payload *heap = fixture_payload("third_party/grafana-pyroscope/go-heap.pb.gz");
    pg_batch *b = pg_batch_new();
    add(b, cpu, "", "cpu", NULL, "samples:count:cpu:nanoseconds");
    add(b, heap, "", "heap", NULL, "alloc_objects:count:space:bytes");
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->out.n, 1);
    /* nothing to remove: the very same payload, byte for byte */
    assert_ptr_equal(h->out.payloads[0], cpu);
    assert_string_equal(h->out.types[0], "samples:count:cpu:nanoseconds");
    assert_int_equal(dropped("filter/cpu", "no_sample_types"), 1);
    pg_batch_free(b);
    pg_payload_unref(cpu);
    pg_payload_unref(heap);
    stop(h);
}

static void test_pprof_raw_stays_raw(void **state)
{
    (void)state;
    harness *h = start("filter/raw", "    sample_types: {keep: [inuse_space]}\n");
    pg_payload *gz = fixture_payload("third_party/grafana-pyroscope/go-heap.pb.gz");
    /* the same document without gzip */
    pg_arena *a = pg_arena_new(0, 0);
    pg_buf raw;
    pg_buf_init(&raw);
    pg_error err;
    pg_error_clear(&err);
    assert_int_equal(pg_pprof_encode(decode(a, gz), 0, &raw, &err), PG_OK);
    size_t len;
    uint8_t *bytes = pg_buf_detach(&raw, &len);
    pg_payload *in = pg_payload_new(PG_PAYLOAD_PPROF, bytes, len);
    pg_batch *b = pg_batch_new();
    add(b, in, "", "heap", NULL, NULL);
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->out.n, 1);
    assert_false(pg_is_gzip(h->out.payloads[0]->bytes, h->out.payloads[0]->len));
    const pg_pprof *got = decode(a, h->out.payloads[0]);
    assert_int_equal(got->n_sample_type, 1);
    assert_string_equal(h->out.types[0], "inuse_space:bytes:space:bytes");
    pg_arena_free(a);
    pg_batch_free(b);
    pg_payload_unref(in);
    pg_payload_unref(gz);
    stop(h);
}

static void test_default_sample_type(void **state)
{
    (void)state;
    pg_payload *in = fixture_payload("third_party/grafana-pyroscope/go-heap.pb.gz");
    pg_arena *a = pg_arena_new(0, 0);
    pg_filter_types t;
    pg_error err;
    pg_error_clear(&err);
    char *keep_items[] = {"inuse_space", "alloc_space"};
    pg_str_list keep = {keep_items, 2}, none = {NULL, 0};
    assert_int_equal(pg_filter_types_init(&t, &keep, &none, &err), PG_OK);

    /* a default naming a removed type is cleared */
    pg_pprof *doc = decode(a, in);
    doc->default_sample_type = doc->sample_type[type_index(doc, "alloc_objects")]->type;
    size_t kept = 0;
    assert_int_equal(pg_filter_pprof_doc(a, doc, &t, &kept), PG_OK);
    assert_int_equal(kept, 2);
    assert_int_equal(doc->default_sample_type, 0);
    pg_error_clear(&err);
    assert_int_equal(pg_pprof_validate(doc, &err), PG_OK);

    /* one naming a kept type stays */
    doc = decode(a, in);
    int64_t inuse = doc->sample_type[type_index(doc, "inuse_space")]->type;
    doc->default_sample_type = inuse;
    assert_int_equal(pg_filter_pprof_doc(a, doc, &t, &kept), PG_OK);
    assert_int_equal(doc->default_sample_type, inuse);
    /* every remaining location is used and every used one is there */
    assert_int_equal(pg_pprof_validate(doc, &err), PG_OK);
    for (size_t i = 0; i < doc->n_location; i++) {
        int used = 0;
        for (size_t s = 0; s < doc->n_sample && !used; s++)
            for (size_t k = 0; k < doc->sample[s]->n_location_id; k++)
                used |= doc->sample[s]->location_id[k] == doc->location[i]->id;
        assert_true(used);
    }
    pg_filter_types_free(&t);
    pg_arena_free(a);
    pg_payload_unref(in);
}

static void test_undecodable(void **state)
{
    (void)state;
    harness *d = start("filter/bad-drop", "    sample_types: {keep: [cpu]}\n");
    harness *f = start("filter/bad-fwd", "    sample_types: {keep: [cpu], undecodable: forward}\n");
    uint8_t *junk = malloc(16);
    memcpy(junk, "\x1f\x8bnot really gzip", 16);
    pg_payload *bad = pg_payload_new(PG_PAYLOAD_PPROF, junk, 16);
    for (int i = 0; i < 2; i++) {
        harness *h = i ? f : d;
        pg_batch *b = pg_batch_new();
        add(b, bad, "", "x", NULL, NULL);
        assert_int_equal(run(h, b), PG_CONSUME_OK);
        pg_batch_free(b);
    }
    assert_int_equal(d->out.n, 0);
    assert_int_equal(dropped("filter/bad-drop", "undecodable"), 1);
    assert_int_equal(f->out.n, 1);
    assert_ptr_equal(f->out.payloads[0], bad);
    assert_int_equal(dropped("filter/bad-fwd", "undecodable"), 0);
    assert_int_equal(
        pg_metric_value(pg_metric_find("profgate_processor_filter_unfiltered_profiles_total",
                                       "processor=\"filter/bad-fwd\"")),
        1);
    pg_payload_unref(bad);
    stop(d);
    stop(f);
}

static void test_type_specs(void **state)
{
    (void)state;
    pg_error err;
    pg_error_clear(&err);
    assert_int_equal(pg_filter_type_check("alloc_space", &err), PG_OK);
    assert_int_equal(pg_filter_type_check("alloc_space:bytes", &err), PG_OK);
    assert_int_equal(pg_filter_type_check("", &err), PG_ERR_INVALID);
    assert_int_equal(pg_filter_type_check(":bytes", &err), PG_ERR_INVALID);
    assert_int_equal(pg_filter_type_check("a:", &err), PG_ERR_INVALID);
    assert_int_equal(pg_filter_type_check("a:b:c", &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "expected \"type\" or \"type:unit\""));

    char *k[] = {"cpu"}, *dr[] = {"cpu:count"};
    pg_str_list keep = {k, 1}, drop = {dr, 1};
    pg_filter_types t;
    assert_int_equal(pg_filter_types_init(&t, &keep, &drop, &err), PG_OK);
    assert_true(pg_filter_type_wanted(&t, "cpu", "nanoseconds"));
    assert_false(pg_filter_type_wanted(&t, "cpu", "count"));
    assert_false(pg_filter_type_wanted(&t, "cpux", "nanoseconds"));
    assert_true(pg_filter_profile_type_wanted(&t, "cpu:nanoseconds:cpu:nanoseconds"));
    assert_false(pg_filter_profile_type_wanted(&t, "cpu:count:cpu:nanoseconds"));
    assert_false(pg_filter_profile_type_wanted(&t, NULL));
    pg_filter_types_free(&t);
}

static char *load_report(const char *filter_body)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:4318}}}}\n"
             "processors:\n  filter:\n%s"
             "exporters: {debug: {}}\n"
             "service: {pipelines: {profiles: {receivers: [otlp], processors: [filter], "
             "exporters: [debug]}}}\n",
             filter_body);
    pg_config *cfg = NULL;
    pg_config_report *r = pg_config_report_new();
    pg_config_load_string("f.yaml", yaml, strlen(yaml), &cfg, r);
    char *text = report_text(r);
    pg_config_report_free(r);
    pg_config_free(cfg);
    return text;
}

static void test_config_errors(void **state)
{
    (void)state;
    char *t = load_report("    keep:\n"
                          "      - '{service_name=~\"api-.*\"}'\n"
                          "      - '{service_name=\"x}'\n"
                          "    drop: ['{a=~\"(\"}']\n"
                          "    sample_types:\n"
                          "      keep: [inuse_space, 'a:b:c']\n");
    assert_non_null(strstr(t, "f.yaml:6:9: error: keep[1]: selector '{service_name=\"x}': "
                              "unterminated string at offset 14"));
    assert_non_null(strstr(t, "f.yaml:7:12: error: drop[0]: selector '{a=~\"(\"}': label a: "
                              "invalid regex '(': missing closing parenthesis at offset 1"));
    assert_non_null(strstr(t, "f.yaml:9:27: error: sample_types.keep[1]: sample type 'a:b:c'"));
    free(t);

    t = load_report("    sample_types: {keep: ['', ':x'], undecodable: maybe}\n");
    assert_non_null(
        strstr(t, "f.yaml:4:51: error: sample_types.undecodable: invalid value 'maybe'"));
    free(t);
    t = load_report("    sample_types: {keep: ['', ':x']}\n");
    assert_non_null(strstr(t, "f.yaml:4:27: error: sample_types.keep[0]: empty sample type"));
    assert_non_null(strstr(t, "f.yaml:4:31: error: sample_types.keep[1]: sample type ':x': type "
                              "and unit must not be empty"));
    free(t);

    t = load_report("    {}\n");
    assert_non_null(strstr(t, "warning: filter has no keep, drop or sample_types list"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_otlp_types),
        cmocka_unit_test(test_pprof_rewrite),
        cmocka_unit_test(test_pprof_untouched_and_emptied),
        cmocka_unit_test(test_pprof_raw_stays_raw),
        cmocka_unit_test(test_default_sample_type),
        cmocka_unit_test(test_undecodable),
        cmocka_unit_test(test_type_specs),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
