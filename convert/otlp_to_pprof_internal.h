/*
 * Internals of the OTLP -> pprof conversion (convert/otlp_to_pprof*.c).
 *
 * One o2p_ctx lives for one pg_otlp_to_pprof call. Per-dictionary-entry
 * caches (OTLP index -> pprof id / string / labels) are allocated once per
 * call and tagged with the number of the document being built (gen), so that
 * starting a document costs nothing and a request converted into many small
 * documents does not pay for the whole dictionary once per document.
 */
#ifndef PG_CONVERT_OTLP_TO_PPROF_INTERNAL_H
#define PG_CONVERT_OTLP_TO_PPROF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "convert/convert.h"
#include "model/otlp_types.h"

typedef Perftools__Profiles__Sample pg_pprof_sample;
typedef Perftools__Profiles__Label pg_pprof_label;
typedef Perftools__Profiles__Mapping pg_pprof_mapping;
typedef Perftools__Profiles__Location pg_pprof_location;
typedef Perftools__Profiles__Line pg_pprof_line;
typedef Perftools__Profiles__Function pg_pprof_function;
typedef Perftools__Profiles__ValueType pg_pprof_value_type;

/* ---- open-addressing index over caller-owned entries ---- */

/* Slots hold a 32-bit hash and entry+1 (0 = empty); the entries themselves
 * live in the caller's arrays, so the index never copies keys. */
typedef struct o2p_hslot {
    uint32_t hash, entry;
} o2p_hslot;

typedef struct o2p_index {
    o2p_hslot *slots;
    size_t cap; /* power of two */
    size_t n;
} o2p_index;

/* True when entry matches the key being looked up (ctx describes the key). */
typedef int (*o2p_eq_fn)(const void *ctx, uint32_t entry);

int o2p_index_init(pg_arena *a, o2p_index *ix, size_t expected);

/* Finds the entry equal to the key, or records new_entry under hash. Returns
 * the entry found or new_entry; *inserted says which. -1 when out of memory. */
int64_t o2p_index_intern(pg_arena *a, o2p_index *ix, uint64_t hash, o2p_eq_fn eq, const void *ctx,
                         uint32_t new_entry, int *inserted);
/* The entry equal to the key, or -1. */
int64_t o2p_index_find(const o2p_index *ix, uint64_t hash, o2p_eq_fn eq, const void *ctx);

uint64_t o2p_hash_mix(uint64_t h, uint64_t v);

/* ---- per-call context ---- */

typedef struct o2p_stamp {
    uint32_t gen, val;
} o2p_stamp;

typedef struct o2p_stack_cache {
    uint32_t gen;
    uint32_t n;
    uint64_t *ids;
} o2p_stack_cache;

typedef struct o2p_label_cache {
    uint32_t gen;
    uint32_t n, skipped;
    pg_pprof_label **labels;
} o2p_label_cache;

/* A merged sample: the key it was merged by and its pprof sample. */
typedef struct o2p_sample_key {
    int32_t stack, link;
    uint32_t n_attrs;
    const int32_t *attrs; /* sorted, without repeats */
} o2p_sample_key;

typedef struct o2p_ctx {
    pg_arena *a;
    const pg_otlp_request *req;
    const pg_otlp_dictionary *d;
    pg_error *err;
    int rc; /* the first error code set through o2p_nomem */
    uint32_t gen;

    o2p_stamp *str_cache, *map_cache, *loc_cache, *fun_cache;
    o2p_stack_cache *stack_cache;
    o2p_label_cache *attr_cache, *link_cache;
    uint32_t *attr_seen; /* per attribute: stamp of the last sample that used it */
    uint32_t seen_gen;
    int32_t *scratch;
    size_t scratch_cap;

    /* the document being built */
    pg_pprof *p;
    size_t cap_str, cap_map, cap_loc, cap_fun, cap_sample;
    uint32_t *str_hash; /* hash of each string_table entry, for rehashing */
    o2p_index str_index;
    o2p_index sample_index;
    o2p_sample_key *sample_keys;
    size_t skipped;
} o2p_ctx;

