/*
 * The file exporter's writer: a bounded queue of encoded records and the one
 * thread that appends them to the file, so that disk I/O never runs on a
 * worker loop. Worker threads push (a short mutex-protected list operation);
 * the writer pops, frames, optionally compresses, writes, rotates.
 *
 * Framing per record:
 *   length-prefixed  4-byte big-endian length, then the bytes (otlp_proto)
 *   newline          the bytes, then '\n' (otlp_json)
 * With zstd every framed record becomes one zstd frame of its own; a file
 * of concatenated frames decompresses (zstd -d, ZSTD_decompressStream) into
 * exactly the uncompressed layout, and a record stays readable even when a
 * later one was cut short by a crash.
 *
 * Rotation: before a record would take the file beyond max_file_bytes (and
 * the file is not empty), path.N-1 -> path.N ... path -> path.1 (the oldest
 * beyond max_backups is overwritten) and a new file is started.
 *
 * Tree mode (PG_FILE_FRAMING_TREE): path is a directory and every record is
 * one file of its own, <path>/<dir>/<yyyymmddThhmmssZ>-<seq>.pb.gz, with the
 * record's UTC time and a per-writer sequence number; the bytes are written
 * unframed. A file is written under a hidden temporary name and linked into
 * place, so a reader never sees a partial file and an existing file is never
 * overwritten (the sequence number moves on instead). A record's sidecar
 * is linked in as X.labels.json first, so whoever sees X.pb.gz finds its
 * sidecar complete. Rotation and zstd do not apply.
 */
#ifndef PG_EXPORTERS_FILE_FILE_WRITER_H
#define PG_EXPORTERS_FILE_FILE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "pipeline/profile.h"
#include "telemetry/metrics.h"

typedef struct pg_file_record {
    struct pg_file_record *next;
    uint8_t *data; /* malloc'd and owned, unless ref is set */
    size_t len;
    pg_payload *ref; /* forwarding: data points into this payload (one reference held) */
    uint32_t profiles;
    /* Tree mode: the directory under the writer's path (malloc'd, owned, its
     * components already safe), the time naming the file, and further files
     * of the same batch, queued and written as one record. */
    char *dir;
    uint64_t time_unix_nano;
    struct pg_file_record *sibling;
    /* Tree mode, optional: the X.labels.json written next to X.pb.gz before
     * X.pb.gz appears (malloc'd, owned; NULL for none). */
    char *sidecar;
    size_t sidecar_len;
} pg_file_record;

/* A record owning a copy of nothing: data (malloc'd) is taken over. */
pg_file_record *pg_file_record_new(uint8_t *data, size_t len, uint32_t profiles);
/* A record that writes the payload's bytes as they are (takes a reference). */
pg_file_record *pg_file_record_forward(pg_payload *p, uint32_t profiles);
/* Frees r and its siblings. */
void pg_file_record_free(pg_file_record *r);
/* Bytes of r and its siblings (sidecars included). */
size_t pg_file_record_bytes(const pg_file_record *r);

typedef enum pg_file_framing {
    PG_FILE_FRAMING_LENGTH_PREFIX = 0,
    PG_FILE_FRAMING_NEWLINE = 1,
    PG_FILE_FRAMING_TREE = 2,
} pg_file_framing;

typedef struct pg_file_writer_opts {
    const char *path;
    const char *log_scope; /* "exporter/file" ... */
    pg_file_framing framing;
    int zstd;
    uint64_t max_file_bytes;
    int max_backups;
    uint64_t flush_interval_ms;
    size_t queue_max_items;
    size_t queue_max_bytes;
    /* counters; may be NULL */
    pg_metric *sent_profiles, *sent_bytes, *failed_profiles, *queue_bytes;
} pg_file_writer_opts;

typedef struct pg_file_writer pg_file_writer;

/* No I/O. Strings in opts are copied. */
pg_file_writer *pg_file_writer_new(const pg_file_writer_opts *opts, pg_error *err);
/* Creates the parent directories, opens the file for appending (tree mode:
 * creates the directory) and starts the writer thread. */
int pg_file_writer_start(pg_file_writer *w, pg_error *err);
/* Queues r; on PG_OK the writer owns it. PG_ERR_BUSY when the queue is full
 * (r stays the caller's); a record is always accepted into an empty queue so
 * that one larger than queue_max_bytes still gets written. PG_ERR_INVALID
 * after shutdown began. Any thread. */
int pg_file_writer_push(pg_file_writer *w, pg_file_record *r);
/* Writes what is queued until deadline_ms (pg_now_ms clock), then stops the
 * thread, counts and logs what was left. Safe twice and without start. */
void pg_file_writer_shutdown(pg_file_writer *w, uint64_t deadline_ms);
void pg_file_writer_free(pg_file_writer *w);

#endif
