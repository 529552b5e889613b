/*
 * The delivery chain every network exporter shares:
 *
 *     consume -> sending_queue -> attempt (timeout) -> verdict
 *                    ^                                  |
 *                    +---- retry_on_failure (backoff) <-+ retryable
 *
 * An exporter turns a batch into requests (one tenant each) on the worker
 * thread and submits them; from then on the chain owns them. Each worker has
 * its own queue and its own HTTP client (transport/http_client.h) on its own
 * loop, so the hot path takes no locks; the limits (queue_size profiles,
 * queue_bytes, num_consumers) are global, kept with atomics.
 *
 * Queue full (queue_size or queue_bytes would be passed):
 *   block_on_overflow: true   the request is refused with RESOURCE_EXHAUSTED,
 *                             so the receiver answers 429 and the client keeps
 *                             the data;
 *   block_on_overflow: false  the request is dropped, counted
 *                             (dropped{reason="queue_full"}) and logged; the
 *                             submit answers OK.
 * sending_queue.enabled: false leaves no waiting room: a request is accepted
 * only when a consumer slot is free (it is then sent at once).
 *
 * Attempts: each has its own timeout (the config's `timeout`), counted from
 * when it starts, not from when the data arrived. Verdicts:
 *   delivered    2xx (or the exporter's classify says so)
 *   retryable    connection errors, timeouts, 408, 429, 502, 503, 504, and
 *                gRPC CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
 *                ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS
 *   permanent    anything else: counted failed{reason="permanent"} and logged
 *                with the server's message; never retried
 * A retryable failure waits (backoff: initial_interval, times multiplier per
 * retry, capped at max_interval, randomized by +-randomization_factor; or the
 * server's Retry-After / RetryInfo when it gives one) and tries again until
 * max_elapsed_time has passed since the first attempt (then
 * failed{reason="retries_exhausted"}). A request waiting for its retry holds
 * no consumer slot but stays counted in the queue.
 *
 * Shutdown: pg_delivery_worker_stop starts draining the worker's queue; the
 * loop keeps running until it is empty or the worker's stop deadline
 * (pg_worker.stop_deadline_ms) passes; what is left then is counted
 * dropped{reason="shutdown"} and logged.
 *
 * Metrics (label exporter="<id>"):
 *   profgate_exporter_sent_profiles_total, _sent_bytes_total, _sent_requests_total
 *   profgate_exporter_failed_profiles_total{reason}   permanent, retries_exhausted,
 *                                                     convert, encode, partial
 *   profgate_exporter_dropped_profiles_total{reason}  queue_full, shutdown
 *   profgate_exporter_retries_total                   attempts after the first
 *   profgate_exporter_refused_profiles_total          refused with 429 upstream
 *   profgate_exporter_queue_profiles, _queue_bytes    gauges
 *   profgate_exporter_request_duration_seconds        histogram of attempts
 */
#ifndef PG_EXPORTERS_COMMON_DELIVERY_H
#define PG_EXPORTERS_COMMON_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "exporters/common/delivery_config.h"
#include "pipeline/consume.h"
#include "pipeline/worker.h"
#include "transport/http_client.h"

/* ---- requests ---- */

typedef struct pg_delivery_request pg_delivery_request;

/* A request for one tenant carrying `profiles` profiles. path is appended to
 * the endpoint URL ("/ingest?name=..."); content_type may be NULL. The
 * tenant goes out in the configured tenant header ("" or NULL: none). */
pg_delivery_request *pg_delivery_request_new(const char *path, const char *content_type,
                                             const char *tenant, uint32_t profiles);
/* Adds a header (copied). PG_ERR_NOMEM on failure. */
int pg_delivery_request_add_header(pg_delivery_request *r, const char *name, const char *value);
/* Takes ownership of body (malloc'd). */
void pg_delivery_request_set_body(pg_delivery_request *r, uint8_t *body, size_t len);
/* new + add_header for each of headers + set_body in one call. Takes
 * ownership of body (malloc'd) in every case; NULL (and err) when out of
 * memory. */
pg_delivery_request *pg_delivery_request_build(const char *path, const char *content_type,
                                               const char *tenant, uint32_t profiles,
                                               const pg_http_header *headers, size_t n_headers,
                                               uint8_t *body, size_t len, pg_error *err);
