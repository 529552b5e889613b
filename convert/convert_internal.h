/*
 * Private helpers shared by the pprof decoder, validator and the pprof -> OTLP
 * conversion (convert/pprof_*.c): short type names, hashing, and the
 * id -> position index that resolves pprof's arbitrary uint64 ids.
 *
 * pprof ids are usually 1..n in table order, sometimes dense but shuffled,
 * rarely sparse. The index picks the cheapest form that works: no memory at
 * all for 1..n in order, a direct array for dense ids, an open-addressing hash
 * table otherwise, so that resolving an id is a load or two on the hot path.
 */
#ifndef PG_CONVERT_CONVERT_INTERNAL_H
#define PG_CONVERT_CONVERT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "convert/convert.h"
#include "model/otlp_types.h"

typedef Perftools__Profiles__ValueType pg_pprof_value_type;
typedef Perftools__Profiles__Sample pg_pprof_sample;
typedef Perftools__Profiles__Label pg_pprof_label;
typedef Perftools__Profiles__Mapping pg_pprof_mapping;
typedef Perftools__Profiles__Location pg_pprof_location;
typedef Perftools__Profiles__Line pg_pprof_line;
typedef Perftools__Profiles__Function pg_pprof_function;

/* ---- hashing ---- */

/* Folds v into h; cheap enough to call once per integer of a key. */
static inline uint64_t pg_cv_hash_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

/* ---- id -> position ---- */

typedef enum pg_idmap_mode {
    PG_IDMAP_SEQUENTIAL, /* entry i has id i+1 */
    PG_IDMAP_DIRECT,     /* slots[id] = position+1, 0 = absent */
    PG_IDMAP_HASH,       /* keys/slots, open addressing, capacity a power of two */
} pg_idmap_mode;

typedef struct pg_idmap {
    pg_idmap_mode mode;
    size_t n;        /* entries */
    size_t cap;      /* DIRECT: largest id + 1; HASH: slot count */
    uint32_t *slots; /* position + 1, 0 = empty */
    uint64_t *keys;  /* HASH only */
    int heap;        /* slots/keys come from malloc (no arena given) */
} pg_idmap;

/* What went wrong while building an index. */
typedef struct pg_idmap_problem {
    enum { PG_IDMAP_OK, PG_IDMAP_ZERO, PG_IDMAP_DUPLICATE, PG_IDMAP_NOMEM } kind;
    size_t position; /* entry with id 0 */
    uint64_t id;     /* the duplicated id */
} pg_idmap_problem;

/* Indexes the ids of n messages (items[i] is a message whose uint64 id lives at
 * byte offset id_offset). Memory comes from a, or from malloc when a is NULL
 * (release it with pg_idmap_release). Returns 0 or -1 with *why filled. */
int pg_idmap_build(pg_idmap *m, pg_arena *a, void *const *items, size_t n, size_t id_offset,
                   pg_idmap_problem *why);
/* The same over an array of n structs, stride bytes apart. */
int pg_idmap_build_array(pg_idmap *m, pg_arena *a, const void *array, size_t n, size_t stride,
                         size_t id_offset, pg_idmap_problem *why);
void pg_idmap_release(pg_idmap *m);

/* Position of the entry with this id, or -1. */
static inline int64_t pg_idmap_find(const pg_idmap *m, uint64_t id)
{
    switch (m->mode) {
    case PG_IDMAP_SEQUENTIAL:
        return id && id <= m->n ? (int64_t)id - 1 : -1;
    case PG_IDMAP_DIRECT:
        return id < m->cap ? (int64_t)m->slots[id] - 1 : -1;
    default:
        break;
    }
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)pg_cv_hash_mix(0, id) & mask;; i = (i + 1) & mask) {
        if (!m->slots[i])
            return -1;
        if (m->keys[i] == id)
            return (int64_t)m->slots[i] - 1;
    }
}

/* Offset of the first byte of s that is not valid UTF-8, or n. */
static inline size_t pg_cv_utf8_invalid_at(const char *s, size_t n)
{
    return pg_utf8_invalid_at((const uint8_t *)s, n);
}

/* The pprof bytes, inflated into a when they are gzip-compressed (sniffed);
 * errors prefixed "pprof: ", PG_ERR_LIMIT beyond max_decompressed or the
 * arena's limit. Shared by pg_pprof_decode and pg_pprof_wire_read. */
int pg_pprof_inflate(pg_arena *a, const uint8_t *buf, size_t len, uint64_t max_decompressed,
                     const uint8_t **data, size_t *n, pg_error *err);

/* pg_pprof_validate, with the UTF-8 check of the string table optional (the
 * decoder checks the encoded strings, which protobuf-c may have cut at a NUL). */
int pg_pprof_validate_strings(const pg_pprof *p, int check_utf8, pg_error *err);

/* Repairs pprof documents whose every Function has id 0 (written by the .NET
 * profiler, which numbers functions by position): gives them ids 1..n, the
 * ids its locations use. Returns 1 when it changed the document. */
int pg_pprof_repair_function_ids(pg_pprof *p);

/* ---- pprof -> OTLP (convert/pprof_to_otlp*.c) ---- */

/* Interning slot: a 32-bit hash and entry+1 (0 = empty). */
typedef struct p2o_slot {
    uint32_t hash, entry;
} p2o_slot;

typedef struct p2o_set {
    p2o_slot *slots;
    size_t cap; /* power of two */
    size_t n;
} p2o_set;

