/*
 * Arbitrary bytes into the HTTP/1.1 request parser, split at points chosen
 * by the first input byte, as a socket would deliver them. Every completed
 * request is checked for well-formed fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/http1.h"

static void check_request(const pg_h1_request *r)
{
    /* touching every byte lets ASan catch dangling or short strings */
    volatile size_t sum = strlen(r->method) + strlen(r->path) + strlen(r->query);
    for (size_t i = 0; i < r->n_headers; i++)
        sum += strlen(r->headers[i].name) + strlen(r->headers[i].value);
    if (r->body.len)
        sum += r->body.data[r->body.len - 1];
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 17 + 1;
    data++;
    size--;
    pg_h1_limits lim = {.max_header_bytes = 4096, .max_body_bytes = 8192, .arena_limit = 64 * 1024};
    pg_h1_parser *p = pg_h1_parser_new(&lim);
    if (!p)
        return 0;
    size_t off = 0;
    int dead = 0;
    while (off < size && !dead) {
        size_t n = size - off < step ? size - off : step;
        const uint8_t *d = data + off;
        while (n) {
            size_t used = 0;
            pg_h1_event ev = pg_h1_parser_feed(p, d, n, &used);
            if (used > n)
                abort();
            d += used;
            n -= used;
            if (ev == PG_H1_REQUEST) {
                pg_h1_request r;
                pg_h1_parser_take(p, &r);
                check_request(&r);
                pg_h1_request_release(&r);
            } else if (ev == PG_H1_ERROR) {
                int st = pg_h1_parser_error_status(p);
                if (st != 400 && st != 413 && st != 431 && st != 500)
                    abort();
                dead = 1;
                break;
            } else {
                if (n != 0)
                    abort();
            }
        }
        pg_h1_parser_take_continue(p);
        off += step;
    }
    pg_h1_parser_free(p);
    return 0;
}
