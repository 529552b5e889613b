/* multipart/form-data: boundary extraction and body splitting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_fixture_util.h"

#include "receivers/pyroscope/multipart.h"

/* The Content-Type header value of a captured .http file. */
static char *content_type_of(const char *rel)
{
    size_t n;
    uint8_t *raw = pg_test_read_fixture(rel, &n);
    char *text = calloc(1, n + 1);
    memcpy(text, raw, n);
    free(raw);
    char *h = strcasestr(text, "\r\ncontent-type:");
    assert_non_null(h);
    h += strlen("\r\ncontent-type:");
    while (*h == ' ')
        h++;
    char *out = strndup(h, strcspn(h, "\r\n"));
    free(text);
    return out;
}

/* Parses from a heap copy of exactly len bytes so that ASan sees over-reads. */
static int parse(pg_arena *a, const void *body, size_t len, const char *boundary, size_t max,
                 pg_multipart_part **parts, size_t *n, pg_error *err)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, body, len);
    int rc = pg_multipart_parse(a, copy, len, boundary, max, parts, n, err);
    /* parts point into the body: keep only what the tests compare */
    for (size_t i = 0; rc == PG_OK && i < *n; i++)
        (*parts)[i].data =
            pg_arena_memdup(a, (*parts)[i].data, (*parts)[i].len ? (*parts)[i].len : 1);
    free(copy);
    return rc;
}

static void expect_part(const pg_multipart_part *p, const char *name, const char *filename,
                        const char *ctype, const void *data, size_t len)
{
    assert_string_equal(p->name, name);
    if (filename)
        assert_string_equal(p->filename, filename);
    else
        assert_null(p->filename);
    if (ctype)
        assert_string_equal(p->content_type, ctype);
    else
        assert_null(p->content_type);
    assert_int_equal(p->len, len);
    assert_memory_equal(p->data, data, len);
}

/* @pyroscope/nodejs 0.4.13 (undici FormData): the profile part equals the
 * captured profile file byte for byte. */
static void test_captured_node_bodies(void **state)
{
    (void)state;
    static const char *const files[] = {"ingest-001-heap", "ingest-002-wall", "ingest-003-wall",
                                        "ingest-004-heap", "ingest-005-wall"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char rel[256];
        size_t body_len, prof_len;
        snprintf(rel, sizeof(rel), "captured/pyroscope-nodejs-0.4.13/%s.http", files[i]);
        char *ct = content_type_of(rel);
        snprintf(rel, sizeof(rel), "captured/pyroscope-nodejs-0.4.13/%s.body", files[i]);
        uint8_t *body = pg_test_read_fixture(rel, &body_len);
        snprintf(rel, sizeof(rel), "captured/pyroscope-nodejs-0.4.13/%s.profile.pb.gz", files[i]);
        uint8_t *prof = pg_test_read_fixture(rel, &prof_len);

        pg_arena *a = pg_arena_new(0, 0);
        pg_error err = {0};
        const char *boundary = NULL;
        assert_int_equal(pg_multipart_boundary(a, ct, &boundary, &err), PG_OK);
        assert_int_equal(strncmp(boundary, "----formdata-undici-", 20), 0);
        pg_multipart_part *parts;
        size_t n;
        if (pg_multipart_parse(a, body, body_len, boundary, 8, &parts, &n, &err) != PG_OK)
            fail_msg("%s: %s", files[i], err.msg);
        assert_int_equal(n, 1);
        expect_part(&parts[0], "profile", "profile", "application/octet-stream", prof, prof_len);
        assert_true(parts[0].data > body && parts[0].data + parts[0].len < body + body_len);
        pg_arena_free(a);
        free(body);
        free(prof);
        free(ct);
    }
}

/* Written by Go's mime/multipart (go1.19.8) as pyroscope-go uses it: a
 * boundary-like line inside the data, a filename with escaped quote and
 * backslash, an empty field without filename. */
