/* processors/tenant: source order, default, to_label, invalid ids, and its
 * configuration through the real loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "processors/tenant/tenant.h"
#include "telemetry/metrics.h"
#include "test_config_util.h"
#include "test_processor_util.h"

typedef struct captured {
    int calls;
    size_t count;
    char tenants[8][160];
    char labels[8][64]; /* value of label "org" ("-" when absent) */
    int changed[8];
} captured;

typedef struct harness {
    pg_component comp;
    pg_tenant_processor_config cfg;
    char *from[3];
    captured cap;
    pg_payload *payload;
} harness;

static int capture(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    (void)w;
    captured *c = target;
    c->calls++;
    c->count = b->count;
    for (size_t i = 0; i < b->count && i < 8; i++) {
        snprintf(c->tenants[i], sizeof(c->tenants[i]), "%s", b->profiles[i].tenant);
        const char *v = pg_profile_label(&b->profiles[i], "org");
        snprintf(c->labels[i], sizeof(c->labels[i]), "%s", v ? v : "-");
        c->changed[i] = b->profiles[i].labels_changed;
    }
    return res->status;
}

/* from: comma-separated sources. */
static harness *start(const char *id, const char *from, const char *from_label,
                      const char *default_tenant, const char *to_label, bool check)
{
    harness *h = calloc(1, sizeof(*h));
    char *list = strdup(from);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        h->from[h->cfg.from.n++] = strdup(t);
    free(list);
    h->cfg.from.items = h->from;
    h->cfg.from_label = (char *)from_label;
    h->cfg.default_tenant = (char *)default_tenant;
    h->cfg.to_label = (char *)to_label;
    h->cfg.check_tenant_ids = check;
    pg_error err = {0};
    assert_int_equal(tp_component_create(&h->comp, &pg_tenant_processor_def, id, &h->cfg, capture,
                                         &h->cap, &err),
                     PG_OK);
    h->payload = pg_payload_new(PG_PAYLOAD_PPROF, malloc(4), 4);
    return h;
}

static void stop(harness *h)
{
    pg_tenant_processor_def.destroy(&h->comp);
    pg_payload_unref(h->payload);
    for (size_t i = 0; i < h->cfg.from.n; i++)
        free(h->from[i]);
    free(h);
}

/* A profile as a receiver leaves it: tenant sources plus an optional
 * "tenant" label. */
static void add(harness *h, pg_batch *b, const char *auth, const char *header, const char *label)
{
    pg_profile *p = pg_batch_add(b, h->payload);
    assert_non_null(p);
    assert_int_equal(pg_profile_set_tenant_sources(b, p, auth, header), PG_OK);
    assert_int_equal(pg_profile_set_label(b, p, "service_name", "svc"), PG_OK);
    if (label)
        assert_int_equal(pg_profile_set_label(b, p, "tenant", label), PG_OK);
}

static pg_consume_status run(harness *h, pg_batch *b)
{
    pg_consume_result res;
    pg_consume_result_init(&res);
    memset(&h->cap, 0, sizeof(h->cap));
    pg_tenant_processor_def.consume(&h->comp, NULL, b, &res);
    return res.status;
}

static int64_t counter(const char *name, const char *labels)
{
    pg_metric *m = pg_metric_find(name, labels);
    return m ? pg_metric_value(m) : -1;
}

static void test_issue_shape(void **state)
{
    (void)state;
    harness *h = start("tenant", "auth,header", NULL, "anonymous", NULL, true);
    pg_batch *b = pg_batch_new();
    add(h, b, "tenant-a", "tenant-a", NULL);
    add(h, b, "tenant-a", "", NULL);
    add(h, b, "", "tenant-h", "tenant-l");
    add(h, b, NULL, NULL, "tenant-l");
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->cap.calls, 1);
    assert_int_equal(h->cap.count, 4);
    assert_string_equal(h->cap.tenants[0], "tenant-a");
    assert_string_equal(h->cap.tenants[1], "tenant-a");
    assert_string_equal(h->cap.tenants[2], "tenant-h");
    assert_string_equal(h->cap.tenants[3], "anonymous");
    assert_int_equal(h->cap.changed[3], 0); /* labels untouched without to_label */
    assert_int_equal(
        counter("profgate_processor_tenant_profiles_total", "processor=\"tenant\",source=\"auth\""),
        2);
    assert_int_equal(counter("profgate_processor_tenant_profiles_total",
                             "processor=\"tenant\",source=\"default\""),
                     1);
    pg_batch_free(b);
    stop(h);
}

