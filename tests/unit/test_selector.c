/* Label selectors: the syntax Prometheus and Pyroscope write, errors with
 * offsets, and matching (absent = "", __tenant__, regex anchoring, limits). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "processors/common/selector.h"

static pg_selector *parse(const char *text)
{
    pg_selector *s = NULL;
    pg_error err;
    pg_error_clear(&err);
    if (pg_selector_parse(text, &s, &err) != PG_OK)
        fail_msg("parsing %s: %s", text, err.msg);
    return s;
}

/* The parse error for text (which must not parse). */
static const char *parse_error(const char *text)
{
    static pg_error err;
    pg_selector *s = (pg_selector *)1;
    pg_error_clear(&err);
    int rc = pg_selector_parse(text, &s, &err);
    if (rc == PG_OK)
        fail_msg("'%s' parsed but should not", text);
    assert_int_equal(rc, PG_ERR_INVALID);
    assert_null(s);
    return err.msg;
}

static void assert_error(const char *text, const char *expected)
{
    const char *msg = parse_error(text);
    if (!strstr(msg, expected))
        fail_msg("error for %s is '%s', expected it to contain '%s'", text, msg, expected);
}

typedef struct fixture {
    pg_batch *b;
    pg_payload *payload;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->b = pg_batch_new();
    f->payload = pg_payload_new(PG_PAYLOAD_PPROF, malloc(1), 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pg_batch_free(f->b);
    pg_payload_unref(f->payload);
    free(f);
    return 0;
}

/* A profile with labels given as "name", "value", ..., NULL and a tenant. */
static pg_profile *profile(fixture *f, const char *tenant, ...)
{
    pg_profile *p = pg_batch_add(f->b, f->payload);
    assert_non_null(p);
    assert_int_equal(pg_profile_set_tenant(f->b, p, tenant), PG_OK);
    va_list ap;
    va_start(ap, tenant);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL)
        assert_int_equal(pg_profile_set_label(f->b, p, name, va_arg(ap, const char *)), PG_OK);
    va_end(ap);
    return p;
}

static int sel_matches(const char *text, const pg_profile *p)
{
    pg_selector *s = parse(text);
    int m = pg_selector_match(s, p);
    pg_selector_free(s);
    return m;
}

static void test_syntax(void **state)
{
    fixture *f = *state;
    pg_profile *p = profile(f, "t1", "service_name", "api-1", "__name__", "cpu", "env", "prod",
                            "service.namespace", "shop", NULL);
    assert_true(sel_matches("{}", p));
    assert_true(sel_matches("  { }  ", p));
    assert_true(sel_matches("{service_name=\"api-1\"}", p));
    assert_true(sel_matches("{ service_name = \"api-1\" , env=\"prod\", }", p));
    assert_true(sel_matches("{service_name='api-1'}", p));
    assert_true(sel_matches("{service_name=`api-1`}", p));
    assert_true(sel_matches("{\n  env=\"prod\",\n  __name__=\"cpu\"\n}", p));
    /* dots in bare names, and quoted UTF-8 names */
    assert_true(sel_matches("{service.namespace=\"shop\"}", p));
    assert_true(sel_matches("{\"service.namespace\"=\"shop\"}", p));
    assert_false(sel_matches("{\"service.namespace\"=\"shop2\"}", p));
    /* all matchers must hold */
    assert_false(sel_matches("{service_name=\"api-1\", env=\"dev\"}", p));

    pg_selector *s = parse(" {env=\"prod\"} ");
    assert_string_equal(pg_selector_text(s), " {env=\"prod\"} ");
    pg_selector_free(s);
}

