/*
 * Protobuf wire writing for the converters that encode directly (no message
 * structs): sizes first, then bytes into space the caller reserved, so every
 * length prefix is exact and minimal, as protobuf-c writes it.
 *
 * The pg_pbw_* writers take a cursor (uint8_t **) into reserved memory and
 * never check bounds: callers reserve the size the pg_pbs_* functions give.
 */
#ifndef PG_CONVERT_PB_WRITE_H
#define PG_CONVERT_PB_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- sizes ---- */

/* Seven payload bits per byte: ceil(significant bits / 7), at least 1,
 * without a loop (a data-dependent loop mispredicts on mixed lengths). */
static inline size_t pg_pbs_varint(uint64_t v)
{
    unsigned bits = 64 - (unsigned)__builtin_clzll(v | 1);
    return (bits * 9 + 64) / 64;
}

/* int32/int64 fields: negative values take ten bytes (sign-extended). */
static inline size_t pg_pbs_int(int64_t v)
{
    return pg_pbs_varint((uint64_t)v);
}

/* A length-delimited field of n payload bytes, tag included (tags of field
 * numbers below 16 take one byte). */
static inline size_t pg_pbs_len_field(size_t n)
{
    return 1 + pg_pbs_varint(n) + n;
}

/* A varint field, tag included; 0 when v is 0 (proto3 omits defaults). */
static inline size_t pg_pbs_int_field(int64_t v)
{
    return v ? 1 + pg_pbs_int(v) : 0;
}

/* ---- writers ---- */

/* Bytes 0..7 of v's varint without their continuation bits: seven bits per
 * byte, each group moved in parallel. */
static inline uint64_t pg_pbw_spread7(uint64_t v)
{
    return (v & 0x7f) | (v << 1 & 0x7f00) | (v << 2 & 0x7f0000) | (v << 3 & 0x7f000000) |
           (v << 4 & 0x7f00000000) | (v << 5 & 0x7f0000000000) | (v << 6 & 0x7f000000000000) |
           (v << 7 & 0x7f00000000000000);
}

static inline void pg_pbw_varint(uint8_t **p, uint64_t v)
{
    uint8_t *o = *p;
    /* indices and small values take one or two bytes: no loop for them */
    if (v < 0x80) {
        *o = (uint8_t)v;
        *p = o + 1;
        return;
    }
    if (v < 0x4000) {
        o[0] = (uint8_t)(v | 0x80);
        o[1] = (uint8_t)(v >> 7);
        *p = o + 2;
        return;
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* longer ones (addresses, timestamps) are built in a register and
     * stored with two overlapping moves: a byte loop's exit mispredicts */
    size_t n = pg_pbs_varint(v);
    uint64_t cont = n > 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * (n - 1))) - 1;
    uint64_t lo = pg_pbw_spread7(v) | (cont & 0x8080808080808080ull);
    uint8_t tmp[16];
    memcpy(tmp, &lo, 8);
    tmp[8] = (uint8_t)((v >> 56 & 0x7f) | (n > 9 ? 0x80 : 0));
    tmp[9] = (uint8_t)(v >> 63);
    if (n >= 8) {
        memcpy(o, tmp, 8);
        memcpy(o + n - 8, tmp + n - 8, 8);
    } else if (n >= 4) {
        memcpy(o, tmp, 4);
        memcpy(o + n - 4, tmp + n - 4, 4);
    } else {
        o[0] = tmp[0];
        o[1] = tmp[1];
        o[2] = tmp[2];
    }
    *p = o + n;
#else
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    *p = o;
#endif
}

static inline void pg_pbw_byte(uint8_t **p, uint8_t b)
{
    *(*p)++ = b;
}

/* 16 bytes in one move (the struct lets the compiler use a vector register). */
typedef struct pg_pbw_16 {
    uint8_t b[16];
} pg_pbw_16;

/* Copies of up to 64 bytes (stack and attribute fields, names, paths, build
 * ids) are made of fixed-size moves that may overlap, instead of a call to
 * memcpy. */
static inline void pg_pbw_bytes(uint8_t **p, const void *src, size_t n)
{
    uint8_t *o = *p;
    const uint8_t *s = src;
    if (n > 16 && n <= 64) {
        /* the first and last 16 bytes, and for n > 32 the 16 after the first
         * and the 16 before the last */
        size_t h = n > 32 ? 32 : 16;
        pg_pbw_16 a, b, c, d;
        memcpy(&a, s, 16);
        memcpy(&b, s + h - 16, 16);
        memcpy(&c, s + n - h, 16);
        memcpy(&d, s + n - 16, 16);
        memcpy(o, &a, 16);
        memcpy(o + h - 16, &b, 16);
        memcpy(o + n - h, &c, 16);
        memcpy(o + n - 16, &d, 16);
    } else if (n >= 8 && n <= 16) {
        uint64_t x, y;
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
        memcpy(o, &x, 8);
        memcpy(o + n - 8, &y, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        memcpy(o, &x, 4);
        memcpy(o + n - 4, &y, 4);
    } else if (n && n < 4) {
        o[0] = s[0];
        o[n / 2] = s[n / 2];
        o[n - 1] = s[n - 1];
    } else if (n) {
        memcpy(o, s, n);
    }
    *p = o + n;
}

/* Tag of a length-delimited field (field < 16) and its length. */
static inline void pg_pbw_len_head(uint8_t **p, unsigned field, size_t n)
{
    pg_pbw_byte(p, (uint8_t)(field << 3 | 2));
    pg_pbw_varint(p, n);
}

static inline void pg_pbw_len_field(uint8_t **p, unsigned field, const void *src, size_t n)
{
    pg_pbw_len_head(p, field, n);
    pg_pbw_bytes(p, src, n);
}

/* A message field (field < 16) whose body is known to stay below 128 bytes,
 * so its length takes one byte: written as a placeholder here and filled by
 * pg_pbw_short_end once the body is written, instead of sizing the body
 * first. */
static inline uint8_t *pg_pbw_short_begin(uint8_t **p, unsigned field)
{
    pg_pbw_byte(p, (uint8_t)(field << 3 | 2));
    return (*p)++;
}

static inline void pg_pbw_short_end(uint8_t *const *p, uint8_t *len_at)
{
    *len_at = (uint8_t)(*p - len_at - 1);
}

/* A varint field (field < 16), omitted when v is 0. */
static inline void pg_pbw_int_field(uint8_t **p, unsigned field, int64_t v)
{
    if (!v)
        return;
    pg_pbw_byte(p, (uint8_t)(field << 3));
    pg_pbw_varint(p, (uint64_t)v);
}

#endif