static void test_header_label_order(void **state)
{
    (void)state;
    /* the header before the label, auth not consulted at all */
    harness *h = start("tenant/hl", "header,label", "tenant", "", "org", true);
    pg_batch *b = pg_batch_new();
    add(h, b, "tenant-auth", "tenant-h", "tenant-l");
    add(h, b, "tenant-auth", "", "tenant-l");
    add(h, b, "tenant-auth", "", NULL);
    add(h, b, "", "", NULL);
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->cap.count, 4);
    assert_string_equal(h->cap.tenants[0], "tenant-h");
    assert_string_equal(h->cap.tenants[1], "tenant-l");
    /* default "": the tenant the receiver set is taken away */
    assert_string_equal(h->cap.tenants[2], "");
    assert_string_equal(h->cap.tenants[3], "");
    assert_string_equal(h->cap.labels[0], "tenant-h");
    assert_string_equal(h->cap.labels[1], "tenant-l");
    assert_string_equal(h->cap.labels[2], "-"); /* no tenant, no label */
    assert_int_equal(h->cap.changed[0], 1);
    assert_int_equal(h->cap.changed[2], 0);
    assert_int_equal(counter("profgate_processor_tenant_profiles_total",
                             "processor=\"tenant/hl\",source=\"none\""),
                     2);
    pg_batch_free(b);
    stop(h);
}

static void test_to_label_unchanged(void **state)
{
    (void)state;
    harness *h = start("tenant/same", "label", "tenant", "", "tenant", true);
    pg_batch *b = pg_batch_new();
    add(h, b, "", "", "tenant-l");
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_string_equal(h->cap.tenants[0], "tenant-l");
    /* the label already holds the value: nothing to rebuild downstream */
    assert_int_equal(h->cap.changed[0], 0);
    pg_batch_free(b);
    stop(h);
}

static void test_invalid_ids(void **state)
{
    (void)state;
    harness *h = start("tenant/check", "header,label", "tenant", "fallback", NULL, true);
    pg_batch *b = pg_batch_new();
    add(h, b, "", "good", NULL);
    add(h, b, "", "bad/tenant", "fine"); /* no falling through to the label */
    add(h, b, "", "", "..");
    add(h, b, "", "", "also-good");
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->cap.count, 2);
    assert_string_equal(h->cap.tenants[0], "good");
    assert_string_equal(h->cap.tenants[1], "also-good");
    assert_int_equal(counter("profgate_processor_dropped_profiles_total",
                             "processor=\"tenant/check\",reason=\"invalid_tenant\""),
                     2);
    pg_batch_free(b);

    /* a batch with nothing left is answered OK without a downstream call */
    b = pg_batch_new();
    add(h, b, "", "a|b", NULL);
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->cap.calls, 0);
    assert_int_equal(b->count, 0);
    pg_batch_free(b);
    stop(h);

    h = start("tenant/nocheck", "header", NULL, "", NULL, false);
    b = pg_batch_new();
    add(h, b, "", "bad/tenant", NULL);
    assert_int_equal(run(h, b), PG_CONSUME_OK);
    assert_int_equal(h->cap.count, 1);
    assert_string_equal(h->cap.tenants[0], "bad/tenant");
    pg_batch_free(b);
    stop(h);
}

