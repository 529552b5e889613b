/*
 * Errors travel as a negative return code plus a message written into a
 * caller-supplied pg_error. A function that fails fills the message; the
 * caller decides whether to log it, return it to a client, or add context.
 */
#ifndef PG_COMMON_ERROR_H
#define PG_COMMON_ERROR_H

#include <stddef.h>

#define PG_ERROR_MSG_MAX 512

/* Return codes: 0 is success, everything else is negative. */
enum {
    PG_OK = 0,
    PG_ERR_INVALID = -1,     /* malformed input or configuration */
    PG_ERR_NOMEM = -2,       /* allocation failed */
    PG_ERR_LIMIT = -3,       /* a configured size/count limit was exceeded */
    PG_ERR_IO = -4,          /* system call failed */
    PG_ERR_UNSUPPORTED = -5, /* well-formed but not supported (format, version) */
    PG_ERR_BUSY = -6,        /* temporarily refused: retry later */
    PG_ERR_NOTFOUND = -7,
};

typedef struct pg_error {
    int code;
    char msg[PG_ERROR_MSG_MAX];
} pg_error;

/* Sets code and message; returns code so that `return pg_error_set(...)` works.
 * err may be NULL. */
int pg_error_set(pg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends context ("while reading x: ") to an existing message. */
void pg_error_prefix(pg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void pg_error_clear(pg_error *err);

const char *pg_strerror(int code);

#endif
