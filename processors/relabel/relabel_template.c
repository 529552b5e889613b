/* Replacement templates with the rules of Go's regexp.Expand, parsed once. */
#include <string.h>
#include <wctype.h>

#include "processors/relabel/relabel_internal.h"

int relabel_has_dollar(const char *text)
{
    return text && strchr(text, '$') != NULL;
}

/* Length of the UTF-8 sequence at s (1..4) and its code point, or 0 when the
 * bytes are not valid UTF-8. */
static size_t decode_rune(const unsigned char *s, size_t len, uint32_t *cp)
{
    if (!len)
        return 0;
    unsigned char c = s[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!n || n > len)
        return 0;
    uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3fu);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

int relabel_valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = decode_rune(p + i, len - i, &cp);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

size_t relabel_decode_rune(const char *s, size_t len, uint32_t *cp)
{
    return decode_rune((const unsigned char *)s, len, cp);
}

/* Go's unicode.IsLetter, unicode.IsDigit and underscore: the characters of
 * a template's group name. */
static int name_char(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               cp == '_';
    locale_t loc = relabel_utf8_locale();
    return loc && iswalnum_l((wint_t)cp, loc);
}

/* Go's regexp extract(): a name after '$', braced or not. Returns the bytes
 * consumed (0: malformed, the '$' is literal), and sets
 * the name and its length. */
static size_t extract_name(const char *s, size_t len, const char **name, size_t *name_len)
{
    size_t brace = len && s[0] == '{', i = brace;
    size_t start = i;
    while (i < len) {
        uint32_t cp = 0;
        size_t n = decode_rune((const unsigned char *)s + i, len - i, &cp);
        if (!n || !name_char(cp))
            break;
        i += n;
    }
    if (i == start)
        return 0;
    *name = s + start;
    *name_len = i - start;
    if (brace) {
        if (i >= len || s[i] != '}')
            return 0;
        i++;
    }
    return i;
}

/* The group a name refers to: a number (no leading zero, below 1e8) or a
 * named group; -1 when the pattern has no such group. */
static int resolve_group(const pg_regex *re, const char *name, size_t len)
{
    int num = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9' || num >= 100000000) {
            num = -1;
            break;
        }
        num = num * 10 + (name[i] - '0');
    }
    if (len > 1 && name[0] == '0')
        num = -1;
    if (num >= 0)
        return num < PG_REGEX_MAX_GROUPS ? num : -1;
    return re ? pg_regex_group_number(re, name, len) : -1;
}

int relabel_template_parse(pg_arena *a, const pg_regex *re, const char *text, relabel_template *out)
{
    size_t len = strlen(text), dollars = 0;
    for (size_t i = 0; i < len; i++)
        dollars += text[i] == '$';
    memset(out, 0, sizeof(*out));
    out->text = text;
    out->segs = pg_arena_calloc(a, 2 * dollars + 1, sizeof(*out->segs));
    if (!out->segs)
        return PG_ERR_NOMEM;
    size_t lit = 0, i = 0;
    while (i < len) {
        const char *d = memchr(text + i, '$', len - i);
        if (!d)
            break;
        size_t at = (size_t)(d - text);
        if (at > lit)
            out->segs[out->n_segs++] = (relabel_seg){.lit = text + lit, .len = at - lit};
        const char *name = NULL;
        size_t name_len = 0, used = 0;
        if (at + 1 < len && text[at + 1] == '$') {
            out->segs[out->n_segs++] = (relabel_seg){.lit = text + at, .len = 1};
            i = lit = at + 2;
            continue;
        }
        used = extract_name(text + at + 1, len - at - 1, &name, &name_len);
        if (!used) {
            /* malformed: the '$' stays literal and scanning resumes after it */
            out->segs[out->n_segs++] = (relabel_seg){.lit = text + at, .len = 1};
            i = lit = at + 1;
            continue;
        }
        out->segs[out->n_segs++] = (relabel_seg){.group = resolve_group(re, name, name_len)};
        out->has_groups = 1;
        i = lit = at + 1 + used;
    }
    if (len > lit)
        out->segs[out->n_segs++] = (relabel_seg){.lit = text + lit, .len = len - lit};
    return PG_OK;
}

static int group_span(const pg_regex_groups *g, int group, size_t *start, size_t *end)
{
    if (!g || group < 0 || group >= PG_REGEX_MAX_GROUPS || (uint32_t)group >= g->count)
        return 0;
    *start = g->offsets[2 * group];
    *end = g->offsets[2 * group + 1];
    return *start != PG_REGEX_UNSET && *end != PG_REGEX_UNSET && *end >= *start;
}

char *relabel_template_expand(pg_arena *a, const relabel_template *t, const char *subject,
                              const pg_regex_groups *groups)
{
    size_t total = 0, s, e;
    for (size_t i = 0; i < t->n_segs; i++) {
        const relabel_seg *g = &t->segs[i];
        if (g->lit)
            total += g->len;
        else if (group_span(groups, g->group, &s, &e))
            total += e - s;
    }
    char *out = pg_arena_alloc(a, total + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < t->n_segs; i++) {
        const relabel_seg *g = &t->segs[i];
        if (g->lit) {
            memcpy(out + o, g->lit, g->len);
            o += g->len;
        } else if (group_span(groups, g->group, &s, &e)) {
            memcpy(out + o, subject + s, e - s);
            o += e - s;
        }
    }
    out[o] = '\0';
    return out;
}
