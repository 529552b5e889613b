/*
 * Label selectors, written as Prometheus and Pyroscope write them:
 *
 *   {service_name=~"api-.*", __name__!="goroutine", env="prod"}
 *
 * Operators = != =~ !~; values are double-quoted (or single- or back-quoted)
 * strings with Go escapes (\" \\ \n \t \xNN \uNNNN ...); label names are
 * [A-Za-z_][A-Za-z0-9_.]* or a quoted UTF-8 string; a trailing comma is
 * allowed; "{}" matches everything. Regexes follow processors/common/regex.h
 * (fully anchored). All matchers must hold (AND).
 *
 * An absent label compares as "" (so {env=""} matches profiles without env,
 * and {env!~".+"} too), and PG_LABEL_TENANT ("__tenant__") reads the
 * profile's tenant (pipeline/profile.h).
 *
 * A parsed selector is immutable and may be used by several threads at once.
 */
#ifndef PG_PROCESSORS_COMMON_SELECTOR_H
#define PG_PROCESSORS_COMMON_SELECTOR_H

#include <stddef.h>

#include "common/error.h"
#include "pipeline/profile.h"

typedef struct pg_selector pg_selector;

/* Parses text; errors name the byte offset and what was expected there, e.g.
 * "selector '{a=\"b}': unterminated string at offset 3". */
int pg_selector_parse(const char *text, pg_selector **out, pg_error *err);
void pg_selector_free(pg_selector *s);

/* Label lookup for pg_selector_match_fn: the value, or NULL when absent. */
typedef const char *(*pg_selector_lookup_fn)(void *ud, const char *name);

/* 1 when every matcher holds for prof, 0 when one does not (a regex that
 * hits its match limit counts as not matching). */
int pg_selector_match(const pg_selector *s, const pg_profile *prof);
/* The same over any label source. */
int pg_selector_match_fn(const pg_selector *s, pg_selector_lookup_fn lookup, void *ud);

/* The selector as written (for logs and metrics). */
const char *pg_selector_text(const pg_selector *s);

#endif
