/* Key tables applied to YAML maps: every type, bounds, defaults, sections,
 * required and unknown keys, endpoint collection, markdown reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "config/apply.h"
#include "config/yaml.h"
#include "test_config_util.h"

typedef struct demo {
    bool flag;
    int64_t count;
    uint64_t limit;
    uint64_t timeout_ms;
    char *name;
    char *endpoint;
    int mode;
    pg_str_list tags;
    pg_str_map headers;
    int tls;
    char *tls_cert;
    bool tls_insecure;
    int grpc;
    char *grpc_endpoint;
    int64_t neg;
    int64_t atleast;
    double factor;
} demo;

static const char *const modes[] = {"fast", "safe", "off", NULL};

static const pg_config_key tls_keys[] = {
    {.name = "cert", .type = PG_CFG_STRING, .offset = offsetof(demo, tls_cert), .required = true},
    {.name = "insecure",
     .type = PG_CFG_BOOL,
     .offset = offsetof(demo, tls_insecure),
     .default_value = "true"},
    PG_CONFIG_END,
};

static const pg_config_key grpc_keys[] = {
    {.name = "endpoint",
     .type = PG_CFG_ENDPOINT,
     .offset = offsetof(demo, grpc_endpoint),
     .default_value = "0.0.0.0:4317",
     .help = "Listen address."},
    PG_CONFIG_END,
};

static const pg_config_key demo_keys[] = {
    {.name = "flag", .type = PG_CFG_BOOL, .offset = offsetof(demo, flag), .default_value = "false"},
    {.name = "count",
     .type = PG_CFG_INT,
     .offset = offsetof(demo, count),
     .default_value = "10",
     .min = 1,
     .max = 100,
     .help = "How many | pipes."},
    {.name = "limit",
     .type = PG_CFG_SIZE,
     .offset = offsetof(demo, limit),
     .default_value = "4MiB",
     .min = 1024,
     .max = 64 << 20},
    {.name = "timeout",
     .type = PG_CFG_DURATION,
     .offset = offsetof(demo, timeout_ms),
     .default_value = "5s",
     .min = 100,
     .max = 60000},
    {.name = "name", .type = PG_CFG_STRING, .offset = offsetof(demo, name)},
    {.name = "endpoint", .type = PG_CFG_ENDPOINT, .offset = offsetof(demo, endpoint)},
    {.name = "mode",
     .type = PG_CFG_ENUM,
     .offset = offsetof(demo, mode),
     .default_value = "safe",
     .enum_values = modes},
    {.name = "tags",
     .type = PG_CFG_STRING_LIST,
     .offset = offsetof(demo, tags),
     .default_value = "[a, b]"},
    {.name = "headers",
     .type = PG_CFG_STRING_MAP,
     .offset = offsetof(demo, headers),
     .default_value = "{x-default: '1'}"},
    {.name = "tls", .type = PG_CFG_SECTION, .offset = offsetof(demo, tls), .children = tls_keys},
    {.name = "grpc", .type = PG_CFG_SECTION, .offset = offsetof(demo, grpc), .children = grpc_keys},
    {.name = "neg", .type = PG_CFG_INT, .offset = offsetof(demo, neg), .min = -10, .max = 0},
    {.name = "atleast", .type = PG_CFG_INT, .offset = offsetof(demo, atleast), .min = 5, .max = 0},
    {.name = "factor",
     .type = PG_CFG_FLOAT,
     .offset = offsetof(demo, factor),
     .default_value = "1.5",
     .fmin = 1,
     .fmax = 10},
    PG_CONFIG_END,
};

typedef struct seen_endpoint {
    char path[64], value[64];
    int line, col;
} seen_endpoint;

typedef struct fixture {
    pg_arena *arena;
    pg_config_report *report;
    seen_endpoint seen[8];
    size_t n_seen;
} fixture;

static void on_endpoint(void *ud, const char *path, const char *value, const pg_config_node *at)
{
    fixture *f = ud;
    seen_endpoint *s = &f->seen[f->n_seen++];
    snprintf(s->path, sizeof(s->path), "%s", path);
    snprintf(s->value, sizeof(s->value), "%s", value);
    s->line = at ? at->line : 0;
    s->col = at ? at->col : 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->arena = pg_arena_new(0, 0);
    f->report = pg_config_report_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pg_arena_free(f->arena);
    pg_config_report_free(f->report);
    free(f);
    return 0;
}

/* Parses text and applies demo_keys to its root; returns the number of errors added by apply. */
static size_t apply_text(fixture *f, const char *text, demo *d)
{
    pg_config_apply_ctx ctx = {
        .arena = f->arena, .report = f->report, .on_endpoint = on_endpoint, .endpoint_ud = f};
    const pg_config_node *root =
        pg_config_yaml_parse(f->arena, "c.yaml", text, strlen(text), 1, f->report);
    assert_non_null(root);
    assert_int_equal(pg_config_report_errors(f->report), 0);
    memset(d, 0, sizeof(*d));
    return pg_config_apply(&ctx, demo_keys, d, root, root);
}

