/* Monotonic and wall clocks in the units the pipeline uses. */
#ifndef PG_COMMON_CLOCK_H
#define PG_COMMON_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds; deadlines passed to shutdown() use this clock. */
uint64_t pg_now_ms(void);
/* Wall clock, nanoseconds since the Unix epoch. */
uint64_t pg_unix_nanos(void);

#endif
