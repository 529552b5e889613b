/* Shared by the files of the routing processor. */
#ifndef PG_PROCESSORS_ROUTING_ROUTING_INTERNAL_H
#define PG_PROCESSORS_ROUTING_ROUTING_INTERNAL_H

#include <stddef.h>

#include "processors/common/selector.h"
#include "processors/routing/routing.h"
#include "telemetry/log_throttle.h"
#include "telemetry/metrics.h"

/* A distinct set of exporters: indices into self->pipeline_exporters. */
typedef struct routing_set {
    size_t *exporters;
    size_t n;
} routing_set;

typedef struct routing_rule {
    pg_selector *match; /* NULL: any labels */
    char *const *tenants;
    size_t n_tenants; /* 0: any tenant */
    size_t set;       /* index into routing_state.sets */
} routing_rule;

#define ROUTING_NO_SET ((size_t)-1)

typedef struct routing_state {
    routing_rule *rules;
    size_t n_rules;
    size_t default_set; /* ROUTING_NO_SET: unmatched profiles are dropped */
    routing_set *sets;
    size_t n_sets;
    pg_metric *no_route;
    pg_metric **routed; /* per pipeline exporter: profiles handed to it */
    pg_log_throttle throttle;
} routing_state;

/* The set index for profile p, or ROUTING_NO_SET. */
size_t pg_routing_pick(const routing_state *st, const pg_profile *p);

int pg_routing_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res);

#endif
