/* The relabel processor: series labels, the tenant as __tenant__, drops and
 * their counters, sample labels in pprof and OTLP payloads, configuration
 * errors at their positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "processors/relabel/relabel_processor.h"
#include "telemetry/metrics.h"
#include "test_config_util.h"
#include "test_convert_processor_util.h"
#include "test_processor_util.h"

#define LABELS_FIXTURE "fixtures/third_party/grafana-pyroscope/go-cpu-labels.pb.gz"
#define SRC(...)                                                                                   \
    {                                                                                              \
        .items = (char *[]){__VA_ARGS__}, .n = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)    \
    }

typedef struct harness {
    pg_component comp;
    pg_relabel_processor_config cfg;
    pg_relabel_rule_config rules[8];
    pg_batch *seen;
    int calls;
} harness;

static int capture(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    harness *h = target;
    h->calls++;
    pg_batch_free(h->seen);
    h->seen = pg_batch_clone(b);
    assert_non_null(h->seen);
    return res->status;
}

static harness *start(const char *id, const pg_relabel_rule_spec *specs, size_t n, int samples)
{
    harness *h = calloc(1, sizeof(*h));
    for (size_t i = 0; i < n; i++)
        h->rules[i].spec = specs[i];
    h->cfg.rules.items = h->rules;
    h->cfg.rules.n = n;
    h->cfg.sample_labels = samples;
    pg_error err = {0};
    assert_int_equal(
        tp_component_create(&h->comp, &pg_relabel_processor_def, id, &h->cfg, capture, h, &err),
        PG_OK);
    return h;
}

static void stop(harness *h)
{
    pg_relabel_processor_def.destroy(&h->comp);
    pg_batch_free(h->seen);
    free(h);
}

static pg_consume_status run(harness *h, pg_batch *b)
{
    pg_consume_result res;
    pg_consume_result_init(&res);
    pg_worker w = {0};
    return (pg_consume_status)pg_relabel_processor_def.consume(&h->comp, &w, b, &res);
}

static pg_profile *add(pg_batch *b, pg_payload *p, const char *tenant, const char *const *kv)
{
    pg_profile *prof = pg_batch_add(b, p);
    assert_non_null(prof);
    for (; kv && kv[0]; kv += 2)
        assert_int_equal(pg_profile_set_label(b, prof, kv[0], kv[1]), PG_OK);
    assert_int_equal(pg_profile_set_tenant(b, prof, tenant), PG_OK);
    return prof;
}

static pg_payload *dummy_payload(void)
{
    uint8_t *bytes = calloc(1, 4);
    return pg_payload_new(PG_PAYLOAD_PPROF, bytes, 4);
}

static int64_t counter(const char *name, const char *labels)
{
    pg_metric *m = pg_metric_find(name, labels);
    return m ? pg_metric_value(m) : -1;
}

static void test_tenant_as_label(void **state)
{
    (void)state;
    const pg_relabel_rule_spec rules[] = {
        /* the tenant is readable ... */
        {.source_labels = SRC("__tenant__"), .target_label = "org"},
        /* ... and settable */
        {.source_labels = SRC("team"),
         .regex = "(.+)",
         .target_label = "__tenant__",
         .replacement = "team-$1"},
        /* ... and deletable */
        {.source_labels = SRC("anon"),
         .regex = "yes",
         .target_label = "__tenant__",
         .replacement = ""},
    };
    harness *h = start("relabel/tenant", rules, 3, 0);
    pg_payload *p = dummy_payload();
    pg_batch *b = pg_batch_new();
    add(b, p, "acme", (const char *[]){"service_name", "s1", NULL});
    add(b, p, "acme", (const char *[]){"service_name", "s2", "team", "red", NULL});
    add(b, p, "", (const char *[]){"service_name", "s3", "anon", "yes", NULL});
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->seen->count, 3);
    const pg_profile *p0 = &h->seen->profiles[0], *p1 = &h->seen->profiles[1],
                     *p2 = &h->seen->profiles[2];
    assert_string_equal(p0->tenant, "acme");
    assert_string_equal(pg_profile_label(p0, "org"), "acme");
    assert_null(pg_profile_label(p0, "__tenant__")); /* never a real label */
    assert_true(p0->labels_changed);
    assert_string_equal(p1->tenant, "team-red");
    assert_string_equal(pg_profile_label(p1, "org"), "acme"); /* read before it was set */
    assert_string_equal(p2->tenant, "");
    assert_null(pg_profile_label(p2, "org")); /* no tenant: "" copies nothing */
    assert_false(p2->labels_changed);
    stop(h);
    pg_batch_free(b);
    pg_payload_unref(p);
}