/* PG_ERR_LIMIT or PG_ERR_NOMEM with a message, after a failed allocation. */
int o2p_nomem(o2p_ctx *c);

/* Grows an arena array of pointers to hold one more; 0 or an error. */
int o2p_grow(o2p_ctx *c, void ***items, size_t n, size_t *cap);

/* ---- strings and dictionary entries (otlp_to_pprof_tables.c) ---- */

/* pprof string index of s (interned); -1 on allocation failure. */
int64_t o2p_str(o2p_ctx *c, const char *s);
/* pprof string index of OTLP string_table[i]. */
int64_t o2p_strx(o2p_ctx *c, int32_t i);

/* pprof location id of location_table[i]; 0 on allocation failure. */
uint64_t o2p_location(o2p_ctx *c, int32_t i);

/* Emits every mapping of the dictionary (entry 0 only when it is not the zero
 * mapping), ids in table order. For a document that holds the whole request:
 * a pprof document may list mappings no location uses (Go lists every mapped
 * file), and they can only have come from this document. */
int o2p_all_mappings(o2p_ctx *c);

/* Location ids of stack_table[i] (leaf first), shared by all samples. */
int o2p_stack(o2p_ctx *c, int32_t i, uint64_t **ids, size_t *n);

/* ---- attributes (otlp_to_pprof_attr.c) ---- */

/* Key of a KeyValue (inline key, else key_strindex). */
const char *o2p_kv_key(const pg_otlp_request *req, const pg_otlp_kv *kv);
/* Text of a string value (inline or by index); NULL for other kinds. */
const char *o2p_any_string(const pg_otlp_request *req, const pg_otlp_any *v);
/* Value of attribute_table[i] when its key is `key`, else NULL. */
const pg_otlp_any *o2p_attr_lookup(const pg_otlp_request *req, const int32_t *indices, size_t n,
                                   const char *key);

/* Labels of attribute_table[i] / link_table[i] in the current document. */
const o2p_label_cache *o2p_attr_labels(o2p_ctx *c, int32_t i);
const o2p_label_cache *o2p_link_labels(o2p_ctx *c, int32_t i);

/* ---- grouping (otlp_to_pprof_plan.c) ---- */

/* One planned document: its profiles in sample-type order. */
typedef struct o2p_plan_doc {
    pg_otlp_ref *refs;
    size_t n;
    const char *default_type; /* NULL: none */
} o2p_plan_doc;

/* Groups the selected profiles (refs already checked) into documents, in the
 * order each document's first profile was met. */
int o2p_plan(pg_arena *a, const pg_otlp_request *req, const pg_otlp_ref *refs, size_t n,
             o2p_plan_doc **docs, size_t *n_docs, pg_error *err);

/* ---- documents (otlp_to_pprof_doc.c) ---- */

/* Allocates the per-entry caches for the request's dictionary. */
int o2p_ctx_init(o2p_ctx *c, pg_arena *a, const pg_otlp_request *req, pg_error *err);

/* Builds one document from profiles[0..n) (in sample-type order);
 * default_type names the default sample type or is NULL. whole_request: the
 * document holds every profile of the request, so the dictionary's mappings
 * are all its own (see o2p_all_mappings). */
int o2p_build_doc(o2p_ctx *c, const pg_otlp_profile *const *profiles, size_t n,
                  const char *default_type, int whole_request, pg_pprof_doc *out);

/* ---- self-check (otlp_to_pprof_check.c) ---- */

/* Checks what the converter promises about a document: string_table[0] is
 * "", every string index in range, ids 1..n in table order, every reference
 * resolves, every sample has one value per sample type, and every location
 * and function is referenced (mappings may not be: see o2p_all_mappings).
 * PG_ERR_INVALID naming the problem. */
int o2p_check_doc(const pg_pprof *p, pg_error *err);

/* ---- samples (otlp_to_pprof_samples.c) ---- */

/* Prepares the sample index for up to n_samples merged samples. */
int o2p_samples_begin(o2p_ctx *c, size_t n_samples);

/* Adds the profile's samples to value column col of n_cols. */
int o2p_samples_add(o2p_ctx *c, const pg_otlp_profile *pr, size_t col, size_t n_cols);

#endif
