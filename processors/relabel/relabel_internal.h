/* Shared between the files of the relabel rules engine; not a public API. */
#ifndef PG_PROCESSORS_RELABEL_RELABEL_INTERNAL_H
#define PG_PROCESSORS_RELABEL_RELABEL_INTERNAL_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "processors/common/regex.h"
#include "processors/relabel/relabel_rules.h"

/* A replacement or target template parsed once at compile time: literal
 * runs and capture-group references (named groups resolved to numbers). */
typedef struct relabel_seg {
    const char *lit; /* NULL for a group reference */
    size_t len;
    int group; /* -1: a group the pattern does not have (expands to "") */
} relabel_seg;

typedef struct relabel_template {
    const char *text; /* as written */
    relabel_seg *segs;
    size_t n_segs;
    int has_groups; /* 0: the template is the literal text alone */
} relabel_template;

typedef struct relabel_rule {
    pg_relabel_action action;
    char **source_labels;
    size_t n_source_labels;
    const char *separator;
    size_t separator_len;
    pg_regex *re;
    uint64_t modulus;
    const char *target_label;
    relabel_template target;
    relabel_template replacement;
} relabel_rule;

struct pg_relabel_rules {
    pg_arena *arena; /* every string and array of the compiled rules */
    relabel_rule *rules;
    size_t n;
};

/* Parses text (which must outlive the template) against re's groups. */
int relabel_template_parse(pg_arena *a, const pg_regex *re, const char *text,
                           relabel_template *out);
/* Expands t for a match of re on subject; NULL when out of memory. */
char *relabel_template_expand(pg_arena *a, const relabel_template *t, const char *subject,
                              const pg_regex_groups *groups);
/* 1 when text holds a '$' (a template Prometheus would expand). */
int relabel_has_dollar(const char *text);

/* Case mapping as Go's strings.ToLower/ToUpper; NULL when out of memory. */
char *relabel_lower(pg_arena *a, const char *s, size_t len);
char *relabel_upper(pg_arena *a, const char *s, size_t len);

/* A C.UTF-8 locale for Unicode character classes and case mapping, created
 * once; (locale_t)0 when the system has none (then only ASCII is mapped). */
locale_t relabel_utf8_locale(void);
/* Length (1..4) of the valid UTF-8 sequence at s and its code point in *cp;
 * 0 when the bytes there are not valid UTF-8. */
size_t relabel_decode_rune(const char *s, size_t len, uint32_t *cp);

/* 1 when s[0..len) is valid UTF-8. */
int relabel_valid_utf8(const char *s, size_t len);

/* hashmod: (last 8 bytes of MD5(s), big-endian) % modulus; PG_ERR_NOMEM when
 * the digest cannot be computed. */
int relabel_hashmod(const char *s, size_t len, uint64_t modulus, uint64_t *out);

#endif
