#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pg_error_set(pg_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void pg_error_prefix(pg_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[PG_ERROR_MSG_MAX], old[PG_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    size_t plen = strnlen(prefix, sizeof(err->msg) - 1);
    memcpy(err->msg, prefix, plen);
    size_t rest = sizeof(err->msg) - 1 - plen;
    size_t olen = strnlen(old, rest);
    memcpy(err->msg + plen, old, olen);
    err->msg[plen + olen] = '\0';
}

void pg_error_clear(pg_error *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

const char *pg_strerror(int code)
{
    switch (code) {
    case PG_OK:
        return "ok";
    case PG_ERR_INVALID:
        return "invalid";
    case PG_ERR_NOMEM:
        return "out of memory";
    case PG_ERR_LIMIT:
        return "limit exceeded";
    case PG_ERR_IO:
        return "i/o error";
    case PG_ERR_UNSUPPORTED:
        return "unsupported";
    case PG_ERR_BUSY:
        return "busy";
    case PG_ERR_NOTFOUND:
        return "not found";
    default:
        return "unknown error";
    }
}
