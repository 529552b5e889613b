/*
 * State of one load, shared by load.c (top level and components),
 * service.c, pipelines.c and listeners.c. Private to config/.
 */
#ifndef PG_CONFIG_LOAD_STATE_H
#define PG_CONFIG_LOAD_STATE_H

#include "config/internal.h"

#define PG_KINDS 3 /* receivers, processors, exporters: index = kind - 1 */

typedef struct pg_listener {
    const char *value;        /* host:port */
    const char *owner;        /* "receiver 'otlp' (protocols.grpc.endpoint)" */
    const pg_config_node *at; /* where to report a collision */
    size_t receiver;          /* index into cfg->receivers; SIZE_MAX: service metrics */
} pg_listener;

typedef struct pg_load {
    pg_config *cfg;
    pg_arena *arena;
    pg_config_report *report;
    const pg_config_node *root;
    const pg_component_def *const *defs;        /* NULL: the registry */
    const pg_config_node **key_nodes[PG_KINDS]; /* component id nodes, for warnings */
    unsigned char *used[PG_KINDS];
    pg_listener *listeners; /* arena */
    size_t n_listeners, cap_listeners;
    size_t current; /* receiver being applied, for pg_load_add_listener */
} pg_load;

void pg_load_add_listener(pg_load *l, const char *value, const char *owner,
                          const pg_config_node *at, size_t receiver);

void pg_load_service(pg_load *l, const pg_config_node *service);
void pg_load_pipelines(pg_load *l, const pg_config_node *service);
void pg_load_check_listeners(pg_load *l);

/* Components of one kind as stored in cfg. */
pg_config_component *pg_load_components(pg_load *l, pg_component_kind kind, size_t *n);

#endif