static void test_tenant_only_change_keeps_labels(void **state)
{
    (void)state;
    const pg_relabel_rule_spec rules[] = {
        {.target_label = "__tenant__", .replacement = "fixed"},
    };
    harness *h = start("relabel/tenant2", rules, 1, 0);
    pg_payload *p = dummy_payload();
    pg_batch *b = pg_batch_new();
    pg_profile *prof = add(b, p, "t0", (const char *[]){"service_name", "s", NULL});
    const pg_label *before = prof->labels;
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_string_equal(b->profiles[0].tenant, "fixed");
    assert_false(b->profiles[0].labels_changed);
    assert_ptr_equal(b->profiles[0].labels, before);
    stop(h);
    pg_batch_free(b);
    pg_payload_unref(p);
}

static void test_drops_are_counted(void **state)
{
    (void)state;
    const pg_relabel_rule_spec rules[] = {
        {.source_labels = SRC("kind"), .regex = "drop", .action = "drop"},
        {.source_labels = SRC("kind"), .regex = "empty", .target_label = "kind", .replacement = ""},
        {.source_labels = SRC("kind"),
         .regex = "strip",
         .target_label = "service_name",
         .replacement = ""},
        {.source_labels = SRC("kind"), .regex = "ok", .target_label = "env", .replacement = "p"},
    };
    harness *h = start("relabel/drops", rules, 4, 0);
    pg_payload *p = dummy_payload();
    pg_batch *b = pg_batch_new();
    add(b, p, "", (const char *[]){"service_name", "a", "kind", "drop", NULL});
    add(b, p, "", (const char *[]){"kind", "empty", NULL});
    add(b, p, "", (const char *[]){"service_name", "c", "kind", "strip", NULL});
    add(b, p, "", (const char *[]){"service_name", "d", "kind", "ok", NULL});
    add(b, p, "", (const char *[]){"service_name", "e", NULL});
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->seen->count, 2);
    assert_string_equal(pg_profile_label(&h->seen->profiles[0], "service_name"), "d");
    assert_string_equal(pg_profile_label(&h->seen->profiles[0], "env"), "p");
    assert_true(h->seen->profiles[0].labels_changed);
    assert_string_equal(pg_profile_label(&h->seen->profiles[1], "service_name"), "e");
    assert_false(h->seen->profiles[1].labels_changed);
    const char *name = "profgate_processor_dropped_profiles_total";
    assert_int_equal(counter(name, "processor=\"relabel/drops\",reason=\"dropped_by_rule\""), 1);
    assert_int_equal(counter(name, "processor=\"relabel/drops\",reason=\"no_labels\""), 1);
    assert_int_equal(counter(name, "processor=\"relabel/drops\",reason=\"no_service_name\""), 1);
    assert_int_equal(
        counter("profgate_processor_relabel_changed_profiles_total", "processor=\"relabel/drops\""),
        3);

    /* a batch where everything goes: nothing is sent, the answer is OK */
    h->calls = 0;
    pg_batch *b2 = pg_batch_new();
    add(b2, p, "", (const char *[]){"service_name", "a", "kind", "drop", NULL});
    assert_int_equal(run(h, b2), PG_CONSUME_OK);
    assert_int_equal(h->calls, 0);
    assert_int_equal(b2->count, 0);
    assert_int_equal(counter(name, "processor=\"relabel/drops\",reason=\"dropped_by_rule\""), 2);
    stop(h);
    pg_batch_free(b);
    pg_batch_free(b2);
    pg_payload_unref(p);
}

