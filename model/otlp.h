/*
 * OTLP profiles (v1development, v1.10/v1.11 wire): decoding with validation,
 * OTLP/JSON, and per-profile views (labels, type, summaries).
 *
 * Decoding allocates from the caller's arena through a protobuf-c allocator
 * (no per-field malloc). Before decoding, the bytes are checked for the older
 * layouts (v1.3-v1.9, which reuse field numbers with other meanings and would
 * decode "successfully" into wrong values) and refused with a message naming
 * the version they look like. After decoding, every index is checked against
 * its table and every string for valid UTF-8, so later stages may index the
 * dictionary without bounds checks.
 */
#ifndef PG_MODEL_OTLP_H
#define PG_MODEL_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"
#include "profiles_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceRequest
    pg_otlp_request;
typedef Opentelemetry__Proto__Profiles__V1development__ProfilesDictionary pg_otlp_dictionary;
typedef Opentelemetry__Proto__Profiles__V1development__Profile pg_otlp_profile;

/* Deepest nesting of attribute values (AnyValue inside arrays / key-value
 * lists) that decoding and validation accept. */
#define PG_OTLP_MAX_VALUE_DEPTH 64

/* Detects the layout of an encoded request without decoding it.
 * Returns a short name: "v1.10" (v1.10/v1.11, what we decode), "v1.8" (v1.8/v1.9),
 * "v1.7", "v1.6", "v1.4" (v1.4/v1.5), "v1.3" (v1experimental), or "unknown"
 * when the bytes are not a protobuf message at all. An empty request is "v1.10". */
const char *pg_otlp_sniff_version(const uint8_t *buf, size_t len);

/* Decodes and validates an ExportProfilesServiceRequest (or ProfilesData, same
 * shape). Errors (PG_ERR_INVALID / PG_ERR_UNSUPPORTED for older layouts /
 * PG_ERR_LIMIT when the arena limit is hit) carry a message naming the problem,
 * e.g. "resource_profiles[0].scope_profiles[0].profiles[3].samples[7].stack_index
 * 912 out of range (stack_table has 40 entries)". */
int pg_otlp_decode(pg_arena *arena, const uint8_t *buf, size_t len, pg_otlp_request **out,
                   pg_error *err);

/* Validation alone (used after JSON decoding and after merging). Index 0 is
 * checked like any other index, so it needs a non-empty table; the decoders
 * call pg_otlp_add_zero_entries first. Entry-0 contents are not checked (see
 * pg_otlp_lint). */
int pg_otlp_validate(const pg_otlp_request *req, pg_error *err);

/* Gives every empty table of the dictionary (when there is one) its zero
 * entry (Mapping{}, "", ...), so that the "unset" index 0 is always in range.
 * Both decoders do this before validating. PG_ERR_NOMEM/PG_ERR_LIMIT when the
 * arena is exhausted. */
int pg_otlp_add_zero_entries(pg_arena *arena, pg_otlp_request *req);

/* Checks the conventions that real producers break without harm (entry 0 of
 * every table is the zero value; trace/span ids are 16/8 bytes). Returns the
 * number of problems found and describes the first in warn (for logging);
 * nothing here makes a request unusable. */
int pg_otlp_lint(const pg_otlp_request *req, pg_error *warn);

/* OTLP/JSON (lowerCamelCase keys; snake_case accepted too; 64-bit integers as
 * strings or numbers; trace/span/profile ids as hex; other bytes base64; enums
 * as integers; unknown fields ignored). The result is validated like a
 * protobuf request. */
int pg_otlp_json_decode(pg_arena *arena, const char *json, size_t len, pg_otlp_request **out,
                        pg_error *err);
/* Appends the JSON encoding (one line, no trailing newline). */
int pg_otlp_json_encode(const pg_otlp_request *req, pg_buf *out, pg_error *err);

/* Protobuf encoding of a request into out (appended). */
int pg_otlp_encode(const pg_otlp_request *req, pg_buf *out);

/* Number of profiles in the request (over all resources and scopes). */
size_t pg_otlp_profile_count(const pg_otlp_request *req);

/* String-table lookup; "" for out-of-range indices. */
const char *pg_otlp_string(const pg_otlp_request *req, int32_t index);

typedef struct pg_otlp_profile_view {
    const char *service_name; /* resource service.name, "" when unknown */
    const char *profile_type; /* "type:unit:period_type:period_unit" (arena copy) */
    uint64_t time_unix_nano, duration_nano;
    uint64_t sample_count; /* number of Sample messages */
    int64_t value_total;   /* sum of values; a timestamps-only sample counts 1 per timestamp */
} pg_otlp_profile_view;

int pg_otlp_view(pg_arena *arena, const pg_otlp_request *req, size_t ri, size_t si, size_t pi,
                 pg_otlp_profile_view *view);

/* The profile's labels: resource attributes, then scope attributes, then
 * profile attributes, with string/int/bool/double values rendered as text;
 * later sources override earlier ones; `service.name` becomes `service_name`.
 * Calls add(ctx, name, value) for each; strings are arena copies. */
int pg_otlp_labels(pg_arena *arena, const pg_otlp_request *req, size_t ri, size_t si, size_t pi,
                   int (*add)(void *ctx, const char *name, const char *value), void *ctx);

typedef struct pg_otlp_label {
    const char *name, *value;
} pg_otlp_label;

/* Profile (ri, si, pi) of req as a request of its own whose labels, as
 * pg_otlp_labels derives them, are exactly `labels` without the names that
 * start with "__" (a processor changed them and the output must say so).
 * Resource, scope and profile attributes that still render to the value of
 * the label they give keep their type and place; the others are left out;
 * labels no remaining attribute gives become string resource attributes
 * (service_name as service.name). Everything else (the profile, the
 * dictionary) is shared with req, read-only: req must outlive the result. */
int pg_otlp_with_labels(pg_arena *arena, const pg_otlp_request *req, size_t ri, size_t si,
                        size_t pi, const pg_otlp_label *labels, size_t n_labels,
                        pg_otlp_request **out, pg_error *err);

#endif