static void test_defaults_only(void **state)
{
    fixture *f = *state;
    demo d;
    assert_int_equal(apply_text(f, "", &d), 0);
    assert_false(d.flag);
    assert_int_equal(d.count, 10);
    assert_int_equal(d.limit, 4 << 20);
    assert_int_equal(d.timeout_ms, 5000);
    assert_null(d.name);
    assert_null(d.endpoint);
    assert_int_equal(d.mode, 1);
    assert_int_equal(d.tags.n, 2);
    assert_string_equal(d.tags.items[0], "a");
    assert_string_equal(d.tags.items[1], "b");
    assert_int_equal(d.headers.n, 1);
    assert_string_equal(d.headers.keys[0], "x-default");
    assert_string_equal(d.headers.values[0], "1");
    /* sections absent: flag 0, child defaults still applied */
    assert_int_equal(d.tls, 0);
    assert_true(d.tls_insecure);
    assert_int_equal(d.grpc, 0);
    assert_string_equal(d.grpc_endpoint, "0.0.0.0:4317");
    /* an endpoint inside an absent section is not a listener */
    assert_int_equal(f->n_seen, 0);
}

static void test_user_values(void **state)
{
    fixture *f = *state;
    demo d;
    assert_int_equal(apply_text(f,
                                "flag: true\n"
                                "count: 100\n"
                                "limit: 64MiB\n"
                                "timeout: 1m\n"
                                "name: 'x y'\n"
                                "endpoint: '[::1]:9000'\n"
                                "mode: off\n"
                                "tags: [c]\n"
                                "headers: {k1: v1, k2: 2}\n"
                                "tls:\n"
                                "  cert: /c.pem\n"
                                "  insecure: false\n"
                                "grpc:\n"
                                "neg: -10\n"
                                "atleast: 1000000\n",
                                &d),
                     0);
    assert_true(d.flag);
    assert_int_equal(d.count, 100);
    assert_int_equal(d.limit, 64 << 20);
    assert_int_equal(d.timeout_ms, 60000);
    assert_string_equal(d.name, "x y");
    assert_string_equal(d.endpoint, "[::1]:9000");
    assert_int_equal(d.mode, 2);
    assert_int_equal(d.tags.n, 1);
    assert_string_equal(d.tags.items[0], "c");
    assert_int_equal(d.headers.n, 2);
    assert_string_equal(d.headers.keys[1], "k2");
    assert_string_equal(d.headers.values[1], "2");
    assert_int_equal(d.tls, 1);
    assert_string_equal(d.tls_cert, "/c.pem");
    assert_false(d.tls_insecure);
    /* `grpc:` with no value: present, defaults inside */
    assert_int_equal(d.grpc, 1);
    assert_string_equal(d.grpc_endpoint, "0.0.0.0:4317");
    assert_int_equal(d.neg, -10);
    assert_int_equal(d.atleast, 1000000);
    assert_int_equal(f->n_seen, 2);
    assert_string_equal(f->seen[0].path, "endpoint");
    assert_string_equal(f->seen[0].value, "[::1]:9000");
    assert_int_equal(f->seen[0].line, 6);
    assert_int_equal(f->seen[0].col, 11);
    assert_string_equal(f->seen[1].path, "grpc.endpoint");
    assert_string_equal(f->seen[1].value, "0.0.0.0:4317");
    assert_int_equal(f->seen[1].line, 13); /* the default is placed at the section key's value */
}

