/*
 * The relabel rules engine against Prometheus's documented relabel_config
 * behaviour (prometheus/model/relabel, docs "relabel_config"): one table row
 * per action and per tricky case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "processors/relabel/relabel_rules.h"

#define SRC(...)                                                                                   \
    {                                                                                              \
        .items = (char *[]){__VA_ARGS__}, .n = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)    \
    }
#define DROPPED ((const char *)1)

typedef struct rcase {
    const char *name;
    pg_relabel_rule_spec rules[3];
    /* name, value pairs ending with NULL; want[0] == DROPPED: the set is dropped */
    const char *in[12];
    const char *want[12];
} rcase;

static const rcase cases[] = {
    {"replace copies a label (all defaults)",
     {{.source_labels = SRC("app"), .target_label = "service_name"}},
     {"app", "api", NULL},
     {"app", "api", "service_name", "api", NULL}},
    {"replace without source labels sets a constant",
     {{.target_label = "env", .replacement = "prod"}},
     {"a", "1", NULL},
     {"a", "1", "env", "prod", NULL}},
    {"missing source label reads as empty and (.*) matches it",
     {{.source_labels = SRC("nope"), .target_label = "t", .replacement = "x${1}y"}},
     {"a", "1", NULL},
     {"a", "1", "t", "xy", NULL}},
    {"no match, no change",
     {{.source_labels = SRC("a"), .regex = "foo", .target_label = "t", .replacement = "z"}},
     {"a", "bar", NULL},
     {"a", "bar", NULL}},
    {"$1 with no group in the regex expands to empty and deletes the target",
     {{.source_labels = SRC("a"), .regex = "foo", .target_label = "t"}},
     {"a", "foo", "t", "old", NULL},
     {"a", "foo", NULL}},
    {"empty replacement deletes the target",
     {{.source_labels = SRC("a"), .target_label = "a", .replacement = ""}},
     {"a", "1", "b", "2", NULL},
     {"b", "2", NULL}},
    {"${1}suffix",
     {{.source_labels = SRC("a"),
       .regex = "(a+)b",
       .target_label = "t",
       .replacement = "${1}suffix"}},
     {"a", "aab", NULL},
     {"a", "aab", "t", "aasuffix", NULL}},
    {"$1x is the group named 1x (empty)",
     {{.source_labels = SRC("a"), .regex = "(.*)", .target_label = "t", .replacement = "$1x-y"}},
     {"a", "v", NULL},
     {"a", "v", "t", "-y", NULL}},
    {"$name and ${name} named groups",
     {{.source_labels = SRC("addr"),
       .regex = "(?P<host>[^:]+):(?P<port>\\d+)",
       .target_label = "t",
       .replacement = "$port@${host}"}},
     {"addr", "h:80", NULL},
     {"addr", "h:80", "t", "80@h", NULL}},
    {"$$ is a literal dollar",
     {{.source_labels = SRC("a"), .target_label = "t", .replacement = "$$1 costs $${1}"}},
     {"a", "v", NULL},
     {"a", "v", "t", "$1 costs ${1}", NULL}},
    {"a lone or malformed $ stays literal",
     {{.source_labels = SRC("a"), .target_label = "t", .replacement = "5$ ${x $"}},
     {"a", "v", NULL},
     {"a", "v", "t", "5$ ${x $", NULL}},
    {"target_label is a template too",
     {{.source_labels = SRC("k"),
       .regex = "(.+)=(.+)",
       .target_label = "tag_$1",
       .replacement = "$2"}},
     {"k", "color=red", NULL},
     {"k", "color=red", "tag_color", "red", NULL}},
    {"a target that expands to empty changes nothing",
     {{.source_labels = SRC("k"), .regex = "(.*)", .target_label = "$1", .replacement = "x"}},
     {"z", "1", NULL},
     {"z", "1", NULL}},
    {"multiple sources joined with the separator",
     {{.source_labels = SRC("a", "missing", "b"), .separator = "-", .target_label = "t"}},
     {"a", "x", "b", "y", NULL},
     {"a", "x", "b", "y", "t", "x--y", NULL}},
    {"default separator is ;",
     {{.source_labels = SRC("a", "b"), .regex = "x;y", .action = "keep"}},
     {"a", "x", "b", "y", NULL},
     {"a", "x", "b", "y", NULL}},
    {"regex is anchored: a does not match ba",
     {{.source_labels = SRC("a"), .regex = "a", .action = "keep"}},
     {"a", "ba", NULL},
     {DROPPED}},
    {"regex is anchored at the end: a does not match ab",
     {{.source_labels = SRC("a"), .regex = "a", .action = "drop"}},
     {"a", "ab", NULL},
     {"a", "ab", NULL}},
    {"keep on empty regex match of a missing label",
     {{.source_labels = SRC("missing"), .regex = "", .action = "keep"}},
     {"a", "1", NULL},
     {"a", "1", NULL}},
    {"drop when the regex matches",
     {{.source_labels = SRC("service_name"), .regex = "drop-me.*", .action = "drop"}},
     {"service_name", "drop-me-now", NULL},
     {DROPPED}},
    {"action names are case-insensitive",
     {{.source_labels = SRC("a"), .regex = "1", .action = "DROP"}},
     {"a", "1", NULL},
     {DROPPED}},
    {"dot matches a newline; $ does not match before a trailing newline",
     {{.source_labels = SRC("a"), .regex = "x.y", .action = "keep"},
      {.source_labels = SRC("b"), .regex = "z", .action = "drop"}},
     {"a", "x\ny", "b", "z\n", NULL},
     {"a", "x\ny", "b", "z\n", NULL}},
    {"keepequal keeps when equal",
     {{.source_labels = SRC("a"), .target_label = "b", .action = "keepequal"}},
     {"a", "1", "b", "1", NULL},
     {"a", "1", "b", "1", NULL}},
    {"keepequal drops when different",
     {{.source_labels = SRC("a"), .target_label = "b", .action = "keepequal"}},
     {"a", "1", "b", "2", NULL},
     {DROPPED}},
    {"dropequal drops when equal (absent == empty)",
     {{.source_labels = SRC("missing"), .target_label = "absent", .action = "dropequal"}},
     {"a", "1", NULL},
     {DROPPED}},
    {"dropequal keeps when different",
     {{.source_labels = SRC("a"), .target_label = "b", .action = "dropequal"}},
     {"a", "1", "b", "2", NULL},
     {"a", "1", "b", "2", NULL}},
    /* expected values: python3 -c "import hashlib; h=hashlib.md5(b'foo').digest();
     * print(int.from_bytes(h[8:], 'big') % 10)" -> 6; the same for b'a;b' % 1000 -> 74 */
    {"hashmod of one label",
     {{.source_labels = SRC("a"), .modulus = 10, .target_label = "shard", .action = "hashmod"}},
     {"a", "foo", NULL},
     {"a", "foo", "shard", "6", NULL}},
    {"hashmod of joined labels",
     {{.source_labels = SRC("x", "y"), .modulus = 1000, .target_label = "h", .action = "hashmod"}},
     {"x", "a", "y", "b", NULL},
     {"h", "74", "x", "a", "y", "b", NULL}},
    {"labelmap copies matching names",
     {{.regex = "__meta_(.+)", .action = "labelmap"}},
     {"__meta_pod", "p1", "__meta_ns", "n1", "app", "x", NULL},
     {"__meta_ns", "n1", "__meta_pod", "p1", "app", "x", "ns", "n1", "pod", "p1", NULL}},
    {"labelmap with a replacement template",
     {{.regex = "tag_(.+)", .replacement = "t.${1}", .action = "labelmap"}},
     {"tag_a", "1", NULL},
     {"t.a", "1", "tag_a", "1", NULL}},
    {"labeldrop removes matching names",
     {{.regex = "__.*|tmp", .action = "labeldrop"}},
     {"__name__", "cpu", "tmp", "1", "app", "x", NULL},
     {"app", "x", NULL}},
    {"labelkeep keeps only matching names",
     {{.regex = "app|env", .action = "labelkeep"}},
     {"app", "x", "env", "p", "pod", "1", NULL},
     {"app", "x", "env", "p", NULL}},
    {"lowercase",
     {{.source_labels = SRC("a"), .target_label = "a", .action = "lowercase"}},
     {"a", "HeLLo \xc3\x84\xc3\x96", NULL},
     {"a", "hello \xc3\xa4\xc3\xb6", NULL}},
    {"uppercase of joined labels",
     {{.source_labels = SRC("a", "b"), .target_label = "u", .action = "uppercase"}},
     {"a", "x", "b",
      "stra\xc3\x9f"
      "e",
      NULL},
     {"a", "x", "b",
      "stra\xc3\x9f"
      "e",
      "u",
      "X;STRA\xc3\x9f"
      "E",
      NULL}},
    {"lowercase of invalid UTF-8 gives U+FFFD per bad byte",
     {{.source_labels = SRC("a"), .target_label = "l", .action = "lowercase"}},
     {"a", "A\xff", NULL},
     {"a", "A\xff", "l", "a\xef\xbf\xbd", NULL}},
    {"UTF-8 target names are fine",
     {{.target_label = "\xe3\x82\xb5\xe3\x83\xbc\xe3\x83\x93\xe3\x82\xb9", .replacement = "v"}},
     {NULL},
     {"\xe3\x82\xb5\xe3\x83\xbc\xe3\x83\x93\xe3\x82\xb9", "v", NULL}},
    {"rules run in order and see earlier results",
     {{.source_labels = SRC("a"), .target_label = "b"},
      {.source_labels = SRC("b"), .regex = "1", .target_label = "c", .replacement = "seen"},
      {.regex = "a", .action = "labeldrop"}},
     {"a", "1", NULL},
     {"b", "1", "c", "seen", NULL}},
    {"empty input values are absent",
     {{.source_labels = SRC("e"), .regex = "", .target_label = "t", .replacement = "was-empty"}},
     {"e", "", NULL},
     {"t", "was-empty", NULL}},
    {"replacing with the same value is no change",
     {{.source_labels = SRC("a"), .target_label = "a"}},
     {"a", "1", NULL},
     {"a", "1", NULL}},
};

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const pg_label *)a)->name, ((const pg_label *)b)->name);
}

