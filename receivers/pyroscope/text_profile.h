/*
 * Pyroscope's legacy text bodies for /ingest, turned into a pprof document:
 *
 *   FOLDED ("groups", the default body format): one sample per line,
 *          `frame1;frame2;...;frameN <count>`, root first, split at the last
 *          space (frame names may contain spaces)
 *   LINES  (format=lines): one stack per line, `frame1;...;frameN`, root
 *          first, each line counted once
 *
 * Both accept CRLF or LF and skip blank lines. Identical stacks are merged
 * (values summed). The document has one Function and one Location (with one
 * Line) per distinct frame name, ids 1..n in order of first appearance; no
 * mappings and no file names, since the text carries none.
 */
#ifndef PG_RECEIVERS_PYROSCOPE_TEXT_PROFILE_H
#define PG_RECEIVERS_PYROSCOPE_TEXT_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "convert/convert.h"

typedef enum pg_pyro_text_format { PG_PYRO_TEXT_FOLDED, PG_PYRO_TEXT_LINES } pg_pyro_text_format;

typedef struct pg_pyro_text_options {
    const char *sample_type, *sample_unit; /* e.g. "cpu","nanoseconds" or "samples","count" */
    const char *period_type, *period_unit; /* NULL: no period_type */
    int64_t period;
    int64_t value_multiplier; /* every count is multiplied by this (>= 1); overflow is an error */
    int64_t time_nanos, duration_nanos;
    size_t max_samples; /* distinct stacks; PG_ERR_LIMIT above */
} pg_pyro_text_options;

/* Builds a pprof (convert/convert.h pg_pprof = Perftools__Profiles__Profile) in the arena; the
 * result passes pg_pprof_validate.
 *
 * PG_ERR_INVALID, naming the 1-based line: a FOLDED line without a count or
 * with a count that is not a non-negative decimal integer, an empty frame
 * name, a NUL byte or invalid UTF-8; a value that overflows int64 once
 * multiplied or summed; no samples at all ("no samples"); options without
 * sample type/unit or with value_multiplier < 1. PG_ERR_LIMIT: more than
 * max_samples distinct stacks. PG_ERR_NOMEM. */
int pg_pyro_text_to_pprof(pg_arena *a, pg_pyro_text_format f, const uint8_t *body, size_t len,
                          const pg_pyro_text_options *o, pg_pprof **out, pg_error *err);

#endif
