/* Receiver authentication (receivers/common/auth): Authorization parsing,
 * tenant conflicts, the files it reads, counting, and the config checks
 * through the real loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "config/config.h"
#include "receivers/common/auth.h"
#include "telemetry/metrics.h"
#include "test_config_util.h"

static char *tok_keys[] = {"tok-a", "tok-b"};
static char *tok_values[] = {"tenant-a", "tenant-b"};

typedef struct fixture {
    pg_auth_user users[2];
    pg_auth_config cfg;
    pg_auth *auth;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->users[0] = (pg_auth_user){.elem.key = "alice", .password = "s3cret:x", .tenant = "tenant-a"};
    f->users[1] = (pg_auth_user){.elem.key = "bob", .password = "hunter2", .tenant = "tenant-b"};
    f->cfg.present = 1;
    f->cfg.bearer_tokens = (pg_str_map){tok_keys, tok_values, 2};
    f->cfg.basic = (pg_cfg_list){f->users, 2};
    pg_error err = {0};
    assert_int_equal(pg_auth_new(&f->cfg, "pyroscope", &f->auth, &err), PG_OK);
    assert_non_null(f->auth);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pg_auth_free(f->auth);
    free(f);
    return 0;
}

/* "Basic " + base64(plain) in buf. */
static const char *basic(char *buf, const char *plain)
{
    strcpy(buf, "Basic ");
    EVP_EncodeBlock((unsigned char *)buf + 6, (const unsigned char *)plain, (int)strlen(plain));
    return buf;
}

static void expect(const pg_auth *a, const char *authz, const char *org, pg_auth_status st,
                   const char *tenant_or_message)
{
    pg_auth_result r;
    pg_auth_status got = pg_auth_check(a, authz, org, &r);
    if (got != st || r.status != st)
        fail_msg("'%s': status %d, want %d (%s)", authz ? authz : "(null)", got, st, r.message);
    if (st == PG_AUTH_OK)
        assert_string_equal(r.auth_tenant, tenant_or_message);
    else
        assert_string_equal(r.message, tenant_or_message);
    assert_string_equal(r.header_tenant, org ? org : "");
}

static void test_bearer(void **state)
{
    fixture *f = *state;
    expect(f->auth, "Bearer tok-a", NULL, PG_AUTH_OK, "tenant-a");
    expect(f->auth, "bearer tok-b", NULL, PG_AUTH_OK, "tenant-b");
    expect(f->auth, "BEARER \t tok-a  ", NULL, PG_AUTH_OK, "tenant-a");
    expect(f->auth, "Bearer tok-c", NULL, PG_AUTH_UNAUTHENTICATED, "unknown bearer token");
    expect(f->auth, "Bearer tok-a tok-b", NULL, PG_AUTH_UNAUTHENTICATED, "unknown bearer token");
    expect(f->auth, "Bearer tok", NULL, PG_AUTH_UNAUTHENTICATED, "unknown bearer token");
    expect(f->auth, "Bearer", NULL, PG_AUTH_UNAUTHENTICATED,
           "Authorization header has no credentials after 'Bearer'");
    expect(f->auth, "Bearer   ", NULL, PG_AUTH_UNAUTHENTICATED,
           "Authorization header has no credentials after 'Bearer'");
}

static void test_basic(void **state)
{
    fixture *f = *state;
    char buf[256];
    /* the password may hold ':'; only the first one separates */
    expect(f->auth, basic(buf, "alice:s3cret:x"), NULL, PG_AUTH_OK, "tenant-a");
    expect(f->auth, basic(buf, "bob:hunter2"), NULL, PG_AUTH_OK, "tenant-b");
    buf[0] = 'b'; /* scheme case does not matter */
    expect(f->auth, buf, NULL, PG_AUTH_OK, "tenant-b");
    expect(f->auth, basic(buf, "bob:hunter3"), NULL, PG_AUTH_UNAUTHENTICATED,
           "wrong password for user bob");
    expect(f->auth, basic(buf, "bob:"), NULL, PG_AUTH_UNAUTHENTICATED,
           "wrong password for user bob");
    expect(f->auth, basic(buf, "alice:hunter2"), NULL, PG_AUTH_UNAUTHENTICATED,
           "wrong password for user alice");
    expect(f->auth, basic(buf, "carol:hunter2"), NULL, PG_AUTH_UNAUTHENTICATED,
           "unknown user 'carol'");
    expect(f->auth, basic(buf, "alice"), NULL, PG_AUTH_UNAUTHENTICATED,
           "malformed Basic credentials: no ':' between user and password");
    expect(f->auth, basic(buf, "ali\x01:x"), NULL, PG_AUTH_UNAUTHENTICATED, "unknown user 'ali?'");
}