static void test_null_means_default(void **state)
{
    fixture *f = *state;
    demo d;
    assert_int_equal(apply_text(f, "count:\nmode: ~\ntags: null\n", &d), 0);
    assert_int_equal(d.count, 10);
    assert_int_equal(d.mode, 1);
    assert_int_equal(d.tags.n, 2);
}

static void test_type_errors(void **state)
{
    fixture *f = *state;
    demo d;
    size_t errors = apply_text(f,
                               "flag: yes\n"
                               "count: 1.5\n"
                               "limit: 4 megabytes\n"
                               "timeout: 10\n"
                               "name: [a]\n"
                               "endpoint: localhost\n"
                               "mode: turbo\n"
                               "tags: a\n"
                               "headers: {k: [1]}\n"
                               "tls: 5\n"
                               "neg: x\n"
                               "atleast:\n"
                               "  - 1\n",
                               &d);
    pg_config_report *r = f->report;
    assert_true(report_has(r, "c.yaml:1:7: error: flag: expected true or false, got 'yes'"));
    assert_true(report_has(r, "c.yaml:2:8: error: count: expected an integer, got '1.5'"));
    assert_true(report_has(r, "c.yaml:3:8: error: limit: expected a size such as 512KiB, 4MiB or "
                              "64MB, got '4 megabytes'"));
    assert_true(report_has(r, "c.yaml:4:10: error: timeout: expected a duration such as 500ms, "
                              "10s or 1m30s, got '10'"));
    assert_true(report_has(r, "c.yaml:5:7: error: name: expected a string, got a list"));
    assert_true(report_has(
        r, "c.yaml:6:11: error: endpoint: invalid endpoint 'localhost': expected host:port"));
    assert_true(report_has(
        r, "c.yaml:7:7: error: mode: invalid value 'turbo'; allowed values: fast, safe, off"));
    assert_true(report_has(r, "c.yaml:8:7: error: tags: expected a list of strings"));
    assert_true(report_has(r, "c.yaml:9:14: error: headers: value of 'k' must be a string"));
    assert_true(report_has(r, "c.yaml:10:6: error: tls: expected a map"));
    assert_true(report_has(r, "c.yaml:11:6: error: neg: expected an integer, got 'x'"));
    assert_true(report_has(r, "c.yaml:13:3: error: atleast: expected an integer, got a list"));
    assert_int_equal(errors, 12);
    /* failed values leave the defaults in place */
    assert_int_equal(d.count, 10);
    assert_int_equal(d.mode, 1);
    assert_int_equal(f->n_seen, 0);
}

static void test_bounds(void **state)
{
    fixture *f = *state;
    demo d;
    size_t errors = apply_text(f,
                               "count: 0\n"
                               "limit: 1000\n"
                               "timeout: 2m\n"
                               "neg: 1\n"
                               "atleast: 4\n"
                               "factor: 0.5\n",
                               &d);
    pg_config_report *r = f->report;
    assert_true(
        report_has(r, "c.yaml:1:8: error: count: 0 is out of range: must be between 1 and 100"));
    assert_true(report_has(r, "c.yaml:2:8: error: limit: '1000' is out of range: must be between "
                              "1KiB and 64MiB"));
    assert_true(report_has(r, "c.yaml:3:10: error: timeout: '2m' is out of range: must be between "
                              "100ms and 1m"));
    assert_true(
        report_has(r, "c.yaml:4:6: error: neg: 1 is out of range: must be between -10 and 0"));
    assert_true(
        report_has(r, "c.yaml:5:10: error: atleast: 4 is out of range: must be at least 5"));
    assert_true(
        report_has(r, "c.yaml:6:9: error: factor: 0.5 is out of range: must be between 1 and 10"));
    assert_int_equal(errors, 6);
}

