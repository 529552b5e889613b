/*
 * Loader entry points beyond config/config.h: loading against a given list
 * of component definitions instead of the compiled-in registry (tests, tools),
 * and the service section's key table (for generated docs).
 */
#ifndef PG_CONFIG_LOAD_H
#define PG_CONFIG_LOAD_H

#include <stddef.h>

#include "config/config.h"

/* pg_config_load_string with component types looked up in `components`
 * (NULL-terminated); NULL means the registry (pg_registry_find). */
int pg_config_load_string_with(const char *name, const char *yaml, size_t len,
                               const pg_component_def *const *components, pg_config **out,
                               pg_config_report *report);

/* Keys of the `service` section other than `pipelines` (workers,
 * shutdown_timeout, telemetry.*). The offsets are internal: for
 * pg_config_print_keys_markdown only. */
const pg_config_key *pg_config_service_keys(void);

#endif
