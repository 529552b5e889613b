/*
 * One pprof document from an ordered list of OTLP profiles: header fields,
 * sample types, profile attributes back to pprof fields, then the samples.
 */
#include "convert/otlp_to_pprof_internal.h"

#include <stdlib.h>
#include <string.h>

int o2p_nomem(o2p_ctx *c)
{
    if (c->rc)
        return c->rc;
    if (pg_arena_limit_hit(c->a))
        c->rc = pg_error_set(c->err, PG_ERR_LIMIT, "pprof conversion: arena limit reached");
    else
        c->rc = pg_error_set(c->err, PG_ERR_NOMEM, "pprof conversion: out of memory");
    return c->rc;
}

int o2p_grow(o2p_ctx *c, void ***items, size_t n, size_t *cap)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void **v = pg_arena_alloc(c->a, ncap * sizeof(void *));
    if (!v)
        return o2p_nomem(c);
    if (n)
        memcpy(v, *items, n * sizeof(void *));
    *items = v;
    *cap = ncap;
    return 0;
}

int o2p_ctx_init(o2p_ctx *c, pg_arena *a, const pg_otlp_request *req, pg_error *err)
{
    memset(c, 0, sizeof(*c));
    c->a = a;
    c->req = req;
    c->d = req->dictionary;
    c->err = err;
    const pg_otlp_dictionary *d = c->d;
    if (!d)
        return 0;
    c->str_cache = pg_arena_calloc(a, d->n_string_table + 1, sizeof(o2p_stamp));
    c->map_cache = pg_arena_calloc(a, d->n_mapping_table + 1, sizeof(o2p_stamp));
    c->loc_cache = pg_arena_calloc(a, d->n_location_table + 1, sizeof(o2p_stamp));
    c->fun_cache = pg_arena_calloc(a, d->n_function_table + 1, sizeof(o2p_stamp));
    c->stack_cache = pg_arena_calloc(a, d->n_stack_table + 1, sizeof(o2p_stack_cache));
    c->attr_cache = pg_arena_calloc(a, d->n_attribute_table + 1, sizeof(o2p_label_cache));
    c->link_cache = pg_arena_calloc(a, d->n_link_table + 1, sizeof(o2p_label_cache));
    c->attr_seen = pg_arena_calloc(a, d->n_attribute_table + 1, sizeof(uint32_t));
    if (!c->str_cache || !c->map_cache || !c->loc_cache || !c->fun_cache || !c->stack_cache ||
        !c->attr_cache || !c->link_cache || !c->attr_seen)
        return o2p_nomem(c);
    return 0;
}

typedef struct comment {
    uint64_t n;   /* the key's numeric suffix */
    size_t order; /* position among the attributes, for equal suffixes */
    const char *text;
} comment;

