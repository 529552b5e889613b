/*
 * The data that flows through a pipeline: a batch of profiles, each carrying
 * its labels apart from its payload.
 *
 *   pg_batch ──owns──> pg_arena (profile array, label strings, tenant)
 *      │
 *      └─ pg_profile[i] ──reference──> pg_payload (refcounted, immutable bytes
 *                                       + decoded form, shared across batches
 *                                       and threads)
 *
 * A stage that only reads or changes labels never touches the payload. The
 * payload stays encoded. A decoded form may be attached when the payload is
 * created (the OTLP receiver does, and the convert processor for what it
 * builds) and is read-only afterwards, so it may be read from several
 * threads; it costs memory for as long as the payload is queued, so the
 * Pyroscope receiver, whose pprof payloads are mostly forwarded as they
 * are, validates into scratch memory and attaches none.
 */
#ifndef PG_PIPELINE_PROFILE_H
#define PG_PIPELINE_PROFILE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"

typedef enum pg_payload_format {
    /* opentelemetry ExportProfilesServiceRequest, v1.10/v1.11 protobuf wire */
    PG_PAYLOAD_OTLP = 1,
    /* perftools.profiles.Profile, gzip-compressed or raw protobuf */
    PG_PAYLOAD_PPROF = 2,
} pg_payload_format;

typedef struct pg_payload {
    atomic_int refs;
    pg_payload_format format;
    uint8_t *bytes; /* encoded document, malloc'd, owned */
    size_t len;
    /* Decoded form (e.g. an ExportProfilesServiceRequest *) living in
     * decoded_arena; NULL until decoded. Set before the payload is shared. */
    void *decoded;
    pg_arena *decoded_arena;
} pg_payload;

/* Takes ownership of bytes (malloc'd). Returns a payload with one reference. */
pg_payload *pg_payload_new(pg_payload_format format, uint8_t *bytes, size_t len);
/* Attaches a decoded form; the payload takes ownership of arena. */
void pg_payload_set_decoded(pg_payload *p, void *decoded, pg_arena *arena);
pg_payload *pg_payload_ref(pg_payload *p);
void pg_payload_unref(pg_payload *p);

typedef struct pg_label {
    const char *name;
    const char *value;
} pg_label;

typedef struct pg_profile {
    pg_payload *payload; /* one reference held by the owning batch */
    /* Position of this profile inside an OTLP request payload; all 0 for pprof. */
    uint32_t resource_index, scope_index, profile_index;
    const char *tenant; /* "" when none */
    /* Where a receiver found the tenant, kept for processors/tenant: the
     * tenant mapped to the credential the request authenticated with, and
     * the X-Scope-OrgID header ("" when none). A receiver sets tenant to the
     * first of the two that is set. */
    const char *auth_tenant;
    const char *header_tenant;
    pg_label *labels; /* series labels, sorted by name, names unique */
    uint32_t n_labels;
    /* Profile type as "sample_type:sample_unit:period_type:period_unit". */
    const char *profile_type;
    uint64_t time_unix_nano;
    uint64_t duration_nano;
    /* Summaries computed by whoever decoded the payload. */
    uint64_t sample_count;
    int64_t value_total;
    /* Set by a processor that changed labels (relabel, tenant to_label):
     * an exporter that writes labels into an OTLP payload then rebuilds it
     * rather than forwarding the received bytes. */
    uint8_t labels_changed;
} pg_profile;

typedef struct pg_batch {
    pg_arena *arena; /* profile array, labels and strings */
    pg_profile *profiles;
    size_t count, cap;
    size_t
        payload_bytes; /* sum of referenced payload sizes (shared ones counted once per profile) */
} pg_batch;

pg_batch *pg_batch_new(void);
/* Drops the batch's payload references and frees its arena. NULL accepted. */
void pg_batch_free(pg_batch *b);

/* Appends a profile for payload p (takes a new reference on p). The returned
 * profile has no labels yet; strings given to the setters below are copied
 * into the batch arena. NULL on allocation failure. */
pg_profile *pg_batch_add(pg_batch *b, pg_payload *p);
int pg_profile_set_label(pg_batch *b, pg_profile *prof, const char *name, const char *value);
const char *pg_profile_label(const pg_profile *prof, const char *name);
int pg_profile_remove_label(pg_profile *prof, const char *name);
int pg_profile_set_tenant(pg_batch *b, pg_profile *prof, const char *tenant);
int pg_profile_set_type(pg_batch *b, pg_profile *prof, const char *profile_type);
/* Records both tenant sources (NULL = "") and sets tenant to the
 * authenticated one when set, else to the header's. */
int pg_profile_set_tenant_sources(pg_batch *b, pg_profile *prof, const char *auth_tenant,
                                  const char *header_tenant);

/* The reserved label through which relabel, filter and routing read and set
 * the tenant. It never lives in prof->labels and is never exported. */
#define PG_LABEL_TENANT "__tenant__"
/* pg_profile_label, except that PG_LABEL_TENANT reads prof->tenant (NULL
 * when the profile has no tenant). */
const char *pg_profile_label_or_tenant(const pg_profile *prof, const char *name);

/* Replaces prof's payload by p (takes a new reference on p, drops the old
 * one) and keeps b->payload_bytes right. Position fields are kept: a
 * replacement for an OTLP payload must keep every profile where it was. */
void pg_profile_replace_payload(pg_batch *b, pg_profile *prof, pg_payload *p);
/* Removes from b every profile i with keep[i] == 0 (dropping its payload
 * reference), keeping the order of the others. */
void pg_batch_compact(pg_batch *b, const uint8_t *keep);

/* Appends a copy of src (labels copied into dst's arena, payload shared). */
pg_profile *pg_batch_append_copy(pg_batch *dst, const pg_profile *src);
/* A copy of the whole batch for a consumer that modifies labels. */
pg_batch *pg_batch_clone(const pg_batch *b);

#endif
