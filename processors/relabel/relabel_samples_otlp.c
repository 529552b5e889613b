/* sample_labels for OTLP payloads: the string attributes of every sample.
 * The shared decoded request is never written: a changed request is built
 * from new arrays (pointing at the untouched parts of the old one), encoded,
 * and decoded again into the new payload's own arena. */
#include <stdlib.h>
#include <string.h>

#include "model/otlp.h"
#include "processors/relabel/relabel_proc_internal.h"

typedef Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit otlp_attr;
typedef Opentelemetry__Proto__Profiles__V1development__Sample otlp_sample;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_value;

typedef struct verdict {
    int kept, changed;
    int32_t *indices;
    size_t n_indices;
} verdict;

typedef struct otlp_ctx {
    const pg_relabel_rules *rules;
    pg_arena *a;
    const pg_otlp_request *req;
    relabel_memo *memo;      /* attribute index lists -> verdict */
    relabel_memo *attr_ix;   /* (key, string value) -> attribute index */
    relabel_strtab *strings; /* created with attr_ix */
    otlp_attr **attrs;       /* the new attribute table */
    size_t n_attrs, cap_attrs;
    int64_t *key; /* scratch */
    size_t key_cap;
} otlp_ctx;

/* The attribute's string value, or NULL when it is not a string. */
static const char *string_value(const pg_otlp_request *req, const otlp_attr *kv)
{
    const any_value *v = kv->value;
    if (!v)
        return NULL;
    if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
        return v->string_value ? v->string_value : "";
    if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE_STRINDEX)
        return pg_otlp_string(req, v->string_value_strindex);
    return NULL;
}

/* Memo key of a (key, value) pair: the key's index, then the value's bytes. */
static const int64_t *pair_key(otlp_ctx *c, long key_ix, const char *value, size_t *n)
{
    size_t len = strlen(value), words = 2 + (len + 7) / 8;
    if (words > c->key_cap) {
        c->key_cap = words * 2;
        if (!(c->key = pg_arena_alloc(c->a, c->key_cap * sizeof(*c->key))))
            return NULL;
    }
    memset(c->key, 0, words * sizeof(*c->key));
    c->key[0] = key_ix;
    c->key[1] = (int64_t)len;
    memcpy(&c->key[2], value, len);
    *n = words;
    return c->key;
}

/* Indexes the existing string attributes the first time a rule adds one. */
static int attr_index_init(otlp_ctx *c)
{
    const pg_otlp_dictionary *d = c->req->dictionary;
    /* without a dictionary, the zero entries index 0 needs come first */
    static char *const zero_string[1] = {""};
    c->strings = d ? relabel_strtab_new(c->a, d->string_table, d->n_string_table)
                   : relabel_strtab_new(c->a, (char **)zero_string, 1);
    c->attr_ix = relabel_memo_new(c->a);
    c->n_attrs = d ? d->n_attribute_table : 1;
    c->cap_attrs = c->n_attrs + 16;
    c->attrs = pg_arena_alloc(c->a, c->cap_attrs * sizeof(*c->attrs));
    if (!c->strings || !c->attr_ix || !c->attrs)
        return PG_ERR_NOMEM;
    if (!d) {
        if (!(c->attrs[0] = pg_arena_alloc(c->a, sizeof(otlp_attr))))
            return PG_ERR_NOMEM;
        opentelemetry__proto__profiles__v1development__key_value_and_unit__init(c->attrs[0]);
        return PG_OK;
    }
    for (size_t i = 0; i < c->n_attrs; i++) {
        c->attrs[i] = d->attribute_table[i];
        const char *v = string_value(c->req, c->attrs[i]);
        size_t n = 0;
        int found = 0;
        if (!v)
            continue;
        const int64_t *k = pair_key(c, c->attrs[i]->key_strindex, v, &n);
        void **slot = k ? relabel_memo_slot(c->attr_ix, k, n, &found) : NULL;
        if (!slot)
            return PG_ERR_NOMEM;
        if (!found)
            *slot = (void *)(intptr_t)(i + 1);
    }
    return PG_OK;
}