static void test_escapes(void **state)
{
    fixture *f = *state;
    pg_profile *p = profile(f, "", "q", "say \"hi\"\\", "nl", "a\nb", "u",
                            "caf\xc3\xa9 \xe2\x82\xac", "x", "A\tB", "raw", "a\\nb", NULL);
    assert_true(sel_matches("{q=\"say \\\"hi\\\"\\\\\"}", p));
    assert_true(sel_matches("{q='say \"hi\"\\\\'}", p));
    assert_true(sel_matches("{nl=\"a\\nb\"}", p));
    assert_true(sel_matches("{u=\"caf\\u00e9 \\u20ac\"}", p));
    assert_true(sel_matches("{u=\"caf\\U000000e9 \\xe2\\x82\\xac\"}", p));
    assert_true(sel_matches("{x=\"\\101\\tB\"}", p));
    /* back quotes are raw: no escapes */
    assert_true(sel_matches("{raw=`a\\nb`}", p));
    assert_false(sel_matches("{raw=\"a\\nb\"}", p));
    /* escapes reach regexes after unquoting, as in PromQL */
    assert_true(sel_matches("{nl=~\"a.b\"}", p));
    assert_true(sel_matches("{raw=~\"a\\\\\\\\nb\"}", p));
}

static void test_errors(void **state)
{
    (void)state;
    assert_error("{a=\"b}", "selector '{a=\"b}': unterminated string at offset 3");
    assert_error("", "expected '{' at offset 0");
    assert_error("a=\"b\"", "expected '{' at offset 0");
    assert_error("{a=\"b\"", "expected ',' or '}' at offset 6");
    assert_error("{a=\"b\" b=\"c\"}", "expected ',' or '}' at offset 7");
    assert_error("{", "expected a label name or '}' at offset 1");
    assert_error("{a}", "expected one of = != =~ !~ at offset 2");
    assert_error("{a==\"b\"}", "expected a quoted value at offset 3");
    assert_error("{a=b}", "expected a quoted value at offset 3");
    assert_error("{a=~\"b\"} x", "unexpected text after '}' at offset 9");
    assert_error("{a=\"b\"}}", "unexpected text after '}' at offset 7");
    assert_error("{1a=\"b\"}", "expected a label name at offset 1");
    assert_error("{,}", "expected a label name at offset 1");
    assert_error("{\"\"=\"b\"}", "empty label name at offset 1");
    assert_error("{a=\"\\q\"}", "unknown escape sequence at offset 4");
    assert_error("{a=\"\\x0\"}", "invalid escape digit at offset 7");
    assert_error("{a=\"\\x00\"}", "NUL character in string at offset 4");
    assert_error("{a=\"\\ud800\"}", "not a valid Unicode code point at offset 4");
    assert_error("{a=\"\\xff\"}", "not valid UTF-8 at offset 3");
    assert_error("{a=\"x\ny\"}", "newline in string at offset 5");
    assert_error("{a=\"\\", "unterminated string at offset 4");
    /* regexes are compiled at parse time; the message names the label */
    assert_error("{svc=~\"api-(\"}", "label svc: invalid regex 'api-('");
    assert_error("{svc=~\"api-(\"}", "the value starts at offset 6");
    assert_error("{svc!~\"[\"}", "label svc: invalid regex '['");
    /* a pattern that is only valid inside the anchoring wrapper is refused */
    assert_error("{svc=~\"x)|(.*\"}", "label svc: invalid regex 'x)|(.*'");
}

static void test_absent_and_ops(void **state)
{
    fixture *f = *state;
    pg_profile *p = profile(f, "", "service_name", "api-1", "empty", "", NULL);
    /* absent labels compare as "" */
    assert_true(sel_matches("{env=\"\"}", p));
    assert_true(sel_matches("{env!~\".+\"}", p));
    assert_false(sel_matches("{env=~\".+\"}", p));
    assert_true(sel_matches("{env!=\"prod\"}", p));
    assert_false(sel_matches("{env=\"prod\"}", p));
    assert_true(sel_matches("{empty=\"\"}", p));
    /* regexes are fully anchored */
    assert_true(sel_matches("{service_name=~\"api-.*\"}", p));
    assert_false(sel_matches("{service_name=~\"api\"}", p));
    assert_false(sel_matches("{service_name=~\"pi-1\"}", p));
    assert_true(sel_matches("{service_name!~\"api\"}", p));
    assert_false(sel_matches("{service_name!~\"api-\\\\d\"}", p));
    assert_true(sel_matches("{service_name=~\"web|api-1\"}", p));
    assert_false(sel_matches("{service_name!=\"api-1\"}", p));
}

