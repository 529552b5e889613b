/*
 * Protobuf wire primitives of the fast pprof reader (convert/pprof_wire_*.c).
 *
 * They accept exactly what protobuf-c 1.4 accepts, because pg_pprof_decode
 * (protobuf-c underneath) is the reference the reader must agree with:
 *   - a tag is at most 5 bytes; its field number is the varint >> 3 (32
 *     bits); a one-byte tag with field number 0 is an error, a longer one is
 *     an unknown field;
 *   - a varint is at most 10 bytes (bits past 64 are dropped);
 *   - a length prefix is at most 5 bytes and must fit in what is left;
 *   - wire types 3, 4, 6 and 7 (groups and reserved) are errors wherever
 *     they appear;
 *   - a bool is true when any byte of the field's encoding (after the tag,
 *     length prefix included) has one of its low 7 bits set, whatever the
 *     wire type (0, 1, 2 or 5).
 * Every reader checks bounds and never reads at or past `end`.
 */
#ifndef PG_CONVERT_PPROF_WIRE_INTERNAL_H
#define PG_CONVERT_PPROF_WIRE_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "convert/pprof_wire.h"

enum { PGW_VARINT = 0, PGW_I64 = 1, PGW_LEN = 2, PGW_I32 = 5 };

/* The readers are small and on every path; inlining lets the compiler keep
 * the field in registers. */
#define PGW_INLINE static inline __attribute__((always_inline))

/* The message every wire-format error reports, as pg_pprof_decode does. */
#define PGW_BAD_WIRE "not a valid perftools.profiles.Profile protobuf message"

/* A tag as one number, field number << 3 | wire type, so that a parser
 * switches on both at once (and never reads back two halves it stored
 * separately, which stalls store-to-load forwarding). */
#define PGW_KEY(num, wt) ((uint64_t)(num) << 3 | (uint64_t)(wt))

/* One field of a message. */
typedef struct pgw_field {
    uint64_t key;       /* PGW_KEY(field number, wire type) */
    uint64_t v;         /* wire type 0: the value */
    const uint8_t *p;   /* wire type 2: payload (else the fixed bytes) */
    size_t n;           /* payload length */
    const uint8_t *raw; /* encoding after the tag (pgw_next_raw only) */
} pgw_field;

int pgw_varint_slow(const uint8_t **pp, const uint8_t *end, uint64_t *v);

/* Word-at-a-time paths read 8 bytes as one little-endian number. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PGW_LITTLE_ENDIAN 1
#else
#define PGW_LITTLE_ENDIAN 0
#endif

#define PGW_BYTES(b) (0x0101010101010101ull * (b))

/* The 7-bit groups of the 8 bytes x (little-endian) packed together: the
 * value of a varint that fills them. No loop: three shifts. */
static inline uint64_t pgw_pack7(uint64_t x)
{
    x &= PGW_BYTES(0x7f);
    x = (x & 0x007f007f007f007full) | ((x & 0x7f007f007f007f00ull) >> 1);
    x = (x & 0x00003fff00003fffull) | ((x & 0x3fff00003fff0000ull) >> 2);
    return (x & 0x000000000fffffffull) | ((x & 0x0fffffff00000000ull) >> 4);
}

/* The varint at the start of the 8 bytes x (little-endian), when it ends
 * within them: its length (1..8), else 0. */
static inline unsigned pgw_varint_word(uint64_t x, uint64_t *v)
{
    uint64_t stops = ~x & PGW_BYTES(0x80);
    if (!stops)
        return 0;
    /* the bytes up to the first without continuation bit */
    *v = pgw_pack7(x & (stops ^ (stops - 1)));
    return ((unsigned)__builtin_ctzll(stops) >> 3) + 1;
}

/* Reads a varint of at most 10 bytes; 0 when it is truncated or longer.
 * One- and two-byte varints (ids, indices, small values) take no loop, and
 * neither do those up to 8 bytes (addresses, values) with 8 bytes left. */
PGW_INLINE int pgw_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *v = *p;
        *pp = p + 1;
        return 1;
    }
    if (end - p >= 2 && p[1] < 0x80) {
        *v = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
        *pp = p + 2;
        return 1;
    }
#if PGW_LITTLE_ENDIAN
    if (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        unsigned n = pgw_varint_word(x, v);
        if (n) {
            *pp = p + n;
            return 1;
        }
    }
#endif
    return pgw_varint_slow(pp, end, v);
}

static inline uint32_t pgw_num(uint64_t key)
{
    return (uint32_t)(key >> 3);
}

static inline uint32_t pgw_wt(uint64_t key)
{
    return (uint32_t)(key & 7);
}

/* A field of a known number 1..last that no case of its parser took: a
 * wire type protobuf-c refuses for it. */
static inline int pgw_misplaced(uint64_t key, uint32_t last)
{
    uint32_t num = pgw_num(key);
    return num >= 1 && num <= last;
}

int pgw_tag_slow(const uint8_t **pp, const uint8_t *end, uint64_t *key);