static int32_t attr_for(otlp_ctx *c, const pg_label *l)
{
    if (!c->attrs && attr_index_init(c) != PG_OK)
        return -1;
    long k = relabel_strtab_intern(c->strings, l->name);
    size_t n = 0;
    int found = 0;
    const int64_t *key = k >= 0 ? pair_key(c, k, l->value, &n) : NULL;
    void **slot = key ? relabel_memo_slot(c->attr_ix, key, n, &found) : NULL;
    if (!slot)
        return -1;
    if (found)
        return (int32_t)((intptr_t)*slot - 1);
    if (c->n_attrs == c->cap_attrs) {
        size_t cap = c->cap_attrs * 2;
        otlp_attr **na = pg_arena_alloc(c->a, cap * sizeof(*na));
        if (!na)
            return -1;
        memcpy(na, c->attrs, c->n_attrs * sizeof(*na));
        c->attrs = na;
        c->cap_attrs = cap;
    }
    otlp_attr *kv = pg_arena_alloc(c->a, sizeof(*kv));
    any_value *v = pg_arena_alloc(c->a, sizeof(*v));
    char *s = pg_arena_strdup(c->a, l->value);
    if (!kv || !v || !s || c->n_attrs >= INT32_MAX)
        return -1;
    opentelemetry__proto__profiles__v1development__key_value_and_unit__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = s;
    kv->key_strindex = (int32_t)k;
    kv->value = v;
    c->attrs[c->n_attrs] = kv;
    *slot = (void *)(intptr_t)(c->n_attrs + 1);
    return (int32_t)c->n_attrs++;
}

static int judge(otlp_ctx *c, const otlp_sample *s, verdict *v)
{
    const pg_otlp_dictionary *d = c->req->dictionary;
    size_t n = s->n_attribute_indices;
    relabel_entry *e = pg_arena_alloc(c->a, (n + 1) * sizeof(*e));
    if (!e)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const otlp_attr *kv = d->attribute_table[s->attribute_indices[i]];
        e[i].key = pg_otlp_string(c->req, kv->key_strindex);
        e[i].value = string_value(c->req, kv);
        e[i].is_string = e[i].value != NULL;
    }
    relabel_outcome o;
    if (relabel_sample_set(c->rules, c->a, e, n, &o) != PG_OK)
        return PG_ERR_NOMEM;
    v->kept = o.kept;
    v->changed = o.changed;
    if (!o.changed)
        return PG_OK;
    if (!(v->indices = pg_arena_alloc(c->a, (n + o.n_added + 1) * sizeof(*v->indices))))
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (o.keep_entry[i])
            v->indices[v->n_indices++] = s->attribute_indices[i];
    for (size_t i = 0; i < o.n_added; i++) {
        int32_t ix = attr_for(c, &o.added[i]);
        if (ix < 0)
            return PG_ERR_NOMEM;
        v->indices[v->n_indices++] = ix;
    }
    return PG_OK;
}

static const verdict *verdict_for(otlp_ctx *c, const otlp_sample *s)
{
    size_t n = s->n_attribute_indices;
    int64_t *key = pg_arena_alloc(c->a, (n + 1) * sizeof(*key));
    if (!key)
        return NULL;
    for (size_t i = 0; i < n; i++)
        key[i] = s->attribute_indices[i];
    int found = 0;
    void **slot = relabel_memo_slot(c->memo, key, n, &found);
    if (!slot)
        return NULL;
    if (!found) {
        verdict *v = pg_arena_calloc(c->a, 1, sizeof(*v));
        if (!v || judge(c, s, v) != PG_OK)
            return NULL;
        *slot = v;
    }
    return *slot;
}

/* The profile's new sample array (NULL when out of memory). */
static otlp_sample **rewrite_profile(otlp_ctx *c, const pg_otlp_profile *p, size_t *n_out,
                                     int *changed)
{
    otlp_sample **out = pg_arena_alloc(c->a, (p->n_samples + 1) * sizeof(*out));
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < p->n_samples; i++) {
        otlp_sample *s = p->samples[i];
        const verdict *v = verdict_for(c, s);
        if (!v)
            return NULL;
        *changed |= !v->kept || v->changed;
        if (!v->kept)
            continue;
        if (v->changed) {
            otlp_sample *copy = pg_arena_memdup(c->a, s, sizeof(*s));
            if (!copy)
                return NULL;
            copy->attribute_indices = v->indices;
            copy->n_attribute_indices = v->n_indices;
            s = copy;
        }
        out[n++] = s;
    }
    *n_out = n;
    return out;
}

/* A copy of the request's skeleton (resources, scopes, profiles) with new
 * sample arrays; everything below a profile's samples is shared. */
