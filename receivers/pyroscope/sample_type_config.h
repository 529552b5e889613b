/*
 * The `sample_type_config` part of a Pyroscope /ingest multipart upload: a
 * JSON object keyed by pprof sample type name, e.g.
 *   {"contentions":{"units":"lock_samples","display-name":"mutex_count"}}
 * pyroscope-go sends one with goroutine, heap, mutex and block profiles. Of
 * its fields only display-name still matters to Pyroscope (it drives the
 * profile name, see profile_name.h); the others are kept for completeness.
 */
#ifndef PG_RECEIVERS_PYROSCOPE_SAMPLE_TYPE_CONFIG_H
#define PG_RECEIVERS_PYROSCOPE_SAMPLE_TYPE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"

typedef struct pg_pyro_stconfig_entry {
    const char *sample_type;  /* the object key: a pprof sample type name */
    const char *units;        /* NULL when absent */
    const char *display_name; /* "display-name"; NULL when absent */
    const char *aggregation;  /* "sum" | "average"; NULL when absent */
    int cumulative;           /* -1 absent, 0 false, 1 true */
    int sampled;              /* -1 absent, 0, 1 */
} pg_pyro_stconfig_entry;

/* Parses json[0..len). The top level must be an object whose values are
 * objects with the keys units, display-name, aggregation (strings; aggregation
 * "sum" or "average"), cumulative, sampled (booleans); null is the same as
 * absent. Entries keep the document's order. PG_ERR_INVALID (naming the
 * sample type and key) for malformed JSON, a wrong type or an unknown key;
 * PG_ERR_NOMEM. Strings and the array are arena memory; *out is NULL when
 * the object is empty. */
int pg_pyro_stconfig_parse(pg_arena *a, const uint8_t *json, size_t len,
                           pg_pyro_stconfig_entry **out, size_t *n, pg_error *err);

/* The entry for sample_type, or NULL (also when e is NULL). */
const pg_pyro_stconfig_entry *pg_pyro_stconfig_find(const pg_pyro_stconfig_entry *e, size_t n,
                                                    const char *sample_type);

/* The table Pyroscope applies when an upload carries no sample_type_config
 * (its tree.DefaultSampleTypeMapping): samples -> display name "cpu",
 * goroutine -> "goroutines", contentions -> "mutex_count", delay ->
 * "mutex_duration", plus units and aggregation for the Go heap types. A
 * sent config replaces this table; it is not merged with it. */
const pg_pyro_stconfig_entry *pg_pyro_stconfig_defaults(size_t *n);

#endif