static void test_bounds_edges_accepted(void **state)
{
    fixture *f = *state;
    demo d;
    assert_int_equal(
        apply_text(f, "count: 1\nlimit: 1KiB\ntimeout: 100ms\nneg: 0\natleast: 5\n", &d), 0);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.limit, 1024);
    assert_int_equal(d.timeout_ms, 100);
    assert_int_equal(apply_text(f, "count: 100\nlimit: 64MiB\ntimeout: 1m\nfactor: 10\n", &d), 0);
    assert_true(d.factor == 10.0);
    assert_int_equal(apply_text(f, "factor: 2.25\n", &d), 0);
    assert_true(d.factor == 2.25);
    assert_int_equal(apply_text(f, "count: 5\n", &d), 0);
    assert_true(d.factor == 1.5);
    assert_int_equal(apply_text(f, "factor: fast\n", &d), 1);
    assert_true(report_has(f->report,
                           "c.yaml:1:9: error: factor: expected a decimal number such as 0.5, got "
                           "'fast'"));
}

static void test_unknown_and_required(void **state)
{
    fixture *f = *state;
    demo d;
    size_t errors = apply_text(f,
                               "bogus: 1\n"
                               "tls:\n"
                               "  insecure: true\n"
                               "  certfile: x\n",
                               &d);
    pg_config_report *r = f->report;
    assert_true(report_has(r, "c.yaml:1:1: error: unknown key 'bogus'; allowed keys: flag, count, "
                              "limit, timeout, name, endpoint, mode, tags, headers, tls, grpc, "
                              "neg, atleast"));
    assert_true(report_has(r, "c.yaml:4:3: error: unknown key 'certfile' in tls; allowed keys: "
                              "cert, insecure"));
    assert_true(report_has(r, "c.yaml:3:3: error: missing required key 'tls.cert'"));
    assert_int_equal(errors, 3);
}

static void test_required_when_section_null(void **state)
{
    fixture *f = *state;
    demo d;
    assert_int_equal(apply_text(f, "flag: true\ntls:\n", &d), 1);
    /* reported at the null value of the section */
    assert_true(report_has(f->report, "c.yaml:2:5: error: missing required key 'tls.cert'"));
}

static void test_required_section(void **state)
{
    fixture *f = *state;
    static const pg_config_key keys[] = {
        {.name = "grpc",
         .type = PG_CFG_SECTION,
         .offset = offsetof(demo, grpc),
         .children = grpc_keys,
         .required = true},
        PG_CONFIG_END,
    };
    pg_config_apply_ctx ctx = {.arena = f->arena, .report = f->report};
    const char *text = "other: 1\n";
    const pg_config_node *root =
        pg_config_yaml_parse(f->arena, "c.yaml", text, strlen(text), 1, f->report);
    demo d = {0};
    assert_int_equal(pg_config_apply(&ctx, keys, &d, root, root), 2);
    assert_true(report_has(f->report, "c.yaml:1:1: error: missing required section 'grpc'"));
    text = "grpc:\n";
    root = pg_config_yaml_parse(f->arena, "c.yaml", text, strlen(text), 1, f->report);
    assert_int_equal(pg_config_apply(&ctx, keys, &d, root, root), 0);
    assert_int_equal(d.grpc, 1);
}

static void test_not_a_map_and_prefix(void **state)
{
    fixture *f = *state;
    static const char *const extra[] = {"pipelines", NULL};
    pg_config_apply_ctx ctx = {
        .arena = f->arena, .report = f->report, .path_prefix = "service", .extra_keys = extra};
    const char *text = "- 1\n";
    const pg_config_node *root =
        pg_config_yaml_parse(f->arena, "c.yaml", text, strlen(text), 1, f->report);
    demo *d = pg_config_apply_new(&ctx, demo_keys, sizeof(demo), root, root);
    assert_non_null(d);
    assert_int_equal(d->count, 10); /* defaults in place */
    assert_true(report_has(f->report, "c.yaml:1:1: error: service: expected a map"));

    text = "pipelines: {}\ncount: 0\nwhat: 1\n";
    root = pg_config_yaml_parse(f->arena, "c.yaml", text, strlen(text), 1, f->report);
    d = pg_config_apply_new(&ctx, demo_keys, sizeof(demo), root, root);
    assert_true(
        report_has(f->report, "c.yaml:2:8: error: service.count: 0 is out of range: must be"));
    assert_true(report_has(f->report, "c.yaml:3:1: error: unknown key 'what' in service; allowed "
                                      "keys: flag, count, limit, timeout, name, endpoint, mode, "
                                      "tags, headers, tls, grpc, neg, atleast, factor, pipelines"));
    assert_int_equal(pg_config_report_errors(f->report), 3);
}

