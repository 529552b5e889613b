/*
 * The `name` query parameter of Pyroscope's /ingest API: an application name
 * optionally followed by labels, `app{k1=v1,k2=v2}`.
 *
 * Pyroscope has no quoting or escaping in this syntax, so a value ends at the
 * next `,` or `}` and can contain neither; clients (pyroscope-go, the Node
 * SDK) send exactly that. Text after the closing `}` is ignored, as Pyroscope
 * does. The parser is pure: no event loop, no global state.
 */
#ifndef PG_RECEIVERS_PYROSCOPE_LABELSET_H
#define PG_RECEIVERS_PYROSCOPE_LABELSET_H

#include <stddef.h>

#include "common/arena.h"
#include "common/error.h"
#include "pipeline/profile.h"

typedef struct pg_pyro_labelset {
    const char *app_name; /* trimmed, never "" on success */
    pg_label *labels;     /* in the order given, keys and values trimmed */
    size_t n_labels;
} pg_pyro_labelset;

/* Pairs allowed inside the braces (counting pairs with an empty value). */
#define PG_PYRO_MAX_NAME_LABELS 64

/* Parses name[0..len) (not NUL-terminated; already URL-decoded).
 *
 *   app name   text before the first `{` (all of it without one), trimmed,
 *              characters [A-Za-z0-9_.\-/], not empty
 *   labels     `key=value` pairs separated by `,`, closed by `}`; keys trimmed,
 *              [A-Za-z0-9_.]+; values trimmed, valid UTF-8, may contain `=`
 *              and spaces; `{}` and a trailing `,` are accepted; a pair with
 *              an empty value is dropped (an empty value means "no label");
 *              `__name__` is returned like any other key
 *
 * Errors (PG_ERR_INVALID unless noted): empty or invalid app name, a pair
 * without `=`, an empty pair between commas, an invalid key, a duplicate key,
 * a value that is not UTF-8 or holds a NUL byte, no closing `}`; more than
 * PG_PYRO_MAX_NAME_LABELS pairs is PG_ERR_LIMIT; PG_ERR_NOMEM. Strings are
 * copied into the arena; out is only meaningful on success. */
int pg_pyro_labelset_parse(pg_arena *a, const char *name, size_t len, pg_pyro_labelset *out,
                           pg_error *err);

#endif
