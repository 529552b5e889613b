#include "processors/common/selector.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/hex.h"
#include "common/utf8.h"
#include "processors/common/regex.h"

typedef enum op { OP_EQ, OP_NEQ, OP_RE, OP_NRE } op;

typedef struct matcher {
    op op;
    char *name;
    char *value;
    pg_regex *re; /* OP_RE / OP_NRE */
} matcher;

struct pg_selector {
    char *text;
    matcher *m;
    size_t n, cap;
};

/* Parser state; errors are written once, at the first problem. */
typedef struct parser {
    const char *s;
    size_t len, pos;
    pg_selector *sel;
    pg_error *err;
} parser;

static int fail_at(parser *p, size_t at, const char *what)
{
    return pg_error_set(p->err, PG_ERR_INVALID, "selector '%s': %s at offset %zu", p->s, what, at);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]))
        p->pos++;
}

static int put_utf8(pg_buf *out, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return pg_buf_append(out, b, n);
}

/* Reads `digits` digits of base 8 or 16 after an escape letter. */
static int read_number(parser *p, int digits, int base, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < digits; i++, p->pos++) {
        int d = p->pos < p->len ? pg_hex_digit((unsigned char)p->s[p->pos]) : -1;
        if (d < 0 || d >= base)
            return fail_at(p, p->pos, "invalid escape digit");
        v = v * (uint32_t)base + (uint32_t)d;
    }
    *out = v;
    return PG_OK;
}

/* One escape sequence (p->pos just after the backslash), Go's set. */
static int read_escape(parser *p, pg_buf *out)
{
    static const char simple_in[] = "abfnrtv\\'\"";
    static const char simple_out[] = "\a\b\f\n\r\t\v\\'\"";
    size_t at = p->pos - 1;
    if (p->pos >= p->len)
        return fail_at(p, at, "unterminated string");
    char c = p->s[p->pos++];
    const char *hit = strchr(simple_in, c);
    if (hit && c)
        return pg_buf_append(out, &simple_out[hit - simple_in], 1);
    uint32_t v = 0;
    int rc;
    if (c == 'x')
        rc = read_number(p, 2, 16, &v);
    else if (c >= '0' && c <= '7') {
        p->pos--;
        rc = read_number(p, 3, 8, &v);
    } else if (c == 'u')
        rc = read_number(p, 4, 16, &v);
    else if (c == 'U')
        rc = read_number(p, 8, 16, &v);
    else
        return fail_at(p, at, "unknown escape sequence");
    if (rc != PG_OK)
        return rc;
    if (v == 0)
        return fail_at(p, at, "NUL character in string");
    if (c == 'x' || (c >= '0' && c <= '7')) {
        if (v > 0xff)
            return fail_at(p, at, "octal escape above \\377");
        uint8_t byte = (uint8_t)v;
        return pg_buf_append(out, &byte, 1);
    }
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return fail_at(p, at, "escape is not a valid Unicode code point");
    return put_utf8(out, v);
}

/* A quoted string at p->pos; *out is malloc'd, NUL-terminated, valid UTF-8. */
static int read_string(parser *p, char **out)
{
    size_t start = p->pos;
    char q = p->s[p->pos++];
    pg_buf b;
    pg_buf_init(&b);
    int rc = PG_OK;
    for (;;) {
        if (p->pos >= p->len) {
            rc = fail_at(p, start, "unterminated string");
            break;
        }
        char c = p->s[p->pos++];
        if (c == q)
            break;
        if (c == '\\' && q != '`')
            rc = read_escape(p, &b);
        else if ((c == '\n' && q != '`'))
            rc = fail_at(p, p->pos - 1, "newline in string");
        else
            rc = pg_buf_append(&b, &c, 1);
        if (rc != PG_OK)
            break;
    }
    if (rc == PG_OK && pg_utf8_invalid_at(b.data, b.len) != b.len)
        rc = fail_at(p, start, "string is not valid UTF-8");
    if (rc == PG_OK && pg_buf_append(&b, "", 1) != PG_OK)
        rc = pg_error_set(p->err, PG_ERR_NOMEM, "out of memory");
    if (rc == PG_ERR_NOMEM && !p->err->msg[0])
        pg_error_set(p->err, PG_ERR_NOMEM, "out of memory");
    if (rc != PG_OK) {
        pg_buf_free(&b);
        return rc;
    }
    *out = (char *)b.data;
    return PG_OK;
}

static int is_quote(char c)
{
    return c == '"' || c == '\'' || c == '`';
}

static int is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int read_name(parser *p, char **out)
{
    size_t start = p->pos;
    if (p->pos < p->len && is_quote(p->s[p->pos])) {
        int rc = read_string(p, out);
        if (rc == PG_OK && !**out) {
            free(*out);
            *out = NULL;
            return fail_at(p, start, "empty label name");
        }
        return rc;
    }
    if (p->pos >= p->len || !is_name_start(p->s[p->pos]))
        return fail_at(p, start, "expected a label name");
    while (p->pos < p->len && (is_name_start(p->s[p->pos]) ||
                               (p->s[p->pos] >= '0' && p->s[p->pos] <= '9') || p->s[p->pos] == '.'))
        p->pos++;
    *out = strndup(p->s + start, p->pos - start);
    return *out ? PG_OK : pg_error_set(p->err, PG_ERR_NOMEM, "out of memory");
}

