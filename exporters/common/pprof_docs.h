/*
 * Batch -> the pprof documents to send, for every exporter that writes pprof
 * (file format pprof, pyroscope). Runs on the worker thread, CPU only.
 *
 *   pprof payload   one document per (payload, tenant), its bytes exactly as
 *                   they arrived (gzipped or not): the entry borrows them
 *                   from the payload, nothing is re-encoded;
 *   OTLP payload    the profiles of one payload and tenant are converted
 *                   together with pg_otlp_to_pprof, so the profiles that came
 *                   from one pprof document become one document again; each
 *                   resulting document is encoded (gzipped when asked).
 *
 * Every entry names the batch profile it speaks for (labels, tenant, time:
 * for a converted document the profile of its first source; for a pprof
 * payload several profiles share, the first of them) and how many batch
 * profiles it carries, so that sent + failed adds up to the batch.
 * A payload that does not decode or convert is left out: its profiles are
 * counted in `failed`, the first reason kept in `why`.
 */
#ifndef PG_EXPORTERS_COMMON_PPROF_DOCS_H
#define PG_EXPORTERS_COMMON_PPROF_DOCS_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "convert/convert.h"
#include "pipeline/profile.h"

typedef struct pg_pprof_docs_opts {
    /* 1: decode (and validate) pprof payloads, so entry->doc is set for
     * them too; one that fails is counted in `failed`. 0: their bytes are
     * passed on unread (entry->doc NULL), as the receiver validated them. */
    int decode_pprof;
    /* Converted documents: 1 gzip-compressed encoding, 0 raw protobuf. */
    int gzip;
} pg_pprof_docs_opts;

typedef struct pg_pprof_docs_entry {
    const pg_profile *src; /* batch memory: labels, tenant, time */
    /* pprof payload sent as is: data/len are its bytes (the batch holds the
     * reference; take one to keep them longer). NULL for converted ones. */
    pg_payload *payload;
    const uint8_t *data;
    size_t len;
    int gzipped;         /* data starts with the gzip magic */
    const pg_pprof *doc; /* decoded document (docs arena); see decode_pprof */
    uint32_t profiles;   /* batch profiles this document carries */
    uint8_t *owned;      /* malloc'd encoding behind data (converted only) */
} pg_pprof_docs_entry;

typedef struct pg_pprof_docs {
    pg_arena *arena; /* entries and decoded documents */
    pg_pprof_docs_entry *entries;
    size_t n;
    uint32_t failed;            /* batch profiles left out */
    char why[PG_ERROR_MSG_MAX]; /* the first reason one was left out */
} pg_pprof_docs;

/* Fills out (zeroed first; release it in every case). Entries follow the
 * batch order of their first profile. Fails only for memory
 * (PG_ERR_NOMEM); undecodable or unconvertible payloads are counted. */
int pg_pprof_docs_build(const pg_batch *b, const pg_pprof_docs_opts *o, pg_pprof_docs *out,
                        pg_error *err);

/* Entry i's bytes as a malloc'd buffer the caller owns: a converted
 * document's encoding is handed over (the entry is left with data NULL and
 * len 0), a payload's bytes are copied. NULL on allocation failure. */
uint8_t *pg_pprof_docs_take(pg_pprof_docs *d, size_t i, size_t *len);

/* Frees the arena and every encoding not taken. NULL accepted. */
void pg_pprof_docs_release(pg_pprof_docs *d);

#endif
