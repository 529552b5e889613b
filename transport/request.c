#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "transport/http_server.h"
#include "common/hex.h"

const char *pg_http_request_header(const pg_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

/* application/x-www-form-urlencoded decoding of s[0..n) into the arena. */
static char *form_decode(pg_arena *a, const char *s, size_t n)
{
    char *out = pg_arena_alloc(a, n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[j++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && pg_hex_digit((unsigned char)s[i + 1]) >= 0 &&
                   pg_hex_digit((unsigned char)s[i + 2]) >= 0) {
            out[j++] = (char)(pg_hex_digit((unsigned char)s[i + 1]) << 4 |
                              pg_hex_digit((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

const char *pg_http_request_query_param(const pg_http_request *req, const char *name)
{
    const char *q = req->query ? req->query : "";
    size_t name_len = strlen(name);
    while (*q) {
        size_t part = strcspn(q, "&");
        const char *eq = memchr(q, '=', part);
        size_t klen = eq ? (size_t)(eq - q) : part;
        char *key = form_decode(req->arena, q, klen);
        if (!key)
            return NULL;
        if (strlen(key) == name_len && memcmp(key, name, name_len) == 0)
            return eq ? form_decode(req->arena, eq + 1, part - klen - 1) : "";
        q += part;
        if (*q == '&')
            q++;
    }
    return NULL;
}

int pg_http_request_query_params(const pg_http_request *req, pg_http_header **params, size_t *n)
{
    const char *q = req->query ? req->query : "";
    size_t count = 0;
    for (const char *c = q; *c; c++)
        count += *c == '&';
    pg_http_header *out = pg_arena_alloc(req->arena, (count + 1) * sizeof(*out));
    if (!out)
        return PG_ERR_NOMEM;
    size_t used = 0;
    while (*q) {
        size_t part = strcspn(q, "&");
        if (part) {
            const char *eq = memchr(q, '=', part);
            size_t klen = eq ? (size_t)(eq - q) : part;
            out[used].name = form_decode(req->arena, q, klen);
            out[used].value = eq ? form_decode(req->arena, eq + 1, part - klen - 1) : "";
            if (!out[used].name || !out[used].value)
                return PG_ERR_NOMEM;
            used++;
        }
        q += part;
        if (*q == '&')
            q++;
    }
    *params = out;
    *n = used;
    return PG_OK;
}

int pg_http_response_add_header(pg_http_request *req, pg_http_response *resp, const char *name,
                                const char *value)
{
    pg_http_header *h = pg_arena_alloc(req->arena, (resp->n_headers + 1) * sizeof(*h));
    char *n = pg_arena_strdup(req->arena, name);
    char *v = pg_arena_strdup(req->arena, value);
    if (!h || !n || !v)
        return PG_ERR_NOMEM;
    for (char *c = n; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (resp->n_headers)
        memcpy(h, resp->headers, resp->n_headers * sizeof(*h));
    h[resp->n_headers].name = n;
    h[resp->n_headers].value = v;
    resp->headers = h;
    resp->n_headers++;
    return PG_OK;
}