/* Reads a tag (at most 5 bytes) as a PGW_KEY; 0 when malformed. */
PGW_INLINE int pgw_tag(const uint8_t **pp, const uint8_t *end, uint64_t *key)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        if (*p < 8)
            return 0; /* field number 0 in a one-byte tag */
        *key = *p;
        *pp = p + 1;
        return 1;
    }
    return pgw_tag_slow(pp, end, key);
}

/* Reads a length prefix (at most 5 bytes) and checks the payload fits. */
PGW_INLINE int pgw_len(const uint8_t **pp, const uint8_t *end, size_t *n)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        if (*p > end - p - 1)
            return 0;
        *n = *p;
        *pp = p + 1;
        return 1;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < 5 && p < end; i++) {
        uint8_t c = *p++;
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            if (v > INT_MAX || v > (uint64_t)(end - p))
                return 0;
            *n = (size_t)v;
            *pp = p;
            return 1;
        }
    }
    return 0;
}

/* Reads the body of a field whose tag is f->key; 0 when it is
 * malformed (or of a wire type protobuf-c refuses). */
PGW_INLINE int pgw_body(const uint8_t **pp, const uint8_t *end, pgw_field *f)
{
    uint32_t wt = pgw_wt(f->key);
    /* conditional branches, likeliest first: a switch here compiles to an
     * indirect jump that predicts worse */
    if (wt == PGW_VARINT)
        return pgw_varint(pp, end, &f->v);
    if (wt == PGW_LEN) {
        if (!pgw_len(pp, end, &f->n))
            return 0;
    } else if (wt == PGW_I64 || wt == PGW_I32) {
        f->n = wt == PGW_I64 ? 8 : 4;
        if ((size_t)(end - *pp) < f->n)
            return 0;
    } else {
        return 0;
    }
    f->p = *pp;
    *pp += f->n;
    return 1;
}

/* Reads the next field; 1, 0 at the end of the message, -1 when malformed. */
PGW_INLINE int pgw_next(const uint8_t **pp, const uint8_t *end, pgw_field *f)
{
    if (*pp >= end)
        return 0;
    if (!pgw_tag(pp, end, &f->key) || !pgw_body(pp, end, f))
        return -1;
    return 1;
}

/* pgw_next, also setting f->raw for messages with bool fields. */
PGW_INLINE int pgw_next_raw(const uint8_t **pp, const uint8_t *end, pgw_field *f)
{
    if (*pp >= end)
        return 0;
    if (!pgw_tag(pp, end, &f->key))
        return -1;
    f->raw = *pp;
    return pgw_body(pp, end, f) ? 1 : -1;
}

/* The value protobuf-c gives a bool field (read by pgw_next_raw) whose
 * encoding ends at `end`. */
PGW_INLINE uint8_t pgw_bool(const pgw_field *f, const uint8_t *end)
{
    for (const uint8_t *p = f->raw; p < end; p++) {
        if (*p & 0x7f)
            return 1;
    }
    return 0;
}

/* A field among 1..k of wire type 0 in a one-byte tag: the tag byte is
 * 8 * number + wire type, in 8..8k+7 for numbers up to 15. */
#define PGW_FAST_VARINT(tag, k) ((uint32_t)(tag)-8 < 8u * (k) && ((tag)&7) == 0)

/* Stores field num of a message whose fields 1..k are 8-byte members, in
 * field order, at the start of dst. */
PGW_INLINE void pgw_store_field(void *dst, uint32_t num, uint64_t v)
{
    memcpy((char *)dst + 8 * (num - 1), &v, 8);
}

/* Parses a message whose fields 1..k are varints (int64 or uint64) into
 * dst, an array of k 8-byte values (zeroed by the caller); 0, or -1 when
 * malformed: a field of another wire type among them is an error, others
 * are skipped. The usual encoding (one-byte tags, in order) takes a fast
 * path that tests the tag byte once. Callers collect into a local array
 * and copy that to the table entry: measured faster than storing into the
 * entry by field number. */
PGW_INLINE int pgw_varints(const uint8_t *p, const uint8_t *end, void *dst, uint32_t k)
{
    while (p < end) {
        uint32_t tag = *p;
        pgw_field f;
        if (PGW_FAST_VARINT(tag, k)) {
            p++;
            if (!pgw_varint(&p, end, &f.v))
                return -1;
            pgw_store_field(dst, tag >> 3, f.v);
            continue;
        }
        if (pgw_next(&p, end, &f) < 0)
            return -1;
        if (pgw_wt(f.key) == PGW_VARINT && pgw_misplaced(f.key, k))
            pgw_store_field(dst, pgw_num(f.key), f.v);
        else if (pgw_misplaced(f.key, k))
            return -1;
    }
    return 0;
}

/* Counts the varints of a packed field; 0 when one is malformed. */
int pgw_packed_count(const uint8_t *p, size_t n, size_t *count);

/* Sets "<path> <x> out of range (string table has <n_str> entries)". */
int pgw_bad_str(pg_error *err, int64_t x, size_t n_str, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True when x indexes a table of n strings. */
PGW_INLINE int pgw_str_ok(int64_t x, size_t n)
{
    return x >= 0 && (uint64_t)x < n;
}

#endif
