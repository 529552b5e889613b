#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/http1.h"

#define MAX_REQS 8

typedef struct parsed {
    pg_h1_request reqs[MAX_REQS];
    int n;
    int error_status;
    int saw_continue;
} parsed;

static pg_h1_parser *new_parser(uint64_t max_header, uint64_t max_body)
{
    pg_h1_limits lim = {
        .max_header_bytes = max_header, .max_body_bytes = max_body, .arena_limit = 1 << 20};
    pg_h1_parser *p = pg_h1_parser_new(&lim);
    assert_non_null(p);
    return p;
}

/* Feeds `text` in pieces of `step` bytes (0: all at once). */
static void feed(pg_h1_parser *p, const char *text, size_t len, size_t step, parsed *out)
{
    size_t off = 0;
    while (off < len && !out->error_status) {
        size_t n = step && len - off > step ? step : len - off;
        const uint8_t *d = (const uint8_t *)text + off;
        size_t left = n;
        while (left) {
            size_t used = 0;
            pg_h1_event ev = pg_h1_parser_feed(p, d, left, &used);
            d += used;
            left -= used;
            if (ev == PG_H1_REQUEST) {
                assert_true(out->n < MAX_REQS);
                pg_h1_parser_take(p, &out->reqs[out->n++]);
            } else if (ev == PG_H1_ERROR) {
                out->error_status = pg_h1_parser_error_status(p);
                return;
            } else {
                assert_int_equal(left, 0);
            }
        }
        if (pg_h1_parser_take_continue(p))
            out->saw_continue = 1;
        off += n;
    }
}

static void release(parsed *ps)
{
    for (int i = 0; i < ps->n; i++)
        pg_h1_request_release(&ps->reqs[i]);
}

static const char *hdr(const pg_h1_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    }
    return NULL;
}

static void test_get_with_query_and_headers(void **state)
{
    const char *req = "GET /ingest?name=app&from=1 HTTP/1.1\r\nHost: x\r\nX-Scope-OrgID: "
                      "tenant-a  \r\n\r\n";
    for (size_t step = 0; step <= 1; step++) {
        pg_h1_parser *p = new_parser(4096, 1024);
        parsed ps = {0};
        feed(p, req, strlen(req), step, &ps);
        assert_int_equal(ps.error_status, 0);
        assert_int_equal(ps.n, 1);
        pg_h1_request *r = &ps.reqs[0];
        assert_string_equal(r->method, "GET");
        assert_string_equal(r->path, "/ingest");
        assert_string_equal(r->query, "name=app&from=1");
        assert_string_equal(hdr(r, "host"), "x");
        assert_string_equal(hdr(r, "x-scope-orgid"), "tenant-a");
        assert_int_equal(r->body.len, 0);
        assert_true(r->keep_alive);
        assert_false(pg_h1_parser_in_request(p));
        release(&ps);
        pg_h1_parser_free(p);
    }
}

static void test_content_length_and_chunked_bodies(void **state)
{
    const char *req = "POST /a HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world"
                      "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    for (size_t step = 0; step <= 3; step++) {
        pg_h1_parser *p = new_parser(4096, 1024);
        parsed ps = {0};
        feed(p, req, strlen(req), step, &ps);
        assert_int_equal(ps.error_status, 0);
        assert_int_equal(ps.n, 2);
        assert_string_equal(ps.reqs[0].path, "/a");
        assert_int_equal(ps.reqs[0].body.len, 11);
        assert_memory_equal(ps.reqs[0].body.data, "hello world", 11);
        assert_string_equal(ps.reqs[1].path, "/b");
        assert_int_equal(ps.reqs[1].body.len, 11);
        assert_memory_equal(ps.reqs[1].body.data, "hello world", 11);
        release(&ps);
        pg_h1_parser_free(p);
    }
}

static void test_pipelined_in_order(void **state)
{
    const char *req = "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"
                      "GET /3 HTTP/1.1\r\nConnection: close\r\n\r\n";
    pg_h1_parser *p = new_parser(4096, 1024);
    parsed ps = {0};
    feed(p, req, strlen(req), 0, &ps);
    assert_int_equal(ps.n, 3);
    assert_string_equal(ps.reqs[0].path, "/1");
    assert_string_equal(ps.reqs[1].path, "/2");
    assert_string_equal(ps.reqs[2].path, "/3");
    assert_true(ps.reqs[0].keep_alive);
    assert_false(ps.reqs[2].keep_alive);
    release(&ps);
    pg_h1_parser_free(p);
}

