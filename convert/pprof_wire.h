/*
 * A pprof reader for the fast conversion path: reads the protobuf wire format
 * of perftools.profiles.Profile straight from the (inflated) bytes into flat
 * arrays in the caller's arena. Strings are not copied (they point into the
 * input, which must outlive the result), nothing is allocated per message,
 * and samples are left as byte ranges that pg_pprof_wire_sample parses one at
 * a time into reusable scratch space, so a converter can walk them once.
 *
 * It accepts exactly the documents pg_pprof_decode accepts and reads the same
 * values from them (protobuf semantics: the last value of a repeated scalar
 * field wins, repeated fields concatenate whether packed or not, a message
 * field seen twice is merged, unknown fields are skipped), including the
 * repair of .NET's all-zero function ids. The error messages name the field
 * as pg_pprof_decode's do. What pg_pprof_wire_read checks:
 *   - the wire format itself (varints, lengths, wire types of known fields);
 *   - string_table: present, entry 0 empty, every entry valid UTF-8 without
 *     NUL bytes;
 *   - every string index outside the samples in range;
 *   - mapping/function/location ids non-zero and unique per table; every
 *     location's mapping_id (when non-zero) and every line's function_id
 *     resolve.
 * What pg_pprof_wire_sample checks for its sample: the wire format, the value
 * count (= number of sample types), every location_id resolves, every label's
 * key/str/num_unit index in range.
 */
#ifndef PG_CONVERT_PPROF_WIRE_H
#define PG_CONVERT_PPROF_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "convert/convert_internal.h"

typedef struct pgw_str {
    const char *s; /* into the input bytes; NOT NUL-terminated */
    uint32_t len;
    uint32_t hash; /* (uint32_t)pg_hash_bytes(s, len, 0), taken while the
                    * bytes are checked, for the converter's interning */
} pgw_str;

typedef struct pgw_value_type {
    int64_t type, unit; /* string indices */
} pgw_value_type;

typedef struct pgw_mapping {
    uint64_t id, memory_start, memory_limit, file_offset;
    int64_t filename, build_id; /* string indices */
    uint8_t has_functions, has_filenames, has_line_numbers, has_inline_frames;
} pgw_mapping;

typedef struct pgw_line {
    uint64_t function_id;
    int64_t line, column;
    uint32_t function; /* position of the function (resolved) */
} pgw_line;

typedef struct pgw_location {
    uint64_t id, mapping_id, address;
    uint32_t mapping;            /* position of the mapping + 1; 0 when mapping_id is 0 */
    uint32_t first_line, n_line; /* range of pg_pprof_wire.lines */
    uint8_t is_folded;
} pgw_location;

typedef struct pgw_function {
    uint64_t id;
    int64_t name, system_name, filename, start_line; /* name..filename: string indices */
} pgw_function;

typedef struct pgw_span {
    const uint8_t *p; /* a Sample message's bytes (inside the input) */
    size_t n;
} pgw_span;

typedef struct pg_pprof_wire {
    pgw_str *strings;
    size_t n_strings;
    pgw_value_type *sample_types;
    size_t n_sample_types;
    pgw_span *samples;
    size_t n_samples;
    size_t max_sample_bytes; /* largest samples[i].n, sizes the scratch */
    pgw_mapping *mappings;
    size_t n_mappings;
    pgw_location *locations;
    size_t n_locations;
    pgw_line *lines; /* every location's lines, location by location */
    size_t n_lines;
    pgw_function *functions;
    size_t n_functions;
    int64_t *comments; /* string indices */
    size_t n_comments;
    pgw_value_type period_type;
    int has_period_type; /* the field was present (even if empty) */
    int64_t drop_frames, keep_frames, time_nanos, duration_nanos, period, default_sample_type,
        doc_url;
    pg_idmap location_ids; /* location id -> position (arena memory) */
} pg_pprof_wire;

/* Reads a pprof document, gzip-compressed or raw (sniffed by pg_is_gzip),
 * inflating at most max_decompressed bytes (PG_ERR_LIMIT beyond, or when the
 * arena's limit is hit). On success *w describes the document; its strings
 * and samples point into buf or into arena memory. Errors are prefixed
 * "pprof: " as pg_pprof_decode's are. */
int pg_pprof_wire_read(pg_arena *a, const uint8_t *buf, size_t len, uint64_t max_decompressed,
                       pg_pprof_wire *w, pg_error *err);

typedef struct pgw_label {
    int64_t key, str, num, num_unit; /* key, str, num_unit: string indices (checked) */
} pgw_label;

/* One parsed sample. The arrays belong to the scratch space and are
 * overwritten by the next call. */
typedef struct pgw_sample {
    int32_t *locations; /* location positions + 1 (= OTLP location_table indices), leaf first */
    size_t n_locations;
    int64_t *values; /* n_sample_types of them */
    size_t n_values;
    pgw_label *labels;
    size_t n_labels;
    size_t cap; /* capacity of each array (from max_sample_bytes) */
} pgw_sample;

/* Allocates scratch space in the arena large enough for any sample of w. */
int pg_pprof_wire_sample_init(pg_arena *a, const pg_pprof_wire *w, pgw_sample *s, pg_error *err);

/* Parses sample i into s, resolving its location ids. Errors name the sample,
 * e.g. "sample[12].location_id[3] 77 does not match any location id" or
 * "sample[4] has 1 value(s) but there are 2 sample types" (no "pprof: "
 * prefix: callers add their own). */
int pg_pprof_wire_sample(const pg_pprof_wire *w, size_t i, pgw_sample *s, pg_error *err);

#endif