/* pprof helpers over protobuf-c alone (not the code under test). */
static const char *plabel(const Perftools__Profiles__Profile *d,
                          const Perftools__Profiles__Sample *s, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < s->n_label; i++)
        if (strcmp(tc_pstr(d, s->label[i]->key), key) == 0 && s->label[i]->str)
            v = tc_pstr(d, s->label[i]->str);
    return v;
}

static int64_t total_where(const Perftools__Profiles__Profile *d, const char *key,
                           const char *value, size_t col)
{
    int64_t sum = 0;
    for (size_t i = 0; i < d->n_sample; i++) {
        const char *v = key ? plabel(d, d->sample[i], key) : NULL;
        if (!key || (v && strcmp(v, value) == 0))
            sum += d->sample[i]->value[col];
    }
    return sum;
}

static void test_sample_labels_noop_keeps_payload(void **state)
{
    (void)state;
    const pg_relabel_rule_spec rules[] = {
        {.source_labels = SRC("function"), .regex = "nothing-like-this", .action = "drop"},
        {.source_labels = SRC("absent"), .regex = "(.+)", .target_label = "x"},
    };
    harness *h = start("relabel/noop", rules, 2, 1);
    pg_payload *p = tc_payload(PG_PAYLOAD_PPROF, LABELS_FIXTURE);
    assert_non_null(p);
    pg_batch *b = pg_batch_new();
    add(b, p, "", (const char *[]){"service_name", "go", NULL});
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_ptr_equal(h->seen->profiles[0].payload, p);
    stop(h);
    pg_batch_free(b);
    pg_payload_unref(p);
}

static void test_sample_labels_pprof(void **state)
{
    (void)state;
    const pg_relabel_rule_spec rules[] = {
        {.source_labels = SRC("function"),
         .regex = "(.+)",
         .target_label = "fn",
         .replacement = "fn_$1"},
        {.regex = "function|profile_id", .action = "labeldrop"},
        {.source_labels = SRC("fn"), .regex = "fn_fast", .action = "drop"},
    };
    harness *h = start("relabel/pprof", rules, 3, 1);
    pg_payload *p = tc_payload(PG_PAYLOAD_PPROF, LABELS_FIXTURE);
    assert_non_null(p);
    pg_arena *a = pg_arena_new(0, 0);
    Perftools__Profiles__Profile *src = tc_unpack_pprof(a, p->bytes, p->len);
    assert_non_null(src);
    size_t col = src->n_sample_type - 1;
    int64_t all = total_where(src, NULL, NULL, col),
            slow = total_where(src, "function", "slow", col),
            fast = total_where(src, "function", "fast", col);
    assert_true(slow > 0 && fast > 0);
    pg_batch *b = pg_batch_new();
    add(b, p, "", (const char *[]){"service_name", "go", NULL});
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    const pg_profile *out = &h->seen->profiles[0];
    assert_ptr_not_equal(out->payload, p);
    assert_true(out->payload->len > 2 && out->payload->bytes[0] == 0x1f &&
                out->payload->bytes[1] == 0x8b); /* gzipped, as it came */
    Perftools__Profiles__Profile *d = tc_unpack_pprof(a, out->payload->bytes, out->payload->len);
    assert_non_null(d);
    assert_int_equal(total_where(d, NULL, NULL, col), all - fast);
    assert_int_equal(total_where(d, "fn", "fn_slow", col), slow);
    assert_int_equal(total_where(d, "fn", "fn_fast", col), 0);
    for (size_t i = 0; i < d->n_sample; i++) {
        assert_null(plabel(d, d->sample[i], "function"));
        assert_null(plabel(d, d->sample[i], "profile_id"));
        /* untouched keys stay */
        assert_string_equal(plabel(d, d->sample[i], "foo"), "bar");
    }
    assert_int_equal(out->value_total, all - fast);
    assert_false(out->labels_changed); /* series labels untouched */
    stop(h);
    pg_batch_free(b);
    pg_payload_unref(p);
    pg_arena_free(a);
}

