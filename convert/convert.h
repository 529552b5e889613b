/*
 * Lossless conversion between pprof (perftools.profiles.Profile) and OTLP
 * profiles (v1.10/v1.11 wire). Pure functions over buffers and arenas: no
 * event loop, no pipeline, no global state, so the library can be fuzzed and
 * benchmarked alone. Every allocation comes from the caller's arena.
 *
 * pprof -> OTLP (one pprof document -> one ResourceProfiles with one
 * ScopeProfiles holding one Profile per pprof sample type, all sharing the
 * request's dictionary):
 *   time_nanos/duration_nanos   -> time_unix_nano/duration_nano
 *   period_type/period          -> period_type/period (on every Profile)
 *   Sample.location_id (leaf first) -> Sample.stack_index (stack_table, leaf first)
 *   Sample.value[i]             -> Profile i's Sample.values = [value[i]]
 *   string label k=v            -> sample attribute {key k, string_value v}
 *   numeric label k=n (num_unit u) -> sample attribute {key k, int_value n, unit u}
 *   a key with several labels on one sample -> ONE attribute whose value is an
 *       array_value of the values in order (OTLP forbids two entries with one key
 *       in one attribute list); their num_unit must agree (else PG_ERR_UNSUPPORTED)
 *   Mapping                     -> Mapping (memory_start/limit, file_offset,
 *       filename) + attributes PG_ATTR_BUILD_ID (when build_id != "") and
 *       PG_ATTR_HAS_* (bool, only when true)
 *   Location                    -> Location (mapping, address, lines in order)
 *       + PG_ATTR_IS_FOLDED (bool, only when true)
 *   Function                    -> Function (name, system_name, filename, start_line)
 *   drop_frames, keep_frames, doc_url, comment[i] -> profile attributes
 *       PG_ATTR_DROP_FRAMES, PG_ATTR_KEEP_FRAMES, PG_ATTR_DOC_URL,
 *       PG_ATTR_COMMENT_PREFIX "<i>" (on every Profile of the document)
 *   sample-type order and default_sample_type -> scope attributes
 *       PG_ATTR_SAMPLE_TYPE_ORDER (array of "type" strings, in pprof order) and
 *       PG_ATTR_DEFAULT_SAMPLE_TYPE (string; only when set in the pprof)
 *   options: service name -> resource "service.name", extra resource attributes,
 *       original_payload (off by default; set on the document's first Profile,
 *       with original_payload_format "pprof")
 * Attributes use key_strindex (v1.10 reference keys) and inline string values.
 * The output follows the dictionary rules: zero entries at index 0 of every
 * table, no duplicate strings, no dangling indices, no duplicate keys in one
 * attribute list; pg_otlp_validate accepts it.
 *
 * OTLP -> pprof: profiles of one scope that share time, duration, period and
 * period type, and whose scope carries PG_ATTR_SAMPLE_TYPE_ORDER, are
 * re-assembled into one pprof document with its sample types in that order and
 * its default sample type; a sample type seen twice starts another document.
 * Every other profile becomes a document of its own. Samples are merged by
 * (stack, attribute set, link): a sample with values sums them; a sample with
 * only timestamps counts one event per timestamp; per-sample timestamps are
 * dropped (pprof cannot hold them). Reference attributes (key_strindex,
 * string_value_strindex) are resolved. Attribute values that pprof labels can
 * hold (string, int, bool and double as strings, arrays of those -> several
 * labels) become labels; a link becomes labels "trace_id"/"span_id" (hex);
 * other values (kvlist, bytes) are skipped and counted in skipped_attributes.
 * Mapping/location/profile attributes listed above become the pprof fields.
 * Output passes google/pprof's CheckValid: ids 1..n, string_table[0] = "".
 */
#ifndef PG_CONVERT_CONVERT_H
#define PG_CONVERT_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"
#include "model/otlp.h"
#include "pprof.pb-c.h"

typedef Perftools__Profiles__Profile pg_pprof;

/* Attribute names of the pprof conventions (see the mapping above). */
#define PG_ATTR_BUILD_ID            "process.executable.build_id.gnu"
#define PG_ATTR_HAS_FUNCTIONS       "pprof.mapping.has_functions"
#define PG_ATTR_HAS_FILENAMES       "pprof.mapping.has_filenames"
#define PG_ATTR_HAS_LINE_NUMBERS    "pprof.mapping.has_line_numbers"
#define PG_ATTR_HAS_INLINE_FRAMES   "pprof.mapping.has_inline_frames"
#define PG_ATTR_IS_FOLDED           "pprof.location.is_folded"
#define PG_ATTR_DROP_FRAMES         "pprof.profile.drop_frames"
#define PG_ATTR_KEEP_FRAMES         "pprof.profile.keep_frames"
#define PG_ATTR_DOC_URL             "pprof.profile.doc_url"
#define PG_ATTR_COMMENT_PREFIX      "pprof.profile.comment."
#define PG_ATTR_SAMPLE_TYPE_ORDER   "pprof.scope.sample_type_order"
#define PG_ATTR_DEFAULT_SAMPLE_TYPE "pprof.scope.default_sample_type"

