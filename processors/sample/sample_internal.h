/*
 * Pieces of processors/sample that tests drive directly: the series hash, the
 * rate limiter built on gcra.h and the clock it reads.
 */
#ifndef PG_PROCESSORS_SAMPLE_SAMPLE_INTERNAL_H
#define PG_PROCESSORS_SAMPLE_SAMPLE_INTERNAL_H

#include <stdint.h>

#include "pipeline/profile.h"
#include "processors/sample/gcra.h"
#include "processors/sample/sample.h"

/* Hash of the profile's series: its tenant and every label name and value,
 * in the (sorted) label order, NUL-separated so no two label sets run
 * together into the same bytes. */
uint64_t pg_sample_series_hash(const pg_profile *prof, uint64_t seed);
/* 1 when a series of this hash is kept at probability p. */
int pg_sample_keep(uint64_t hash, double p);

/* The keys rate limits are kept by. */
enum { PG_RL_TENANT = 0, PG_RL_SERVICE = 1, PG_RL_LIMITS = 2 };

typedef uint64_t (*pg_rl_clock)(void *ud); /* monotonic nanoseconds */

typedef struct pg_rate_limiter {
    uint64_t burst_ns;
    struct {
        int enabled;
        double rate[PG_GCRA_DIMS]; /* per second; 0 = not limited */
        pg_gcra_table table;
    } limit[PG_RL_LIMITS];
    pg_rl_clock now_ns;
    void *clock_ud;
} pg_rate_limiter;

/* What one admitted profile took, to give it back. */
typedef struct pg_rl_ticket {
    struct {
        _Atomic uint64_t *tat;
        uint64_t cost;
    } take[PG_RL_LIMITS * PG_GCRA_DIMS];
    int n;
} pg_rl_ticket;

/* Why a profile was turned away. */
typedef struct pg_rl_denial {
    int limit; /* PG_RL_TENANT / PG_RL_SERVICE */
    int dim;   /* PG_GCRA_PROFILES / PG_GCRA_BYTES */
    uint64_t wait_ns;
} pg_rl_denial;

/* From the config's rate_limit section. PG_OK or PG_ERR_NOMEM. */
int pg_rate_limiter_init(pg_rate_limiter *rl, const pg_sample_processor_config *cfg);
void pg_rate_limiter_free(pg_rate_limiter *rl);

/* Admits one profile of `bytes` for tenant / service (NULL = ""): 1 and the
 * takes in *ticket, or 0 with *why filled and nothing taken. *overflowed
 * gets a bit (1 << limit) per limit whose overflow bucket was used. */
int pg_rate_limiter_admit(pg_rate_limiter *rl, const char *tenant, const char *service,
                          double bytes, pg_rl_ticket *ticket, pg_rl_denial *why, int *overflowed);
void pg_rate_limiter_refund(const pg_rl_ticket *ticket);

/* Replaces the clock of a created sample processor (tests). */
void pg_sample_set_clock(pg_component *self, pg_rl_clock now_ns, void *ud);

#endif
