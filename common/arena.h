/*
 * Arena allocator: memory for one request (or one batch) comes from a chain of
 * large chunks and is released in one go with pg_arena_free(). Individual
 * allocations are never freed. An arena may carry a byte limit; an allocation
 * that would exceed it fails (returns NULL) instead of growing the process.
 *
 * An arena is owned by one thread at a time; it has no locking.
 */
#ifndef PG_COMMON_ARENA_H
#define PG_COMMON_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

typedef struct pg_arena pg_arena;

/* Creates an arena whose chunks are at least chunk_size bytes (0: 64 KiB) and
 * that refuses to hold more than limit bytes in all (0: no limit). */
pg_arena *pg_arena_new(size_t chunk_size, size_t limit);

/* Releases every allocation and the arena itself. NULL is accepted. */
void pg_arena_free(pg_arena *a);

/* Forgets every allocation but keeps the first chunk for reuse. */
void pg_arena_reset(pg_arena *a);

/* 16-byte aligned allocation; NULL when the limit would be exceeded or the
 * system is out of memory. */
static inline void *pg_arena_alloc(pg_arena *a, size_t n);
void *pg_arena_calloc(pg_arena *a, size_t count, size_t size);

/* Grows the allocation p of old_n bytes to new_n bytes in place, when it is
 * the arena's latest allocation and its chunk has room (and the limit
 * allows): 1, or 0 with nothing changed (the caller allocates and copies).
 * p may point inside the latest allocation if old_n bytes reach its end. */
int pg_arena_extend(pg_arena *a, void *p, size_t old_n, size_t new_n);

/* Copies of byte ranges and strings, NUL-terminated. */
char *pg_arena_strndup(pg_arena *a, const char *s, size_t n);
char *pg_arena_strdup(pg_arena *a, const char *s);
char *pg_arena_sprintf(pg_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *pg_arena_memdup(pg_arena *a, const void *p, size_t n);

/* Bytes handed out so far (including alignment padding). */
size_t pg_arena_used(const pg_arena *a);

/* True when the last failed allocation failed because of the limit. */
int pg_arena_limit_hit(const pg_arena *a);

/* A protobuf-c allocator that allocates from the arena and never frees, so
 * that protobuf_c_message_unpack() makes no per-field malloc. Do not call
 * protobuf_c_message_free_unpacked() on messages decoded with it. */
ProtobufCAllocator pg_arena_protobuf_allocator(pg_arena *a);

/* ---- private: the allocation fast path, inline because converters and
 * decoders make many small allocations per request and a call costs as much
 * as the bump itself ---- */

struct pg_arena {
    struct pg_arena_chunk *head; /* current chunk; older chunks follow */
    unsigned char *next;         /* free part of the current chunk: */
    size_t left;                 /* its size */
    size_t chunk_size;
    size_t limit;
    size_t total; /* bytes handed out */
    int limit_hit;
};

/* New chunks, limits, and every allocation under AddressSanitizer (which
 * puts a poisoned red zone after each). */
void *pg_arena_alloc_slow(pg_arena *a, size_t n);

#if defined(__SANITIZE_ADDRESS__)
#define PG_ARENA_INLINE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PG_ARENA_INLINE 0
#endif
#endif
#ifndef PG_ARENA_INLINE
#define PG_ARENA_INLINE 1
#endif

static inline void *pg_arena_alloc(pg_arena *a, size_t n)
{
#if PG_ARENA_INLINE
    /* n < 2^32 keeps the rounding and the sum from overflowing; 0 takes 16
     * bytes, as 1 does */
    size_t need = (n + 15 + (n == 0)) & ~(size_t)15;
    if (n < ((size_t)1 << 32) && need <= a->left && (!a->limit || a->total + need <= a->limit)) {
        void *p = a->next;
        a->next += need;
        a->left -= need;
        a->total += need;
        return p;
    }
#endif
    return pg_arena_alloc_slow(a, n);
}

#endif