static void test_bad_default_reported(void **state)
{
    fixture *f = *state;
    static const pg_config_key bad[] = {
        {.name = "t", .type = PG_CFG_DURATION, .offset = 0, .default_value = "10"},
        PG_CONFIG_END,
    };
    pg_config_apply_ctx ctx = {.arena = f->arena, .report = f->report};
    uint64_t v = 0;
    assert_int_equal(pg_config_apply(&ctx, bad, &v, NULL, NULL), 1);
    assert_true(report_has(f->report, "error: t: expected a duration such as 500ms, 10s or 1m30s, "
                                      "got '10' (built-in default)"));
}

typedef struct rule_elem {
    pg_cfg_elem elem;
    char *regex;
    int64_t modulus;
    pg_str_list sources;
} rule_elem;

typedef struct user_elem {
    pg_cfg_elem elem;
    char *password;
    char *tenant;
} user_elem;

typedef struct lists_demo {
    pg_cfg_list rules;
    pg_cfg_list users;
} lists_demo;

static const pg_config_key rule_keys[] = {
    {.name = "regex",
     .type = PG_CFG_STRING,
     .offset = offsetof(rule_elem, regex),
     .default_value = "(.*)"},
    {.name = "modulus",
     .type = PG_CFG_INT,
     .offset = offsetof(rule_elem, modulus),
     .min = 0,
     .max = 100},
    {.name = "source_labels", .type = PG_CFG_STRING_LIST, .offset = offsetof(rule_elem, sources)},
    PG_CONFIG_END,
};

static const pg_config_key user_keys[] = {
    {.name = "password",
     .type = PG_CFG_STRING,
     .offset = offsetof(user_elem, password),
     .required = true},
    {.name = "tenant", .type = PG_CFG_STRING, .offset = offsetof(user_elem, tenant)},
    PG_CONFIG_END,
};

static const pg_config_key list_keys[] = {
    {.name = "rules",
     .type = PG_CFG_LIST,
     .offset = offsetof(lists_demo, rules),
     .children = rule_keys,
     .elem_size = sizeof(rule_elem),
     .help = "Rules."},
    {.name = "users",
     .type = PG_CFG_MAP_OF,
     .offset = offsetof(lists_demo, users),
     .children = user_keys,
     .elem_size = sizeof(user_elem)},
    PG_CONFIG_END,
};

static size_t apply_lists(fixture *f, const char *text, lists_demo *d)
{
    pg_config_apply_ctx ctx = {.arena = f->arena, .report = f->report};
    const pg_config_node *root =
        pg_config_yaml_parse(f->arena, "c.yaml", text, strlen(text), 1, f->report);
    memset(d, 0, sizeof(*d));
    return pg_config_apply(&ctx, list_keys, d, root, root);
}

