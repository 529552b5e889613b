/* Shared by the processor unit tests: a component instance set up by hand
 * (one worker) whose downstream is the test's own consumer. */
#ifndef PG_TEST_PROCESSOR_UTIL_H
#define PG_TEST_PROCESSOR_UTIL_H

#include <stdio.h>

#include "pipeline/component.h"

/* Fills c as an instance `id` of def with config, sending to
 * consume(target); creates it and returns create's result. */
static inline int
tp_component_create(pg_component *c, const pg_component_def *def, const char *id, void *config,
                    int (*consume)(void *, pg_worker *, pg_batch *, pg_consume_result *),
                    void *target, pg_error *err)
{
    c->def = def;
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->config = config;
    c->workers = 1;
    c->next.consume = consume;
    c->next.target = target;
    return def->create(c, err);
}

#endif
