/* YAML loading: node positions, refused YAML features, env expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/error.h"
#include "config/env.h"
#include "config/yaml.h"
#include "test_config_util.h"

typedef struct fixture {
    pg_arena *arena;
    pg_config_report *report;
} fixture;

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

static const pg_config_node *parse(fixture *f, const char *text)
{
    return pg_config_yaml_parse(f->arena, "t.yaml", text, strlen(text), 1, f->report);
}

static void test_positions(void **state)
{
    fixture *f = *state;
    const pg_config_node *root = parse(f, "# comment\n"
                                          "a:\n"
                                          "  b: 1\n"
                                          "  list: [x, \"y\"]\n"
                                          "  empty:\n"
                                          "  nul: null\n"
                                          "  q: 'null'\n");
    assert_non_null(root);
    assert_int_equal(pg_config_report_errors(f->report), 0);
    assert_int_equal(root->kind, PG_NODE_MAP);
    assert_string_equal(root->keys[0]->scalar, "a");
    assert_int_equal(root->keys[0]->line, 2);
    assert_int_equal(root->keys[0]->col, 1);
    const pg_config_node *a = pg_config_map_get(root, "a");
    assert_int_equal(a->kind, PG_NODE_MAP);
    assert_int_equal(a->line, 3);
    assert_int_equal(a->col, 3);
    const pg_config_node *b = pg_config_map_get(a, "b");
    assert_int_equal(b->kind, PG_NODE_SCALAR);
    assert_string_equal(b->scalar, "1");
    assert_int_equal(b->line, 3);
    assert_int_equal(b->col, 6);
    assert_false(b->quoted);
    const pg_config_node *list = pg_config_map_get(a, "list");
    assert_int_equal(list->kind, PG_NODE_SEQ);
    assert_int_equal(list->n, 2);
    assert_int_equal(list->col, 9);
    assert_int_equal(list->values[1]->col, 13);
    assert_true(list->values[1]->quoted);
    assert_int_equal(pg_config_map_get(a, "empty")->kind, PG_NODE_NULL);
    assert_int_equal(pg_config_map_get(a, "nul")->kind, PG_NODE_NULL);
    const pg_config_node *q = pg_config_map_get(a, "q");
    assert_int_equal(q->kind, PG_NODE_SCALAR);
    assert_string_equal(q->scalar, "null");
    assert_null(pg_config_map_get(a, "missing"));
    assert_null(pg_config_map_get(b, "x"));
}

static void test_syntax_error_position(void **state)
{
    fixture *f = *state;
    assert_null(parse(f, "a: 1\nb: [1, 2\nc: 3\n"));
    assert_int_equal(pg_config_report_errors(f->report), 1);
    char *t = report_text(f->report);
    assert_non_null(strstr(t, "t.yaml:3:2: error: invalid YAML: did not find expected ',' or ']'"));
    free(t);
}

static void test_bad_indentation(void **state)
{
    fixture *f = *state;
    assert_null(parse(f, "a:\n  b: 1\n c: 2\n"));
    assert_true(report_has(f->report, "t.yaml:3:2: error: invalid YAML:"));
}

static void test_invalid_utf8_position(void **state)
{
    fixture *f = *state;
    assert_null(parse(f, "a: 1\nb: \xff\n"));
    assert_true(report_has(f->report, "t.yaml:2:4: error: invalid YAML: invalid leading UTF-8"));
}

static void test_refused_features(void **state)
{
    fixture *f = *state;
    const pg_config_node *root = parse(f, "base: &b {x: 1}\n"
                                          "copy: *b\n"
                                          "t: !custom 5\n"
                                          "s: !!str 5\n"
                                          "i: !!int 5\n"
                                          "dup: 1\n"
                                          "dup: 2\n"
                                          "? [k]\n"
                                          ": v\n");
    assert_non_null(root); /* all reported, parsing went on */
    assert_true(report_has(f->report, "t.yaml:1:7: error: YAML anchors ('&b') are not supported"));
    assert_true(report_has(f->report, "t.yaml:2:7: error: YAML aliases ('*b') are not supported"));
    assert_true(report_has(f->report, "t.yaml:3:4: error: YAML tag '!custom' is not supported"));
    assert_true(report_has(f->report,
                           "t.yaml:5:4: error: YAML tag 'tag:yaml.org,2002:int' is not supported"));
    assert_true(
        report_has(f->report, "t.yaml:7:1: error: duplicate key 'dup' (first defined at line 6)"));
    assert_true(report_has(f->report, "t.yaml:8:3: error: mapping keys must be plain strings"));
    assert_int_equal(pg_config_report_errors(f->report), 6);
    const pg_config_node *s = pg_config_map_get(root, "s");
    assert_string_equal(s->scalar, "5");
    assert_true(s->quoted);
}

static void test_multiple_documents(void **state)
{
    fixture *f = *state;
    parse(f, "a: 1\n---\nb: 2\n");
    assert_int_equal(pg_config_report_errors(f->report), 1);
    assert_true(
        report_has(f->report, "t.yaml:2:1: error: multiple YAML documents are not supported"));
}

static void test_empty_and_nul(void **state)
{
    fixture *f = *state;
    const pg_config_node *root = parse(f, "# nothing\n");
    assert_non_null(root);
    assert_int_equal(root->kind, PG_NODE_NULL);
    root = parse(f, "a: \"x\\0y\"\n");
    assert_non_null(root);
    assert_true(report_has(f->report, "t.yaml:1:4: error: NUL character in a scalar"));
}

