/*
 * Fan-out: hands one batch to several consumers (the pipelines fed by one
 * receiver, or the exporters of one pipeline). Read-only consumers all see
 * the same batch; a consumer that modifies data gets its own copy unless it
 * is the last one to see the batch, in which case it takes the original.
 * Results are combined: the answer that asks the client to retry wins.
 */
#ifndef PG_PIPELINE_FANOUT_H
#define PG_PIPELINE_FANOUT_H

#include <stddef.h>

#include "pipeline/component.h"

typedef struct pg_fanout_target {
    pg_consumer consumer;
    int mutates;
} pg_fanout_target;

typedef struct pg_fanout {
    pg_fanout_target *targets; /* read-only targets first, then modifying ones */
    size_t n, cap;
} pg_fanout;

int pg_fanout_add(pg_fanout *f, pg_consumer c, int mutates);
void pg_fanout_free(pg_fanout *f);
/* A consumer that sends to every target of f (f must outlive it). A fan-out
 * with one target returns that target itself. */
pg_consumer pg_fanout_consumer(pg_fanout *f);

#endif
