/*
 * Batch -> one encoded ExportProfilesServiceRequest, for every exporter that
 * writes OTLP (file, otlp, otlphttp). Runs on the worker thread, CPU only.
 *
 * Which profiles: those of the batch whose tenant is the one asked for (NULL:
 * all), in batch order. What comes out:
 *   - when they are exactly all profiles of one OTLP payload, in payload
 *     order, and no processor changed their labels, the request is that
 *     payload: protobuf bodies are its bytes
 *     unchanged (byte-for-byte forwarding, the payload referenced, not
 *     copied), JSON bodies its JSON encoding;
 *   - otherwise the profiles are merged with the builder (model/otlp_merge.h)
 *     into one request with one pruned, de-duplicated dictionary; a profile
 *     whose labels a processor changed (labels_changed) goes in with
 *     attributes that say its labels now (pg_otlp_with_labels); a pprof
 *     payload is converted first (convert_processor.h: service.name and
 *     resource attributes from the profile's labels, as the convert
 *     processor does). A pprof payload that does not convert leaves its
 *     profile out: counted in `failed`, the first reason kept in `why`.
 *
 * JSON is OTLP/JSON as model/otlp.h writes it and our receiver reads it.
 */
#ifndef PG_EXPORTERS_COMMON_OTLP_REQUEST_H
#define PG_EXPORTERS_COMMON_OTLP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "pipeline/profile.h"

typedef enum pg_otlp_body_encoding {
    PG_OTLP_BODY_PROTO = 0,
    PG_OTLP_BODY_JSON = 1,
} pg_otlp_body_encoding;

typedef struct pg_otlp_body {
    /* Forwarding (protobuf of one whole payload): the bytes are this
     * payload's, one reference held. Otherwise NULL and data is malloc'd. */
    pg_payload *payload;
    const uint8_t *data;
    size_t len;
    uint32_t profiles;          /* pipeline profiles in the request (pprof ones count 1) */
    uint32_t failed;            /* pipeline profiles left out: their payload does not convert */
    char why[PG_ERROR_MSG_MAX]; /* the first reason a profile was left out */
    int whole;                  /* 1: the selection was exactly one payload, in order */
} pg_otlp_body;

/* Fills out (zeroed first; release it in every case). PG_OK with
 * out->profiles == 0 when nothing was selected or nothing converted (then
 * there is no body). Fails only for memory (PG_ERR_NOMEM, PG_ERR_LIMIT) or a
 * payload that no longer decodes or merges (PG_ERR_INVALID). */
int pg_otlp_body_build(const pg_batch *b, const char *tenant, pg_otlp_body_encoding enc,
                       pg_otlp_body *out, pg_error *err);

/* Hands the bytes over as a malloc'd buffer (a copy when forwarding) and
 * empties out. NULL on allocation failure (out unchanged) or without a body. */
uint8_t *pg_otlp_body_take(pg_otlp_body *out, size_t *len);

/* Frees the body (or drops the payload reference). NULL accepted. */
void pg_otlp_body_release(pg_otlp_body *out);

/* The distinct tenants of b in first-seen order ("" for none): an arena array
 * of *n borrowed strings. PG_ERR_NOMEM on failure. */
int pg_otlp_batch_tenants(const pg_batch *b, pg_arena *a, const char ***tenants, size_t *n);

#endif