static int cmp_comment(const void *x, const void *y)
{
    const comment *a = x, *b = y;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* Numeric suffix of a PG_ATTR_COMMENT_PREFIX key; -1 when the key is not one. */
static int comment_number(const char *key, uint64_t *n)
{
    size_t plen = sizeof(PG_ATTR_COMMENT_PREFIX) - 1;
    if (strncmp(key, PG_ATTR_COMMENT_PREFIX, plen) != 0 || !key[plen])
        return -1;
    uint64_t v = 0;
    for (const char *s = key + plen; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *n = v;
    return 0;
}

static int set_comments(o2p_ctx *c, comment *cm, size_t n)
{
    if (!n)
        return 0;
    qsort(cm, n, sizeof(*cm), cmp_comment);
    int64_t *ids = pg_arena_alloc(c->a, n * sizeof(int64_t));
    if (!ids)
        return o2p_nomem(c);
    for (size_t i = 0; i < n; i++) {
        ids[i] = o2p_str(c, cm[i].text);
        if (ids[i] < 0)
            return -1;
    }
    c->p->comment = ids;
    c->p->n_comment = n;
    return 0;
}

/* drop_frames, keep_frames, doc_url and comments from the profile's
 * attributes (string values only). */
static int profile_fields(o2p_ctx *c, const pg_otlp_profile *pr)
{
    size_t n = pr->n_attribute_indices, n_comments = 0;
    comment *cm = n ? pg_arena_alloc(c->a, n * sizeof(*cm)) : NULL;
    if (n && !cm)
        return o2p_nomem(c);
    pg_pprof *p = c->p;
    for (size_t i = 0; i < n; i++) {
        const pg_otlp_kvu *kv = c->d->attribute_table[pr->attribute_indices[i]];
        const char *key = pg_otlp_string(c->req, kv->key_strindex);
        const char *text = o2p_any_string(c->req, kv->value);
        int64_t *field = NULL;
        uint64_t num;
        if (!text)
            continue;
        if (strcmp(key, PG_ATTR_DROP_FRAMES) == 0)
            field = &p->drop_frames;
        else if (strcmp(key, PG_ATTR_KEEP_FRAMES) == 0)
            field = &p->keep_frames;
        else if (strcmp(key, PG_ATTR_DOC_URL) == 0)
            field = &p->doc_url;
        else if (comment_number(key, &num) == 0)
            cm[n_comments++] = (comment){num, i, text};
        if (field && (*field = o2p_str(c, text)) < 0)
            return -1;
    }
    return set_comments(c, cm, n_comments);
}

static int value_type(o2p_ctx *c, const pg_otlp_value_type *vt, pg_pprof_value_type *out)
{
    perftools__profiles__value_type__init(out);
    if (!vt)
        return 0;
    out->type = o2p_strx(c, vt->type_strindex);
    out->unit = o2p_strx(c, vt->unit_strindex);
    return out->type < 0 || out->unit < 0 ? -1 : 0;
}

static int header(o2p_ctx *c, const pg_otlp_profile *const *profiles, size_t n,
                  const char *default_type)
{
    pg_pprof *p = c->p;
    pg_pprof_value_type **types = pg_arena_alloc(c->a, n * sizeof(*types));
    pg_pprof_value_type *items = pg_arena_alloc(c->a, (n + 1) * sizeof(*items));
    if (!types || !items)
        return o2p_nomem(c);
    for (size_t i = 0; i < n; i++) {
        if (value_type(c, profiles[i]->sample_type, &items[i]) < 0)
            return -1;
        types[i] = &items[i];
        const char *name = profiles[i]->sample_type
                               ? pg_otlp_string(c->req, profiles[i]->sample_type->type_strindex)
                               : "";
        if (default_type && strcmp(name, default_type) == 0)
            p->default_sample_type = items[i].type;
    }
    p->sample_type = types;
    p->n_sample_type = n;
    const pg_otlp_profile *first = profiles[0];
    const pg_otlp_value_type *pt = first->period_type;
    if (pt && (pt->type_strindex || pt->unit_strindex)) {
        if (value_type(c, pt, &items[n]) < 0)
            return -1;
        p->period_type = &items[n];
    }
    p->period = first->period;
    p->time_nanos = (int64_t)first->time_unix_nano;
    p->duration_nanos = (int64_t)first->duration_nano;
    return profile_fields(c, first);
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

int o2p_build_doc(o2p_ctx *c, const pg_otlp_profile *const *profiles, size_t n,
                  const char *default_type, int whole_request, pg_pprof_doc *out)
{
    size_t n_samples = 0;
    for (size_t i = 0; i < n; i++)
        n_samples += profiles[i]->n_samples;
    c->gen++;
    c->skipped = 0;
    c->cap_str = c->cap_map = c->cap_loc = c->cap_fun = 0;
    c->p = pg_arena_alloc(c->a, sizeof(*c->p));
    if (!c->p)
        return o2p_nomem(c);
    perftools__profiles__profile__init(c->p);
    /* a document rarely needs more strings than the dictionary has */
    size_t est = min_size(c->d->n_string_table + 16, 64 + 8 * n_samples);
    c->p->string_table = pg_arena_alloc(c->a, est * sizeof(char *));
    if (!c->p->string_table || o2p_index_init(c->a, &c->str_index, est) < 0)
        return o2p_nomem(c);
    c->cap_str = est;
    if (o2p_str(c, "") != 0 || header(c, profiles, n, default_type) < 0 ||
        (whole_request && o2p_all_mappings(c) < 0) || o2p_samples_begin(c, n_samples) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (o2p_samples_add(c, profiles[i], i, n) < 0)
            return -1;
    }
    out->profile = c->p;
    out->skipped_attributes = c->skipped;
    return 0;
}