static int read_op(parser *p, op *out)
{
    const char *c = p->s + p->pos;
    size_t left = p->len - p->pos;
    if (left >= 2 && c[0] == '=' && c[1] == '~')
        *out = OP_RE;
    else if (left >= 2 && c[0] == '!' && c[1] == '=')
        *out = OP_NEQ;
    else if (left >= 2 && c[0] == '!' && c[1] == '~')
        *out = OP_NRE;
    else if (left >= 1 && c[0] == '=')
        *out = OP_EQ;
    else
        return fail_at(p, p->pos, "expected one of = != =~ !~");
    p->pos += *out == OP_EQ ? 1 : 2;
    return PG_OK;
}

static matcher *new_matcher(parser *p)
{
    pg_selector *s = p->sel;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        matcher *m = realloc(s->m, cap * sizeof(*m));
        if (!m)
            return NULL;
        s->m = m;
        s->cap = cap;
    }
    matcher *m = &s->m[s->n++];
    memset(m, 0, sizeof(*m));
    return m;
}

static int compile_regex(parser *p, matcher *m, size_t value_at)
{
    pg_error rerr;
    pg_error_clear(&rerr);
    int rc = pg_regex_compile(m->value, &m->re, &rerr);
    if (rc == PG_OK)
        return PG_OK;
    if (rc == PG_ERR_NOMEM)
        return pg_error_set(p->err, rc, "out of memory");
    return pg_error_set(p->err, rc, "selector '%s': label %s: %s (the value starts at offset %zu)",
                        p->s, m->name, rerr.msg, value_at);
}

/* name op "value" */
static int read_matcher(parser *p)
{
    matcher *m = new_matcher(p);
    if (!m)
        return pg_error_set(p->err, PG_ERR_NOMEM, "out of memory");
    int rc = read_name(p, &m->name);
    if (rc != PG_OK)
        return rc;
    skip_ws(p);
    if ((rc = read_op(p, &m->op)) != PG_OK)
        return rc;
    skip_ws(p);
    size_t value_at = p->pos;
    if (p->pos >= p->len || !is_quote(p->s[p->pos]))
        return fail_at(p, p->pos, "expected a quoted value");
    if ((rc = read_string(p, &m->value)) != PG_OK)
        return rc;
    if (m->op == OP_RE || m->op == OP_NRE)
        return compile_regex(p, m, value_at);
    return PG_OK;
}

static int parse_body(parser *p)
{
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '{')
        return fail_at(p, p->pos, "expected '{'");
    p->pos++;
    for (;;) {
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == '}')
            break;
        if (p->pos >= p->len)
            return fail_at(p, p->pos, "expected a label name or '}'");
        int rc = read_matcher(p);
        if (rc != PG_OK)
            return rc;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos >= p->len || p->s[p->pos] != '}')
            return fail_at(p, p->pos, "expected ',' or '}'");
    }
    p->pos++;
    skip_ws(p);
    if (p->pos != p->len)
        return fail_at(p, p->pos, "unexpected text after '}'");
    return PG_OK;
}

int pg_selector_parse(const char *text, pg_selector **out, pg_error *err)
{
    pg_error local;
    if (!err) {
        pg_error_clear(&local);
        err = &local;
    }
    *out = NULL;
    pg_selector *s = calloc(1, sizeof(*s));
    if (!s || !(s->text = strdup(text))) {
        free(s);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    pg_error_clear(err);
    parser p = {.s = text, .len = strlen(text), .sel = s, .err = err};
    int rc = parse_body(&p);
    if (rc != PG_OK) {
        pg_selector_free(s);
        return rc;
    }
    *out = s;
    return PG_OK;
}

void pg_selector_free(pg_selector *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->m[i].name);
        free(s->m[i].value);
        pg_regex_free(s->m[i].re);
    }
    free(s->m);
    free(s->text);
    free(s);
}

static int matcher_holds(const matcher *m, const char *v)
{
    if (!v)
        v = "";
    switch (m->op) {
    case OP_EQ:
        return strcmp(v, m->value) == 0;
    case OP_NEQ:
        return strcmp(v, m->value) != 0;
    case OP_RE:
        return pg_regex_match(m->re, v, strlen(v), NULL) == 1;
    case OP_NRE:
        /* a match limit hit is not proof of a mismatch */
        return pg_regex_match(m->re, v, strlen(v), NULL) == 0;
    }
    return 0;
}

int pg_selector_match_fn(const pg_selector *s, pg_selector_lookup_fn lookup, void *ud)
{
    for (size_t i = 0; i < s->n; i++)
        if (!matcher_holds(&s->m[i], lookup(ud, s->m[i].name)))
            return 0;
    return 1;
}

static const char *profile_lookup(void *ud, const char *name)
{
    return pg_profile_label_or_tenant(ud, name);
}

int pg_selector_match(const pg_selector *s, const pg_profile *prof)
{
    return pg_selector_match_fn(s, profile_lookup, (void *)prof);
}

const char *pg_selector_text(const pg_selector *s)
{
    return s->text;
}
