/*
 * Profile kinds of the legacy text formats (folded/"groups" and lines): the
 * last dot-separated part of the app name says what the counts are, as in
 * Pyroscope's ingest adapter (protocols.md §3.b). "app.inuse_space" is a
 * memory profile of service "app" whose values are bytes in use.
 */
#ifndef PG_RECEIVERS_PYROSCOPE_LEGACY_KIND_H
#define PG_RECEIVERS_PYROSCOPE_LEGACY_KIND_H

#include <stddef.h>

typedef struct pg_pyro_legacy_kind {
    const char *suffix;      /* "" for a name without a dot */
    const char *profile;     /* __name__ */
    const char *sample_type; /* without a sample rate */
    const char *sample_unit;
    /* CPU-like kinds: with sampleRate > 0 the counts become nanoseconds of
     * this type (values x 1e9/sampleRate, period the same); NULL otherwise. */
    const char *sampled_type;
} pg_pyro_legacy_kind;

/* Splits app_name into service (arena-free: *service_len bytes of app_name)
 * and kind. NULL when the name has a dot and its last part is no known kind. */
const pg_pyro_legacy_kind *pg_pyro_legacy_kind_of(const char *app_name, size_t *service_len);

#endif
