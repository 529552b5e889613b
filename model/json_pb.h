/*
 * Generic conversion between protobuf-c messages and jansson values, driven
 * by the protobuf-c descriptors (no per-message code), following the proto3
 * JSON mapping:
 *   - keys are the lowerCamelCase field names; the proto (snake_case) names
 *     are accepted too; unknown keys are ignored; null means "absent";
 *   - 64-bit integers are decimal strings (numbers accepted), 32-bit integers
 *     numbers (decimal strings accepted), doubles numbers or "NaN",
 *     "Infinity", "-Infinity"; enums integers (names accepted);
 *   - bytes are base64 (standard or URL-safe alphabet, padding optional),
 *     except fields the caller marks as hex (OTLP trace/span ids);
 *   - encoding omits default-valued scalars (unless they are the set member
 *     of a oneof), unset messages and empty repeated fields.
 * Decoded messages live in the caller's arena.
 */
#ifndef PG_MODEL_JSON_PB_H
#define PG_MODEL_JSON_PB_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"

typedef struct pg_jpb_options {
    /* Decoded length of a bytes field that is written as hex, or 0 for base64.
     * On input a hex field whose text is not hex of exactly that length is
     * read as base64 (what generic proto3 JSON writers produce). NULL: none. */
    size_t (*hex_len)(const ProtobufCMessageDescriptor *msg, const ProtobufCFieldDescriptor *field);
    /* Deepest message nesting accepted on input (0: 100). */
    int max_depth;
} pg_jpb_options;

/* Converts object `json` into a new message of type desc. Errors name the
 * JSON path, e.g. "resourceProfiles[0].scopeProfiles[0].profiles[1].period:
 * expected an integer, got object". */
int pg_jpb_decode(pg_arena *arena, const ProtobufCMessageDescriptor *desc, json_t *json,
                  const pg_jpb_options *opt, ProtobufCMessage **out, pg_error *err);

/* A new jansson object for msg (NULL when out of memory). */
json_t *pg_jpb_encode(const ProtobufCMessage *msg, const pg_jpb_options *opt);

/* Size of one element of a repeated field of type t in a protobuf-c struct. */
size_t pg_jpb_slot_size(ProtobufCType t);

/* Byte-string codecs used by the converter. Decoders return the decoded
 * length, or -1 when the text is not valid; out needs room for len bytes
 * (base64 decodes to at most len * 3 / 4). */
long pg_base64_decode(const char *s, size_t len, uint8_t *out);
char *pg_base64_encode(const uint8_t *p, size_t n, char *out); /* out: 4*((n+2)/3)+1 */
long pg_hex_decode(const char *s, size_t len, uint8_t *out);
char *pg_hex_encode(const uint8_t *p, size_t n, char *out); /* out: 2*n+1 */

#endif
