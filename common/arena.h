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
void *pg_arena_alloc(pg_arena *a, size_t n);
void *pg_arena_calloc(pg_arena *a, size_t count, size_t size);

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

#endif