static void test_id_rules(void **state)
{
    (void)state;
    char long_id[PG_TENANT_ID_MAX + 2];
    memset(long_id, 'a', sizeof(long_id));
    long_id[PG_TENANT_ID_MAX] = '\0';
    assert_true(pg_tenant_id_valid(long_id));
    long_id[PG_TENANT_ID_MAX] = 'a';
    long_id[PG_TENANT_ID_MAX + 1] = '\0';
    assert_false(pg_tenant_id_valid(long_id));
    assert_true(pg_tenant_id_valid("Tenant-1_x.y*z!'(a)"));
    assert_true(pg_tenant_id_valid("..."));
    static const char *const bad[] = {"", ".", "..", "a/b", "a|b", "a b", "é", "a,b", "a:b", "a\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (pg_tenant_id_valid(bad[i]))
            fail_msg("'%s' accepted", bad[i]);
}

typedef struct loaded {
    size_t n_from;
    char from0[16], default_tenant[32];
    int check;
} loaded;

static int has(const char *text, const char *line)
{
    if (strstr(text, line))
        return 1;
    fprintf(stderr, "expected in report: %s\n--- report ---\n%s-------------\n", line, text);
    return 0;
}

static char *load(const char *tenant_yaml, loaded *out)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "receivers:\n  pyroscope: {}\n"
             "processors:\n  tenant:%s\n"
             "exporters:\n  debug: {}\n"
             "service:\n  pipelines:\n    profiles:\n"
             "      receivers: [pyroscope]\n      processors: [tenant]\n"
             "      exporters: [debug]\n",
             tenant_yaml);
    pg_config_report *r = pg_config_report_new();
    pg_config *cfg = NULL;
    pg_config_load_string("c.yaml", yaml, strlen(yaml), &cfg, r);
    char *text = report_text(r);
    if (cfg && out) {
        const pg_tenant_processor_config *t = cfg->processors[0].typed;
        out->n_from = t->from.n;
        snprintf(out->from0, sizeof(out->from0), "%s", t->from.n ? t->from.items[0] : "");
        snprintf(out->default_tenant, sizeof(out->default_tenant), "%s",
                 t->default_tenant ? t->default_tenant : "(null)");
        out->check = t->check_tenant_ids;
    }
    pg_config_report_free(r);
    pg_config_free(cfg);
    return text;
}

static void test_config(void **state)
{
    (void)state;
    loaded l = {0};
    char *t = load(" {from: [auth, header], default: anonymous}", &l);
    assert_string_equal(t, "");
    assert_string_equal(l.default_tenant, "anonymous");
    free(t);
    t = load(" {}", &l);
    assert_string_equal(t, "");
    assert_int_equal(l.n_from, 2);
    assert_string_equal(l.from0, "auth");
    assert_string_equal(l.default_tenant, "");
    assert_int_equal(l.check, 1);
    free(t);
    t = load(" {from: [auth, label, auth, bogus], default: 'a/b', to_label: __t}", NULL);
    assert_true(has(t, "c.yaml:4:32: error: from: 'auth' is listed twice"));
    assert_true(has(t, "c.yaml:4:38: error: from: unknown source 'bogus'"));
    assert_true(has(t, "error: from lists label: set from_label"));
    assert_true(has(t, "error: default: 'a/b' is not a valid tenant id"));
    assert_true(has(t, "error: to_label: '__t' is not an exported label name"));
    free(t);
    t = load(" {from: [], default: ''}", NULL);
    assert_true(has(t, "error: from is empty and there is no default"));
    free(t);
    t = load(" {from: [label], from_label: __tenant__}", NULL);
    assert_true(has(t, "error: from_label: '__tenant__' is not a label name"));
    free(t);
    t = load(" {from: [header], from_label: tenant}", NULL);
    assert_true(has(t, "warning: from_label is set but from does not list label"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_shape),        cmocka_unit_test(test_header_label_order),
        cmocka_unit_test(test_to_label_unchanged), cmocka_unit_test(test_invalid_ids),
        cmocka_unit_test(test_id_rules),           cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
