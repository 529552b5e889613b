#include "pipeline/consume.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pg_consume_result_init(pg_consume_result *r)
{
    memset(r, 0, sizeof(*r));
}

/* When a fan-out gets different answers, the one that asks the client to try
 * again wins: a retry is safe to answer, losing data is not. */
static int severity(pg_consume_status st)
{
    switch (st) {
    case PG_CONSUME_OK:
        return 0;
    case PG_CONSUME_PERMANENT:
        return 1;
    case PG_CONSUME_RESOURCE_EXHAUSTED:
        return 2;
    case PG_CONSUME_RETRYABLE:
        return 3;
    }
    return 0;
}

void pg_consume_fail(pg_consume_result *r, pg_consume_status st, const char *fmt, ...)
{
    if (severity(st) < severity(r->status))
        return;
    r->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
    va_end(ap);
}

const char *pg_consume_status_name(pg_consume_status st)
{
    switch (st) {
    case PG_CONSUME_OK:
        return "ok";
    case PG_CONSUME_RETRYABLE:
        return "retryable";
    case PG_CONSUME_RESOURCE_EXHAUSTED:
        return "resource_exhausted";
    case PG_CONSUME_PERMANENT:
        return "permanent";
    }
    return "unknown";
}