/* Only for requests that were never submitted. NULL accepted. */
void pg_delivery_request_free(pg_delivery_request *r);

uint32_t pg_delivery_request_profiles(const pg_delivery_request *r);
const char *pg_delivery_request_tenant(const pg_delivery_request *r);

/* ---- verdicts ---- */

typedef enum pg_delivery_verdict {
    PG_DELIVERY_DELIVERED = 0,
    PG_DELIVERY_RETRY = 1,
    PG_DELIVERY_PERMANENT = 2,
} pg_delivery_verdict;

typedef struct pg_delivery_outcome {
    pg_delivery_verdict verdict;
    uint64_t retry_after_ms; /* the server's hint (Retry-After, RetryInfo); 0: none */
    uint32_t rejected;       /* delivered, but the server refused this many (partial success) */
    char message[256];       /* the server's words, for the log */
} pg_delivery_outcome;

/* Turns a complete response into a verdict. Called on the worker thread. */
typedef void (*pg_delivery_classify_fn)(void *arg, const pg_delivery_request *req,
                                        const pg_http_client_response *resp,
                                        pg_delivery_outcome *out);

/* Plain HTTP rules: 2xx delivered; 408, 429, 502, 503, 504 retryable with
 * Retry-After (seconds or an HTTP date); everything else permanent. The
 * message is the body's JSON "message" when there is one, else its text. */
void pg_delivery_classify_http(void *arg, const pg_delivery_request *req,
                               const pg_http_client_response *resp, pg_delivery_outcome *out);
/* gRPC status code rules (see above), for exporters that read grpc-status. */
pg_delivery_verdict pg_delivery_grpc_verdict(int grpc_status);
/* Retry-After header value -> ms (delta seconds or HTTP date); 0 when absent or bad. */
uint64_t pg_delivery_parse_retry_after(const char *value, uint64_t now_unix_ms);

/* ---- the chain ---- */

typedef struct pg_delivery pg_delivery;

typedef struct pg_delivery_opts {
    const char *exporter_id;          /* "pyroscope/a": metric label and log scope */
    const pg_delivery_config *config; /* must outlive the chain */
    int workers;                      /* pg_component.workers */
    int http2;                        /* 1: gRPC exporters */
    pg_delivery_classify_fn classify; /* NULL: pg_delivery_classify_http */
    void *classify_arg;
} pg_delivery_opts;

/* From an exporter's create: no I/O. Registers the metrics. */
int pg_delivery_new(const pg_delivery_opts *o, pg_delivery **out, pg_error *err);
/* From start (main thread): reads the TLS and credential files. */
int pg_delivery_start(pg_delivery *d, pg_error *err);
/* From worker_start: the worker's queue and HTTP client. */
int pg_delivery_worker_start(pg_delivery *d, pg_worker *w, pg_error *err);

/* 1 when a request of this many profiles would not fit now (so the exporter
 * can skip building it); the answer may change before the submit. */
int pg_delivery_full(const pg_delivery *d, uint32_t profiles);
/* Applies the full-queue policy for profiles that were not built because
 * pg_delivery_full said so (refuse or drop, counted as documented above). */
void pg_delivery_overflow(pg_delivery *d, uint32_t profiles, pg_consume_result *res);

/* From consume, on worker w: takes ownership of r in every case. Fills res
 * (OK, or RESOURCE_EXHAUSTED when refused) and returns res->status. */
int pg_delivery_submit(pg_delivery *d, pg_worker *w, pg_delivery_request *r,
                       pg_consume_result *res);

/* Profiles the exporter could not turn into a request (reason "convert",
 * "encode", "invalid_labels"): counted in failed_profiles_total{reason}. */
void pg_delivery_count_failed(pg_delivery *d, uint32_t profiles, const char *reason);

/* From worker_stop: drain as documented above; returns at once, the loop
 * keeps running until the drain ends. */
void pg_delivery_worker_stop(pg_delivery *d, pg_worker *w);
/* From shutdown (main thread, workers joined): counts anything still
 * queued as dropped{reason="shutdown"}. */
void pg_delivery_shutdown(pg_delivery *d);
void pg_delivery_free(pg_delivery *d);

/* Tests: profiles queued, in flight or backing off, over all workers. */
uint64_t pg_delivery_queued_profiles(const pg_delivery *d);

#endif
