#include "receivers/pyroscope/multipart.h"

#include <string.h>
#include <strings.h>

#define MAX_BOUNDARY 70 /* RFC 2046 section 5.1.1 */
#define MSG_LEN(n)   ((int)((n) > 64 ? 64 : (n)))

typedef struct span {
    const char *p;
    size_t n;
} span;

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static span trim(const char *p, size_t n)
{
    while (n > 0 && is_ws(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_ws(p[n - 1]))
        n--;
    return (span){p, n};
}

static int span_ieq(span s, const char *lit)
{
    return strlen(lit) == s.n && strncasecmp(s.p, lit, s.n) == 0;
}

/* ---- header parameters: `; key=value` or `; key="quoted \" value"` ---- */

typedef struct param_reader {
    const char *p;
    size_t n, i;
} param_reader;

/* Reads the value at r->i into a NUL-terminated arena copy, unescaping a
 * quoted string. An unterminated quote takes the rest of the input. */
static char *read_param_value(pg_arena *a, param_reader *r)
{
    if (r->i < r->n && r->p[r->i] == '"') {
        char *out = pg_arena_alloc(a, r->n - r->i);
        size_t k = 0;
        if (!out)
            return NULL;
        for (r->i++; r->i < r->n && r->p[r->i] != '"'; r->i++) {
            if (r->p[r->i] == '\\' && r->i + 1 < r->n)
                r->i++;
            out[k++] = r->p[r->i];
        }
        r->i += r->i < r->n; /* the closing quote */
        out[k] = '\0';
        return out;
    }
    size_t start = r->i;
    while (r->i < r->n && r->p[r->i] != ';' && !is_ws(r->p[r->i]))
        r->i++;
    return pg_arena_strndup(a, r->p + start, r->i - start);
}

/* Next `key=value` parameter after the current position; 0 at the end.
 * *value is NULL for a parameter without `=`, and on allocation failure
 * (then *nomem is set). */
static int next_param(pg_arena *a, param_reader *r, span *key, char **value, int *nomem)
{
    while (r->i < r->n && r->p[r->i] != ';')
        r->i++; /* the rest of the media type or of a malformed parameter */
    while (r->i < r->n && (r->p[r->i] == ';' || is_ws(r->p[r->i])))
        r->i++;
    if (r->i >= r->n)
        return 0;
    size_t start = r->i;
    while (r->i < r->n && r->p[r->i] != '=' && r->p[r->i] != ';' && !is_ws(r->p[r->i]))
        r->i++;
    *key = (span){r->p + start, r->i - start};
    *value = NULL;
    while (r->i < r->n && is_ws(r->p[r->i]))
        r->i++;
    if (r->i < r->n && r->p[r->i] == '=') {
        r->i++;
        while (r->i < r->n && is_ws(r->p[r->i]))
            r->i++;
        *value = read_param_value(a, r);
        *nomem = *value == NULL;
    }
    return 1;
}

int pg_multipart_boundary(pg_arena *a, const char *content_type, const char **boundary,
                          pg_error *err)
{
    *boundary = NULL;
    if (!content_type)
        return pg_error_set(err, PG_ERR_UNSUPPORTED, "no content type: not multipart/form-data");
    size_t n = strlen(content_type);
    const char *semi = memchr(content_type, ';', n);
    span type = trim(content_type, semi ? (size_t)(semi - content_type) : n);
    if (!span_ieq(type, "multipart/form-data"))
        return pg_error_set(err, PG_ERR_UNSUPPORTED,
                            "content type '%.*s' is not multipart/form-data", MSG_LEN(n),
                            content_type);
    param_reader r = {content_type, n, (size_t)(type.p + type.n - content_type)};
    span key;
    char *value;
    int nomem = 0;
    while (next_param(a, &r, &key, &value, &nomem)) {
        if (nomem)
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory reading the boundary");
        if (value && span_ieq(key, "boundary"))
            *boundary = value;
    }
    size_t blen = *boundary ? strlen(*boundary) : 0;
    for (size_t i = 0; i < blen; i++) {
        if ((unsigned char)(*boundary)[i] < 0x20 || (*boundary)[i] == 0x7f)
            blen = 0;
    }
    if (blen == 0 || blen > MAX_BOUNDARY) {
        *boundary = NULL;
        return pg_error_set(err, PG_ERR_INVALID, "no usable multipart boundary in '%.*s'",
                            MSG_LEN(n), content_type);
    }
    return PG_OK;
}

/* ---- part headers ---- */

static int read_disposition(pg_arena *a, span v, pg_multipart_part *part)
{
    param_reader r = {v.p, v.n, 0};
    span key;
    char *value;
    int nomem = 0;
    while (next_param(a, &r, &key, &value, &nomem)) {
        if (nomem)
            return PG_ERR_NOMEM;
        if (value && span_ieq(key, "name"))
            part->name = value;
        else if (value && span_ieq(key, "filename"))
            part->filename = value;
    }
    return PG_OK;
}

static int read_header_line(pg_arena *a, const char *line, size_t n, pg_multipart_part *part)
{
    const char *colon = memchr(line, ':', n);
    if (!colon)
        return PG_OK; /* not a header (e.g. obsolete line folding): nothing we use */
    span name = trim(line, (size_t)(colon - line));
    span value = trim(colon + 1, n - (size_t)(colon - line) - 1);
    if (span_ieq(name, "content-disposition"))
        return read_disposition(a, value, part);
    if (span_ieq(name, "content-type")) {
        part->content_type = pg_arena_strndup(a, value.p, value.n);
        return part->content_type ? PG_OK : PG_ERR_NOMEM;
    }
    return PG_OK;
}

typedef struct mp_body {
    const uint8_t *p;
    size_t len;
    const char *delim; /* "--" boundary */
    size_t dlen;
} mp_body;

/* Reads the header block of part number index starting at *pos; *pos moves
 * past the blank line. */
static int read_headers(pg_arena *a, const mp_body *b, size_t *pos, size_t index,
                        pg_multipart_part *part, pg_error *err)
{
    size_t i = *pos;
    size_t limit =
        b->len - *pos > PG_MULTIPART_MAX_HEADER ? *pos + PG_MULTIPART_MAX_HEADER : b->len;
    for (;;) {
        const uint8_t *nl = memchr(b->p + i, '\n', limit - i);
        if (!nl && limit < b->len)
            return pg_error_set(err, PG_ERR_INVALID,
                                "headers of multipart part %zu are over %d bytes", index + 1,
                                PG_MULTIPART_MAX_HEADER);
        if (!nl)
            return pg_error_set(err, PG_ERR_INVALID,
                                "multipart part %zu has no blank line after its headers",
                                index + 1);
        size_t end = (size_t)(nl - b->p), line_end = end;
        if (line_end > i && b->p[line_end - 1] == '\r')
            line_end--;
        if (line_end == i) {
            *pos = end + 1;
            return PG_OK;
        }
        if (read_header_line(a, (const char *)b->p + i, line_end - i, part) != PG_OK)
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory reading multipart headers");
        i = end + 1;
    }
}

/* ---- delimiters ---- */

enum { NOT_DELIMITER, PART_DELIMITER, CLOSE_DELIMITER };

/* What the `--boundary` at pos is; *next gets the start of the part's headers. */
static int delimiter_kind(const mp_body *b, size_t pos, size_t *next)
{
    size_t i = pos + b->dlen;
    if (i + 2 <= b->len && b->p[i] == '-' && b->p[i + 1] == '-')
        return CLOSE_DELIMITER;
    while (i < b->len && is_ws((char)b->p[i]))
        i++;
    if (i < b->len && b->p[i] == '\n') {
        *next = i + 1;
        return PART_DELIMITER;
    }
    if (i + 1 < b->len && b->p[i] == '\r' && b->p[i + 1] == '\n') {
        *next = i + 2;
        return PART_DELIMITER;
    }
    return NOT_DELIMITER;
}

/* The first delimiter at a line start at or after from, or b->len. Each search
 * resumes past the previous hit, so the body is scanned once. */
static size_t find_delimiter(const mp_body *b, size_t from, int *kind, size_t *next)
{
    while (from < b->len) {
        const uint8_t *hit = memmem(b->p + from, b->len - from, b->delim, b->dlen);
        if (!hit)
            break;
        size_t pos = (size_t)(hit - b->p);
        if ((pos == 0 || b->p[pos - 1] == '\n') &&
            (*kind = delimiter_kind(b, pos, next)) != NOT_DELIMITER)
            return pos;
        from = pos + 1;
    }
    return b->len;
}

/* A new slot at the end of the parts array, doubling it in the arena. */
static pg_multipart_part *add_part(pg_arena *a, pg_multipart_part **parts, size_t n, size_t *cap)
{
    if (n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        pg_multipart_part *grown = pg_arena_alloc(a, ncap * sizeof(*grown));
        if (!grown)
            return NULL;
        if (n)
            memcpy(grown, *parts, n * sizeof(*grown));
        *parts = grown;
        *cap = ncap;
    }
    pg_multipart_part *p = &(*parts)[n];
    *p = (pg_multipart_part){.name = ""};
    return p;
}

static int parse_parts(pg_arena *a, const uint8_t *body, size_t len, const char *boundary,
                       size_t max_parts, pg_multipart_part **parts, size_t *n_parts, pg_error *err)
{
    size_t blen = strlen(boundary), cap = 0, next = 0;
    if (blen == 0 || blen > MAX_BOUNDARY)
        return pg_error_set(err, PG_ERR_INVALID, "invalid multipart boundary '%.*s'", MSG_LEN(blen),
                            boundary);
    mp_body b = {body, len, pg_arena_sprintf(a, "--%s", boundary), blen + 2};
    if (!b.delim)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory parsing multipart body");
    int kind = NOT_DELIMITER;
    if (find_delimiter(&b, 0, &kind, &next) == len)
        return pg_error_set(err, PG_ERR_INVALID, "multipart boundary '%.*s' not found in body",
                            MSG_LEN(blen), boundary);
    while (kind == PART_DELIMITER) {
        if (*n_parts == max_parts)
            return pg_error_set(err, PG_ERR_LIMIT, "more than %zu multipart parts", max_parts);
        pg_multipart_part *part = add_part(a, parts, *n_parts, &cap);
        if (!part)
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory parsing multipart body");
        size_t start = next;
        int rc = read_headers(a, &b, &start, *n_parts, part, err);
        if (rc != PG_OK)
            return rc;
        size_t delim = find_delimiter(&b, start, &kind, &next);
        if (delim == len)
            return pg_error_set(err, PG_ERR_INVALID, "multipart body has no closing boundary");
        /* the line break before the delimiter belongs to it, not to the data */
        size_t end = delim - 1 > start ? delim - 1 : start;
        if (end > start && body[end - 1] == '\r')
            end--;
        part->data = body + start;
        part->len = end - start;
        (*n_parts)++;
    }
    return PG_OK;
}

int pg_multipart_parse(pg_arena *a, const uint8_t *body, size_t len, const char *boundary,
                       size_t max_parts, pg_multipart_part **parts, size_t *n_parts, pg_error *err)
{
    *parts = NULL;
    *n_parts = 0;
    int rc = parse_parts(a, body, len, boundary, max_parts, parts, n_parts, err);
    if (rc != PG_OK) {
        *parts = NULL;
        *n_parts = 0;
    }
    return rc;
}
