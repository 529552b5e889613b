/* The routing processor: configured through the real config loader, sending
 * to fake exporters that record what they got and answer as told. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "processors/routing/routing.h"
#include "telemetry/metrics.h"
#include "test_config_util.h"

#define N_FAKES 4
#define MAX_GOT 64

typedef struct fake {
    const char *id;
    size_t batches, profiles;
    const pg_batch *last;  /* the batch of the last call */
    char got[MAX_GOT][64]; /* "tenant/service_name" per profile */
    pg_consume_status answer;
    uint32_t rejected, retry_after_ms;
} fake;

static int fake_consume(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    (void)w;
    fake *f = target;
    f->batches++;
    f->last = b;
    for (size_t i = 0; i < b->count; i++, f->profiles++) {
        const char *svc = pg_profile_label(&b->profiles[i], "service_name");
        if (f->profiles < MAX_GOT)
            snprintf(f->got[f->profiles], sizeof(f->got[0]), "%s/%s", b->profiles[i].tenant,
                     svc ? svc : "");
    }
    if (f->answer != PG_CONSUME_OK)
        pg_consume_fail(res, f->answer, "%s says no", f->id);
    res->rejected = f->rejected;
    res->retry_after_ms = f->retry_after_ms;
    return res->status;
}

typedef struct harness {
    pg_config *cfg;
    pg_component comp;
    fake fakes[N_FAKES];
    pg_pipeline_exporter pexp[N_FAKES];
    pg_payload *payload;
} harness;

static const char *const fake_ids[N_FAKES] = {"debug/a", "debug/b", "debug/c", "debug/unused"};

#define PIPELINE_EXPORTERS "[debug/a, debug/b, debug/c, debug/unused]"
#define EXPORTERS_YAML     "exporters: {debug/a: {}, debug/b: {}, debug/c: {}, debug/unused: {}}\n"

static char *yaml_for(const char *id, const char *body, const char *processors)
{
    char *yaml = NULL;
    assert_true(asprintf(&yaml,
                         "receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:4318}}}}\n"
                         "processors:\n  %s:\n%s  batch: {}\n" EXPORTERS_YAML
                         "service: {pipelines: {profiles: {receivers: [otlp], processors: %s, "
                         "exporters: " PIPELINE_EXPORTERS "}}}\n",
                         id, body, processors) > 0);
    return yaml;
}

/* The report of loading a routing config (and whether it loaded). */
static char *load_report(const char *body, const char *processors, int *ok)
{
    char *yaml = yaml_for("routing", body, processors);
    pg_config *cfg = NULL;
    pg_config_report *r = pg_config_report_new();
    *ok = pg_config_load_string("r.yaml", yaml, strlen(yaml), &cfg, r) == 0;
    char *text = report_text(r);
    pg_config_report_free(r);
    pg_config_free(cfg);
    free(yaml);
    return text;
}

static harness *start(const char *id, const char *body)
{
    char procs[160];
    snprintf(procs, sizeof(procs), "[%s]", id);
    char *yaml = yaml_for(id, body, procs);
    harness *h = calloc(1, sizeof(*h));
    pg_config_report *r = pg_config_report_new();
    int rc = pg_config_load_string("r.yaml", yaml, strlen(yaml), &h->cfg, r);
    char *text = report_text(r);
    if (rc != 0)
        fail_msg("config did not load:\n%s", text);
    free(text);
    free(yaml);
    pg_config_report_free(r);
    for (int i = 0; i < N_FAKES; i++) {
        h->fakes[i].id = fake_ids[i];
        h->pexp[i] = (pg_pipeline_exporter){fake_ids[i], {fake_consume, &h->fakes[i]}};
    }
    h->comp.def = &pg_routing_processor_def;
    snprintf(h->comp.id, sizeof(h->comp.id), "%s", id);
    for (size_t i = 0; i < h->cfg->n_processors; i++)
        if (strcmp(h->cfg->processors[i].id, id) == 0)
            h->comp.config = h->cfg->processors[i].typed;
    h->comp.workers = 1;
    h->comp.pipeline_exporters = h->pexp;
    h->comp.n_pipeline_exporters = N_FAKES;
    pg_error err;
    pg_error_clear(&err);
    if (pg_routing_processor_def.create(&h->comp, &err) != PG_OK)
        fail_msg("create: %s", err.msg);
    h->payload = pg_payload_new(PG_PAYLOAD_OTLP, malloc(1), 1);
    return h;
}

static void stop(harness *h)
{
    pg_routing_processor_def.destroy(&h->comp);
    pg_payload_unref(h->payload);
    pg_config_free(h->cfg);
    free(h);
}

