/* The `name` parameter of Pyroscope's /ingest: app name and labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "receivers/pyroscope/labelset.h"

/* Parses s from a heap copy with no terminating NUL, so that ASan catches
 * any read past the given length. */
static int parse_exact(pg_arena *a, const char *s, size_t len, pg_pyro_labelset *out, pg_error *err)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, s, len);
    int rc = pg_pyro_labelset_parse(a, copy, len, out, err);
    free(copy);
    return rc;
}

static int parse(pg_arena *a, const char *s, pg_pyro_labelset *out, pg_error *err)
{
    return parse_exact(a, s, strlen(s), out, err);
}

static void expect_error(const char *name, int code, const char *msg)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    assert_int_equal(parse(a, name, &ls, &err), code);
    assert_string_equal(err.msg, msg);
    pg_arena_free(a);
}

static void expect_labels(const pg_pyro_labelset *ls, const char *app, const char *const *kv,
                          size_t n)
{
    assert_string_equal(ls->app_name, app);
    assert_int_equal(ls->n_labels, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ls->labels[i].name, kv[2 * i]);
        assert_string_equal(ls->labels[i].value, kv[2 * i + 1]);
    }
}

static void test_app_only(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    assert_int_equal(parse(a, "myapp", &ls, &err), PG_OK);
    expect_labels(&ls, "myapp", NULL, 0);
    assert_int_equal(parse(a, "  my.app-1/sub_x.cpu \t", &ls, &err), PG_OK);
    expect_labels(&ls, "my.app-1/sub_x.cpu", NULL, 0);
    assert_int_equal(parse(a, "app{}", &ls, &err), PG_OK);
    expect_labels(&ls, "app", NULL, 0);
    pg_arena_free(a);
}

static void test_labels_in_order(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    assert_int_equal(parse(a, "app{zone=b,env=test,a.b_c=1}", &ls, &err), PG_OK);
    const char *const want[] = {"zone", "b", "env", "test", "a.b_c", "1"};
    expect_labels(&ls, "app", want, 3);

    /* values keep inner spaces and '=', both sides are trimmed */
    assert_int_equal(parse(a, " app { k = v with = and spaces , k2=x=y }", &ls, &err), PG_OK);
    const char *const want2[] = {"k", "v with = and spaces", "k2", "x=y"};
    expect_labels(&ls, "app", want2, 2);

    /* a trailing comma, and text after the closing brace, are accepted */
    assert_int_equal(parse(a, "app{a=1,}", &ls, &err), PG_OK);
    const char *const want3[] = {"a", "1"};
    expect_labels(&ls, "app", want3, 1);
    assert_int_equal(parse(a, "app{a=1}{b=2} junk", &ls, &err), PG_OK);
    expect_labels(&ls, "app", want3, 1);

    /* __name__ is an ordinary key here; UTF-8 values are fine */
    assert_int_equal(parse(a, "app{__name__=memory,city=Z\xc3\xbcrich}", &ls, &err), PG_OK);
    const char *const want4[] = {"__name__", "memory", "city", "Z\xc3\xbcrich"};
    expect_labels(&ls, "app", want4, 2);
    pg_arena_free(a);
}

static void test_empty_values_dropped(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    assert_int_equal(parse(a, "app{a=,b=2,c=  }", &ls, &err), PG_OK);
    const char *const want[] = {"b", "2"};
    expect_labels(&ls, "app", want, 1);
    assert_int_equal(parse(a, "app{a=}", &ls, &err), PG_OK);
    expect_labels(&ls, "app", NULL, 0);
    assert_null(ls.labels);
    pg_arena_free(a);
}

/* The name pyroscope-go builds: its own tags, keys sorted, no escaping. */
static void test_pyroscope_go_name(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    const char *name = "simple.golang.app{__session_id__=6f2a9b1c0d3e4f57,env=prod,"
                       "otel.scope.name=com.grafana.pyroscope/go,process.runtime.name=go,"
                       "process.runtime.version=go1.19.8}";
    assert_int_equal(parse(a, name, &ls, &err), PG_OK);
    const char *const want[] = {"__session_id__",
                                "6f2a9b1c0d3e4f57",
                                "env",
                                "prod",
                                "otel.scope.name",
                                "com.grafana.pyroscope/go",
                                "process.runtime.name",
                                "go",
                                "process.runtime.version",
                                "go1.19.8"};
    expect_labels(&ls, "simple.golang.app", want, 5);
    pg_arena_free(a);
}

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* The URL-decoded `name` query parameter of a captured request line. */
static char *captured_name(const char *file)
{
    const char *shared = getenv("PG_SHARED_DIR");
    char path[1024], line[4096];
    snprintf(path, sizeof(path), "%s/fixtures/captured/%s", shared ? shared : "../shared", file);
    FILE *f = fopen(path, "rb");
    if (!f || !fgets(line, sizeof(line), f))
        fail_msg("cannot read %s", path);
    fclose(f);
    char *p = strstr(line, "name=");
    assert_non_null(p);
    p += 5;
    char *out = calloc(1, strlen(p) + 1), *o = out;
    for (; *p && *p != '&' && *p != ' '; p++) {
        if (*p == '%' && p[1] && p[2]) {
            *o++ = (char)(hex(p[1]) * 16 + hex(p[2]));
            p += 2;
        } else {
            *o++ = *p == '+' ? ' ' : *p;
        }
    }
    return out;
}

