/* The PCRE2 wrapper with Prometheus semantics: fully anchored, '.' across
 * newlines, \z rather than $, groups, errors and the match limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "processors/common/regex.h"

static pg_regex *compile(const char *pattern)
{
    pg_regex *re = NULL;
    pg_error err;
    pg_error_clear(&err);
    int rc = pg_regex_compile(pattern, &re, &err);
    if (rc != PG_OK)
        fail_msg("compiling '%s': %s", pattern, err.msg);
    return re;
}

static int matches(const char *pattern, const char *subject)
{
    pg_regex *re = compile(pattern);
    int rc = pg_regex_match(re, subject, strlen(subject), NULL);
    pg_regex_free(re);
    return rc;
}

static void test_anchoring(void **state)
{
    (void)state;
    assert_int_equal(matches("api", "api"), 1);
    assert_int_equal(matches("api", "api-1"), 0);
    assert_int_equal(matches("api", "my-api"), 0);
    assert_int_equal(matches("api-.*", "api-1"), 1);
    /* alternation is anchored as a whole, not only its first branch */
    assert_int_equal(matches("a|b", "ab"), 0);
    assert_int_equal(matches("a|b", "b"), 1);
    assert_int_equal(matches("foo|bar", "xbar"), 0);
    /* the empty pattern matches only the empty value */
    assert_int_equal(matches("", ""), 1);
    assert_int_equal(matches("", "x"), 0);
    assert_int_equal(matches(".*", ""), 1);
}

static void test_newlines(void **state)
{
    (void)state;
    /* (?s): '.' matches a newline, as in RE2 as Prometheus uses it */
    assert_int_equal(matches("a.b", "a\nb"), 1);
    assert_int_equal(matches(".*", "line1\nline2"), 1);
    /* \z, not $: a trailing newline is not swallowed */
    assert_int_equal(matches("abc", "abc\n"), 0);
    assert_int_equal(matches("abc$", "abc\n"), 0);
    assert_int_equal(matches("abc\\n", "abc\n"), 1);
    /* the user's own flags still work inside the group */
    assert_int_equal(matches("(?i)API", "api"), 1);
}

static void test_lengths_and_nul(void **state)
{
    (void)state;
    pg_regex *re = compile("ab");
    /* the length decides, not a NUL terminator */
    assert_int_equal(pg_regex_match(re, "abc", 2, NULL), 1);
    assert_int_equal(pg_regex_match(re, "abc", 3, NULL), 0);
    assert_int_equal(pg_regex_match(re, "ab\0", 3, NULL), 0);
    pg_regex_free(re);
    re = compile("x?");
    assert_int_equal(pg_regex_match(re, NULL, 0, NULL), 1);
    pg_regex_free(re);
}

static void test_groups(void **state)
{
    (void)state;
    pg_regex *re = compile("(?P<svc>[a-z]+)-(\\d+)(-(x))?");
    assert_int_equal(pg_regex_capture_count(re), 4);
    assert_int_equal(pg_regex_group_number(re, "svc", 3), 1);
    assert_int_equal(pg_regex_group_number(re, "svcx", 3), 1); /* length decides */
    assert_int_equal(pg_regex_group_number(re, "nope", 4), -1);
    assert_int_equal(pg_regex_group_number(re, "", 0), -1);
    pg_regex_groups g;
    const char *s = "api-42";
    assert_int_equal(pg_regex_match(re, s, strlen(s), &g), 1);
    assert_int_equal(g.count, 5);
    assert_int_equal(g.offsets[0], 0);
    assert_int_equal(g.offsets[1], 6);
    assert_int_equal(g.offsets[2], 0);
    assert_int_equal(g.offsets[3], 3);
    assert_int_equal(g.offsets[4], 4);
    assert_int_equal(g.offsets[5], 6);
    /* groups that took no part are unset, and so is every slot past count */
    assert_true(g.offsets[6] == PG_REGEX_UNSET && g.offsets[7] == PG_REGEX_UNSET);
    assert_true(g.offsets[8] == PG_REGEX_UNSET && g.offsets[9] == PG_REGEX_UNSET);
    assert_true(g.offsets[10] == PG_REGEX_UNSET);
    assert_string_equal(pg_regex_pattern(re), "(?P<svc>[a-z]+)-(\\d+)(-(x))?");
    pg_regex_free(re);

    re = compile("(?<n>a)");
    assert_int_equal(pg_regex_group_number(re, "n", 1), 1);
    pg_regex_free(re);
}

static void test_invalid(void **state)
{
    (void)state;
    pg_regex *re = (pg_regex *)1;
    pg_error err;
    pg_error_clear(&err);
    assert_int_equal(pg_regex_compile("a(b", &re, &err), PG_ERR_INVALID);
    assert_null(re);
    assert_non_null(strstr(err.msg, "invalid regex 'a(b'"));
    assert_non_null(strstr(err.msg, "missing closing parenthesis"));
    /* the offset is in the user's pattern (the end of it here), not the prefix's */
    assert_non_null(strstr(err.msg, "at offset 3"));

    pg_error_clear(&err);
    assert_int_equal(pg_regex_compile("ab[", &re, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "at offset 3"));
    pg_error_clear(&err);
    assert_int_equal(pg_regex_compile("*a", &re, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "at offset 0"));
    /* a pattern that would close a wrapping group is invalid, not "^a or b$" */
    pg_error_clear(&err);
    assert_int_equal(pg_regex_compile("a)|(b", &re, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "at offset 1"));
    /* an alternation is anchored as a whole */
    assert_int_equal(pg_regex_compile("a|b", &re, &err), PG_OK);
    assert_int_equal(pg_regex_match(re, "ab", 2, NULL), 0);
    assert_int_equal(pg_regex_match(re, "b", 1, NULL), 1);
    pg_regex_free(re);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_match_limit(void **state)
{
    (void)state;
    size_t n = 64;
    char *subject = malloc(n + 2);
    memset(subject, 'a', n);
    subject[n] = 'b';
    subject[n + 1] = '\0';
    pg_regex *re = compile("(a+)+$");
    double t0 = now_s();
    assert_int_equal(pg_regex_match(re, subject, n + 1, NULL), PG_ERR_LIMIT);
    /* fails fast rather than backtracking for ages (generous for ASan) */
    assert_true(now_s() - t0 < 5.0);
    /* the same pattern on a value it matches is fine */
    subject[n] = '\0';
    assert_int_equal(pg_regex_match(re, subject, n, NULL), 1);
    pg_regex_free(re);
    free(subject);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anchoring),       cmocka_unit_test(test_newlines),
        cmocka_unit_test(test_lengths_and_nul), cmocka_unit_test(test_groups),
        cmocka_unit_test(test_invalid),         cmocka_unit_test(test_match_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
