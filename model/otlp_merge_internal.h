/*
 * Internals of the merge builder (model/otlp_merge.h), shared by its source
 * files; not an API for other modules.
 *
 *   otlp_merge_table.c   arena vectors, canonical keys, interning tables
 *   otlp_merge_values.c  copies of attribute values, resources and scopes
 *                        with their string-table references remapped
 *   otlp_merge.c         the builder: per-source memo, dictionary entries,
 *                        profiles, resources/scopes sharing, the result
 */
#ifndef PG_MODEL_OTLP_MERGE_INTERNAL_H
#define PG_MODEL_OTLP_MERGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "model/otlp.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any;
typedef Opentelemetry__Proto__Common__V1__ArrayValue pb_array;
typedef Opentelemetry__Proto__Common__V1__KeyValueList pb_kvlist;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Common__V1__EntityRef pb_entity_ref;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;

#define PROF_INIT(x)   OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__##x##__INIT
#define COMMON_INIT(x) OPENTELEMETRY__PROTO__COMMON__V1__##x##__INIT

/* A protobuf-c message of `type` in arena a, initialised with `init`. */
#define NEW_MSG(a, type, init) pg_merge_new_msg((a), sizeof(type), &(type)init)
void *pg_merge_new_msg(pg_arena *a, size_t size, const void *init);

/* Growable array of pointers in an arena (old arrays are abandoned there). */
typedef struct pg_merge_vec {
    void **v;
    size_t n, cap;
} pg_merge_vec;

int pg_merge_vec_push(pg_arena *a, pg_merge_vec *v, void *item);

/* Canonical key of an entry, built in a reusable arena buffer. */
typedef struct pg_merge_key {
    uint8_t *p;
    size_t len, cap;
} pg_merge_key;

int pg_merge_key_reserve(pg_arena *a, pg_merge_key *k, size_t extra);
int pg_merge_key_u64(pg_arena *a, pg_merge_key *k, uint64_t v);
/* Length-prefixed bytes. */
int pg_merge_key_bytes(pg_arena *a, pg_merge_key *k, const void *p, size_t n);
/* The message's protobuf encoding (NULL encodes differently from empty);
 * protobuf-c packs fields in a fixed order, so equal messages give equal
 * bytes. */
int pg_merge_key_message(pg_arena *a, pg_merge_key *k, const ProtobufCMessage *m);

/* An interning table: entries in insertion order (index = dictionary index)
 * and an open-addressing hash index over their keys. */
typedef struct pg_merge_table {
    uint32_t *slots; /* 0 = empty, else entry index + 1 */
    size_t mask;
    const uint8_t **keys; /* NUL-terminated copies */
    uint32_t *key_lens;
    uint64_t *hashes;
    pg_merge_vec items;
} pg_merge_table;

/* Index of the entry whose key equals k; when there is none, appends item
 * (NULL: the key's own NUL-terminated copy, for strings) and returns its new
 * index. PG_ERR_NOMEM / PG_ERR_LIMIT (2^31 entries) below zero. */
int64_t pg_merge_table_put(pg_arena *a, pg_merge_table *t, const pg_merge_key *k, void *item);

/* What the value copies need from the builder. */
typedef struct pg_merge_ctx {
    pg_arena *a;
    struct pg_otlp_builder *b;
    struct pg_merge_src *s;
    pg_error *err;
} pg_merge_ctx;

/* Output index of source string i (defined by the builder). */
int64_t pg_merge_map_str(pg_merge_ctx *c, int32_t i);
int64_t pg_merge_nomem(pg_merge_ctx *c);

/* Remaps a string-index field of a fresh copy in place; returns on error. */
#define REMAP(c, map, field)                                                                       \
    do {                                                                                           \
        int64_t r_ = map((c), (field));                                                            \
        if (r_ < 0)                                                                                \
            return r_;                                                                             \
        (field) = (int32_t)r_;                                                                     \
    } while (0)

char *pg_merge_dup_str(pg_arena *a, const char *s);
int pg_merge_copy_bytes(pg_arena *a, const ProtobufCBinaryData *in, ProtobufCBinaryData *out);
/* Deep copies into c->a with key_strindex / string_value_strindex remapped.
 * NULL in gives NULL out. 0 or a PG_ERR_* with c->err filled. */
int64_t pg_merge_copy_any(pg_merge_ctx *c, const pb_any *in, pb_any **out, int depth);
int64_t pg_merge_copy_resource(pg_merge_ctx *c, const pb_resource *in, pb_resource **out);
int64_t pg_merge_copy_scope(pg_merge_ctx *c, const pb_scope *in, pb_scope **out);

#endif
