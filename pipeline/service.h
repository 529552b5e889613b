/*
 * The running service: components instantiated from a validated
 * configuration, wired into pipelines, and driven by worker threads.
 *
 * Graph: one instance per receiver and per exporter (shared by every pipeline
 * that names it), one instance of each processor per pipeline. A receiver
 * sends to a fan-out over the pipelines that list it; a pipeline's processors
 * are chained; the last one sends to a fan-out over the pipeline's exporters.
 *
 * pg_service_run starts exporters, then processors, then receivers (main
 * thread), then the worker threads (each calls worker_start of every
 * component in the same order), and blocks until SIGINT/SIGTERM or
 * pg_service_request_stop. Shutdown runs in reverse: receivers stop accepting,
 * processors flush, exporters drain, all within service.shutdown_timeout.
 */
#ifndef PG_PIPELINE_SERVICE_H
#define PG_PIPELINE_SERVICE_H

#include "common/error.h"
#include "config/config.h"

typedef struct pg_service pg_service;

/* Builds the graph; creates every component (no I/O). cfg must outlive the service. */
int pg_service_create(const pg_config *cfg, pg_service **out, pg_error *err);
/* Runs until a stop is requested; returns 0 after a clean shutdown. */
int pg_service_run(pg_service *svc, pg_error *err);
/* Thread-safe and async-signal-safe. */
void pg_service_request_stop(pg_service *svc);
void pg_service_free(pg_service *svc);

/* Number of worker threads the service runs (after resolving 0 = CPUs). */
int pg_service_workers(const pg_service *svc);

#endif
