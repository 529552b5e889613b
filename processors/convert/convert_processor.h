/*
 * processors/convert: turns the payloads of a batch into one format, so that
 * the stages after it see only OTLP or only pprof (the conversion itself is
 * the library in convert/convert.h).
 *
 *   to                otlp | pprof (required)
 *   original_payload  false (default); pprof -> OTLP: keep the source pprof
 *                     bytes in the first profile's original_payload
 *
 * consume builds a new batch and sends it downstream:
 *   pprof -> OTLP   each pprof profile's document is decoded (once per payload
 *                   and call) and converted with service.name = its
 *                   `service_name` label and its other labels (except the
 *                   `__`-prefixed ones) as resource attributes; the request
 *                   becomes a new OTLP payload (decoded form attached) with
 *                   one profile per pprof sample type, carrying the source
 *                   profile's labels and tenant
 *   OTLP -> pprof   the profiles of one payload and tenant are converted
 *                   together (profiles that came from one pprof document are
 *                   re-assembled); every document becomes a gzipped pprof
 *                   payload with one profile, labelled like its first source
 *   same format     passed unchanged (payload shared)
 * A profile that cannot be converted is dropped, logged and counted in
 * profgate_processor_dropped_profiles_total{reason="convert"}; the answer
 * reports it in `rejected` and is PERMANENT only when nothing converted.
 */
#ifndef PG_PROCESSORS_CONVERT_CONVERT_PROCESSOR_H
#define PG_PROCESSORS_CONVERT_CONVERT_PROCESSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "convert/convert.h"
#include "pipeline/component.h"

typedef enum pg_convert_target {
    PG_CONVERT_TO_OTLP = 0,
    PG_CONVERT_TO_PPROF = 1,
} pg_convert_target;

typedef struct pg_convert_processor_config {
    int to; /* pg_convert_target */
    bool original_payload;
} pg_convert_processor_config;

extern const pg_component_def pg_convert_processor_def;

/* Largest inflated pprof document the pipeline decodes. */
#define PG_CONVERT_MAX_PPROF_BYTES ((uint64_t)512 << 20)

/* Converts the decoded pprof of one pipeline profile into a request in a
 * (which must outlive the result): service.name from the `service_name`
 * label, the other labels except `__`-prefixed ones as resource attributes.
 * original (may be NULL) is copied into a and kept as original_payload.
 * Shared with the exporters that write OTLP. */
int pg_convert_pprof_profile(pg_arena *a, const pg_profile *prof, const pg_pprof *doc,
                             const uint8_t *original, size_t original_len, pg_otlp_request **out,
                             pg_error *err);

/* The conversion options pg_convert_pprof_profile uses for prof (arena
 * memory), for callers that convert with pg_pprof_to_otlp_encoded. */
int pg_convert_pprof_options(pg_arena *a, const pg_profile *prof, const uint8_t *original,
                             size_t original_len, pg_pprof_to_otlp_options *opt, pg_error *err);

#endif
