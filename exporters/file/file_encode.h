/*
 * Worker-side half of the file exporter: turns the profiles of one batch
 * into one encoded ExportProfilesServiceRequest (a record for the writer),
 * or, for format pprof, into one gzipped pprof file per document.
 *
 * When the batch's profiles are exactly all profiles of one OTLP payload, in
 * payload order, the record references the payload's bytes unchanged
 * (otlp_proto: byte-for-byte forwarding, no copy). Otherwise the chosen
 * profiles are merged with the builder (model/otlp_merge.h) into one request
 * with one pruned, de-duplicated dictionary; pprof payloads are converted
 * first (convert/convert.h, service.name and resource attributes from the
 * profile's labels as the convert processor does).
 *
 * pprof: the profiles of one OTLP payload and tenant are converted together
 * (pg_otlp_to_pprof re-assembles what came from one pprof document); a pprof
 * payload is written once per tenant as it is (byte-for-byte when gzipped,
 * gzipped otherwise). Files are named by the writer (file_writer.h tree
 * mode) under <tenant>/<service_name>/<first sample type>/.
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
    pg_file_record *record;     /* NULL when nothing is left to write */
    uint32_t failed;            /* profiles left out: their payload does not convert */
    char why[PG_ERROR_MSG_MAX]; /* the first reason a profile was left out */
    int forwarded;              /* 1 when the record is the payload's own bytes */
} pg_file_encoded;

int pg_file_encode_batch(const pg_batch *b, pg_file_encoding enc, pg_file_encoded *out,
                         pg_error *err);

typedef struct pg_file_pprof_opts {
    int labels_file; /* attach each file's labels sidecar (file_labels.h) */
} pg_file_pprof_opts;

/* format pprof: a chain of records (pg_file_record.sibling), one per file.
 * o may be NULL (all options off). */
int pg_file_encode_pprof(const pg_batch *b, const pg_file_pprof_opts *o, pg_file_encoded *out,
                         pg_error *err);

#endif
