/*
 * Loading and validating a profgate configuration file.
 *
 * The file has the OpenTelemetry Collector's shape:
 *
 *   receivers:  {<type>[/<name>]: {...}}     keys per component table
 *   processors: {<type>[/<name>]: {...}}
 *   exporters:  {<type>[/<name>]: {...}}
 *   service:
 *     workers: 0                 # event-loop threads; 0 = one per CPU
 *     shutdown_timeout: 10s
 *     telemetry:
 *       logs: {level: info}      # debug | info | warn | error
 *       metrics: {address: 127.0.0.1:8888}
 *     pipelines:
 *       profiles[/<name>]: {receivers: [...], processors: [...], exporters: [...]}
 *
 * Scalars may use ${env:NAME} and ${env:NAME:-default}. Validation reports every
 * problem at once as FILE:LINE:COL: message; unknown keys are errors,
 * components defined but not used by any pipeline are warnings.
 */
#ifndef PG_CONFIG_CONFIG_H
#define PG_CONFIG_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "config/schema.h"
#include "pipeline/component.h"

typedef struct pg_config_component {
    const pg_component_def *def;
    const char *id; /* as written: "otlp" or "otlp/internal" */
    void *typed;    /* def->config_size bytes filled from the table */
    const pg_config_node *node;
} pg_config_component;

typedef struct pg_config_pipeline {
    const char *id; /* "profiles" or "profiles/<name>" */
    /* indices into pg_config.receivers / processors / exporters, in order */
    size_t *receivers, n_receivers;
    size_t *processors, n_processors;
    size_t *exporters, n_exporters;
} pg_config_pipeline;

typedef enum pg_log_level_cfg {
    PG_CFG_LOG_DEBUG = 0,
    PG_CFG_LOG_INFO = 1,
    PG_CFG_LOG_WARN = 2,
    PG_CFG_LOG_ERROR = 3,
} pg_log_level_cfg;

typedef struct pg_service_config {
    int64_t workers;              /* 0 = number of CPUs */
    uint64_t shutdown_timeout_ms; /* default 10s */
    int log_level;                /* pg_log_level_cfg, default info */
    char *metrics_address;        /* default 127.0.0.1:8888; "" or "none" disables */
} pg_service_config;

typedef struct pg_config {
    const char *file;
    pg_config_component *receivers, *processors, *exporters;
    size_t n_receivers, n_processors, n_exporters;
    pg_config_pipeline *pipelines;
    size_t n_pipelines;
    pg_service_config service;
    struct pg_config_internal *internal; /* document, arenas */
} pg_config;

pg_config_report *pg_config_report_new(void);
void pg_config_report_free(pg_config_report *r);
size_t pg_config_report_errors(const pg_config_report *r);
size_t pg_config_report_warnings(const pg_config_report *r);
/* Prints "FILE:LINE:COL: error: message" / "...: warning: ..." lines in file order. */
void pg_config_report_print(const pg_config_report *r, FILE *out);

/* Returns 0 when the configuration is valid (warnings allowed); *out is set
 * only then. Every problem found is added to report. */
int pg_config_load_file(const char *path, pg_config **out, pg_config_report *report);
int pg_config_load_string(const char *name, const char *yaml, size_t len, pg_config **out,
                          pg_config_report *report);
void pg_config_free(pg_config *cfg);

/* Parses a value the way the table would (used by tests and by components
 * that accept durations/sizes in other places). 0 on success. */
int pg_config_parse_duration_ms(const char *s, uint64_t *out);
int pg_config_parse_size(const char *s, uint64_t *out);

/* Markdown reference of one component's keys (for docs/components.md). */
void pg_config_print_keys_markdown(const pg_config_key *keys, FILE *out);

#endif
