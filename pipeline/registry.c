/*
 * The one table of compiled-in components. Adding a component means adding
 * its folder and one line here.
 */
#include "pipeline/component.h"

#include <string.h>

/* --- component table: one extern and one entry per component --- */
extern const pg_component_def pg_otlp_receiver_def;
extern const pg_component_def pg_pyroscope_receiver_def;
extern const pg_component_def pg_batch_processor_def;
extern const pg_component_def pg_convert_processor_def;
extern const pg_component_def pg_file_exporter_def;
extern const pg_component_def pg_debug_exporter_def;
extern const pg_component_def pg_otlp_exporter_def;
extern const pg_component_def pg_otlphttp_exporter_def;
extern const pg_component_def pg_pyroscope_exporter_def;
extern const pg_component_def pg_sample_processor_def;
extern const pg_component_def pg_filter_processor_def;
extern const pg_component_def pg_tenant_processor_def;
extern const pg_component_def pg_memory_limiter_processor_def;
extern const pg_component_def pg_relabel_processor_def;
extern const pg_component_def pg_routing_processor_def;
/* --- end of component table externs --- */

static const pg_component_def *const registry[] = {
    /* --- component table entries --- */
    &pg_otlp_receiver_def,
    &pg_pyroscope_receiver_def,
    &pg_batch_processor_def,
    &pg_convert_processor_def,
    &pg_file_exporter_def,
    &pg_debug_exporter_def,
    &pg_otlp_exporter_def,
    &pg_otlphttp_exporter_def,
    &pg_pyroscope_exporter_def,
    &pg_sample_processor_def,
    &pg_filter_processor_def,
    &pg_tenant_processor_def,
    &pg_memory_limiter_processor_def,
    &pg_relabel_processor_def,
    &pg_routing_processor_def,
    /* --- end of component table entries --- */
    NULL,
};

const pg_component_def *pg_registry_find(pg_component_kind kind, const char *type)
{
    for (size_t i = 0; registry[i]; i++)
        if (registry[i]->kind == kind && strcmp(registry[i]->type, type) == 0)
            return registry[i];
    return NULL;
}

const pg_component_def *const *pg_registry_all(void)
{
    return registry;
}