static void test_deep_nesting(void **state)
{
    fixture *f = *state;
    char text[2 * (PG_CONFIG_MAX_DEPTH + 10) + 1];
    size_t n = PG_CONFIG_MAX_DEPTH + 10;
    memset(text, '[', n);
    memset(text + n, ']', n);
    text[2 * n] = '\0';
    assert_null(parse(f, text));
    assert_true(report_has(f->report, "error: YAML nesting is too deep"));
}

static void test_env_expansion(void **state)
{
    fixture *f = *state;
    setenv("PG_T_HOST", "example.org", 1);
    setenv("PG_T_PORT", "4317", 1);
    setenv("PG_T_EMPTY", "", 1);
    unsetenv("PG_T_UNSET");
    const pg_config_node *root = parse(f, "ep: ${env:PG_T_HOST}:${env:PG_T_PORT}\n"
                                          "def: ${env:PG_T_UNSET:-fallback}\n"
                                          "defempty: ${env:PG_T_EMPTY:-used}\n"
                                          "setwins: ${env:PG_T_HOST:-nope}\n"
                                          "unset: ${env:PG_T_UNSET}\n"
                                          "unsetq: \"${env:PG_T_UNSET}\"\n"
                                          "dollar: a$$b $$${env:PG_T_PORT} $x $\n"
                                          "escaped: $${env:PG_T_HOST}\n"
                                          "mixed: \"pre-${env:PG_T_UNSET:-d}-post\"\n"
                                          "${env:PG_T_HOST}: key-not-expanded\n");
    assert_non_null(root);
    assert_int_equal(pg_config_report_errors(f->report), 0);
    assert_string_equal(pg_config_map_get(root, "ep")->scalar, "example.org:4317");
    assert_string_equal(pg_config_map_get(root, "def")->scalar, "fallback");
    assert_string_equal(pg_config_map_get(root, "defempty")->scalar, "used");
    assert_string_equal(pg_config_map_get(root, "setwins")->scalar, "example.org");
    /* unset in a plain scalar: null (the key's default); quoted: empty string */
    assert_int_equal(pg_config_map_get(root, "unset")->kind, PG_NODE_NULL);
    assert_int_equal(pg_config_map_get(root, "unsetq")->kind, PG_NODE_SCALAR);
    assert_string_equal(pg_config_map_get(root, "unsetq")->scalar, "");
    assert_string_equal(pg_config_map_get(root, "dollar")->scalar, "a$b $4317 $x $");
    assert_string_equal(pg_config_map_get(root, "escaped")->scalar, "${env:PG_T_HOST}");
    assert_string_equal(pg_config_map_get(root, "mixed")->scalar, "pre-d-post");
    assert_non_null(pg_config_map_get(root, "${env:PG_T_HOST}"));
}

static void test_env_errors_positions(void **state)
{
    fixture *f = *state;
    const pg_config_node *root = parse(f, "a: x${env:PG_T_PORT}${HOME}\n"
                                          "b: \"ab${file:/etc/x}\"\n"
                                          "c:\n"
                                          "  - ${env:1BAD}\n"
                                          "  - ok ${env:A:B}\n"
                                          "d: ${env:UNTERMINATED\n"
                                          "e: \"\\t${env:X\"\n");
    assert_non_null(root);
    assert_true(report_has(
        f->report, "t.yaml:1:21: error: unsupported expansion '${HOME}': write ${env:HOME}"));
    assert_true(report_has(f->report, "t.yaml:2:7: error: unsupported provider 'file' in "
                                      "'${file:/etc/x}': only env is supported"));
    assert_true(report_has(
        f->report, "t.yaml:4:5: error: invalid environment variable name in '${env:1BAD}'"));
    assert_true(report_has(f->report, "t.yaml:5:8: error: invalid expansion '${env:A:B}'"));
    assert_true(report_has(f->report, "t.yaml:6:4: error: unterminated '${' (missing '}')"));
    /* an escape makes source and value widths differ: the scalar's start is reported */
    assert_true(report_has(f->report, "t.yaml:7:4: error: unterminated '${'"));
    assert_int_equal(pg_config_report_errors(f->report), 6);
}

static void test_env_function(void **state)
{
    fixture *f = *state;
    char *out = NULL, msg[256];
    size_t off = 99;
    int expanded = -1;
    setenv("PG_T_V", "v", 1);
    assert_int_equal(
        pg_config_expand_env(f->arena, "plain", 5, &out, &expanded, &off, msg, sizeof(msg)), 0);
    assert_string_equal(out, "plain");
    assert_int_equal(expanded, 0);
    assert_int_equal(pg_config_expand_env(f->arena, "${env:PG_T_V}${env:PG_T_V}", 26, &out,
                                          &expanded, &off, msg, sizeof(msg)),
                     0);
    assert_string_equal(out, "vv");
    assert_int_equal(expanded, 1);
    assert_int_equal(
        pg_config_expand_env(f->arena, "ok ${}", 6, &out, &expanded, &off, msg, sizeof(msg)),
        PG_ERR_INVALID);
    assert_int_equal(off, 3);
    /* a default with special characters is taken literally */
    assert_int_equal(pg_config_expand_env(f->arena, "${env:PG_T_NOPE:-a:b$c}", 23, &out, &expanded,
                                          &off, msg, sizeof(msg)),
                     0);
    assert_string_equal(out, "a:b$c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_indentation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiple_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_expansion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_errors_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_function, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
