/* sample_labels for pprof payloads: the string labels of every sample. */
#include <stdlib.h>
#include <string.h>

#include "convert/convert.h"
#include "processors/convert/convert_processor.h"
#include "processors/relabel/relabel_proc_internal.h"

typedef Perftools__Profiles__Label pprof_label;
typedef Perftools__Profiles__Sample pprof_sample;

/* The rules' verdict on one distinct label list, shared by the samples that
 * carry it. */
typedef struct verdict {
    int kept, changed;
    pprof_label **labels;
    size_t n_labels;
} verdict;

typedef struct pprof_ctx {
    const pg_relabel_rules *rules;
    pg_arena *a;
    pg_pprof *doc;
    relabel_memo *memo;
    relabel_strtab *strings; /* created when a rule first adds a string */
    int64_t *key;            /* memo key scratch, 4 per label */
} pprof_ctx;

/* pprof's own reading: a label with neither str nor num nor unit is an empty
 * string label. */
static int is_string_label(const pprof_label *l)
{
    return l->str != 0 || (l->num == 0 && l->num_unit == 0);
}

static long intern(pprof_ctx *c, const char *s)
{
    if (!c->strings &&
        !(c->strings = relabel_strtab_new(c->a, c->doc->string_table, c->doc->n_string_table)))
        return -1;
    return relabel_strtab_intern(c->strings, s);
}

static int build_labels(pprof_ctx *c, const pprof_sample *s, const relabel_outcome *o, verdict *v)
{
    v->labels = pg_arena_alloc(c->a, (s->n_label + o->n_added + 1) * sizeof(*v->labels));
    if (!v->labels)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < s->n_label; i++)
        if (o->keep_entry[i])
            v->labels[v->n_labels++] = s->label[i];
    for (size_t i = 0; i < o->n_added; i++) {
        pprof_label *l = pg_arena_alloc(c->a, sizeof(*l));
        long k = intern(c, o->added[i].name), val = intern(c, o->added[i].value);
        if (!l || k < 0 || val < 0)
            return PG_ERR_NOMEM;
        perftools__profiles__label__init(l);
        l->key = k;
        l->str = val;
        v->labels[v->n_labels++] = l;
    }
    return PG_OK;
}

static int judge(pprof_ctx *c, const pprof_sample *s, verdict *v)
{
    relabel_entry *e = pg_arena_alloc(c->a, (s->n_label + 1) * sizeof(*e));
    if (!e)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < s->n_label; i++) {
        const pprof_label *l = s->label[i];
        e[i].key = pg_pprof_str(c->doc, l->key);
        e[i].is_string = is_string_label(l);
        e[i].value = e[i].is_string ? pg_pprof_str(c->doc, l->str) : NULL;
    }
    relabel_outcome o;
    if (relabel_sample_set(c->rules, c->a, e, s->n_label, &o) != PG_OK)
        return PG_ERR_NOMEM;
    v->kept = o.kept;
    v->changed = o.changed;
    return o.changed ? build_labels(c, s, &o, v) : PG_OK;
}

static const verdict *verdict_for(pprof_ctx *c, const pprof_sample *s)
{
    for (size_t i = 0; i < s->n_label; i++) {
        const pprof_label *l = s->label[i];
        c->key[4 * i] = l->key;
        c->key[4 * i + 1] = l->str;
        c->key[4 * i + 2] = l->num;
        c->key[4 * i + 3] = l->num_unit;
    }
    int found = 0;
    void **slot = relabel_memo_slot(c->memo, c->key, 4 * s->n_label, &found);
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

/* The samples as the rules leave them; *changed when any differs. */
static int rewrite_samples(pprof_ctx *c, int *changed)
{
    pg_pprof *doc = c->doc;
    pprof_sample **out = pg_arena_alloc(c->a, (doc->n_sample + 1) * sizeof(*out));
    if (!out)
        return PG_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < doc->n_sample; i++) {
        pprof_sample *s = doc->sample[i];
        const verdict *v = verdict_for(c, s);
        if (!v)
            return PG_ERR_NOMEM;
        if (!v->kept || v->changed)
            *changed = 1;
        if (!v->kept)
            continue;
        if (v->changed) {
            pprof_sample *copy = pg_arena_memdup(c->a, s, sizeof(*s));
            if (!copy)
                return PG_ERR_NOMEM;
            copy->label = v->labels;
            copy->n_label = v->n_labels;
            s = copy;
        }
        out[n++] = s;
    }
    doc->sample = out;
    doc->n_sample = n;
    return PG_OK;
}

static int new_payload(const pg_pprof *doc, int gzip, pg_payload **out, pg_error *err)
{
    pg_buf buf;
    pg_buf_init(&buf);
    int rc = pg_pprof_encode(doc, gzip, &buf, err);
    if (rc != PG_OK) {
        pg_buf_free(&buf);
        return rc == PG_ERR_NOMEM ? rc : PG_ERR_INVALID;
    }
    size_t len = 0;
    uint8_t *bytes = pg_buf_detach(&buf, &len);
    if (!bytes && !(bytes = calloc(1, 1)))
        return PG_ERR_NOMEM;
    if (!(*out = pg_payload_new(PG_PAYLOAD_PPROF, bytes, len))) {
        free(bytes);
        return PG_ERR_NOMEM;
    }
    return PG_OK;
}

int relabel_pprof_payload(const pg_relabel_rules *rules, pg_arena *tmp, const pg_payload *p,
                          pg_payload **out, pg_error *err)
{
    *out = NULL;
    pprof_ctx c = {.rules = rules, .a = tmp};
    int rc = pg_pprof_decode(tmp, p->bytes, p->len, PG_CONVERT_MAX_PPROF_BYTES, &c.doc, err);
    if (rc != PG_OK)
        return rc == PG_ERR_NOMEM ? rc : PG_ERR_INVALID;
    size_t max_labels = 0;
    for (size_t i = 0; i < c.doc->n_sample; i++)
        if (c.doc->sample[i]->n_label > max_labels)
            max_labels = c.doc->sample[i]->n_label;
    c.key = pg_arena_alloc(tmp, (4 * max_labels + 1) * sizeof(*c.key));
    c.memo = relabel_memo_new(tmp);
    if (!c.key || !c.memo)
        return PG_ERR_NOMEM;
    int changed = 0;
    if ((rc = rewrite_samples(&c, &changed)) != PG_OK || !changed)
        return rc;
    if (c.strings)
        c.doc->string_table = relabel_strtab_items(c.strings, &c.doc->n_string_table);
    return new_payload(c.doc, pg_is_gzip(p->bytes, p->len), out, err);
}
