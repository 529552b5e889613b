/* What the memory limiter measures with, replaceable by tests. */
#ifndef PG_PROCESSORS_MEMORY_LIMITER_MEMORY_LIMITER_INTERNAL_H
#define PG_PROCESSORS_MEMORY_LIMITER_MEMORY_LIMITER_INTERNAL_H

#include <stdint.h>

#include "pipeline/component.h"

typedef struct pg_memlim_probe {
    uint64_t (*rss)(void *ud); /* resident bytes; 0 = could not tell */
    void (*trim)(void *ud);    /* give freed memory back to the kernel */
    void *ud;
} pg_memlim_probe;

/* The process's own: /proc/self/statm and malloc_trim(0). */
uint64_t pg_memlim_self_rss(void *ud);
void pg_memlim_self_trim(void *ud);

/* Replaces the probe of a created (not yet started) memory limiter. */
void pg_memory_limiter_set_probe(pg_component *self, const pg_memlim_probe *probe);
/* One check, as the limiter's thread runs it; returns 1 when refusing. */
int pg_memory_limiter_check(pg_component *self);

#endif
