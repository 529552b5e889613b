#include "common/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_ARENA_ALIGN         16
#define PG_ARENA_DEFAULT_CHUNK (64 * 1024)

/* Under AddressSanitizer the free part of every chunk is poisoned and each
 * allocation is followed by a poisoned red zone, so that an overrun of one
 * arena allocation is reported like a heap overflow instead of silently
 * landing in its neighbour. */
#if defined(__SANITIZE_ADDRESS__)
#define PG_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PG_ARENA_ASAN 1
#endif
#endif
#ifdef PG_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define PG_ARENA_REDZONE     PG_ARENA_ALIGN
#define ARENA_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define PG_ARENA_REDZONE     0
#define ARENA_POISON(p, n)   ((void)(p), (void)(n))
#define ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

typedef struct pg_arena_chunk {
    struct pg_arena_chunk *next;
    size_t size; /* usable bytes after the header */
    _Alignas(PG_ARENA_ALIGN) unsigned char data[];
} pg_arena_chunk;

pg_arena *pg_arena_new(size_t chunk_size, size_t limit)
{
    pg_arena *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->chunk_size = chunk_size ? chunk_size : PG_ARENA_DEFAULT_CHUNK;
    a->limit = limit;
    return a;
}

void pg_arena_free(pg_arena *a)
{
    if (!a)
        return;
    pg_arena_chunk *c = a->head;
    while (c) {
        pg_arena_chunk *next = c->next;
        ARENA_UNPOISON(c->data, c->size);
        free(c);
        c = next;
    }
    free(a);
}

void pg_arena_reset(pg_arena *a)
{
    if (!a || !a->head)
        return;
    /* keep the oldest chunk: it is the one sized for typical use */
    pg_arena_chunk *c = a->head, *keep = NULL;
    while (c) {
        pg_arena_chunk *next = c->next;
        if (!next) {
            keep = c;
        } else {
            ARENA_UNPOISON(c->data, c->size);
            free(c);
        }
        c = next;
    }
    ARENA_POISON(keep->data, keep->size);
    keep->next = NULL;
    a->head = keep;
    a->next = keep->data;
    a->left = keep->size;
    a->total = 0;
    a->limit_hit = 0;
}

static size_t align_up(size_t n)
{
    return (n + (PG_ARENA_ALIGN - 1)) & ~(size_t)(PG_ARENA_ALIGN - 1);
}

void *pg_arena_alloc_slow(pg_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    size_t need = align_up(n + PG_ARENA_REDZONE);
    if (need < n)
        return NULL; /* overflow */
    if (a->limit && (a->total + need > a->limit || a->total + need < a->total)) {
        a->limit_hit = 1;
        return NULL;
    }
    if (a->left < need) {
        /* grow chunk sizes geometrically (up to 64 MiB) so that big requests
         * need few chunks */
        pg_arena_chunk *c = a->head;
        size_t size = a->chunk_size;
        if (c && c->size < ((size_t)1 << 26) && c->size * 2 > size)
            size = c->size * 2;
        if (need > size)
            size = need;
        c = malloc(sizeof(*c) + size);
        if (!c)
            return NULL;
        c->size = size;
        c->next = a->head;
        a->head = c;
        a->next = c->data;
        a->left = size;
        ARENA_POISON(c->data, size);
    }
    void *p = a->next;
    ARENA_UNPOISON(p, n);
    a->next += need;
    a->left -= need;
    a->total += need;
    return p;
}

int pg_arena_extend(pg_arena *a, void *p, size_t old_n, size_t new_n)
{
    /* sizes as pg_arena_alloc_slow rounds them (0 bytes take what 1 does) */
    size_t old_need = align_up((old_n ? old_n : 1) + PG_ARENA_REDZONE);
    size_t new_need = align_up(new_n + PG_ARENA_REDZONE);
    if (!p || new_n <= old_n || new_need < new_n || (unsigned char *)p + old_need != a->next)
        return 0;
    size_t more = new_need - old_need;
    if (more > a->left || (a->limit && (a->total + more > a->limit || a->total + more < a->total)))
        return 0;
    /* the old red zone becomes payload; the chunk's free part, poisoned,
     * provides the new one */
    ARENA_UNPOISON(p, new_n);
    a->next += more;
    a->left -= more;
    a->total += more;
    return 1;
}

void *pg_arena_calloc(pg_arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = pg_arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *pg_arena_memdup(pg_arena *a, const void *p, size_t n)
{
    void *d = pg_arena_alloc(a, n);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

char *pg_arena_strndup(pg_arena *a, const char *s, size_t n)
{
    char *d = pg_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pg_arena_strdup(pg_arena *a, const char *s)
{
    return pg_arena_strndup(a, s, strlen(s));
}

char *pg_arena_sprintf(pg_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *d = pg_arena_alloc(a, (size_t)n + 1);
    if (!d)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

size_t pg_arena_used(const pg_arena *a)
{
    return a->total;
}

int pg_arena_limit_hit(const pg_arena *a)
{
    return a->limit_hit;
}

static void *arena_pb_alloc(void *data, size_t size)
{
    return pg_arena_alloc(data, size);
}

static void arena_pb_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

ProtobufCAllocator pg_arena_protobuf_allocator(pg_arena *a)
{
    ProtobufCAllocator al = {.alloc = arena_pb_alloc, .free = arena_pb_free, .allocator_data = a};
    return al;
}