static void add(harness *h, pg_batch *b, const char *tenant, const char *svc)
{
    pg_profile *p = pg_batch_add(b, h->payload);
    assert_non_null(p);
    assert_int_equal(pg_profile_set_tenant(b, p, tenant), PG_OK);
    assert_int_equal(pg_profile_set_label(b, p, "service_name", svc), PG_OK);
}

static pg_consume_status run(harness *h, pg_batch *b, pg_consume_result *res)
{
    pg_consume_result_init(res);
    pg_worker w = {0};
    return pg_routing_processor_def.consume(&h->comp, &w, b, res);
}

static int64_t counter(const char *name, const char *labels)
{
    pg_metric *m = pg_metric_find(name, labels);
    return m ? pg_metric_value(m) : -1;
}

static const char *const ROUTES =
    "    routes:\n"
    "      - {match: '{__tenant__=\"tenant-a\"}', exporters: [debug/a]}\n"
    "      - {tenants: [tenant-b, tenant-c], exporters: [debug/b]}\n"
    "      - {match: '{service_name=~\"api-.*\"}', tenants: [tenant-d],\n"
    "         exporters: [debug/a, debug/b]}\n"
    "    default_exporters: [debug/c]\n";

static void test_routes(void **state)
{
    (void)state;
    harness *h = start("routing/r", ROUTES);
    pg_batch *b = pg_batch_new();
    add(h, b, "tenant-a", "api-1"); /* route 0 */
    add(h, b, "tenant-c", "web");   /* route 1 */
    add(h, b, "tenant-d", "api-2"); /* route 2: selector and tenant */
    add(h, b, "tenant-d", "web");   /* tenant fits route 2, selector does not: default */
    add(h, b, "", "api-3");         /* default */
    add(h, b, "tenant-b", "api-4"); /* route 1 */
    pg_consume_result res;
    assert_int_equal(run(h, b, &res), PG_CONSUME_OK);
    fake *a = &h->fakes[0], *fb = &h->fakes[1], *c = &h->fakes[2], *u = &h->fakes[3];
    assert_int_equal(a->profiles, 2);
    assert_string_equal(a->got[0], "tenant-a/api-1");
    assert_string_equal(a->got[1], "tenant-d/api-2");
    assert_int_equal(fb->profiles, 3);
    assert_string_equal(fb->got[0], "tenant-c/web");
    assert_string_equal(fb->got[1], "tenant-b/api-4");
    assert_string_equal(fb->got[2], "tenant-d/api-2");
    assert_int_equal(c->profiles, 2);
    assert_string_equal(c->got[0], "tenant-d/web");
    assert_string_equal(c->got[1], "/api-3");
    /* one sub-batch per exporter set: a and b each took two calls ([a], [b], [a,b]) */
    assert_int_equal(a->batches, 2);
    assert_int_equal(fb->batches, 2);
    assert_int_equal(c->batches, 1);
    /* an exporter no route names gets nothing */
    assert_int_equal(u->batches, 0);
    /* the input batch is untouched */
    assert_int_equal(b->count, 6);
    assert_int_equal(counter("profgate_processor_routed_profiles_total",
                             "processor=\"routing/r\",exporter=\"debug/b\""),
                     3);

    /* a batch that goes whole to one set is passed on without a copy */
    pg_batch *b2 = pg_batch_new();
    add(h, b2, "tenant-a", "x");
    add(h, b2, "tenant-a", "y");
    assert_int_equal(run(h, b2, &res), PG_CONSUME_OK);
    assert_ptr_equal(a->last, b2);
    assert_int_equal(a->profiles, 4);
    pg_batch_free(b);
    pg_batch_free(b2);
    stop(h);
}

static void test_no_default(void **state)
{
    (void)state;
    harness *h = start("routing/nodef", "    routes:\n"
                                        "      - {tenants: [t1], exporters: [debug/a]}\n"
                                        "      - {tenants: [t1], exporters: [debug/b]}\n"
                                        "      - {tenants: [''], exporters: [debug/c]}\n");
    pg_batch *b = pg_batch_new();
    add(h, b, "t1", "x");
    add(h, b, "t2", "y");
    add(h, b, "t3", "z");
    add(h, b, "", "w"); /* an empty tenant can be listed too */
    pg_consume_result res;
    assert_int_equal(run(h, b, &res), PG_CONSUME_OK);
    assert_int_equal(h->fakes[0].profiles, 1);
    assert_int_equal(h->fakes[1].profiles, 0); /* the first matching route wins */
    assert_int_equal(h->fakes[2].profiles, 1);
    assert_int_equal(counter("profgate_processor_dropped_profiles_total",
                             "processor=\"routing/nodef\",reason=\"no_route\""),
                     2);
    /* nothing matches at all: nothing sent, still OK */
    pg_batch *b2 = pg_batch_new();
    add(h, b2, "t9", "x");
    assert_int_equal(run(h, b2, &res), PG_CONSUME_OK);
    assert_int_equal(h->fakes[0].batches + h->fakes[1].batches + h->fakes[2].batches, 2);
    assert_int_equal(counter("profgate_processor_dropped_profiles_total",
                             "processor=\"routing/nodef\",reason=\"no_route\""),
                     3);
    pg_batch_free(b);
    pg_batch_free(b2);
    stop(h);
}