int p2o_set_init(pg_arena *a, p2o_set *s, size_t expected);
/* Doubles the table (p2o_set_reserve's slow path). */
int p2o_set_grow(pg_arena *a, p2o_set *s);
/* Makes room for one more entry (rehashing at half load). */
static inline int p2o_set_reserve(pg_arena *a, p2o_set *s)
{
    return (s->n + 1) * 2 <= s->cap ? 0 : p2o_set_grow(a, s);
}

/* A string of the conversion. Ids below the pprof table size are pprof
 * indices (the first of equal strings); later ids are strings the conversion
 * adds (attribute keys). */
typedef struct p2o_str {
    const char *src; /* pprof string, or one that outlives the output */
    uint32_t len;
    int32_t out;      /* index in the OTLP string table, -1 until used */
    const char *copy; /* NUL-terminated copy in the output arena, or NULL */
} p2o_str;

/* Attribute value kinds, for interning. */
enum { P2O_STR = 1, P2O_INT, P2O_BOOL, P2O_ARRAY };

typedef struct p2o_val {
    uint32_t kind;
    int64_t v; /* string id, integer or bool */
} p2o_val;

typedef struct p2o_attr_key {
    uint32_t key, unit; /* string ids; unit 0 = none */
    p2o_val val;        /* kind P2O_ARRAY: v = item count, items below */
    const p2o_val *items;
} p2o_attr_key;

/* Interning of attribute keys, shared by both pprof -> OTLP converters. */
static inline uint64_t p2o_val_hash(uint64_t h, const p2o_val *v)
{
    return pg_cv_hash_mix(pg_cv_hash_mix(h, v->kind), (uint64_t)v->v);
}

static inline uint32_t p2o_attr_key_hash(const p2o_attr_key *k)
{
    uint64_t h = pg_cv_hash_mix(pg_cv_hash_mix(0, k->key), k->unit);
    h = p2o_val_hash(h, &k->val);
    if (k->val.kind == P2O_ARRAY) {
        for (int64_t i = 0; i < k->val.v; i++)
            h = p2o_val_hash(h, &k->items[i]);
    }
    return (uint32_t)(h ^ (h >> 32));
}

static inline int p2o_attr_key_eq(const p2o_attr_key *a, const p2o_attr_key *b)
{
    if (a->key != b->key || a->unit != b->unit || a->val.kind != b->val.kind ||
        a->val.v != b->val.v)
        return 0;
    if (a->val.kind != P2O_ARRAY)
        return 1;
    for (int64_t i = 0; i < a->val.v; i++) {
        if (a->items[i].kind != b->items[i].kind || a->items[i].v != b->items[i].v)
            return 0;
    }
    return 1;
}

typedef struct p2o_ctx {
    pg_arena *a;
    const pg_pprof *p;
    pg_error *err;

    /* strings */
    p2o_str *strs;
    size_t n_strs, cap_strs;
    uint32_t *canon; /* pprof index -> string id */
    p2o_set str_set;
    char **out_strings;
    size_t n_out_strings;

    /* attributes */
    Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit **attrs;
    p2o_attr_key *attr_keys;
    size_t n_attrs, cap_attrs;
    p2o_set attr_set;

    /* id -> position */
    pg_idmap mappings, locations, functions;

    /* stacks */
    Opentelemetry__Proto__Profiles__V1development__Stack **stacks;
    size_t n_stacks;
    p2o_set stack_set;
    int32_t *scratch; /* one sample's location indices */

    /* attribute keys the conversion adds (string ids) */
    uint32_t k_build_id, k_has[4], k_folded;

    /* sample attribute lists, carved from one pool */
    int32_t *attr_pool;
    size_t attr_pool_used, attr_pool_cap;

    /* label grouping scratch: per string id, the sample it was last seen in
     * and its group; per label, its group; per group, count/offset/unit */
    uint32_t *key_seen, *key_group;
    uint32_t *lab_group, *grp_count, *grp_off, *grp_unit;
    p2o_val *lab_val, *grp_vals;
    size_t max_labels;

    pg_otlp_dictionary *dict;
} p2o_ctx;

/* pprof string index -> string id; -1 (error set) when out of range. */
int64_t p2o_sid(p2o_ctx *c, int64_t index, const char *field);
/* Id of a string the conversion adds (s must outlive the output: a literal
 * or output-arena memory); -1 when out of memory. */
int64_t p2o_sid_literal(p2o_ctx *c, const char *s);
/* OTLP string-table index of a string id (adding it on first use). */
int32_t p2o_strindex(p2o_ctx *c, uint32_t sid);
/* Output-arena copy of a string id. */
char *p2o_strcopy(p2o_ctx *c, uint32_t sid);

int p2o_strings_init(p2o_ctx *c, size_t extra);
int p2o_attrs_init(p2o_ctx *c, size_t expected);
/* attribute_table index for the key; -1 when out of memory (error set). */
int32_t p2o_attr(p2o_ctx *c, const p2o_attr_key *k);

int p2o_tables(p2o_ctx *c);
int p2o_stacks_init(p2o_ctx *c);
/* stack_table index of a sample's stack. */
int32_t p2o_stack(p2o_ctx *c, const pg_pprof_sample *s, size_t si);
/* Sample attribute list (labels grouped by key); *n set. NULL + n 0 when none. */
int p2o_sample_attrs(p2o_ctx *c, const pg_pprof_sample *s, size_t si, int32_t **out, size_t *n);

int p2o_nomem(p2o_ctx *c);

#endif