static size_t to_labels(const char *const *kv, pg_label *out)
{
    size_t n = 0;
    for (; kv[0] && kv[0] != DROPPED; kv += 2)
        out[n++] = (pg_label){kv[0], kv[1]};
    qsort(out, n, sizeof(*out), cmp_label);
    return n;
}

static size_t n_rules(const rcase *c)
{
    size_t n = 0;
    while (n < 3 && (c->rules[n].action || c->rules[n].target_label || c->rules[n].regex ||
                     c->rules[n].source_labels.n))
        n++;
    return n;
}

static void run_case(const rcase *c)
{
    pg_relabel_rules *r = NULL;
    pg_error err;
    pg_error_clear(&err);
    if (pg_relabel_compile(c->rules, n_rules(c), &r, &err) != PG_OK)
        fail_msg("%s: compile: %s", c->name, err.msg);
    pg_label in[8], want[8];
    size_t n_in = to_labels(c->in, in), n_want = to_labels(c->want, want);
    pg_arena *a = pg_arena_new(0, 0);
    pg_relabel_result res;
    assert_int_equal(pg_relabel_apply(r, a, in, n_in, &res), PG_OK);
    if (c->want[0] == DROPPED) {
        if (res.kept)
            fail_msg("%s: expected the set to be dropped", c->name);
        assert_true(res.dropped_by >= 0);
    } else {
        if (!res.kept)
            fail_msg("%s: dropped by rule %d", c->name, res.dropped_by);
        if (res.n_labels != n_want)
            fail_msg("%s: %zu labels, want %zu", c->name, res.n_labels, n_want);
        for (size_t i = 0; i < n_want; i++)
            if (strcmp(res.labels[i].name, want[i].name) ||
                strcmp(res.labels[i].value, want[i].value))
                fail_msg("%s: label %zu is %s=%s, want %s=%s", c->name, i, res.labels[i].name,
                         res.labels[i].value, want[i].name, want[i].value);
        int same = n_in == n_want;
        for (size_t i = 0; i < n_in && same; i++)
            same = !strcmp(in[i].name, want[i].name) && !strcmp(in[i].value, want[i].value);
        if (res.changed != !same)
            fail_msg("%s: changed = %d, want %d", c->name, res.changed, !same);
    }
    pg_arena_free(a);
    pg_relabel_free(r);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

/* A rule spec that pg_relabel_rule_check must refuse, naming the key. */
typedef struct bad_rule {
    pg_relabel_rule_spec spec;
    const char *field; /* NULL: the rule as a whole */
    const char *msg_part;
} bad_rule;

static const bad_rule bad_rules[] = {
    {{.action = "frobnicate", .target_label = "x"}, "action", "unknown action 'frobnicate'"},
    {{.regex = "a(b", .target_label = "x"}, "regex", "invalid regex 'a(b'"},
    {{.action = "hashmod", .target_label = "x"}, "modulus", "requires 'modulus' > 0"},
    {{.action = "hashmod", .modulus = 3}, NULL, "hashmod action requires 'target_label'"},
    {{.source_labels = SRC("a")}, NULL, "replace action requires 'target_label'"},
    {{.action = "lowercase", .source_labels = SRC("a")}, NULL, "requires 'target_label'"},
    {{.action = "keepequal", .source_labels = SRC("a")}, NULL, "requires 'target_label'"},
    {{.action = "labeldrop", .regex = "a", .source_labels = SRC("a")},
     "source_labels",
     "labeldrop action takes only 'regex'"},
    {{.action = "labelkeep", .regex = "a", .target_label = "t"},
     "target_label",
     "labelkeep action takes only 'regex'"},
    {{.action = "labeldrop", .regex = "a", .modulus = 2}, "modulus", "'modulus' must not be set"},
    {{.action = "labeldrop", .regex = "a", .separator = ","}, "separator", "takes only 'regex'"},
    {{.action = "labelkeep", .regex = "a", .replacement = "x"},
     "replacement",
     "takes only 'regex'"},
    {{.action = "keepequal", .target_label = "b", .regex = "x"},
     "regex",
     "keepequal action takes only 'source_labels' and 'target_label'"},
    {{.action = "dropequal", .target_label = "b", .modulus = 4}, "modulus", "'modulus'"},
    {{.action = "dropequal", .target_label = "b", .replacement = "y"},
     "replacement",
     "'replacement'"},
    {{.action = "uppercase", .target_label = "u_$1"}, "target_label", "not a template"},
    {{.action = "lowercase", .target_label = "l", .replacement = "r"},
     "replacement",
     "must not be set"},
    {{.source_labels = SRC(""), .target_label = "t"}, "source_labels", "not a valid label name"},
    {{.target_label = "\xff"}, "target_label", "not valid UTF-8"},
    {{.action = "labelmap", .replacement = ""}, "replacement", "not a valid label name"},
};

static void test_rule_check(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
        const bad_rule *b = &bad_rules[i];
        const char *field = "unset";
        pg_error err;
        pg_error_clear(&err);
        assert_int_equal(pg_relabel_rule_check(&b->spec, &field, &err), PG_ERR_INVALID);
        if (!strstr(err.msg, b->msg_part))
            fail_msg("bad rule %zu: message '%s' lacks '%s'", i, err.msg, b->msg_part);
        if ((b->field == NULL) != (field == NULL) || (b->field && strcmp(b->field, field) != 0))
            fail_msg("bad rule %zu: field %s, want %s", i, field ? field : "NULL",
                     b->field ? b->field : "NULL");
    }
    /* explicit defaults are not "set" */
    pg_relabel_rule_spec ok = {
        .action = "labeldrop", .regex = "a", .separator = ";", .replacement = "$1"};
    const char *field = NULL;
    assert_int_equal(pg_relabel_rule_check(&ok, &field, NULL), PG_OK);
    pg_relabel_rule_spec ok2 = {
        .action = "keepequal", .source_labels = SRC("a"), .target_label = "b", .regex = "(.*)"};
    assert_int_equal(pg_relabel_rule_check(&ok2, &field, NULL), PG_OK);
}