static const char go_ct[] = "multipart/form-data; boundary=9051914041544843365972754266";
static const char go_body[] =
    "--9051914041544843365972754266\r\nContent-Disposition: form-data; name=\"profile\"; "
    "filename=\"pro\\\"file.pprof\"\r\nContent-Type: application/octet-stream\r\n\r\n\x1f\x8b\b"
    "\x00\r\n--9051914041544843365972754266x\r\n\x00\xff\r\n--9051914041544843365972754266\r\n"
    "Content-Disposition: form-data; name=\"sample_type_config\"; "
    "filename=\"a\\\"b\\\\c.json\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    "{\"goroutine\":{\"units\":\"goroutines\",\"aggregation\":\"average\",\"display-name\":"
    "\"goroutines\"}}\r\n--9051914041544843365972754266\r\nContent-Disposition: form-data; "
    "name=\"note\"\r\n\r\n\r\n--9051914041544843365972754266--\r\n";

static void test_go_writer_body(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    const char *boundary;
    assert_int_equal(pg_multipart_boundary(a, go_ct, &boundary, &err), PG_OK);
    assert_string_equal(boundary, "9051914041544843365972754266");
    pg_multipart_part *parts;
    size_t n;
    assert_int_equal(parse(a, go_body, sizeof(go_body) - 1, boundary, 8, &parts, &n, &err), PG_OK);
    assert_int_equal(n, 3);
    static const char prof[] = "\x1f\x8b\b\x00\r\n--9051914041544843365972754266x\r\n\x00\xff";
    expect_part(&parts[0], "profile", "pro\"file.pprof", "application/octet-stream", prof,
                sizeof(prof) - 1);
    const char *json = "{\"goroutine\":{\"units\":\"goroutines\",\"aggregation\":\"average\","
                       "\"display-name\":\"goroutines\"}}";
    expect_part(&parts[1], "sample_type_config", "a\"b\\c.json", "application/octet-stream", json,
                strlen(json));
    expect_part(&parts[2], "note", NULL, NULL, "", 0);
    pg_arena_free(a);
}

/* Written by Python's urllib3 2.7 encode_multipart_formdata. */
static void test_python_writer_body(void **state)
{
    (void)state;
    static const char body[] =
        "--a1b2c3d4e5f60718293a4b5c6d7e8f90\r\nContent-Disposition: form-data; name=\"profile\"; "
        "filename=\"cpu.pb.gz\"\r\nContent-Type: application/octet-stream\r\n\r\n\x1f\x8b\x00"
        "data\r\n-\r\n--a1b2c3d4e5f60718293a4b5c6d7e8f90\r\nContent-Disposition: form-data; "
        "name=\"spyName\"\r\n\r\ngospy\r\n--a1b2c3d4e5f60718293a4b5c6d7e8f90--\r\n";
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    const char *boundary;
    assert_int_equal(
        pg_multipart_boundary(a, "multipart/form-data; boundary=a1b2c3d4e5f60718293a4b5c6d7e8f90",
                              &boundary, &err),
        PG_OK);
    pg_multipart_part *parts;
    size_t n;
    assert_int_equal(parse(a, body, sizeof(body) - 1, boundary, 2, &parts, &n, &err), PG_OK);
    assert_int_equal(n, 2);
    expect_part(&parts[0], "profile", "cpu.pb.gz", "application/octet-stream",
                "\x1f\x8b\x00"
                "data\r\n-",
                10);
    expect_part(&parts[1], "spyName", NULL, NULL, "gospy", 5);
    pg_arena_free(a);
}

static void test_boundary_header(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    const char *b = NULL;
    assert_int_equal(
        pg_multipart_boundary(a, "multipart/form-data; boundary=\"a b;c\\\"d\"", &b, &err), PG_OK);
    assert_string_equal(b, "a b;c\"d");
    assert_int_equal(
        pg_multipart_boundary(a, " Multipart/Form-Data ; charset=utf-8;BOUNDARY = xyz ", &b, &err),
        PG_OK);
    assert_string_equal(b, "xyz");
    char seventy[128];
    snprintf(seventy, sizeof(seventy), "multipart/form-data; boundary=%070d", 7);
    assert_int_equal(pg_multipart_boundary(a, seventy, &b, &err), PG_OK);
    assert_int_equal(strlen(b), 70);

    assert_int_equal(pg_multipart_boundary(a, "application/json", &b, &err), PG_ERR_UNSUPPORTED);
    assert_string_equal(err.msg, "content type 'application/json' is not multipart/form-data");
    assert_null(b);
    assert_int_equal(pg_multipart_boundary(a, NULL, &b, &err), PG_ERR_UNSUPPORTED);
    assert_int_equal(pg_multipart_boundary(a, "multipart/mixed; boundary=x", &b, &err),
                     PG_ERR_UNSUPPORTED);
    assert_int_equal(pg_multipart_boundary(a, "multipart/form-data", &b, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, "no usable multipart boundary in 'multipart/form-data'");
    assert_int_equal(pg_multipart_boundary(a, "multipart/form-data; boundary=\"\"", &b, &err),
                     PG_ERR_INVALID);
    assert_int_equal(pg_multipart_boundary(a, "multipart/form-data; boundary", &b, &err),
                     PG_ERR_INVALID);
    snprintf(seventy, sizeof(seventy), "multipart/form-data; boundary=%071d", 7);
    assert_int_equal(pg_multipart_boundary(a, seventy, &b, &err), PG_ERR_INVALID);
    assert_null(b);
    pg_arena_free(a);
}

/* Preamble, epilogue, bare LF, padding after the delimiter, unquoted and
 * upper-case parameters, a part with no headers at all. */
static void test_lenient_framing(void **state)
{
    (void)state;
    static const char body[] = "preamble --xx not a delimiter\n--xxy neither\n"
                               "--xx \t\n"
                               "CONTENT-DISPOSITION: form-data; NAME=profile; FileName=p.pb\n"
                               "X-Other: ignored\n"
                               "\n"
                               "line1\nline2\n"
                               "--xx\r\n"
                               "\r\n"
                               "no headers\r\n"
                               "--xx--trailing\r\nepilogue --xx\r\n";
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    pg_multipart_part *parts;
    size_t n;
    assert_int_equal(parse(a, body, sizeof(body) - 1, "xx", 8, &parts, &n, &err), PG_OK);
    assert_int_equal(n, 2);
    expect_part(&parts[0], "profile", "p.pb", NULL, "line1\nline2", 11);
    expect_part(&parts[1], "", NULL, NULL, "no headers", 10);

    /* only a close delimiter: no parts */
    assert_int_equal(parse(a, "--xx--", 6, "xx", 8, &parts, &n, &err), PG_OK);
    assert_int_equal(n, 0);
    assert_null(parts);
    pg_arena_free(a);
}

static void expect_error(const char *body, size_t max, int code, const char *msg)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    pg_multipart_part *parts = (pg_multipart_part *)1;
    size_t n = 7;
    assert_int_equal(parse(a, body, strlen(body), "b", max, &parts, &n, &err), code);
    assert_string_equal(err.msg, msg);
    assert_null(parts);
    assert_int_equal(n, 0);
    pg_arena_free(a);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", 8, PG_ERR_INVALID, "multipart boundary 'b' not found in body");
    expect_error("x--b\r\n", 8, PG_ERR_INVALID, "multipart boundary 'b' not found in body");
    expect_error("--b\r\n\r\ndata", 8, PG_ERR_INVALID, "multipart body has no closing boundary");
    expect_error("--b\r\n\r\ndata\r\n--b\r\n\r\nmore", 8, PG_ERR_INVALID,
                 "multipart body has no closing boundary");
    expect_error("--b\r\nContent-Type: x\r\ndata", 8, PG_ERR_INVALID,
                 "multipart part 1 has no blank line after its headers");
    expect_error("--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b--", 1, PG_ERR_LIMIT,
                 "more than 1 multipart parts");
    expect_error("--b\r\n\r\n1\r\n--b--", 0, PG_ERR_LIMIT, "more than 0 multipart parts");

    /* a header block just within and just over the limit */
    char *big = malloc(PG_MULTIPART_MAX_HEADER + 64);
    for (int over = 0; over < 2; over++) {
        size_t k = (size_t)sprintf(big, "--b\r\nX: ");
        size_t fill = PG_MULTIPART_MAX_HEADER - strlen("X: \r\n\r\n") + (size_t)over;
        memset(big + k, 'v', fill);
        strcpy(big + k + fill, "\r\n\r\nd\r\n--b--");
        if (!over) {
            pg_arena *a = pg_arena_new(0, 0);
            pg_error err = {0};
            pg_multipart_part *parts;
            size_t n;
            assert_int_equal(parse(a, big, strlen(big), "b", 8, &parts, &n, &err), PG_OK);
            assert_int_equal(n, 1);
            pg_arena_free(a);
        } else {
            expect_error(big, 8, PG_ERR_INVALID, "headers of multipart part 1 are over 8192 bytes");
        }
    }
    free(big);
}

/* Many parts and near-miss delimiters: the single pass keeps this fast (run,
 * not timed; kept small because ASan's memmem interceptor checks the whole
 * remaining haystack on every call). */
static void test_large_body(void **state)
{
    (void)state;
    const size_t parts_wanted = 300, chunk = 2000;
    size_t cap = parts_wanted * (chunk + 128) + 64, len = 0;
    char *body = malloc(cap);
    for (size_t i = 0; i < parts_wanted; i++) {
        len += (size_t)sprintf(body + len,
                               "--bnd\r\nContent-Disposition: form-data; name=p%zu\r\n\r\n", i);
        for (size_t k = 0; k < chunk; k += 8)
            memcpy(body + len + k, "\r\n--bndx", 8); /* found by memmem, not a delimiter */
        len += chunk;
        len += (size_t)sprintf(body + len, "\r\n");
    }
    len += (size_t)sprintf(body + len, "--bnd--\r\n");
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    pg_multipart_part *parts;
    size_t n;
    assert_int_equal(
        pg_multipart_parse(a, (uint8_t *)body, len, "bnd", parts_wanted, &parts, &n, &err), PG_OK);
    assert_int_equal(n, parts_wanted);
    assert_string_equal(parts[299].name, "p299");
    assert_int_equal(parts[299].len, chunk);
    pg_arena_free(a);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_node_bodies), cmocka_unit_test(test_go_writer_body),
        cmocka_unit_test(test_python_writer_body),   cmocka_unit_test(test_boundary_header),
        cmocka_unit_test(test_lenient_framing),      cmocka_unit_test(test_errors),
        cmocka_unit_test(test_large_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
