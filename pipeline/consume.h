/*
 * The result of handing a batch to the next stage. Receivers map it to their
 * protocol's status codes (see docs/architecture.md):
 *   OK                 -> HTTP 200 / gRPC OK
 *   RETRYABLE          -> HTTP 503 / gRPC UNAVAILABLE
 *   RESOURCE_EXHAUSTED -> HTTP 429 / gRPC RESOURCE_EXHAUSTED (back-pressure)
 *   PERMANENT          -> HTTP 400 / gRPC INVALID_ARGUMENT (do not retry)
 */
#ifndef PG_PIPELINE_CONSUME_H
#define PG_PIPELINE_CONSUME_H

#include <stdint.h>

typedef enum pg_consume_status {
    PG_CONSUME_OK = 0,
    PG_CONSUME_RETRYABLE = 1,
    PG_CONSUME_RESOURCE_EXHAUSTED = 2,
    PG_CONSUME_PERMANENT = 3,
} pg_consume_status;

typedef struct pg_consume_result {
    pg_consume_status status;
    uint32_t rejected;       /* profiles refused while the rest were accepted */
    uint32_t retry_after_ms; /* hint for RETRYABLE / RESOURCE_EXHAUSTED; 0 = none */
    char msg[256];
} pg_consume_result;

void pg_consume_result_init(pg_consume_result *r);
/* Records a failure; a more severe status wins over a milder one already set. */
void pg_consume_fail(pg_consume_result *r, pg_consume_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *pg_consume_status_name(pg_consume_status st);

#endif
