/*
 * Applying a pg_config_key table to a YAML map: the one function that turns a
 * component's (or the service's) section of the file into its typed struct.
 *
 * For every key: the default (default_value, parsed exactly like user input;
 * STRING_LIST and STRING_MAP defaults are YAML flow text such as "[a, b]" or
 * "{k: v}") is stored first, then the user's value on top. A null value
 * means "use the default". Checks: the value's type, bounds, enum values,
 * required keys (a required SECTION must be written), and unknown keys (the
 * error lists the allowed ones). Keys inside a section that is not written are
 * never required.
 *
 * Bounds: min == max == 0 is unbounded; max < min means "at least min".
 * SIZE and DURATION bounds are in bytes and milliseconds.
 *
 * SECTION keys set their int present flag to 1 when the key appears (even as
 * `key:` with no value); their children are applied either way, so their
 * defaults are always in place.
 *
 * LIST and MAP_OF keys allocate their element array from ctx->arena and walk
 * each element with the key's children (defaults, required keys and unknown
 * keys per element); messages name an element as "rules[2].regex" or
 * "basic.alice.password".
 */
#ifndef PG_CONFIG_APPLY_H
#define PG_CONFIG_APPLY_H

#include <stddef.h>

#include "common/arena.h"
#include "config/schema.h"

/* Called for every ENDPOINT value stored (user or default) whose enclosing
 * sections are all present: path is the dotted key path, at the node that
 * gave the value (the nearest enclosing node for defaults). */
typedef void (*pg_config_endpoint_fn)(void *ud, const char *path, const char *value,
                                      const pg_config_node *at);

typedef struct pg_config_apply_ctx {
    pg_arena *arena; /* strings, lists and maps stored in the struct */
    pg_config_report *report;
    const char *path_prefix;       /* prepended to key paths in messages; may be NULL */
    const char *const *extra_keys; /* NULL-terminated top-level keys the caller handles */
    pg_config_endpoint_fn on_endpoint;
    void *endpoint_ud;
} pg_config_apply_ctx;

/* Fills typed (zeroed, as large as the table's offsets need) from map, which
 * may be NULL or a null node (defaults only). at is where problems without a
 * node of their own are reported (a missing required key when map is
 * absent). Returns the number of errors added to ctx->report. */
size_t pg_config_apply(const pg_config_apply_ctx *ctx, const pg_config_key *keys, void *typed,
                       const pg_config_node *map, const pg_config_node *at);

/* Allocates a zeroed struct of size bytes from ctx->arena and applies keys to
 * it. NULL only when out of memory (reported). */
void *pg_config_apply_new(const pg_config_apply_ctx *ctx, const pg_config_key *keys, size_t size,
                          const pg_config_node *map, const pg_config_node *at);

#endif
