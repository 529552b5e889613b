/*
 * YAML text -> pg_config_node tree (libyaml event API). Every node records
 * file, line and column (1-based). What the loader refuses, each reported
 * with its position: syntax errors, anchors and aliases, tags other than
 * !!str / !!map / !!seq, more than one document, duplicate keys, non-scalar
 * keys (the pair is dropped), NUL characters and nesting deeper than PG_CONFIG_MAX_DEPTH.
 *
 * Plain scalars "", "~", "null", "Null" and "NULL" become PG_NODE_NULL, as
 * does a plain scalar that is empty after ${env:...} expansion (so an unset
 * variable means "use the default"). Map keys are never expanded.
 */
#ifndef PG_CONFIG_YAML_H
#define PG_CONFIG_YAML_H

#include <stddef.h>

#include "common/arena.h"
#include "config/schema.h"

#define PG_CONFIG_MAX_DEPTH 64

/* Returns the document root (a PG_NODE_NULL node for an empty text) with
 * every node, string and the file name in arena a, or NULL when the text
 * cannot be read as YAML at all. Problems that do not stop parsing (an alias,
 * a bad ${...}) are reported and parsing goes on so that all are seen; the
 * caller checks pg_config_report_errors(). expand_env: 0 for built-in
 * defaults, which are taken literally. */
const pg_config_node *pg_config_yaml_parse(pg_arena *a, const char *file, const char *text,
                                           size_t len, int expand_env, pg_config_report *report);

#endif