static void test_compile_error_names_rule(void **state)
{
    (void)state;
    pg_relabel_rule_spec specs[2] = {{.target_label = "a", .replacement = "b"},
                                     {.regex = "(", .target_label = "x"}};
    pg_relabel_rules *r = (pg_relabel_rules *)1;
    pg_error err;
    pg_error_clear(&err);
    assert_int_equal(pg_relabel_compile(specs, 2, &r, &err), PG_ERR_INVALID);
    assert_null(r);
    assert_non_null(strstr(err.msg, "rule 1: invalid regex '('"));
}

static void test_invalid_utf8_value_is_safe(void **state)
{
    (void)state;
    pg_relabel_rule_spec specs[3] = {
        {.source_labels = SRC("a"), .target_label = "copy"},
        {.source_labels = SRC("a"), .regex = "x.*y", .action = "drop"},
        {.regex = "(.*)", .replacement = "m_$1", .action = "labelmap"}};
    pg_relabel_rules *r = NULL;
    assert_int_equal(pg_relabel_compile(specs, 3, &r, NULL), PG_OK);
    pg_label in[] = {{"a", "x\xff\xfey"}, {"b\xc0", "v"}};
    pg_arena *a = pg_arena_new(0, 0);
    pg_relabel_result res;
    assert_int_equal(pg_relabel_apply(r, a, in, 2, &res), PG_OK);
    /* PCRE2 does not let '.' match an invalid byte (Go would match U+FFFD):
     * neither the copy nor the drop happens; labelmap sees the valid name */
    assert_true(res.kept);
    assert_int_equal(res.n_labels, 3);
    assert_string_equal(res.labels[0].name, "a");
    assert_string_equal(res.labels[1].name, "b\xc0");
    assert_string_equal(res.labels[2].name, "m_a");
    assert_string_equal(res.labels[2].value, "x\xff\xfey");
    for (size_t i = 1; i < res.n_labels; i++)
        assert_true(strcmp(res.labels[i - 1].name, res.labels[i].name) < 0);
    pg_arena_free(a);
    pg_relabel_free(r);
}

