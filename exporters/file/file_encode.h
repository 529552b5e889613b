/*
 * Worker-side half of the file exporter: turns the OTLP profiles of one batch
 * into one encoded ExportProfilesServiceRequest (a record for the writer).
 *
 * When the batch's OTLP profiles are exactly all profiles of one payload, in
 * payload order, the record references the payload's bytes unchanged
 * (otlp_proto: byte-for-byte forwarding, no copy). Otherwise the chosen
 * profiles are merged with the builder (model/otlp_merge.h) into one request
 * with one pruned, de-duplicated dictionary.
 *
 * Encoding runs on the worker thread (CPU only, no I/O): the queue then holds
 * final bytes, so its byte bound is exact and payload references are
 * released at once.
 */
#ifndef PG_EXPORTERS_FILE_FILE_ENCODE_H
#define PG_EXPORTERS_FILE_FILE_ENCODE_H

#include <stdint.h>

#include "common/error.h"
#include "exporters/file/file_writer.h"
#include "pipeline/profile.h"

typedef enum pg_file_encoding {
    PG_FILE_ENC_PROTO = 0,
    PG_FILE_ENC_JSON = 1,
} pg_file_encoding;

typedef struct pg_file_encoded {
    pg_file_record *record; /* NULL when the batch held no OTLP profile */
    uint32_t skipped_pprof; /* pprof-payload profiles left out */
    int forwarded;          /* 1 when the record is the payload's own bytes */
} pg_file_encoded;

int pg_file_encode_batch(const pg_batch *b, pg_file_encoding enc, pg_file_encoded *out,
                         pg_error *err);

#endif
