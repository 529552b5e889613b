/*
 * processors/routing: sends each profile to some of its pipeline's
 * exporters, chosen by label selector or tenant.
 *
 *   routing:
 *     routes:
 *       - {match: '{__tenant__="tenant-a"}', exporters: [pyroscope/a]}
 *       - {tenants: [tenant-b, tenant-c], exporters: [pyroscope/b]}
 *     default_exporters: [pyroscope/c]
 *
 * A route matches when its `match` selector holds (processors/common/
 * selector.h) and, when `tenants` is given, the profile's tenant is one of
 * them; a route needs at least one of the two and a non-empty `exporters`.
 * The first matching route wins; profiles no route matches go to
 * default_exporters, or are dropped (counted with reason no_route, logged at
 * most once a second) when there is none.
 *
 * Routing must be the last processor of its pipeline and may name only that
 * pipeline's exporters (checked when the configuration loads, through
 * exporter_refs). It sends to the exporters itself: the batch is split into
 * one sub-batch per distinct exporter set and each sub-batch goes to every
 * exporter of its set (exporters never modify a batch, so they share it).
 * Exporters of the pipeline that no route names get nothing from it. The
 * answer is the most severe of the exporters' answers, naming the exporter.
 */
#ifndef PG_PROCESSORS_ROUTING_ROUTING_H
#define PG_PROCESSORS_ROUTING_ROUTING_H

#include "config/schema.h"
#include "pipeline/component.h"

typedef struct pg_routing_route {
    pg_cfg_elem elem;
    char *match; /* selector text; NULL when not given */
    pg_str_list tenants;
    pg_str_list exporters;
} pg_routing_route;

typedef struct pg_routing_processor_config {
    pg_cfg_list routes; /* of pg_routing_route */
    pg_str_list default_exporters;
} pg_routing_processor_config;

extern const pg_component_def pg_routing_processor_def;

#endif