static pg_otlp_request *rewrite_request(otlp_ctx *c, int *changed)
{
    const pg_otlp_request *req = c->req;
    pg_otlp_request *nr = pg_arena_memdup(c->a, req, sizeof(*req));
    if (!nr || !(nr->resource_profiles = pg_arena_alloc(c->a, (req->n_resource_profiles + 1) *
                                                                  sizeof(*nr->resource_profiles))))
        return NULL;
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++) {
        const Opentelemetry__Proto__Profiles__V1development__ResourceProfiles *rp =
            req->resource_profiles[ri];
        Opentelemetry__Proto__Profiles__V1development__ResourceProfiles *nrp =
            pg_arena_memdup(c->a, rp, sizeof(*rp));
        if (!nrp || !(nrp->scope_profiles = pg_arena_alloc(c->a, (rp->n_scope_profiles + 1) *
                                                                     sizeof(*nrp->scope_profiles))))
            return NULL;
        nr->resource_profiles[ri] = nrp;
        for (size_t si = 0; si < rp->n_scope_profiles; si++) {
            const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sp =
                rp->scope_profiles[si];
            Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *nsp =
                pg_arena_memdup(c->a, sp, sizeof(*sp));
            if (!nsp || !(nsp->profiles =
                              pg_arena_alloc(c->a, (sp->n_profiles + 1) * sizeof(*nsp->profiles))))
                return NULL;
            nrp->scope_profiles[si] = nsp;
            for (size_t pi = 0; pi < sp->n_profiles; pi++) {
                pg_otlp_profile *np = pg_arena_memdup(c->a, sp->profiles[pi], sizeof(*np));
                if (!np ||
                    !(np->samples = rewrite_profile(c, sp->profiles[pi], &np->n_samples, changed)))
                    return NULL;
                nsp->profiles[pi] = np;
            }
        }
    }
    return nr;
}

/* Gives nr the new attribute and string tables. */
static int finish_dictionary(otlp_ctx *c, pg_otlp_request *nr)
{
    if (!c->attrs)
        return PG_OK; /* only samples were dropped or attributes removed */
    pg_otlp_dictionary *d = pg_arena_alloc(c->a, sizeof(*d));
    if (!d)
        return PG_ERR_NOMEM;
    if (c->req->dictionary)
        *d = *c->req->dictionary;
    else
        opentelemetry__proto__profiles__v1development__profiles_dictionary__init(d);
    d->attribute_table = c->attrs;
    d->n_attribute_table = c->n_attrs;
    d->string_table = relabel_strtab_items(c->strings, &d->n_string_table);
    nr->dictionary = d;
    return PG_OK;
}

/* Encodes nr and decodes it again into the new payload's own arena, which
 * also validates the result. */
static int new_payload(const pg_otlp_request *nr, pg_payload **out, pg_error *err)
{
    pg_buf buf;
    pg_buf_init(&buf);
    if (pg_otlp_encode(nr, &buf) != PG_OK) {
        pg_buf_free(&buf);
        return PG_ERR_NOMEM;
    }
    size_t len = 0;
    uint8_t *bytes = pg_buf_detach(&buf, &len);
    pg_arena *arena = pg_arena_new(0, 0);
    pg_otlp_request *decoded = NULL;
    if (!bytes)
        bytes = calloc(1, 1);
    if (!bytes || !arena) {
        free(bytes);
        pg_arena_free(arena);
        return PG_ERR_NOMEM;
    }
    int rc = pg_otlp_decode(arena, bytes, len, &decoded, err);
    pg_payload *p = rc == PG_OK ? pg_payload_new(PG_PAYLOAD_OTLP, bytes, len) : NULL;
    if (!p) {
        free(bytes);
        pg_arena_free(arena);
        return rc == PG_OK || rc == PG_ERR_NOMEM ? PG_ERR_NOMEM : PG_ERR_INVALID;
    }
    pg_payload_set_decoded(p, decoded, arena);
    *out = p;
    return PG_OK;
}

int relabel_otlp_payload(const pg_relabel_rules *rules, pg_arena *tmp, const pg_payload *p,
                         pg_payload **out, pg_error *err)
{
    *out = NULL;
    otlp_ctx c = {.rules = rules, .a = tmp, .req = p->decoded};
    if (!c.req) {
        pg_otlp_request *req = NULL;
        int rc = pg_otlp_decode(tmp, p->bytes, p->len, &req, err);
        if (rc != PG_OK)
            return rc == PG_ERR_NOMEM ? rc : PG_ERR_INVALID;
        c.req = req;
    }
    if (!(c.memo = relabel_memo_new(tmp)))
        return PG_ERR_NOMEM;
    int changed = 0;
    pg_otlp_request *nr = rewrite_request(&c, &changed);
    if (!nr)
        return PG_ERR_NOMEM;
    if (!changed)
        return PG_OK;
    if (finish_dictionary(&c, nr) != PG_OK)
        return PG_ERR_NOMEM;
    return new_payload(nr, out, err);
}
