/* Shared by the files of the convert processor: the state of one consume
 * call. */
#ifndef PG_PROCESSORS_CONVERT_CONVERT_INTERNAL_H
#define PG_PROCESSORS_CONVERT_CONVERT_INTERNAL_H

#include "processors/convert/convert_processor.h"

typedef struct pg_convert_call {
    pg_component *self;
    const pg_batch *in;
    pg_batch *out;
    pg_arena *tmp; /* everything of this call; freed when consume returns */
    uint32_t dropped;
    int nomem; /* out of memory: the whole call is answered RETRYABLE */
} pg_convert_call;

/* Drops count input profiles that could not be converted: counted, logged. */
void pg_convert_drop(pg_convert_call *c, uint32_t count, const char *why);

/* Appends a profile for payload p to c->out with src's labels and tenant
 * (takes a new reference on p). NULL (and c->nomem set) on failure. */
pg_profile *pg_convert_add_derived(pg_convert_call *c, pg_payload *p, const pg_profile *src);

/* Fill c->out from c->in; return PG_OK or PG_ERR_NOMEM. */
int pg_convert_batch_to_otlp(pg_convert_call *c, int keep_original);
int pg_convert_batch_to_pprof(pg_convert_call *c);

#endif