static void test_http10_not_keep_alive(void **state)
{
    const char *req = "GET / HTTP/1.0\r\n\r\n";
    pg_h1_parser *p = new_parser(4096, 1024);
    parsed ps = {0};
    feed(p, req, strlen(req), 0, &ps);
    assert_int_equal(ps.n, 1);
    assert_false(ps.reqs[0].keep_alive);
    assert_int_equal(ps.reqs[0].http_minor, 0);
    release(&ps);
    pg_h1_parser_free(p);
}

static void test_oversize_headers_431(void **state)
{
    char req[4096];
    int n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', 1500);
    n += 1500;
    n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n\r\n");
    for (size_t step = 0; step <= 7; step += 7) {
        pg_h1_parser *p = new_parser(1024, 1024);
        parsed ps = {0};
        feed(p, req, (size_t)n, step, &ps);
        assert_int_equal(ps.error_status, 431);
        assert_int_equal(ps.n, 0);
        /* a dead parser stays dead */
        size_t used;
        assert_int_equal(pg_h1_parser_feed(p, (const uint8_t *)"GET", 3, &used), PG_H1_ERROR);
        pg_h1_parser_free(p);
    }
}

static void test_body_limits_413(void **state)
{
    const char *cl = "POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n";
    pg_h1_parser *p = new_parser(4096, 1000);
    parsed ps = {0};
    feed(p, cl, strlen(cl), 0, &ps); /* refused before the body is sent */
    assert_int_equal(ps.error_status, 413);
    assert_non_null(strstr(pg_h1_parser_error_message(p), "2000"));
    pg_h1_parser_free(p);

    char chunked[3000];
    int n =
        snprintf(chunked, sizeof(chunked), "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        n += snprintf(chunked + n, sizeof(chunked) - (size_t)n, "1f4\r\n");
        memset(chunked + n, 'b', 500);
        n += 500;
        n += snprintf(chunked + n, sizeof(chunked) - (size_t)n, "\r\n");
    }
    p = new_parser(4096, 1000);
    memset(&ps, 0, sizeof(ps));
    feed(p, chunked, (size_t)n, 0, &ps);
    assert_int_equal(ps.error_status, 413);
    pg_h1_parser_free(p);
}

static void test_malformed_400(void **state)
{
    const char *bad[] = {
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "NOTAMETHOD / HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        /* request smuggling shapes */
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pg_h1_parser *p = new_parser(4096, 1000);
        parsed ps = {0};
        feed(p, bad[i], strlen(bad[i]), 0, &ps);
        assert_int_equal(ps.error_status, 400);
        assert_int_equal(ps.n, 0);
        pg_h1_parser_free(p);
    }
}

static void test_expect_continue_and_partial(void **state)
{
    const char *head = "POST /x HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
    pg_h1_parser *p = new_parser(4096, 1000);
    parsed ps = {0};
    feed(p, head, strlen(head), 0, &ps);
    assert_true(ps.saw_continue);
    assert_true(pg_h1_parser_in_request(p));
    assert_int_equal(ps.n, 0);
    ps.saw_continue = 0;
    feed(p, "abc", 3, 0, &ps);
    assert_false(ps.saw_continue);
    assert_int_equal(ps.n, 1);
    assert_memory_equal(ps.reqs[0].body.data, "abc", 3);
    release(&ps);
    pg_h1_parser_free(p);
}

static void test_absolute_form_target(void **state)
{
    const char *req = "GET http://example.com:8080/v1/x?y=1 HTTP/1.1\r\n\r\n";
    pg_h1_parser *p = new_parser(4096, 1000);
    parsed ps = {0};
    feed(p, req, strlen(req), 0, &ps);
    assert_int_equal(ps.n, 1);
    assert_string_equal(ps.reqs[0].path, "/v1/x");
    assert_string_equal(ps.reqs[0].query, "y=1");
    release(&ps);
    pg_h1_parser_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_with_query_and_headers),
        cmocka_unit_test(test_content_length_and_chunked_bodies),
        cmocka_unit_test(test_pipelined_in_order),
        cmocka_unit_test(test_http10_not_keep_alive),
        cmocka_unit_test(test_oversize_headers_431),
        cmocka_unit_test(test_body_limits_413),
        cmocka_unit_test(test_malformed_400),
        cmocka_unit_test(test_expect_continue_and_partial),
        cmocka_unit_test(test_absolute_form_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
