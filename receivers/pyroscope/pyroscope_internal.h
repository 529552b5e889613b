/*
 * What the front-ends of the Pyroscope receiver (ingest, push, pprof) share:
 * the receiver state, per-transport counters, the protocol-neutral outcome of
 * a request, and building pprof profiles with their labels.
 */
#ifndef PG_RECEIVERS_PYROSCOPE_INTERNAL_H
#define PG_RECEIVERS_PYROSCOPE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "convert/convert.h"
#include "pipeline/component.h"
#include "receivers/common/auth.h"
#include "receivers/pyroscope/pyroscope_receiver.h"
#include "receivers/pyroscope/sample_type_config.h"
#include "telemetry/receiver_metrics.h"
#include "transport/http_server.h"

typedef pg_receiver_counters pg_pyro_counters;

typedef struct pg_pyro_receiver {
    pg_component *self;
    const pg_pyro_receiver_config *cfg;
    pg_http_server *server;
    pg_pyro_counters ingest, push, pprof;
    pg_auth *auth; /* NULL: no authentication */
} pg_pyro_receiver;

/* How a request ended: the HTTP status (its Connect code follows from it,
 * see pg_http_status_connect_code) and the gRPC status. */
typedef struct pg_pyro_outcome {
    int http_status;
    int grpc_status;
    uint32_t retry_after_s;
    char message[400];
} pg_pyro_outcome;

void pg_pyro_outcome_ok(pg_pyro_outcome *o);
/* Sets a failure; the gRPC status follows from http_status (400/422
 * INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 413/429
 * RESOURCE_EXHAUSTED, 415 UNIMPLEMENTED, 503 UNAVAILABLE, others INTERNAL). */
void pg_pyro_fail(pg_pyro_outcome *o, int http_status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a pg_error from a decoder: LIMIT 413, NOMEM 503, UNSUPPORTED 415, else
 * 400; the message is prefix + ": " + err->msg. */
void pg_pyro_fail_error(pg_pyro_outcome *o, const pg_error *err, const char *prefix);

/* An HTTP error body as Pyroscope writes it: {"code": ..., "message": ...};
 * a 401 also carries the WWW-Authenticate challenges. */
void pg_pyro_reply_error(const pg_pyro_receiver *r, pg_http_request *req, pg_http_response *resp,
                         const pg_pyro_outcome *o);

/* Facts about one pprof upload that decide its labels and times. */
typedef struct pg_pyro_pprof_meta {
    const pg_auth_result *who;              /* the request's tenant sources */
    const pg_pyro_stconfig_entry *stconfig; /* sample_type_config; may be NULL */
    size_t n_stconfig;
    uint64_t from_ns, until_ns; /* request window; 0 when unknown */
} pg_pyro_pprof_meta;

/* An arena for decoding one request's documents, limited to 8 x the body
 * size limit + 1 MiB (a decoded pprof is several times its wire size). */
pg_arena *pg_pyro_scratch_new(const pg_pyro_receiver *r);

/*
 * Appends one profile for the pprof document in bytes (gzipped or raw) to b:
 * decodes and validates it into scratch, takes a copy of the bytes as the
 * payload, sets tenant, profile type, time, duration, sample count and value
 * total. The decoded form is not kept with the payload: a queued payload
 * costs its wire size only, and the stages that need the document decode it
 * themselves. When doc_out is given it receives the decoded document (in
 * scratch). Labels are left to the caller. Failures fill o (400
 * undecodable, 413 over the limit).
 */
pg_profile *pg_pyro_add_pprof(pg_pyro_receiver *r, pg_batch *b, pg_arena *scratch,
                              const uint8_t *bytes, size_t len, const pg_pyro_pprof_meta *meta,
                              const pg_pprof **doc_out, pg_pyro_outcome *o);

/* The same for a document the receiver built itself (folded text): the
 * payload is its gzipped encoding. */
pg_profile *pg_pyro_add_built_pprof(pg_batch *b, const pg_pprof *doc,
                                    const pg_pyro_pprof_meta *meta, pg_pyro_outcome *o);

/* Pyroscope's __name__ for a document (protocols.md §3.b): the first rule
 * that matches its sample types (with display names from stconfig), else the
 * first sample type's name. */
const char *pg_pyro_name_for(const pg_pprof *doc, const pg_pyro_stconfig_entry *cfg, size_t n_cfg);

/* The series identity of an /ingest or /v1/pprof upload. */
typedef struct pg_pyro_series {
    const char *app_name; /* service_name, unless a service_name tag exists */
    const pg_label *tags; /* from the name or the query */
    size_t n_tags;
    const char *spy;          /* pyroscope_spy; NULL or "" for none */
    const char *profile_name; /* __name__ */
} pg_pyro_series;

/* Sets Pyroscope's series labels on p: the tags (keys starting with "__" are
 * dropped, except __session_id__), service_name = app name (when a
 * service_name tag exists it wins and the app name becomes app_name),
 * pyroscope_spy, __name__. PG_ERR_NOMEM on failure. */
int pg_pyro_set_series_labels(pg_batch *b, pg_profile *p, const pg_pyro_series *s);

/* Keeps the sample_type_config entries that name sample types of doc as the
 * internal label __sample_type_config__ (compact JSON), so that a later
 * stage can apply units, aggregation and display names to those sample
 * types. Nothing is set when no entry matches. */
int pg_pyro_set_stconfig_label(pg_batch *b, pg_profile *p, const pg_pprof *doc,
                               const pg_pyro_stconfig_entry *cfg, size_t n_cfg);

/* Sends b downstream and fills o from the result; counts the outcome
 * (n profiles, len request bytes). Frees nothing. */
void pg_pyro_submit(pg_pyro_receiver *r, pg_pyro_counters *c, pg_worker *w, pg_batch *b, size_t len,
                    pg_pyro_outcome *o);
/* Counts a request refused before anything was sent downstream. */
void pg_pyro_count_refused(pg_pyro_receiver *r, pg_pyro_counters *c, size_t n_profiles, size_t len,
                           const pg_pyro_outcome *o);

/* Authenticates req (receivers/common/auth.h) before its body is read into
 * profiles. 0: *who holds the tenant sources; -1: o holds the 401/403
 * refusal, already counted on c. */
int pg_pyro_authorize(pg_pyro_receiver *r, pg_pyro_counters *c, const pg_http_request *req,
                      pg_auth_result *who, pg_pyro_outcome *o);

/* Route handlers. */
void pg_pyro_ingest_handler(void *ctx, pg_http_request *req, pg_http_response *resp);
void pg_pyro_pprof_handler(void *ctx, pg_http_request *req, pg_http_response *resp);
void pg_pyro_push_http_handler(void *ctx, pg_http_request *req, pg_http_response *resp);
void pg_pyro_push_grpc_handler(void *ctx, pg_http_request *req, pg_grpc_response *resp);

#endif