static void test_tenant(void **state)
{
    fixture *f = *state;
    pg_profile *a = profile(f, "tenant-a", "service_name", "x", NULL);
    pg_profile *none = profile(f, "", "service_name", "x", NULL);
    assert_true(sel_matches("{__tenant__=\"tenant-a\"}", a));
    assert_true(sel_matches("{__tenant__=~\"tenant-.*\"}", a));
    assert_false(sel_matches("{__tenant__=\"tenant-b\"}", a));
    assert_false(sel_matches("{__tenant__=\"tenant-a\"}", none));
    assert_true(sel_matches("{__tenant__=\"\"}", none));
    assert_false(sel_matches("{__tenant__=\"\"}", a));
    /* a label literally called __tenant__ is never consulted */
    pg_profile *c = profile(f, "real", NULL);
    c->labels = (pg_label[]){{"__tenant__", "fake"}};
    c->n_labels = 1;
    assert_true(sel_matches("{__tenant__=\"real\"}", c));
    c->n_labels = 0;
}

static void test_match_limit(void **state)
{
    fixture *f = *state;
    char value[80];
    memset(value, 'a', sizeof(value) - 2);
    value[sizeof(value) - 2] = 'b';
    value[sizeof(value) - 1] = '\0';
    pg_profile *p = profile(f, "", "v", value, NULL);
    /* a match that runs out of budget is not a match, for either operator */
    assert_false(sel_matches("{v=~\"(a+)+$\"}", p));
    assert_false(sel_matches("{v!~\"(a+)+$\"}", p));
    assert_true(sel_matches("{v!~\"a+\"}", p));
}

typedef struct kv {
    const char *const *pairs;
} kv;

static const char *kv_lookup(void *ud, const char *name)
{
    const kv *k = ud;
    for (size_t i = 0; k->pairs[i]; i += 2)
        if (strcmp(k->pairs[i], name) == 0)
            return k->pairs[i + 1];
    return NULL;
}

static void test_match_fn(void **state)
{
    (void)state;
    static const char *const pairs[] = {"__name__", "goroutine", "job", "x", NULL};
    kv k = {pairs};
    pg_selector *s = parse("{__name__=\"goroutine\", missing=\"\"}");
    assert_int_equal(pg_selector_match_fn(s, kv_lookup, &k), 1);
    pg_selector_free(s);
    s = parse("{job!=\"x\"}");
    assert_int_equal(pg_selector_match_fn(s, kv_lookup, &k), 0);
    pg_selector_free(s);
    pg_selector_free(NULL);
}

typedef struct thread_arg {
    const pg_selector *s;
    const pg_profile *yes, *no;
    int wrong;
} thread_arg;

static void *match_many(void *ud)
{
    thread_arg *a = ud;
    for (int i = 0; i < 2000; i++)
        a->wrong += pg_selector_match(a->s, a->yes) != 1 || pg_selector_match(a->s, a->no) != 0;
    return NULL;
}

static void test_threads(void **state)
{
    fixture *f = *state;
    const pg_profile *yes = profile(f, "t", "svc", "api-7", "env", "prod", NULL);
    const pg_profile *no = profile(f, "t", "svc", "web-7", "env", "prod", NULL);
    pg_selector *s = parse("{svc=~\"api-[0-9]+\", env!~\"dev|test\"}");
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){s, yes, no, 0};
        assert_int_equal(pthread_create(&th[i], NULL, match_many, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].wrong, 0);
    }
    pg_selector_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
        cmocka_unit_test(test_errors),
        cmocka_unit_test_setup_teardown(test_absent_and_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_limit, setup, teardown),
        cmocka_unit_test(test_match_fn),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