static void test_basic_malformed(void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {
        "Basic YWxpY2U6czNjcmV0Ong",   /* length not a multiple of 4 */
        "Basic YWxp!2U6czNjcmV0Ong=",  /* not in the alphabet */
        "Basic YWxpY2U6czNjcmV0Ong=x", /* data after padding */
        "Basic ====",
        "Basic YW=pY2U6",
        "Basic YWxpY2U6czNjcmV0Ong-_", /* URL-safe alphabet is not Basic's */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect(f->auth, bad[i], NULL, PG_AUTH_UNAUTHENTICATED,
               "malformed Basic credentials: not valid base64");
    char *huge = malloc(8200);
    memcpy(huge, "Basic ", 6);
    memset(huge + 6, 'A', 8192);
    huge[8198] = '\0';
    expect(f->auth, huge, NULL, PG_AUTH_UNAUTHENTICATED, "malformed Basic credentials: too long");
    free(huge);
}

static void test_other_schemes(void **state)
{
    fixture *f = *state;
    expect(f->auth, NULL, NULL, PG_AUTH_UNAUTHENTICATED, "missing Authorization header");
    expect(f->auth, "", NULL, PG_AUTH_UNAUTHENTICATED, "empty Authorization header");
    expect(f->auth, "   ", NULL, PG_AUTH_UNAUTHENTICATED, "empty Authorization header");
    expect(f->auth, "Digest username=alice", NULL, PG_AUTH_UNAUTHENTICATED,
           "unsupported Authorization scheme 'Digest' (use Bearer or Basic)");
    expect(f->auth, "tok-a", NULL, PG_AUTH_UNAUTHENTICATED,
           "unsupported Authorization scheme 'tok-a' (use Bearer or Basic)");
    expect(f->auth, "Bearertok-a", NULL, PG_AUTH_UNAUTHENTICATED,
           "unsupported Authorization scheme 'Bearertok-a' (use Bearer or Basic)");
}

static void test_only_one_kind(void **state)
{
    (void)state;
    pg_auth_config c = {.present = 1, .bearer_tokens = {tok_keys, tok_values, 2}};
    pg_auth *a = NULL;
    pg_error err = {0};
    assert_int_equal(pg_auth_new(&c, "only-bearer", &a, &err), PG_OK);
    char buf[64];
    expect(a, basic(buf, "alice:s3cret:x"), NULL, PG_AUTH_UNAUTHENTICATED,
           "basic credentials are not accepted here (use a Bearer token)");
    pg_auth_free(a);

    pg_auth_user u = {.elem.key = "alice", .password = "pw", .tenant = "t"};
    pg_auth_config c2 = {.present = 1, .basic = {&u, 1}};
    assert_int_equal(pg_auth_new(&c2, "only-basic", &a, &err), PG_OK);
    expect(a, "Bearer tok-a", NULL, PG_AUTH_UNAUTHENTICATED,
           "bearer tokens are not accepted here (use Basic credentials)");
    expect(a, basic(buf, "alice:pw"), NULL, PG_AUTH_OK, "t");
    pg_auth_free(a);
}

static void test_tenant_conflict(void **state)
{
    fixture *f = *state;
    char buf[64];
    expect(f->auth, "Bearer tok-a", "tenant-a", PG_AUTH_OK, "tenant-a");
    expect(f->auth, "Bearer tok-a", "", PG_AUTH_OK, "tenant-a");
    expect(f->auth, "Bearer tok-a", "tenant-b", PG_AUTH_PERMISSION_DENIED,
           "credential of tenant tenant-a cannot write as tenant tenant-b");
    expect(f->auth, basic(buf, "bob:hunter2"), "tenant-a", PG_AUTH_PERMISSION_DENIED,
           "credential of tenant tenant-b cannot write as tenant tenant-a");
    /* bad credentials are reported as such, whatever the header says */
    expect(f->auth, "Bearer nope", "tenant-a", PG_AUTH_UNAUTHENTICATED, "unknown bearer token");
    pg_auth_result r;
    pg_auth_check(f->auth, "Bearer nope", "tenant-a", &r);
    assert_string_equal(r.auth_tenant, "");
}

static void test_no_auth(void **state)
{
    (void)state;
    pg_auth_config absent = {0};
    pg_auth *a = (pg_auth *)1;
    pg_error err = {0};
    assert_int_equal(pg_auth_new(&absent, "x", &a, &err), PG_OK);
    assert_null(a);
    expect(NULL, NULL, "tenant-z", PG_AUTH_OK, "");
    expect(NULL, "Bearer whatever", NULL, PG_AUTH_OK, "");
    assert_int_equal(pg_auth_http_status(PG_AUTH_UNAUTHENTICATED), 401);
    assert_int_equal(pg_auth_http_status(PG_AUTH_PERMISSION_DENIED), 403);
    assert_int_equal(pg_auth_grpc_status(PG_AUTH_UNAUTHENTICATED), PG_GRPC_UNAUTHENTICATED);
    assert_int_equal(pg_auth_grpc_status(PG_AUTH_PERMISSION_DENIED), PG_GRPC_PERMISSION_DENIED);
}

static const char *write_tmp(char *path, const char *content)
{
    strcpy(path, "/tmp/pg-auth-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

static void test_files(void **state)
{
    (void)state;
    char pwf[64], tokf[64];
    write_tmp(pwf, " from-file \r\n");
    write_tmp(tokf, "# tokens\n\n  tf-1   tenant-x\r\ntf-2\ttenant-y # comment-less\n");
    pg_auth_user u = {.elem.key = "carol", .password_file = pwf, .tenant = "tenant-c"};
    pg_auth_config c = {.present = 1, .bearer_tokens_file = tokf, .basic = {&u, 1}};
    pg_auth *a = NULL;
    pg_error err = {0};
    /* a third field is an error, with the file and line */
    assert_int_equal(pg_auth_new(&c, "files", &a, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, ":4: expected '<token> <tenant>' (4 fields)"));
    assert_null(a);
    write_tmp(tokf, "# tokens\n\n  tf-1   tenant-x\r\ntf-2\ttenant-y\n");
    assert_int_equal(pg_auth_new(&c, "files", &a, &err), PG_OK);
    char buf[64];
    expect(a, "Bearer tf-1", NULL, PG_AUTH_OK, "tenant-x");
    expect(a, "Bearer tf-2", NULL, PG_AUTH_OK, "tenant-y");
    expect(a, "Bearer tenant-x", NULL, PG_AUTH_UNAUTHENTICATED, "unknown bearer token");
    expect(a, basic(buf, "carol:from-file"), NULL, PG_AUTH_OK, "tenant-c");
    expect(a, basic(buf, "carol:from-file\n"), NULL, PG_AUTH_UNAUTHENTICATED,
           "wrong password for user carol");
    pg_auth_free(a);

    /* the same token in the map and the file */
    write_tmp(tokf, "tok-a other\n");
    pg_auth_config dup = {
        .present = 1, .bearer_tokens = {tok_keys, tok_values, 2}, .bearer_tokens_file = tokf};
    assert_int_equal(pg_auth_new(&dup, "dup", &a, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "a bearer token is listed twice"));
    assert_null(strstr(err.msg, "tok-a")); /* never echoes a secret */

    pg_auth_user missing = {.elem.key = "dave", .password_file = "/nonexistent/pw", .tenant = "t"};
    pg_auth_config c3 = {.present = 1, .basic = {&missing, 1}};
    assert_int_equal(pg_auth_new(&c3, "missing", &a, &err), PG_ERR_IO);
    assert_non_null(strstr(err.msg, "auth.basic.dave.password_file: cannot open /nonexistent/pw"));

    write_tmp(pwf, "\n");
    assert_int_equal(pg_auth_new(&c, "empty", &a, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "auth.basic.carol: empty password"));
    write_tmp(tokf, "# nothing\n");
    pg_auth_config c4 = {.present = 1, .bearer_tokens_file = tokf};
    assert_int_equal(pg_auth_new(&c4, "empty", &a, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "holds no token"));
    unlink(pwf);
    unlink(tokf);
}

static void test_request_counts(void **state)
{
    fixture *f = *state;
    pg_http_header hs[2] = {{"authorization", "Bearer tok-a"}, {"x-scope-orgid", "tenant-b"}};
    pg_http_request req = {.method = "POST", .path = "/ingest", .headers = hs, .n_headers = 2};
    pg_metric *denied = pg_metric_find("profgate_receiver_refused_requests_total",
                                       "receiver=\"pyroscope\",reason=\"permission_denied\"");
    pg_metric *unauth = pg_metric_find("profgate_receiver_refused_requests_total",
                                       "receiver=\"pyroscope\",reason=\"unauthenticated\"");
    assert_non_null(denied);
    assert_non_null(unauth);
    int64_t d0 = pg_metric_value(denied), u0 = pg_metric_value(unauth);
    pg_auth_result r;
    assert_int_equal(pg_auth_check_request(f->auth, &req, &r), PG_AUTH_PERMISSION_DENIED);
    req.n_headers = 1;
    assert_int_equal(pg_auth_check_request(f->auth, &req, &r), PG_AUTH_OK);
    assert_string_equal(r.auth_tenant, "tenant-a");
    req.n_headers = 0;
    assert_int_equal(pg_auth_check_request(f->auth, &req, &r), PG_AUTH_UNAUTHENTICATED);
    assert_int_equal(pg_auth_check_request(f->auth, &req, &r), PG_AUTH_UNAUTHENTICATED);
    assert_int_equal(pg_metric_value(denied) - d0, 1);
    assert_int_equal(pg_metric_value(unauth) - u0, 2);
}

static char *load(const char *receivers, const char *processors)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "receivers:\n%s"
             "processors:\n%s"
             "exporters:\n  debug: {}\n"
             "service:\n  pipelines:\n    profiles:\n"
             "      receivers: [pyroscope]\n      processors: [tenant]\n"
             "      exporters: [debug]\n",
             receivers, processors);
    pg_config_report *r = pg_config_report_new();
    pg_config *cfg = NULL;
    pg_config_load_string("c.yaml", yaml, strlen(yaml), &cfg, r);
    char *text = report_text(r);
    pg_config_report_free(r);
    pg_config_free(cfg);
    return text;
}

static void test_config(void **state)
{
    (void)state;
    static const char tenant[] = "  tenant: {from: [auth, header], default: anonymous}\n";
    char *t = load("  pyroscope:\n    auth:\n"
                   "      bearer_tokens: {tok-a: tenant-a, tok-b: tenant-b}\n"
                   "      basic: {alice: {password: pw, tenant: tenant-a}}\n",
                   tenant);
    assert_string_equal(t, "");
    free(t);
    t = load("  pyroscope:\n    auth:\n", tenant);
    assert_non_null(strstr(t, "c.yaml:3:10: error: auth needs at least one credential"));
    free(t);
    t = load("  pyroscope:\n    auth:\n"
             "      bearer_tokens: {tok-a: '', 'a b': t}\n"
             "      basic: {bob: {tenant: ''}}\n",
             tenant);
    assert_true(strstr(t, "c.yaml:4:30: error: auth.bearer_tokens: token #1 maps to an empty "
                          "tenant"));
    assert_true(strstr(t, "c.yaml:4:41: error: auth.bearer_tokens: token #2 contains whitespace"));
    assert_true(strstr(t, "c.yaml:5:20: error: auth.basic.bob: set exactly one of password and "
                          "password_file"));
    assert_true(strstr(t, "c.yaml:5:20: error: auth.basic.bob: empty tenant"));
    assert_null(strstr(t, "tok-a")); /* a token is a secret: messages count, never quote */
    free(t);
    t = load("  pyroscope:\n    auth:\n      basic: {alice: {password: pw}}\n", tenant);
    assert_true(strstr(t, "error: missing required key 'auth.basic.alice.tenant'"));
    free(t);
    t = load("  pyroscope:\n    auth: {bearer_tokens: [a]}\n", tenant);
    assert_non_null(strstr(t, "auth.bearer_tokens: expected a map of strings"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bearer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_schemes, setup, teardown),
        cmocka_unit_test(test_only_one_kind),
        cmocka_unit_test_setup_teardown(test_tenant_conflict, setup, teardown),
        cmocka_unit_test(test_no_auth),
        cmocka_unit_test(test_files),
        cmocka_unit_test_setup_teardown(test_request_counts, setup, teardown),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