static void test_answers(void **state)
{
    (void)state;
    harness *h = start("routing/ans", ROUTES);
    h->fakes[1].answer = PG_CONSUME_RESOURCE_EXHAUSTED;
    h->fakes[1].retry_after_ms = 1500;
    h->fakes[2].rejected = 1;
    pg_batch *b = pg_batch_new();
    add(h, b, "tenant-a", "x");
    add(h, b, "tenant-b", "y");
    add(h, b, "", "z");
    pg_consume_result res;
    assert_int_equal(run(h, b, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(res.msg, "exporter debug/b: debug/b says no"));
    assert_int_equal(res.retry_after_ms, 1500);
    assert_int_equal(res.rejected, 1);
    /* every set was still tried */
    assert_int_equal(h->fakes[0].profiles, 1);
    assert_int_equal(h->fakes[2].profiles, 1);

    /* the most severe answer wins, whatever the order (pipeline/consume.c:
     * retryable > resource exhausted > permanent, so a client retries) */
    h->fakes[0].answer = PG_CONSUME_PERMANENT;
    assert_int_equal(run(h, b, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(res.msg, "exporter debug/b"));
    h->fakes[0].answer = PG_CONSUME_RETRYABLE;
    assert_int_equal(run(h, b, &res), PG_CONSUME_RETRYABLE);
    assert_non_null(strstr(res.msg, "exporter debug/a: debug/a says no"));
    h->fakes[1].answer = PG_CONSUME_OK;
    h->fakes[0].answer = PG_CONSUME_PERMANENT;
    assert_int_equal(run(h, b, &res), PG_CONSUME_PERMANENT);
    pg_batch_free(b);
    stop(h);
}

static void test_config_errors(void **state)
{
    (void)state;
    int ok;
    char *t =
        load_report("    routes:\n"
                    "      - {match: '{__tenant__=\"a\"}', exporters: [debug/a, debug/nope]}\n"
                    "      - {exporters: [debug/b]}\n"
                    "      - {match: '{a=\"x\"', exporters: []}\n"
                    "    default_exporters: [debug/gone]\n",
                    "[routing]", &ok);
    assert_false(ok);
    assert_non_null(strstr(t, "r.yaml:5:58: error: processor 'routing' sends to exporter "
                              "'debug/nope', which is not one of the exporters of pipeline "
                              "'profiles'"));
    assert_non_null(
        strstr(t, "r.yaml:8:25: error: processor 'routing' sends to exporter 'debug/gone'"));
    assert_non_null(strstr(t, "r.yaml:6:9: error: routes[1]: a route needs match, tenants or "
                              "both"));
    assert_non_null(strstr(t, "r.yaml:7:17: error: routes[2].match: selector '{a=\"x\"': "
                              "expected ',' or '}' at offset 6"));
    assert_non_null(strstr(t, "r.yaml:7:38: error: routes[2]: exporters must name at least one "
                              "exporter"));
    free(t);

    /* routing must be the last processor */
    t = load_report("    default_exporters: [debug/a]\n", "[routing, batch]", &ok);
    assert_false(ok);
    assert_non_null(strstr(t, "error: pipeline 'profiles': processor 'routing' sends to exporters "
                              "itself and must be the last processor"));
    free(t);

    t = load_report("    {}\n", "[routing]", &ok);
    assert_false(ok);
    assert_non_null(strstr(t, "error: routing needs routes, default_exporters or both"));
    free(t);

    /* valid, with a warning about the profiles that will be dropped */
    t = load_report("    routes: [{tenants: [a], exporters: [debug/a]}]\n", "[batch, routing]",
                    &ok);
    assert_true(ok);
    assert_non_null(strstr(t, "r.yaml:4:13: warning: routing has no default_exporters: profiles "
                              "that no route matches will be dropped"));
    free(t);
}

static void test_create_checks_ids(void **state)
{
    (void)state;
    /* without the loader's check, create still refuses an unknown id */
    harness *h = start("routing/ids", "    default_exporters: [debug/a]\n");
    pg_routing_processor_def.destroy(&h->comp);
    h->comp.n_pipeline_exporters = 0;
    pg_error err;
    pg_error_clear(&err);
    assert_int_equal(pg_routing_processor_def.create(&h->comp, &err), PG_ERR_INVALID);
    assert_non_null(
        strstr(err.msg, "default_exporters: exporter 'debug/a' is not in this pipeline"));
    assert_null(h->comp.state);
    stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_no_default),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_create_checks_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
