#include "pipeline/profile.h"

#include <stdlib.h>
#include <string.h>

pg_payload *pg_payload_new(pg_payload_format format, uint8_t *bytes, size_t len)
{
    pg_payload *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    atomic_init(&p->refs, 1);
    p->format = format;
    p->bytes = bytes;
    p->len = len;
    return p;
}

void pg_payload_set_decoded(pg_payload *p, void *decoded, pg_arena *arena)
{
    p->decoded = decoded;
    p->decoded_arena = arena;
}

pg_payload *pg_payload_ref(pg_payload *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void pg_payload_unref(pg_payload *p)
{
    if (!p)
        return;
    /* acq_rel: the thread that frees must see every write made before the
     * other threads dropped their references */
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    pg_arena_free(p->decoded_arena);
    free(p->bytes);
    free(p);
}

pg_batch *pg_batch_new(void)
{
    pg_batch *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->arena = pg_arena_new(16 * 1024, 0);
    if (!b->arena) {
        free(b);
        return NULL;
    }
    return b;
}

void pg_batch_free(pg_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->count; i++)
        pg_payload_unref(b->profiles[i].payload);
    pg_arena_free(b->arena);
    free(b);
}

static int batch_grow(pg_batch *b)
{
    if (b->count < b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : 16;
    /* the array lives in the arena: the old one is abandoned there, which
     * costs at most as much again as the final array */
    pg_profile *np = pg_arena_alloc(b->arena, cap * sizeof(*np));
    if (!np)
        return -1;
    if (b->count)
        memcpy(np, b->profiles, b->count * sizeof(*np));
    b->profiles = np;
    b->cap = cap;
    return 0;
}

pg_profile *pg_batch_add(pg_batch *b, pg_payload *p)
{
    if (batch_grow(b) != 0)
        return NULL;
    pg_profile *prof = &b->profiles[b->count++];
    memset(prof, 0, sizeof(*prof));
    prof->payload = pg_payload_ref(p);
    prof->tenant = "";
    prof->auth_tenant = "";
    prof->header_tenant = "";
    prof->profile_type = "";
    b->payload_bytes += p->len;
    return prof;
}

static int label_find(const pg_profile *prof, const char *name, uint32_t *pos)
{
    uint32_t lo = 0, hi = prof->n_labels;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(prof->labels[mid].name, name);
        if (c == 0) {
            *pos = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return 0;
}

int pg_profile_set_label(pg_batch *b, pg_profile *prof, const char *name, const char *value)
{
    uint32_t pos;
    char *v = pg_arena_strdup(b->arena, value);
    if (!v)
        return PG_ERR_NOMEM;
    if (label_find(prof, name, &pos)) {
        prof->labels[pos].value = v;
        return PG_OK;
    }
    char *n = pg_arena_strdup(b->arena, name);
    pg_label *nl = pg_arena_alloc(b->arena, (prof->n_labels + 1) * sizeof(*nl));
    if (!n || !nl)
        return PG_ERR_NOMEM;
    if (pos)
        memcpy(nl, prof->labels, pos * sizeof(*nl));
    nl[pos].name = n;
    nl[pos].value = v;
    if (prof->n_labels > pos)
        memcpy(nl + pos + 1, prof->labels + pos, (prof->n_labels - pos) * sizeof(*nl));
    prof->labels = nl;
    prof->n_labels++;
    return PG_OK;
}

const char *pg_profile_label(const pg_profile *prof, const char *name)
{
    uint32_t pos;
    return label_find(prof, name, &pos) ? prof->labels[pos].value : NULL;
}

int pg_profile_remove_label(pg_profile *prof, const char *name)
{
    uint32_t pos;
    if (!label_find(prof, name, &pos))
        return PG_ERR_NOTFOUND;
    memmove(prof->labels + pos, prof->labels + pos + 1,
            (prof->n_labels - pos - 1) * sizeof(*prof->labels));
    prof->n_labels--;
    return PG_OK;
}

int pg_profile_set_tenant(pg_batch *b, pg_profile *prof, const char *tenant)
{
    char *t = pg_arena_strdup(b->arena, tenant ? tenant : "");
    if (!t)
        return PG_ERR_NOMEM;
    prof->tenant = t;
    return PG_OK;
}

int pg_profile_set_tenant_sources(pg_batch *b, pg_profile *prof, const char *auth_tenant,
                                  const char *header_tenant)
{
    char *a = pg_arena_strdup(b->arena, auth_tenant ? auth_tenant : "");
    char *h = pg_arena_strdup(b->arena, header_tenant ? header_tenant : "");
    if (!a || !h)
        return PG_ERR_NOMEM;
    prof->auth_tenant = a;
    prof->header_tenant = h;
    prof->tenant = *a ? a : h;
    return PG_OK;
}

const char *pg_profile_label_or_tenant(const pg_profile *prof, const char *name)
{
    if (strcmp(name, PG_LABEL_TENANT) == 0)
        return prof->tenant && *prof->tenant ? prof->tenant : NULL;
    return pg_profile_label(prof, name);
}

void pg_profile_replace_payload(pg_batch *b, pg_profile *prof, pg_payload *p)
{
    pg_payload *old = prof->payload;
    prof->payload = pg_payload_ref(p);
    b->payload_bytes = b->payload_bytes - old->len + p->len;
    pg_payload_unref(old);
}

void pg_batch_compact(pg_batch *b, const uint8_t *keep)
{
    size_t n = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (!keep[i]) {
            b->payload_bytes -= b->profiles[i].payload->len;
            pg_payload_unref(b->profiles[i].payload);
            continue;
        }
        if (n != i)
            b->profiles[n] = b->profiles[i];
        n++;
    }
    b->count = n;
}

int pg_profile_set_type(pg_batch *b, pg_profile *prof, const char *profile_type)
{
    char *t = pg_arena_strdup(b->arena, profile_type ? profile_type : "");
    if (!t)
        return PG_ERR_NOMEM;
    prof->profile_type = t;
    return PG_OK;
}

pg_profile *pg_batch_append_copy(pg_batch *dst, const pg_profile *src)
{
    pg_profile *p = pg_batch_add(dst, src->payload);
    if (!p)
        return NULL;
    pg_payload *keep = p->payload;
    *p = *src;
    p->payload = keep;
    p->labels = NULL;
    p->n_labels = 0;
    if (src->n_labels) {
        p->labels = pg_arena_alloc(dst->arena, src->n_labels * sizeof(*p->labels));
        if (!p->labels)
            goto fail;
        for (uint32_t i = 0; i < src->n_labels; i++) {
            p->labels[i].name = pg_arena_strdup(dst->arena, src->labels[i].name);
            p->labels[i].value = pg_arena_strdup(dst->arena, src->labels[i].value);
            if (!p->labels[i].name || !p->labels[i].value)
                goto fail;
        }
        p->n_labels = src->n_labels;
    }
    p->tenant = pg_arena_strdup(dst->arena, src->tenant ? src->tenant : "");
    p->auth_tenant = pg_arena_strdup(dst->arena, src->auth_tenant ? src->auth_tenant : "");
    p->header_tenant = pg_arena_strdup(dst->arena, src->header_tenant ? src->header_tenant : "");
    p->profile_type = pg_arena_strdup(dst->arena, src->profile_type ? src->profile_type : "");
    if (!p->tenant || !p->auth_tenant || !p->header_tenant || !p->profile_type)
        goto fail;
    return p;
fail:
    /* keep the batch consistent: the slot still owns its payload reference */
    p->labels = NULL;
    p->n_labels = 0;
    p->tenant = "";
    p->auth_tenant = "";
    p->header_tenant = "";
    p->profile_type = "";
    return NULL;
}

pg_batch *pg_batch_clone(const pg_batch *b)
{
    pg_batch *c = pg_batch_new();
    if (!c)
        return NULL;
    for (size_t i = 0; i < b->count; i++) {
        if (!pg_batch_append_copy(c, &b->profiles[i])) {
            pg_batch_free(c);
            return NULL;
        }
    }
    return c;
}
