/*
 * Environment expansion in configuration scalars, as in the OpenTelemetry
 * Collector:
 *
 *   ${env:NAME}            value of NAME; "" when NAME is unset
 *   ${env:NAME:-default}   default when NAME is unset or empty
 *   $$                     a literal '$' (so "$${env:X}" stays as "${env:X}")
 *   $ before anything else is kept as is
 *
 * NAME is [A-Za-z_][A-Za-z0-9_]*. A default runs to the first '}' and is not
 * expanded again; neither are variable values. Any other "${...}" (another
 * provider, a bare ${NAME}, a missing '}') is an error.
 */
#ifndef PG_CONFIG_ENV_H
#define PG_CONFIG_ENV_H

#include <stddef.h>

#include "common/arena.h"

/* Writes the expanded copy of s (len bytes) to *out (arena memory). On a
 * malformed expansion returns PG_ERR_INVALID with *err_off set to the byte
 * offset of the offending '$' and a message in msg; PG_ERR_NOMEM when the
 * arena is exhausted. *expanded is set to 1 when s contained an expansion. */
int pg_config_expand_env(pg_arena *a, const char *s, size_t len, char **out, int *expanded,
                         size_t *err_off, char *msg, size_t msg_size);

#endif
