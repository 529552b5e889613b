/*
 * exporters/file: appends every batch as one OTLP request to a local file, or
 * writes one pprof file per document into a directory.
 *
 *   path            file to write (required); parent directories are created
 *                   (format pprof: the directory to write into)
 *   format          otlp_proto (default): 4-byte big-endian length + request
 *                   otlp_json: one JSON request per line
 *                   pprof: <path>/<tenant|_default>/<service_name|_unknown>/
 *                   <first sample type>/<UTC yyyymmddThhmmssZ>-<seq>.pb.gz
 *   labels_file     false (default) | true: format pprof also writes
 *                   X.labels.json (tenant, series labels, profile type, time)
 *                   next to every X.pb.gz, before X.pb.gz appears
 *                   (file_labels.h; refused with the otlp formats)
 *   compression     none (default) | zstd: each record is its own zstd frame
 *                   (otlp formats; refused with pprof)
 *   rotation        max_megabytes (100), max_backups (5): path -> path.1 ...
 *                   (otlp formats; refused with pprof)
 *   flush_interval  buffered data reaches the OS at least this often (1s)
 *   queue_max_items, queue_max_bytes   bound of the hand-off queue (1024, 64MiB)
 *
 * consume (worker thread) encodes the batch (file_encode.h) and queues the
 * record; the exporter's writer thread does all file I/O (file_writer.h).
 * A full queue answers RESOURCE_EXHAUSTED. Payloads in the other format are
 * converted (convert/convert.h); a profile whose payload does not convert is
 * refused (counted as reason "convert", logged).
 */
#ifndef PG_EXPORTERS_FILE_FILE_EXPORTER_H
#define PG_EXPORTERS_FILE_FILE_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/component.h"

typedef enum pg_file_format {
    PG_FILE_FORMAT_OTLP_PROTO = 0,
    PG_FILE_FORMAT_OTLP_JSON = 1,
    PG_FILE_FORMAT_PPROF = 2,
} pg_file_format;

typedef enum pg_file_compression {
    PG_FILE_COMPRESSION_NONE = 0,
    PG_FILE_COMPRESSION_ZSTD = 1,
} pg_file_compression;

typedef struct pg_file_exporter_config {
    char *path;
    int format;      /* pg_file_format */
    int compression; /* pg_file_compression */
    bool labels_file;
    int rotation_present;
    int64_t max_megabytes;
    int64_t max_backups;
    uint64_t flush_interval_ms;
    int64_t queue_max_items;
    uint64_t queue_max_bytes;
} pg_file_exporter_config;

extern const pg_component_def pg_file_exporter_def;

#endif
