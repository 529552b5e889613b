#include "common/buf.h"
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pg_buf_init(pg_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void pg_buf_free(pg_buf *b)
{
    free(b->data);
    pg_buf_init(b);
}

int pg_buf_reserve(pg_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return PG_OK;
    size_t need = b->len + extra;
    if (need < b->len)
        return PG_ERR_NOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *d = realloc(b->data, cap);
    if (!d)
        return PG_ERR_NOMEM;
    b->data = d;
    b->cap = cap;
    return PG_OK;
}

int pg_buf_append(pg_buf *b, const void *p, size_t n)
{
    if (pg_buf_reserve(b, n) != PG_OK)
        return PG_ERR_NOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return PG_OK;
}

int pg_buf_append_str(pg_buf *b, const char *s)
{
    return pg_buf_append(b, s, strlen(s));
}

int pg_buf_printf(pg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return PG_ERR_INVALID;
    if (pg_buf_reserve(b, (size_t)n + 1) != PG_OK)
        return PG_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PG_OK;
}

uint8_t *pg_buf_detach(pg_buf *b, size_t *len)
{
    uint8_t *d = b->data;
    if (len)
        *len = b->len;
    pg_buf_init(b);
    return d;
}