static void test_many_labels_grow(void **state)
{
    (void)state;
    pg_relabel_rule_spec spec = {.regex = "l(.*)", .replacement = "copy_$1", .action = "labelmap"};
    pg_relabel_rules *r = NULL;
    assert_int_equal(pg_relabel_compile(&spec, 1, &r, NULL), PG_OK);
    pg_arena *a = pg_arena_new(0, 0);
    pg_label in[100];
    char names[100][8];
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof(names[i]), "l%03d", i);
        in[i] = (pg_label){names[i], names[i]};
    }
    pg_relabel_result res;
    assert_int_equal(pg_relabel_apply(r, a, in, 100, &res), PG_OK);
    assert_int_equal(res.n_labels, 200);
    assert_true(res.changed);
    assert_string_equal(res.labels[0].name, "copy_000");
    assert_string_equal(res.labels[0].value, "l000");
    assert_string_equal(res.labels[199].name, "l099");
    for (size_t i = 1; i < res.n_labels; i++)
        assert_true(strcmp(res.labels[i - 1].name, res.labels[i].name) < 0);
    pg_arena_free(a);
    pg_relabel_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_rule_check),
        cmocka_unit_test(test_compile_error_names_rule),
        cmocka_unit_test(test_invalid_utf8_value_is_safe),
        cmocka_unit_test(test_many_labels_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
