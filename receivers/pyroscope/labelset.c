#include "receivers/pyroscope/labelset.h"

#include <string.h>

#include "common/utf8.h"

/* Offending values are quoted in messages up to this many bytes. */
#define MSG_LEN(n) ((int)((n) > 64 ? 64 : (n)))

typedef struct span {
    const char *p;
    size_t n;
} span;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static span trim(const char *p, size_t n)
{
    while (n > 0 && is_space(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_space(p[n - 1]))
        n--;
    return (span){p, n};
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int valid_app_name(span s)
{
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!is_alnum(c) && c != '_' && c != '.' && c != '-' && c != '/')
            return 0;
    }
    return 1;
}

static int valid_key(span s)
{
    if (s.n == 0)
        return 0;
    for (size_t i = 0; i < s.n; i++) {
        if (!is_alnum(s.p[i]) && s.p[i] != '_' && s.p[i] != '.')
            return 0;
    }
    return 1;
}

/* One `key=value` pair as found, before the empty-value filter. */
typedef struct raw_pair {
    span key, value;
} raw_pair;

static int check_pair(const raw_pair *pairs, size_t n, const raw_pair *p, pg_error *err)
{
    if (!valid_key(p->key))
        return pg_error_set(err, PG_ERR_INVALID, "invalid label key '%.*s'", MSG_LEN(p->key.n),
                            p->key.p);
    for (size_t i = 0; i < n; i++) {
        if (pairs[i].key.n == p->key.n && memcmp(pairs[i].key.p, p->key.p, p->key.n) == 0)
            return pg_error_set(err, PG_ERR_INVALID, "duplicate label key '%.*s'",
                                MSG_LEN(p->key.n), p->key.p);
    }
    if (memchr(p->value.p, '\0', p->value.n) ||
        pg_utf8_invalid_at((const uint8_t *)p->value.p, p->value.n) != p->value.n)
        return pg_error_set(err, PG_ERR_INVALID, "value of label '%.*s' is not valid UTF-8",
                            MSG_LEN(p->key.n), p->key.p);
    return PG_OK;
}

/* Splits the text after `{` into pairs; *n gets their count. */
static int split_pairs(const char *s, size_t len, span whole, raw_pair *pairs, size_t *n,
                       pg_error *err)
{
    size_t i = 0;
    *n = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && s[i] != ',' && s[i] != '}')
            i++;
        if (i == len)
            break;
        span seg = trim(s + start, i - start);
        char end = s[i++];
        if (seg.n == 0) {
            if (end == '}')
                return PG_OK;
            return pg_error_set(err, PG_ERR_INVALID, "empty label pair in name '%.*s'",
                                MSG_LEN(whole.n), whole.p);
        }
        const char *eq = memchr(seg.p, '=', seg.n);
        if (!eq)
            return pg_error_set(err, PG_ERR_INVALID, "label '%.*s' has no '='", MSG_LEN(seg.n),
                                seg.p);
        if (*n == PG_PYRO_MAX_NAME_LABELS)
            return pg_error_set(err, PG_ERR_LIMIT, "more than %d labels in name",
                                PG_PYRO_MAX_NAME_LABELS);
        raw_pair p = {trim(seg.p, (size_t)(eq - seg.p)),
                      trim(eq + 1, seg.n - (size_t)(eq - seg.p) - 1)};
        int rc = check_pair(pairs, *n, &p, err);
        if (rc != PG_OK)
            return rc;
        pairs[(*n)++] = p;
        if (end == '}')
            return PG_OK;
    }
    return pg_error_set(err, PG_ERR_INVALID, "missing closing '}' in name '%.*s'", MSG_LEN(whole.n),
                        whole.p);
}

static int copy_labels(pg_arena *a, const raw_pair *pairs, size_t n, pg_pyro_labelset *out)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += pairs[i].value.n > 0;
    if (kept == 0)
        return PG_OK;
    out->labels = pg_arena_calloc(a, kept, sizeof(*out->labels));
    if (!out->labels)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (pairs[i].value.n == 0)
            continue;
        pg_label *l = &out->labels[out->n_labels++];
        l->name = pg_arena_strndup(a, pairs[i].key.p, pairs[i].key.n);
        l->value = pg_arena_strndup(a, pairs[i].value.p, pairs[i].value.n);
        if (!l->name || !l->value)
            return PG_ERR_NOMEM;
    }
    return PG_OK;
}

int pg_pyro_labelset_parse(pg_arena *a, const char *name, size_t len, pg_pyro_labelset *out,
                           pg_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *brace = len ? memchr(name, '{', len) : NULL;
    span app = trim(name, brace ? (size_t)(brace - name) : len);
    if (app.n == 0)
        return pg_error_set(err, PG_ERR_INVALID, "empty application name");
    if (!valid_app_name(app))
        return pg_error_set(err, PG_ERR_INVALID, "invalid application name '%.*s'", MSG_LEN(app.n),
                            app.p);
    raw_pair pairs[PG_PYRO_MAX_NAME_LABELS];
    size_t n = 0;
    if (brace) {
        size_t off = (size_t)(brace - name) + 1;
        int rc = split_pairs(name + off, len - off, (span){name, len}, pairs, &n, err);
        if (rc != PG_OK)
            return rc;
    }
    out->app_name = pg_arena_strndup(a, app.p, app.n);
    if (!out->app_name || copy_labels(a, pairs, n, out) != PG_OK) {
        memset(out, 0, sizeof(*out));
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory parsing name");
    }
    return PG_OK;
}
