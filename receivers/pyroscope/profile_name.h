/*
 * Pyroscope's `__name__` for a pprof upload to /ingest, derived from the
 * profile's sample types rather than from the `name` parameter.
 */
#ifndef PG_RECEIVERS_PYROSCOPE_PROFILE_NAME_H
#define PG_RECEIVERS_PYROSCOPE_PROFILE_NAME_H

#include <stddef.h>

#include "receivers/pyroscope/sample_type_config.h"

/* Tells gcc that only sample_types[0..n) is read, so that callers filling a
 * larger array partly are not warned about the rest (clang has no such
 * attribute). */
#if defined(__GNUC__) && !defined(__clang__)
#define PG_PYRO_READS_N(ptr, count) __attribute__((access(read_only, ptr, count)))
#else
#define PG_PYRO_READS_N(ptr, count)
#endif

/* sample_types: the pprof sample type names in order. cfg may be NULL. Returns a static string
 * ("wall", "process_cpu", "memory", "mutex", "block", "goroutines") or NULL when no rule matches.
 *
 * Any sample type "wall" gives "wall". Otherwise the types are scanned in
 * order, each replaced by its display-name when cfg has one, and the first
 * that matches a rule decides: contains "cpu" -> process_cpu; contains
 * "alloc_" or "inuse_", or equals "space" or "objects" -> memory; contains
 * "mutex_" -> mutex; contains "block_" -> block; contains "goroutines" ->
 * goroutines.
 *
 * Only the given cfg is consulted. To match Pyroscope for an upload without a
 * sample_type_config part, pass pg_pyro_stconfig_defaults() (with it, Go's
 * block profile, contentions/delay, is named "mutex"; with neither, NULL). */
const char *pg_pyro_profile_name(const char *const *sample_types, size_t n,
                                 const pg_pyro_stconfig_entry *cfg, size_t n_cfg)
    PG_PYRO_READS_N(1, 2);

#endif
