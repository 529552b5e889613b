/* sample_types.keep / drop: "type" or "type:unit" specs and matching. */
#include <stdlib.h>
#include <string.h>

#include "processors/filter/filter_internal.h"

int pg_filter_type_check(const char *spec, pg_error *err)
{
    const char *colon = strchr(spec, ':');
    if (!spec[0])
        return pg_error_set(err, PG_ERR_INVALID, "empty sample type");
    if (colon && strchr(colon + 1, ':'))
        return pg_error_set(err, PG_ERR_INVALID,
                            "sample type '%s': expected \"type\" or \"type:unit\"", spec);
    if (colon && (colon == spec || !colon[1]))
        return pg_error_set(err, PG_ERR_INVALID,
                            "sample type '%s': type and unit must not be empty", spec);
    return PG_OK;
}

static int fill(pg_filter_type **out, size_t *n, const pg_str_list *specs, pg_error *err)
{
    *out = NULL;
    *n = 0;
    if (!specs->n)
        return PG_OK;
    *out = calloc(specs->n, sizeof(**out));
    if (!*out)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < specs->n; i++) {
        int rc = pg_filter_type_check(specs->items[i], err);
        if (rc != PG_OK)
            return rc;
        pg_filter_type *t = &(*out)[(*n)++];
        const char *colon = strchr(specs->items[i], ':');
        t->type = colon ? strndup(specs->items[i], (size_t)(colon - specs->items[i]))
                        : strdup(specs->items[i]);
        if (!t->type || (colon && !(t->unit = strdup(colon + 1))))
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    return PG_OK;
}

int pg_filter_types_init(pg_filter_types *t, const pg_str_list *keep, const pg_str_list *drop,
                         pg_error *err)
{
    memset(t, 0, sizeof(*t));
    int rc = fill(&t->keep, &t->n_keep, keep, err);
    if (rc == PG_OK)
        rc = fill(&t->drop, &t->n_drop, drop, err);
    if (rc != PG_OK)
        pg_filter_types_free(t);
    return rc;
}

static void free_list(pg_filter_type *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].type);
        free(l[i].unit);
    }
    free(l);
}

void pg_filter_types_free(pg_filter_types *t)
{
    free_list(t->keep, t->n_keep);
    free_list(t->drop, t->n_drop);
    memset(t, 0, sizeof(*t));
}

int pg_filter_types_active(const pg_filter_types *t)
{
    return t->n_keep || t->n_drop;
}

static int names(const pg_filter_type *l, size_t n, const char *type, size_t tlen, const char *unit,
                 size_t ulen)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(l[i].type) != tlen || memcmp(l[i].type, type, tlen) != 0)
            continue;
        if (!l[i].unit || (strlen(l[i].unit) == ulen && memcmp(l[i].unit, unit, ulen) == 0))
            return 1;
    }
    return 0;
}

static int wanted_n(const pg_filter_types *t, const char *type, size_t tlen, const char *unit,
                    size_t ulen)
{
    if (t->n_keep && !names(t->keep, t->n_keep, type, tlen, unit, ulen))
        return 0;
    return !names(t->drop, t->n_drop, type, tlen, unit, ulen);
}

int pg_filter_type_wanted(const pg_filter_types *t, const char *type, const char *unit)
{
    return wanted_n(t, type, strlen(type), unit, strlen(unit));
}

int pg_filter_profile_type_wanted(const pg_filter_types *t, const char *profile_type)
{
    const char *s = profile_type ? profile_type : "";
    const char *c1 = strchr(s, ':');
    size_t tlen = c1 ? (size_t)(c1 - s) : strlen(s);
    const char *unit = c1 ? c1 + 1 : "";
    const char *c2 = strchr(unit, ':');
    size_t ulen = c2 ? (size_t)(c2 - unit) : strlen(unit);
    return wanted_n(t, s, tlen, unit, ulen);
}