static const char *attr_str(const pg_otlp_request *req, int32_t ix, const char **key)
{
    const Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit *kv =
        req->dictionary->attribute_table[ix];
    *key = pg_otlp_string(req, kv->key_strindex);
    if (!kv->value)
        return NULL;
    if (kv->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
        return kv->value->string_value;
    if (kv->value->value_case ==
        OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE_STRINDEX)
        return pg_otlp_string(req, kv->value->string_value_strindex);
    return NULL;
}

/* Counts samples having a string attribute key (and value prefix), and
 * checks every sample keeps its int attributes. */
static size_t count_samples(const pg_otlp_request *req, const char *key, const char *prefix)
{
    size_t n = 0;
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++)
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++) {
            const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sp =
                req->resource_profiles[ri]->scope_profiles[si];
            for (size_t pi = 0; pi < sp->n_profiles; pi++)
                for (size_t s = 0; s < sp->profiles[pi]->n_samples; s++) {
                    const Opentelemetry__Proto__Profiles__V1development__Sample *x =
                        sp->profiles[pi]->samples[s];
                    int has = 0, ints = 0;
                    for (size_t i = 0; i < x->n_attribute_indices; i++) {
                        const char *k = NULL, *v = attr_str(req, x->attribute_indices[i], &k);
                        if (!v)
                            ints++;
                        else if (strcmp(k, key) == 0 && strncmp(v, prefix, strlen(prefix)) == 0)
                            has = 1;
                    }
                    assert_int_equal(ints, 2); /* thread.id, cpu.logical_number */
                    n += has;
                }
        }
    return n;
}

static void test_sample_labels_otlp(void **state)
{
    (void)state;
    const pg_relabel_rule_spec rules[] = {
        {.source_labels = SRC("thread.name"),
         .regex = "(.+)",
         .target_label = "thread",
         .replacement = "t-$1"},
        {.regex = "thread\\.name", .action = "labeldrop"},
    };
    harness *h = start("relabel/otlp", rules, 2, 1);
    pg_payload *p = tc_otlp_payload();
    assert_non_null(p);
    const pg_otlp_request *req = p->decoded;
    size_t n_before = count_samples(req, "thread.name", "");
    size_t n_profiles = pg_otlp_profile_count(req);
    assert_true(n_before > 0 && n_profiles >= 2);
    uint8_t *before = malloc(p->len);
    memcpy(before, p->bytes, p->len);
    pg_batch *b = pg_batch_new();
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++)
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++)
            for (size_t pi = 0; pi < req->resource_profiles[ri]->scope_profiles[si]->n_profiles;
                 pi++) {
                pg_profile *prof = add(b, p, "t", (const char *[]){"service_name", "ebpf", NULL});
                prof->resource_index = (uint32_t)ri;
                prof->scope_index = (uint32_t)si;
                prof->profile_index = (uint32_t)pi;
            }
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    const pg_payload *np = h->seen->profiles[0].payload;
    assert_ptr_not_equal(np, p);
    for (size_t i = 1; i < n_profiles; i++) /* one new payload shared by all */
        assert_ptr_equal(h->seen->profiles[i].payload, np);
    assert_int_equal(h->seen->profiles[1].resource_index, 1); /* positions kept */
    assert_non_null(np->decoded);
    pg_error err;
    assert_int_equal(pg_otlp_validate(np->decoded, &err), PG_OK);
    /* read the bytes with a fresh decode too */
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *back = NULL;
    assert_int_equal(pg_otlp_decode(a, np->bytes, np->len, &back, &err), PG_OK);
    assert_int_equal(count_samples(back, "thread.name", ""), 0);
    assert_int_equal(count_samples(back, "thread", "t-"), n_before);
    /* the shared original was not touched */
    assert_int_equal(p->len, p->len);
    assert_memory_equal(p->bytes, before, p->len);
    assert_int_equal(count_samples(req, "thread.name", ""), n_before);
    free(before);
    pg_arena_free(a);
    stop(h);
    pg_batch_free(b);
    pg_payload_unref(p);
}

