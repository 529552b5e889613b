/*
 * Component interface. Every receiver, processor and exporter is described by
 * one statically initialised pg_component_def and registered in the table in
 * pipeline/registry.c; nothing else in the core knows about it.
 *
 * Lifecycle (driven by pipeline/service.c):
 *
 *   create        main thread, config already validated; no I/O, no threads
 *   start         main thread; exporters first, receivers last; may start the
 *                 component's own threads (file writers, ...); must return fast
 *   worker_start  on each worker thread before its loop runs: listeners,
 *                 timers and per-worker state live here
 *   consume       on a worker thread: the batch is lent for the duration of
 *                 the call; keep a copy (pg_batch_clone/append_copy) to use it
 *                 later. Returns a classified result (pipeline/consume.h).
 *   worker_stop   on each worker thread at shutdown, receivers first: stop
 *                 accepting, flush per-worker buffers downstream. An
 *                 exporter that sends from the worker loop drains here: it
 *                 returns at once and keeps its handles open until its queue
 *                 is empty or w->stop_deadline_ms passes; the worker thread
 *                 ends when the loop has no handles left
 *   shutdown      main thread, after all workers stopped; drains what was
 *                 accepted until deadline_ms (monotonic ms, see pg_now_ms());
 *                 safe to call twice and without start
 *   destroy       frees everything
 */
#ifndef PG_PIPELINE_COMPONENT_H
#define PG_PIPELINE_COMPONENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "config/schema.h"
#include "pipeline/consume.h"
#include "pipeline/profile.h"
#include "pipeline/worker.h"
#include "telemetry/log.h"

typedef enum pg_component_kind {
    PG_KIND_RECEIVER = 1,
    PG_KIND_PROCESSOR = 2,
    PG_KIND_EXPORTER = 3,
} pg_component_kind;

const char *pg_component_kind_name(pg_component_kind k);

typedef struct pg_component pg_component;

/* Where a receiver or processor sends its output. A consumer may fan out to
 * several stages; the graph gives each modifying stage its own copy only when
 * another stage still reads the batch. */
typedef struct pg_consumer {
    int (*consume)(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res);
    void *target;
} pg_consumer;

/* Passes b to c; returns res->status. */
int pg_consumer_send(const pg_consumer *c, pg_worker *w, pg_batch *b, pg_consume_result *res);

/* Called by exporter_refs for each exporter id a processor's config names. */
typedef void (*pg_exporter_ref_fn)(void *ud, const char *id, const pg_config_node *at);

typedef struct pg_component_def {
    const char *type; /* "otlp", "batch", "file", ... */
    pg_component_kind kind;
    const char *description;
    /* Config table: drives parsing, defaults, bounds, unknown-key errors and
     * the generated docs. The typed config struct has config_size bytes. */
    const pg_config_key *config_keys;
    size_t config_size;
    /* Processors: 1 when consume modifies labels or payloads of the batch. */
    int mutates_data;

    /* Checks that span several keys; report problems with pg_config_report_error
     * at the positions the report gives. Optional. */
    void (*validate)(const void *config, pg_config_report *report, const pg_config_node *node);
    /* Processors that send to exporters of their pipeline themselves
     * (routing): reports every exporter id the config names. The
     * configuration check then requires each to be one of the pipeline's
     * exporters and the processor to be the pipeline's last. node is the
     * component's own map, for positions. Optional. */
    void (*exporter_refs)(const void *config, const pg_config_node *node, pg_exporter_ref_fn ref,
                          void *ud);
    int (*create)(pg_component *self, pg_error *err);
    int (*start)(pg_component *self, pg_error *err);
    int (*worker_start)(pg_component *self, pg_worker *w, pg_error *err);
    int (*consume)(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res);
    void (*worker_stop)(pg_component *self, pg_worker *w);
    void (*shutdown)(pg_component *self, uint64_t deadline_ms);
    void (*destroy)(pg_component *self);
} pg_component_def;

/* One exporter of the pipeline a processor instance belongs to. */
typedef struct pg_pipeline_exporter {
    const char *id; /* as written in the config: "pyroscope/a" */
    pg_consumer consumer;
} pg_pipeline_exporter;

struct pg_component {
    const pg_component_def *def;
    char id[128];     /* "type" or "type/name" as written in the config */
    void *config;     /* typed config struct filled from def->config_keys */
    void *state;      /* the component's own data */
    pg_consumer next; /* receivers and processors: downstream */
    /* Processors: the exporters of their pipeline, in the pipeline's order,
     * for one that sends to some of them itself (see exporter_refs). Set
     * before create; owned by the service. */
    const pg_pipeline_exporter *pipeline_exporters;
    size_t n_pipeline_exporters;
    int workers; /* number of worker threads (for per-worker state arrays) */
    int started;
    int shut_down;
};

/* Log with the component id in every line. */
#define PG_CLOG(self, level, ...)                                                                  \
    pg_log_component((level), (self)->def->kind, (self)->id, __VA_ARGS__)

/* Registry (pipeline/registry.c). */
const pg_component_def *pg_registry_find(pg_component_kind kind, const char *type);
/* NULL-terminated list of every compiled-in component. */
const pg_component_def *const *pg_registry_all(void);

#endif
