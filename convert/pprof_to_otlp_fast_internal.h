/*
 * Private state of the direct pprof -> OTLP encoder (convert/pprof_to_otlp_fast*.c).
 *
 * It performs the conversion pg_pprof_to_otlp performs, decision for decision
 * and in the same order (so strings, attributes and stacks get the same table
 * positions), but reads the pprof with convert/pprof_wire.h and writes each
 * OTLP message as bytes the moment its content is known: dictionary entries
 * into per-table byte runs, each sample's stack and attribute fields into one
 * run shared by every sample type. The request is then assembled from exact
 * sizes, so nothing is encoded twice and no message struct exists.
 */
#ifndef PG_CONVERT_PPROF_TO_OTLP_FAST_INTERNAL_H
#define PG_CONVERT_PPROF_TO_OTLP_FAST_INTERNAL_H

#include "convert/convert_internal.h"
#include "convert/pb_write.h"
#include "convert/pprof_wire.h"

/* A run of encoded bytes in arena memory, grown by doubling. */
typedef struct p2f_bytes {
    uint8_t *p;
    size_t n, cap;
} p2f_bytes;

typedef struct p2f_str {
    const char *s; /* not NUL-terminated */
    uint32_t len;
    int32_t out; /* index in the OTLP string table, -1 until used */
} p2f_str;

/* Attribute keys of mappings and locations, in the order pg_pprof_to_otlp
 * interns them. */
enum { P2F_KEY_BUILD_ID, P2F_KEY_HAS_FUNCTIONS, P2F_KEY_FOLDED = 5, P2F_N_KEYS };

/* Samples interned together, so that their stack lookups overlap. */
#define P2F_BATCH 8

typedef struct p2f_ctx {
    pg_arena *a;
    pg_error *err;
    const pg_pprof_wire *w;

    /* strings: ids below w->n_strings are pprof indices (the first of equal
     * strings); later ids are strings the conversion adds */
    p2f_str *strs;
    size_t n_strs, cap_strs;
    uint32_t *canon; /* pprof index -> string id */
    p2o_set str_set;
    uint32_t *out_sids; /* OTLP string table: string ids in order */
    size_t n_out;
    size_t string_table_bytes; /* the encoded string_table fields */

    /* attribute_table: keys for interning, entries encoded in order */
    p2o_attr_key *attr_keys;
    size_t n_attrs, cap_attrs;
    p2o_set attr_set;
    p2f_bytes attr_table;

    /* stack_table: entries encoded in order (field tag included); the set
     * compares packed location indices */
    p2f_bytes stack_table;
    uint32_t *stack_off; /* entry i: packed bytes at stack_table.p + stack_off[i] */
    uint32_t *stack_len;
    size_t n_stacks, cap_stacks;
    p2o_set stack_set;
    size_t batch;    /* samples per batch: P2F_BATCH, or 1 for huge samples */
    uint8_t *packed; /* a batch's packed location indices */

    /* encoded dictionary tables (field tags included) */
    p2f_bytes mappings, locations, functions;

    /* attribute keys the conversion adds, interned on first use (0: not
     * yet; id 0 is the empty string, never a key) */
    uint32_t k_lit[P2F_N_KEYS];

    /* samples: per sample its stack and attribute fields, encoded once */
    pgw_sample sample;
    int32_t *batch_attrs; /* a batch's attribute indices */
    p2f_bytes prefixes;
    uint32_t *prefix_off;  /* n_samples + 1 */
    int64_t *values;       /* [type * n_samples + sample] */
    size_t *samples_bytes; /* per sample type: its encoded samples fields */

    /* label grouping scratch (as in p2o_ctx) */
    uint32_t *key_seen, *key_group;
    uint32_t *lab_group, *grp_count, *grp_off, *grp_unit;
    p2o_val *lab_val, *grp_vals;
    int32_t *attr_list;
} p2f_ctx;

int p2f_nomem(p2f_ctx *c);
/* Makes room for extra more bytes. */
int p2f_reserve(p2f_ctx *c, p2f_bytes *b, size_t extra);

/* ---- strings and attributes (pprof_to_otlp_fast_strings.c) ---- */
int p2f_strings_init(p2f_ctx *c, size_t extra);
/* pprof string index -> string id (the reader checked the range). */
static inline uint32_t p2f_sid(const p2f_ctx *c, int64_t index)
{
    return c->canon[index];
}
/* Id of a string the conversion adds (must outlive the conversion); -1 on error. */
int64_t p2f_sid_literal(p2f_ctx *c, const char *s, size_t len);
/* Id of attribute key P2F_KEY_*; -1 on error. */
int64_t p2f_key(p2f_ctx *c, int key);
/* OTLP string-table index of a string id (added on first use). */
static inline int32_t p2f_strindex(p2f_ctx *c, uint32_t sid)
{
    p2f_str *e = &c->strs[sid];
    if (e->out < 0) {
        e->out = (int32_t)c->n_out;
        c->out_sids[c->n_out++] = sid;
        c->string_table_bytes += pg_pbs_len_field(e->len);
    }
    return e->out;
}
int p2f_attrs_init(p2f_ctx *c, size_t expected);
/* attribute_table index for the key (encoding a new entry); -1 on error. */
int32_t p2f_attr(p2f_ctx *c, const p2o_attr_key *k);

/* ---- tables (pprof_to_otlp_fast_tables.c) ---- */
int p2f_tables(p2f_ctx *c);

/* ---- samples (pprof_to_otlp_fast_samples.c) ---- */
int p2f_samples_init(p2f_ctx *c);
/* Parses every sample, interning stacks and attribute lists. */
int p2f_samples(p2f_ctx *c);
/* Writes sample i's Sample field for sample type t. */
void p2f_sample_write(const p2f_ctx *c, size_t t, size_t i, uint8_t **p);

#endif