static void test_captured_node_names(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    char *name = captured_name("pyroscope-nodejs-0.4.13/ingest-001-heap.http");
    assert_int_equal(parse(a, name, &ls, &err), PG_OK);
    const char *const want[] = {"env", "test", "region", "local"};
    expect_labels(&ls, "capture-node-app", want, 2);
    free(name);

    name = captured_name("pyroscope-nodejs-0.6.4/ingest-001-wall.http");
    assert_int_equal(parse(a, name, &ls, &err), PG_OK);
    assert_string_equal(ls.app_name, "capture-node-app");
    assert_int_equal(ls.n_labels, 6);
    assert_string_equal(ls.labels[0].name, "otel.scope.name");
    assert_string_equal(ls.labels[0].value, "com.grafana.pyroscope/nodejs");
    assert_string_equal(ls.labels[2].name, "process.runtime.name");
    assert_string_equal(ls.labels[2].value, "nodejs");
    assert_string_equal(ls.labels[4].name, "env");
    assert_string_equal(ls.labels[5].name, "region");
    assert_string_equal(ls.labels[5].value, "local");
    free(name);
    pg_arena_free(a);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", PG_ERR_INVALID, "empty application name");
    expect_error("  {a=b}", PG_ERR_INVALID, "empty application name");
    expect_error("my app", PG_ERR_INVALID, "invalid application name 'my app'");
    expect_error("app:x{a=b}", PG_ERR_INVALID, "invalid application name 'app:x'");
    expect_error("app{a}", PG_ERR_INVALID, "label 'a' has no '='");
    expect_error("app{a=1,b}", PG_ERR_INVALID, "label 'b' has no '='");
    expect_error("app{a=1", PG_ERR_INVALID, "missing closing '}' in name 'app{a=1'");
    expect_error("app{", PG_ERR_INVALID, "missing closing '}' in name 'app{'");
    expect_error("app{a=1,a=2}", PG_ERR_INVALID, "duplicate label key 'a'");
    expect_error("app{a=,a=2}", PG_ERR_INVALID, "duplicate label key 'a'");
    expect_error("app{a-b=1}", PG_ERR_INVALID, "invalid label key 'a-b'");
    expect_error("app{=1}", PG_ERR_INVALID, "invalid label key ''");
    expect_error("app{a=1,,b=2}", PG_ERR_INVALID, "empty label pair in name 'app{a=1,,b=2}'");
    expect_error("app{a=\xff\xfe}", PG_ERR_INVALID, "value of label 'a' is not valid UTF-8");
    /* offending values are quoted up to 64 bytes */
    char longname[200];
    memset(longname, 'x', sizeof(longname));
    longname[100] = ' ';
    longname[199] = '\0';
    char want[128];
    snprintf(want, sizeof(want), "invalid application name '%.64s'", longname);
    expect_error(longname, PG_ERR_INVALID, want);
}

static void test_nul_in_value(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    static const char name[] = "app{a=x\0y}";
    assert_int_equal(parse_exact(a, name, sizeof(name) - 1, &ls, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, "value of label 'a' is not valid UTF-8");
    pg_arena_free(a);
}

static void test_label_limit(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    char buf[4096];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "app{");
    for (int i = 0; i < PG_PYRO_MAX_NAME_LABELS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "k%d=v%d,", i, i);
    snprintf(buf + n, sizeof(buf) - n, "}");
    assert_int_equal(parse(a, buf, &ls, &err), PG_OK);
    assert_int_equal(ls.n_labels, PG_PYRO_MAX_NAME_LABELS);
    assert_string_equal(ls.labels[63].name, "k63");
    assert_string_equal(ls.labels[63].value, "v63");
    snprintf(buf + n, sizeof(buf) - n, "one=more}");
    assert_int_equal(parse(a, buf, &ls, &err), PG_ERR_LIMIT);
    assert_string_equal(err.msg, "more than 64 labels in name");
    pg_arena_free(a);
}

/* The length bounds the input: bytes after it are never looked at. */
static void test_length_is_respected(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    assert_int_equal(parse_exact(a, "app{a=1}", 3, &ls, &err), PG_OK);
    expect_labels(&ls, "app", NULL, 0);
    assert_int_equal(parse_exact(a, "app{a=1}", 7, &ls, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, "missing closing '}' in name 'app{a=1'");
    assert_int_equal(parse_exact(a, "app{a=1}", 0, &ls, &err), PG_ERR_INVALID);
    pg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_app_only),
        cmocka_unit_test(test_labels_in_order),
        cmocka_unit_test(test_empty_values_dropped),
        cmocka_unit_test(test_pyroscope_go_name),
        cmocka_unit_test(test_captured_node_names),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_nul_in_value),
        cmocka_unit_test(test_label_limit),
        cmocka_unit_test(test_length_is_respected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
