/*
 * Batch -> the HTTP requests the Pyroscope exporter sends. Pure (CPU only,
 * no I/O, no delivery chain), so every byte that goes out can be tested.
 *
 * Documents come from pprof_docs.h; labels from pyroscope_labels.h. A
 * profile whose labels fail a rule is not sent (counted in `invalid`, the
 * first reason kept); one whose payload does not convert neither (counted in
 * `convert_failed`); the rest of the batch goes on. Requests never mix
 * tenants.
 *
 * push (one request per tenant):
 *   POST /push.v1.PusherService/Push, Content-Type application/proto, body a
 *   PushRequest: documents with equal labels share one RawProfileSeries
 *   (labels sorted by name), one RawSample each; raw_profile is the
 *   document's bytes unchanged (a pprof payload byte-for-byte, a converted
 *   one gzipped); ID is the __profile_id__ label when present. The Connect
 *   headers (Connect-Protocol-Version, Connect-Timeout-Ms) are the
 *   exporter's to add.
 *
 * ingest (one request per document):
 *   POST /ingest?name=<app>{k=v,...}&from=<ns>&until=<ns>[&spyName=<spy>]
 *   [&format=pprof], the query percent-encoded. app is service_name
 *   ("unknown_service" when there is none: /ingest needs a name, and that is
 *   the name Pyroscope files such series under); the braces hold the other
 *   labels, sorted, except __name__ and __delta__ (Pyroscope derives and sets
 *   those itself) and pyroscope_spy (sent as spyName). from is the profile's
 *   time and until time + duration, 19-digit Unix nanoseconds; both are
 *   omitted when the profile has no time. The syntax has no escaping, so a
 *   profile whose service_name is not a valid application name
 *   ([A-Za-z0-9_.-/]+) or whose label value holds ',' or '}' or starts or
 *   ends with white space counts as invalid.
 *   Body: with a __sample_type_config__ label, multipart/form-data with the
 *   file parts `profile` and `sample_type_config` (pyroscope-go's shape; no
 *   format parameter, since format=pprof makes Pyroscope read the whole body
 *   as one pprof); otherwise format=pprof and the document as the body,
 *   Content-Type application/octet-stream.
 */
#ifndef PG_EXPORTERS_PYROSCOPE_PYROSCOPE_REQUEST_H
#define PG_EXPORTERS_PYROSCOPE_PYROSCOPE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "config/schema.h"
#include "exporters/common/pprof_docs.h"
#include "exporters/pyroscope/pyroscope_labels.h"
#include "pipeline/profile.h"

#define PG_PYROEXP_PUSH_PATH "/push.v1.PusherService/Push"

/* One document with its final labels. */
typedef struct pg_pyroexp_doc {
    const pg_pprof_docs_entry *entry;
    pg_pyroexp_labels labels;
} pg_pyroexp_doc;

typedef struct pg_pyroexp_request {
    const char *path;         /* appended to the endpoint */
    const char *content_type; /* never NULL */
    const char *tenant;       /* "" when none */
    uint32_t profiles;        /* batch profiles it carries */
    uint8_t *body;            /* malloc'd; emit takes it */
    size_t len;
} pg_pyroexp_request;

typedef struct pg_pyroexp_sink {
    /* 1 when a request of this many profiles would not fit now: it is then
     * not built (counted in `skipped`). NULL: always fits. */
    int (*full)(void *arg, uint32_t profiles);
    /* Takes r (and r->body) in every case; strings in r live until
     * pg_pyroexp_build returns. A failure stops the build and is returned. */
    int (*emit)(void *arg, pg_pyroexp_request *r, pg_error *err);
    void *arg;
} pg_pyroexp_sink;

typedef struct pg_pyroexp_stats {
    uint32_t sent;    /* profiles in emitted requests */
    uint32_t skipped; /* profiles whose request sink->full refused */
    uint32_t invalid; /* profiles whose labels fail a rule */
    char invalid_why[PG_ERROR_MSG_MAX];
    uint32_t convert_failed; /* profiles whose payload does not decode or convert */
    char convert_why[PG_ERROR_MSG_MAX];
} pg_pyroexp_stats;

typedef enum pg_pyroexp_api {
    PG_PYROEXP_API_PUSH = 0,
    PG_PYROEXP_API_INGEST = 1,
} pg_pyroexp_api;

/* Builds and emits every request for b (stats zeroed first). Fails for
 * memory or when emit fails; stats then tell how far it got. */
int pg_pyroexp_build(const pg_batch *b, pg_pyroexp_api api, const pg_str_map *external,
                     const pg_pyroexp_sink *sink, pg_pyroexp_stats *st, pg_error *err);

/* The PushRequest of docs[0..n) (one tenant): malloc'd *body. */
int pg_pyroexp_push_body(const pg_pyroexp_doc *const *docs, size_t n, uint8_t **body, size_t *len,
                         pg_error *err);

/* The /ingest request of one document: path and content type in a, body
 * malloc'd (tenant and profiles are left to the caller). PG_ERR_INVALID when
 * its labels cannot be written in the name syntax (see above). */
int pg_pyroexp_ingest_request(pg_arena *a, const pg_pyroexp_doc *d, pg_pyroexp_request *out,
                              pg_error *err);

#endif
