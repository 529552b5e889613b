#include "exporters/pyroscope/pyroscope_labels.h"

#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "receivers/pyroscope/profile_name.h"
#include "receivers/pyroscope/sample_type_config.h"

/* Labels are quoted in messages up to this many bytes. */
#define QUOTE(s) (int)(strlen(s) > 64 ? 64 : strlen(s)), (s)

int pg_pyroexp_label_name_check(const char *name, pg_error *err)
{
    size_t n = strlen(name);
    if (n == 0)
        return pg_error_set(err, PG_ERR_INVALID, "empty label name");
    if (n > PG_PYROEXP_MAX_NAME_LEN)
        return pg_error_set(err, PG_ERR_INVALID, "label name '%.*s...' is longer than %d bytes",
                            QUOTE(name), PG_PYROEXP_MAX_NAME_LEN);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && ((c >= '0' && c <= '9') || c == '.'));
        if (!ok)
            return pg_error_set(err, PG_ERR_INVALID,
                                "label name '%.*s' does not match [A-Za-z_][A-Za-z0-9_.]*",
                                QUOTE(name));
    }
    return PG_OK;
}

static int check_value(const pg_label *l, pg_error *err)
{
    size_t n = strlen(l->value);
    if (n > PG_PYROEXP_MAX_VALUE_LEN)
        return pg_error_set(err, PG_ERR_INVALID, "value of label '%.*s' is longer than %d bytes",
                            QUOTE(l->name), PG_PYROEXP_MAX_VALUE_LEN);
    if (pg_utf8_invalid_at((const uint8_t *)l->value, n) != n)
        return pg_error_set(err, PG_ERR_INVALID, "value of label '%.*s' is not valid UTF-8",
                            QUOTE(l->name));
    return PG_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const pg_label *)a)->name, ((const pg_label *)b)->name);
}

static int check_all(const pg_pyroexp_labels *l, pg_error *err)
{
    if (l->n > PG_PYROEXP_MAX_LABELS)
        return pg_error_set(err, PG_ERR_INVALID, "%zu labels, more than the %d a series may have",
                            l->n, PG_PYROEXP_MAX_LABELS);
    for (size_t i = 0; i < l->n; i++) {
        int rc = pg_pyroexp_label_name_check(l->labels[i].name, err);
        if (rc == PG_OK)
            rc = check_value(&l->labels[i], err);
        if (rc != PG_OK)
            return rc;
        if (i && strcmp(l->labels[i - 1].name, l->labels[i].name) == 0)
            return pg_error_set(err, PG_ERR_INVALID, "label '%.*s' appears twice",
                                QUOTE(l->labels[i].name));
    }
    return PG_OK;
}

/* Pyroscope's name for an upload of doc (see the header), or NULL. */
static const char *derive_name(pg_arena *a, const pg_pprof *doc, const char *stconfig)
{
    size_t n = doc->n_sample_type;
    const char **types = pg_arena_calloc(a, n + 1, sizeof(*types));
    if (!types || !n)
        return NULL;
    for (size_t i = 0; i < n; i++)
        types[i] = pg_pprof_str(doc, doc->sample_type[i]->type);
    size_t n_cfg = 0;
    const pg_pyro_stconfig_entry *cfg = pg_pyro_stconfig_defaults(&n_cfg);
    pg_pyro_stconfig_entry *sent = NULL;
    size_t n_sent = 0;
    pg_error err;
    /* a sent config replaces the defaults, as it does for an upload */
    if (stconfig &&
        pg_pyro_stconfig_parse(a, (const uint8_t *)stconfig, strlen(stconfig), &sent, &n_sent,
                               &err) == PG_OK &&
        n_sent) {
        cfg = sent;
        n_cfg = n_sent;
    }
    const char *name = pg_pyro_profile_name(types, n, cfg, n_cfg);
    return name ? name : types[0];
}

static pg_label *find(pg_label *l, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].name, name) == 0)
            return &l[i];
    return NULL;
}

/* Steps 1-3 of the header into out->labels (unsorted). */
static void collect(const pg_profile *src, const pg_str_map *external, pg_pyroexp_labels *out)
{
    for (uint32_t i = 0; i < src->n_labels; i++) {
        const pg_label *l = &src->labels[i];
        if (strcmp(l->name, "__profile_id__") == 0)
            out->profile_id = l->value;
        else if (strcmp(l->name, "__sample_type_config__") == 0)
            out->stconfig = l->value;
        if (strncmp(l->name, "__", 2) == 0 && strcmp(l->name, "__name__") != 0 &&
            strcmp(l->name, "__delta__") != 0)
            continue;
        out->labels[out->n++] = *l;
    }
    for (size_t i = 0; external && i < external->n; i++) {
        pg_label *have = find(out->labels, out->n, external->keys[i]);
        if (have)
            have->value = external->values[i];
        else
            out->labels[out->n++] = (pg_label){external->keys[i], external->values[i]};
    }
    size_t kept = 0;
    for (size_t i = 0; i < out->n; i++)
        if (*out->labels[i].value)
            out->labels[kept++] = out->labels[i];
    out->n = kept;
}

int pg_pyroexp_labels_build(pg_arena *a, const pg_profile *src, const pg_str_map *external,
                            const pg_pprof *doc, pg_pyroexp_labels *out, pg_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t cap = src->n_labels + (external ? external->n : 0) + 1;
    out->labels = pg_arena_calloc(a, cap, sizeof(*out->labels));
    if (!out->labels)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    collect(src, external, out);
    if (!find(out->labels, out->n, "__name__")) {
        if (!doc)
            return pg_error_set(err, PG_ERR_NOTFOUND, "__name__ must be derived from the document");
        const char *name = derive_name(a, doc, out->stconfig);
        if (!name || !*name)
            return pg_error_set(err, PG_ERR_INVALID,
                                "no __name__ label, and the document has no sample type to "
                                "derive it from");
        out->labels[out->n++] = (pg_label){"__name__", name};
    }
    qsort(out->labels, out->n, sizeof(*out->labels), by_name);
    return check_all(out, err);
}

const char *pg_pyroexp_labels_get(const pg_pyroexp_labels *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->labels[i].name, name) == 0)
            return l->labels[i].value;
    return NULL;
}

int pg_pyroexp_labels_equal(const pg_pyroexp_labels *a, const pg_pyroexp_labels *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->labels[i].name, b->labels[i].name) != 0 ||
            strcmp(a->labels[i].value, b->labels[i].value) != 0)
            return 0;
    return 1;
}