static void test_undecodable_payload_forwarded(void **state)
{
    (void)state;
    const pg_relabel_rule_spec rules[] = {{.target_label = "env", .replacement = "x"}};
    harness *h = start("relabel/bad", rules, 1, 1);
    pg_payload *p = dummy_payload(); /* four zero bytes: not a pprof document */
    pg_batch *b = pg_batch_new();
    add(b, p, "", (const char *[]){"service_name", "s", NULL});
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->seen->count, 1);
    assert_ptr_equal(h->seen->profiles[0].payload, p);
    assert_string_equal(pg_profile_label(&h->seen->profiles[0], "env"), "x");
    assert_int_equal(counter("profgate_processor_relabel_sample_labels_skipped_total",
                             "processor=\"relabel/bad\",reason=\"sample_labels_undecodable\""),
                     1);
    stop(h);
    pg_batch_free(b);
    pg_payload_unref(p);
}

static const char *const yaml_base = "receivers:\n"
                                     "  otlp:\n"
                                     "    protocols:\n"
                                     "      http: {endpoint: 127.0.0.1:14319}\n"
                                     "processors:\n"
                                     "  relabel:\n"
                                     "    rules:\n"
                                     "%s"
                                     "exporters:\n"
                                     "  debug:\n"
                                     "service:\n"
                                     "  pipelines:\n"
                                     "    profiles:\n"
                                     "      receivers: [otlp]\n"
                                     "      processors: [relabel]\n"
                                     "      exporters: [debug]\n";

static pg_config_report *load(const char *rules, pg_config **cfg)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml), yaml_base, rules);
    pg_config_report *r = pg_config_report_new();
    *cfg = NULL;
    pg_config_load_string("c.yaml", yaml, strlen(yaml), cfg, r);
    return r;
}

static void test_config_errors_have_positions(void **state)
{
    (void)state;
    pg_config *cfg = NULL;
    pg_config_report *r = load("      - {target_label: env, replacement: prod}\n"
                               "      - {source_labels: [a], regex: 'x(', action: drop}\n"
                               "      - action: hashmod\n"
                               "        target_label: h\n"
                               "      - {action: labeldrop, regex: a, target_label: b}\n"
                               "      - {action: Frobnicate}\n"
                               "      - {source_labels: [a]}\n"
                               "      - {action: lowercase, target_label: 'l$1'}\n",
                               &cfg);
    assert_null(cfg);
    assert_int_equal(pg_config_report_errors(r), 6);
    assert_true(report_has(r, "c.yaml:9:37: error: rules[1]: invalid regex 'x(': missing closing "
                              "parenthesis"));
    assert_true(
        report_has(r, "c.yaml:10:9: error: rules[2]: hashmod action requires 'modulus' > 0"));
    assert_true(report_has(r, "c.yaml:12:53: error: rules[3]: labeldrop action takes only 'regex'; "
                              "'target_label' must not be set"));
    assert_true(report_has(r, "c.yaml:13:18: error: rules[4]: unknown action 'Frobnicate'"));
    assert_true(report_has(r, "c.yaml:14:9: error: rules[5]: replace action requires "
                              "'target_label'"));
    assert_true(report_has(r, "c.yaml:15:43: error: rules[6]: lowercase action: 'target_label' "
                              "'l$1' must be a plain label name, not a template"));
    pg_config_report_free(r);

    r = load("      - {target_label: env, replacement: prod}\n"
             "      - {source_labels: [service_name], regex: 'drop-me.*', action: drop}\n",
             &cfg);
    assert_int_equal(pg_config_report_errors(r), 0);
    assert_non_null(cfg);
    pg_config_free(cfg);
    pg_config_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_as_label),
        cmocka_unit_test(test_tenant_only_change_keeps_labels),
        cmocka_unit_test(test_drops_are_counted),
        cmocka_unit_test(test_sample_labels_noop_keeps_payload),
        cmocka_unit_test(test_sample_labels_pprof),
        cmocka_unit_test(test_sample_labels_otlp),
        cmocka_unit_test(test_undecodable_payload_forwarded),
        cmocka_unit_test(test_config_errors_have_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