static void test_lists_of_maps(void **state)
{
    fixture *f = *state;
    lists_demo d;
    assert_int_equal(apply_lists(f, "", &d), 0);
    assert_int_equal(d.rules.n, 0);
    assert_int_equal(d.users.n, 0);

    assert_int_equal(apply_lists(f,
                                 "rules:\n"
                                 "  - {regex: 'a.*', source_labels: [x, y]}\n"
                                 "  - modulus: 7\n"
                                 "users:\n"
                                 "  alice: {password: pw, tenant: t1}\n",
                                 &d),
                     0);
    assert_int_equal(d.rules.n, 2);
    rule_elem *r0 = PG_CFG_LIST_AT(d.rules, rule_elem, 0);
    rule_elem *r1 = PG_CFG_LIST_AT(d.rules, rule_elem, 1);
    assert_null(r0->elem.key);
    assert_int_equal(r0->elem.node->line, 2);
    assert_string_equal(r0->regex, "a.*");
    assert_int_equal(r0->sources.n, 2);
    assert_string_equal(r1->regex, "(.*)"); /* defaults apply per element */
    assert_int_equal(r1->modulus, 7);
    assert_int_equal(d.users.n, 1);
    user_elem *u = PG_CFG_LIST_AT(d.users, user_elem, 0);
    assert_string_equal(u->elem.key, "alice");
    assert_string_equal(u->password, "pw");
    assert_string_equal(u->tenant, "t1");
}

static void test_lists_of_maps_errors(void **state)
{
    fixture *f = *state;
    lists_demo d;
    assert_int_equal(apply_lists(f,
                                 "rules:\n"
                                 "  - {regex: x, modulus: 1000}\n"
                                 "  - {bogus: 1}\n"
                                 "  - just-a-string\n"
                                 "users:\n"
                                 "  bob: {tenant: t}\n",
                                 &d),
                     4);
    assert_true(
        report_has(f->report, "c.yaml:2:25: error: rules[0].modulus: 1000 is out of range"));
    assert_true(report_has(f->report, "c.yaml:3:6: error: unknown key 'bogus' in rules[1]; allowed "
                                      "keys: regex, modulus, source_labels"));
    assert_true(report_has(f->report, "c.yaml:4:5: error: rules[2]: expected a map"));
    assert_true(report_has(f->report, "error: missing required key 'users.bob.password'"));

    assert_int_equal(apply_lists(f, "rules: {a: 1}\nusers: [1]\n", &d), 2);
    assert_true(report_has(f->report, "c.yaml:1:8: error: rules: expected a list of maps"));
    assert_true(report_has(f->report, "c.yaml:2:8: error: users: expected a map of names to maps"));
}

static void test_markdown(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    pg_config_print_keys_markdown(demo_keys, out);
    fclose(out);
    assert_non_null(strstr(buf, "| Key | Type | Default | Bounds / values | Description |\n"));
    assert_non_null(strstr(buf, "| `count` | int | `10` | 1 .. 100 | How many \\| pipes. |\n"));
    assert_non_null(strstr(buf, "| `limit` | size | `4MiB` | 1KiB .. 64MiB |  |\n"));
    assert_non_null(strstr(buf, "| `timeout` | duration | `5s` | 100ms .. 1m |  |\n"));
    assert_non_null(strstr(buf, "| `mode` | enum | `safe` | fast, safe, off |  |\n"));
    assert_non_null(strstr(buf, "| `tls` | section |  |  |  |\n"));
    assert_non_null(strstr(buf, "| `tls.cert` | string | *required* |  |  |\n"));
    assert_non_null(
        strstr(buf, "| `grpc.endpoint` | endpoint | `0.0.0.0:4317` |  | Listen address. |\n"));
    assert_non_null(strstr(buf, "| `atleast` | int |  | >= 5 |  |\n"));
    free(buf);

    buf = NULL;
    out = open_memstream(&buf, &len);
    pg_config_print_keys_markdown(list_keys, out);
    fclose(out);
    assert_non_null(strstr(buf, "| `rules` | list of maps |  |  | Rules. |\n"));
    assert_non_null(strstr(buf, "| `rules[].regex` | string | `(.*)` |  |  |\n"));
    assert_non_null(strstr(buf, "| `users.<name>.password` | string | *required* |  |  |\n"));
    free(buf);

    static const pg_config_key none[] = {PG_CONFIG_END};
    buf = NULL;
    out = open_memstream(&buf, &len);
    pg_config_print_keys_markdown(none, out);
    fclose(out);
    assert_string_equal(buf, "This component has no settings.\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_means_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds_edges_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_when_section_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_map_and_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_default_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_of_maps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_of_maps_errors, setup, teardown),
        cmocka_unit_test(test_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
