/*
 * Regular expressions for label rules and selectors, with the semantics
 * Prometheus gives them: RE2 syntax, matched against the whole value
 * (anchored at both ends, as ^(?s:pattern)\z would be: '.' also matches a
 * newline and nothing may follow the match), UTF-8. Compiled once with PCRE2 and its JIT
 * when the platform has one.
 *
 * PCRE2 accepts more than RE2 (backreferences, lookaround); patterns written
 * for Prometheus or Alloy are RE2 and mean the same here. Because PCRE2
 * backtracks where RE2 does not, every match runs under a match limit: a
 * pathological pattern on a long value fails with PG_ERR_LIMIT instead of
 * spinning.
 *
 * A compiled pg_regex is immutable and may be used by several threads at
 * once; each thread keeps its own match scratch (no allocation per match).
 */
#ifndef PG_PROCESSORS_COMMON_REGEX_H
#define PG_PROCESSORS_COMMON_REGEX_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct pg_regex pg_regex;

/* Capture groups a match reports, group 0 being the whole match. */
#define PG_REGEX_MAX_GROUPS 32

typedef struct pg_regex_groups {
    /* start/end byte offsets of group i at [2i], [2i+1]; PG_REGEX_UNSET when
     * the group did not take part in the match or i > the pattern's count */
    size_t offsets[2 * PG_REGEX_MAX_GROUPS];
    uint32_t count; /* groups in the pattern, plus one for group 0 */
} pg_regex_groups;

#define PG_REGEX_UNSET ((size_t)-1)

/* Compiles pattern (NUL-terminated). The error names the offset and PCRE2's
 * reason, e.g. "invalid regex 'a(b': missing closing parenthesis at offset 3". */
int pg_regex_compile(const char *pattern, pg_regex **out, pg_error *err);
void pg_regex_free(pg_regex *re);

/* 1 when the whole subject matches, 0 when not; PG_ERR_LIMIT when the match
 * limit was hit, PG_ERR_NOMEM. groups may be NULL. */
int pg_regex_match(const pg_regex *re, const char *subject, size_t len, pg_regex_groups *groups);

/* Number of a named group ("(?P<name>...)" or "(?<name>...)"); -1 when the
 * pattern has no group of that name. */
int pg_regex_group_number(const pg_regex *re, const char *name, size_t name_len);
/* Capture groups in the pattern (not counting group 0). */
uint32_t pg_regex_capture_count(const pg_regex *re);
/* The pattern as the user wrote it. */
const char *pg_regex_pattern(const pg_regex *re);

#endif
