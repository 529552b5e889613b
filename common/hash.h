/*
 * A fast non-cryptographic hash of a byte range, for the open-addressing
 * tables that intern strings, stacks and attributes. Not for untrusted-key
 * tables that an attacker could flood: callers bound their table sizes.
 */
#ifndef PG_COMMON_HASH_H
#define PG_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The hash's steps, for callers that walk the bytes for another reason too
 * (the pprof reader checks each string in the same pass): start, one step
 * per whole 8-byte word (read little-endian via memcpy), and the last
 * 0..7 bytes zero-padded into one word. */
static inline uint64_t pg_hash_start(size_t n, uint64_t seed)
{
    return seed ^ 0x243f6a8885a308d3ull ^ (n * 0x9e3779b97f4a7c15ull);
}

static inline uint64_t pg_hash_word(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9fb21c651e98df25ull;
    return h ^ (h >> 29);
}

static inline uint64_t pg_hash_finish(uint64_t h, uint64_t tail)
{
    h = (h ^ tail) * 0x9fb21c651e98df25ull;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    return h ^ (h >> 32);
}

/* The last n < 8 bytes at s as one zero-padded word. On little-endian
 * machines it takes at most three fixed-size loads inside [s, s + n),
 * because a memcpy of variable length is a call, which costs more than
 * hashing a short string. */
static inline uint64_t pg_hash_tail(const uint8_t *s, size_t n)
{
    uint64_t w = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        w = lo | (uint64_t)hi << (8 * (n - 4));
    } else if (n) {
        w = (uint64_t)s[0] | (uint64_t)s[n / 2] << (8 * (n / 2)) |
            (uint64_t)s[n - 1] << (8 * (n - 1));
    }
#else
    if (n)
        memcpy(&w, s, n);
#endif
    return w;
}

static inline uint64_t pg_hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *s = p;
    uint64_t h = pg_hash_start(n, seed);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = pg_hash_word(h, w);
        s += 8;
        n -= 8;
    }
    return pg_hash_finish(h, pg_hash_tail(s, n));
}

#endif
