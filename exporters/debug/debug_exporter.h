/*
 * exporters/debug: prints what flows through a pipeline, for debugging.
 *
 *   verbosity  basic (default): one line per profile with service name,
 *              profile type, sample count, value total, tenant and number
 *              of labels
 *              detailed: additionally the sample and period types and the
 *              five stacks with the largest values (function names, leaf
 *              first), read from the decoded OTLP payload; for a pprof
 *              payload, all its sample types (the one stacks are ranked by
 *              marked '*': the profile's type, else the document's default)
 *
 * Lines go through pg_log at info level (stderr). Writing to stderr blocks
 * the worker for as long as the terminal or pipe takes, which is acceptable
 * for a debugging aid and the reason it should not stay in production
 * pipelines.
 */
#ifndef PG_EXPORTERS_DEBUG_DEBUG_EXPORTER_H
#define PG_EXPORTERS_DEBUG_DEBUG_EXPORTER_H

#include "common/buf.h"
#include "pipeline/component.h"

typedef enum pg_debug_verbosity {
    PG_DEBUG_BASIC = 0,
    PG_DEBUG_DETAILED = 1,
} pg_debug_verbosity;

typedef struct pg_debug_exporter_config {
    int verbosity; /* pg_debug_verbosity */
} pg_debug_exporter_config;

extern const pg_component_def pg_debug_exporter_def;

/* The basic line for one profile (no trailing newline), appended to out. */
int pg_debug_format_basic(const pg_profile *p, pg_buf *out);

/* The detailed lines (each ending in '\n') for one profile, appended to out:
 * sample/period types and the top stacks. Uses the payload's decoded form or
 * decodes it into a temporary arena (pprof payloads: always, with
 * pg_pprof_decode). */
int pg_debug_format_details(const pg_profile *p, pg_buf *out);

/* The detailed lines of a pprof payload (debug_pprof.c). */
int pg_debug_format_pprof_details(const pg_profile *p, pg_buf *out);

#endif
