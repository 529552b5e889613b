/*
 * Growable byte buffer (heap-allocated, owned by whoever holds it) and a
 * non-owning (pointer, length) slice used on hot paths instead of C strings.
 */
#ifndef PG_COMMON_BUF_H
#define PG_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct pg_slice {
    const uint8_t *ptr;
    size_t len;
} pg_slice;

#define PG_SLICE_STR(s) ((pg_slice){(const uint8_t *)(s), strlen(s)})

typedef struct pg_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} pg_buf;

void pg_buf_init(pg_buf *b);
void pg_buf_free(pg_buf *b);
/* Ensures room for `extra` more bytes; 0 or PG_ERR_NOMEM. */
int pg_buf_reserve(pg_buf *b, size_t extra);
int pg_buf_append(pg_buf *b, const void *p, size_t n);
int pg_buf_append_str(pg_buf *b, const char *s);
int pg_buf_printf(pg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (who must free()) and empties the buffer. */
uint8_t *pg_buf_detach(pg_buf *b, size_t *len);

#endif