/* ---- pprof documents ---- */

/* True when buf starts with the gzip magic 1f 8b. */
int pg_is_gzip(const uint8_t *buf, size_t len);

/* Decodes a pprof document, gzip-compressed or raw (sniffed, never taken from a
 * name), inflating at most max_decompressed bytes (PG_ERR_LIMIT beyond), then
 * validates it with pg_pprof_validate. Errors name the field, e.g.
 * "sample[12].location_id[3] 77 does not match any location id". */
int pg_pprof_decode(pg_arena *a, const uint8_t *buf, size_t len, uint64_t max_decompressed,
                    pg_pprof **out, pg_error *err);

/* string_table[0] == "", every string valid UTF-8, every string index in range
 * (and not negative), ids non-zero and unique per table, every location_id,
 * mapping_id and function_id reference resolves, every sample has exactly
 * len(sample_type) values. */
int pg_pprof_validate(const pg_pprof *p, pg_error *err);

/* Appends the protobuf encoding, gzip-compressed when gzip != 0. */
int pg_pprof_encode(const pg_pprof *p, int gzip, pg_buf *out, pg_error *err);

/* String i of the document's string table; "" when i is out of range (a
 * validated document has none such, this guards the others). */
static inline const char *pg_pprof_str(const pg_pprof *p, int64_t i)
{
    return i >= 0 && (uint64_t)i < p->n_string_table ? p->string_table[i] : "";
}

/* "type:unit:period_type:period_unit" of a document's first sample type
 * (arena copy; NULL when out of memory). */
const char *pg_pprof_profile_type(pg_arena *a, const pg_pprof *doc);

/* Sample count and value total of the document's default sample type (the
 * last one when default_sample_type is unset). */
void pg_pprof_totals(const pg_pprof *doc, uint64_t *samples, int64_t *total);

/* ---- pprof -> OTLP ---- */

typedef struct pg_convert_attr {
    const char *key;
    const char *value;
} pg_convert_attr;

typedef struct pg_convert_type_attr {
    const char *sample_type; /* pprof sample type name */
    const char *key;
    const char *value;
} pg_convert_type_attr;

typedef struct pg_pprof_to_otlp_options {
    const char *service_name;              /* resource service.name; NULL or "" = none */
    const pg_convert_attr *resource_attrs; /* more string resource attributes */
    size_t n_resource_attrs;
    /* When non-NULL, stored as original_payload (format "pprof"). */
    const uint8_t *original_payload;
    size_t original_payload_len;
    /* String attributes for the Profile of one sample type (by its type
     * name), e.g. the units a Pyroscope sample_type_config gave it. */
    const pg_convert_type_attr *type_attrs;
    size_t n_type_attrs;
} pg_pprof_to_otlp_options;

/* Converts one validated pprof document into a new request (arena memory).
 * opt may be NULL. */
int pg_pprof_to_otlp(pg_arena *a, const pg_pprof *p, const pg_pprof_to_otlp_options *opt,
                     pg_otlp_request **out, pg_error *err);

/* The same conversion straight from pprof bytes (gzip-compressed or raw,
 * inflating at most max_decompressed bytes) to an encoded
 * ExportProfilesServiceRequest appended to out: byte for byte what
 * pg_pprof_decode + pg_pprof_to_otlp + pg_otlp_encode produce, and accepting
 * exactly the documents they accept, but without building either document in
 * memory (see convert/pprof_wire.h). Scratch memory comes from a; out holds
 * the request. */
int pg_pprof_to_otlp_encoded(pg_arena *a, const uint8_t *buf, size_t len, uint64_t max_decompressed,
                             const pg_pprof_to_otlp_options *opt, pg_buf *out, pg_error *err);

/* ---- OTLP -> pprof ---- */

/* One profile of a request, by position. */
typedef struct pg_otlp_ref {
    uint32_t resource_index, scope_index, profile_index;
} pg_otlp_ref;

typedef struct pg_pprof_doc {
    pg_pprof *profile;    /* the document (arena memory), validated */
    pg_otlp_ref *sources; /* the OTLP profiles it was built from, in sample-type order */
    size_t n_sources;
    size_t skipped_attributes; /* attribute values pprof labels cannot hold */
} pg_pprof_doc;

/* Converts the selected profiles of a validated request (all of them when refs
 * is NULL) into pprof documents, grouped as described above. */
int pg_otlp_to_pprof(pg_arena *a, const pg_otlp_request *req, const pg_otlp_ref *refs,
                     size_t n_refs, pg_pprof_doc **docs, size_t *n_docs, pg_error *err);

#endif
