#include "exporters/file/file_exporter.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "exporters/file/file_encode.h"
#include "exporters/file/file_writer.h"
#include "telemetry/exporter_metrics.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"

#define CFG(field) offsetof(pg_file_exporter_config, field)

static const char *const format_values[] = {"otlp_proto", "otlp_json", "pprof", NULL};
static const char *const compression_values[] = {"none", "zstd", NULL};

static const pg_config_key rotation_keys[] = {
    {.name = "max_megabytes",
     .type = PG_CFG_INT,
     .offset = CFG(max_megabytes),
     .default_value = "100",
     .min = 1,
     .max = 1048576,
     .help = "size (MiB) at which the file is rotated"},
    {.name = "max_backups",
     .type = PG_CFG_INT,
     .offset = CFG(max_backups),
     .default_value = "5",
     .min = 0,
     .max = 1000,
     .help = "rotated files kept as path.1 (newest) .. path.N"},
    PG_CONFIG_END,
};

static const pg_config_key file_keys[] = {
    {.name = "path",
     .type = PG_CFG_STRING,
     .offset = CFG(path),
     .required = true,
     .help = "file to append to; parent directories are created (format pprof: a directory)"},
    {.name = "format",
     .type = PG_CFG_ENUM,
     .offset = CFG(format),
     .default_value = "otlp_proto",
     .enum_values = format_values,
     .help = "otlp_proto: 4-byte big-endian length + ExportProfilesServiceRequest; otlp_json: one "
             "JSON request per line; pprof: one gzipped pprof file per document under path"},
    {.name = "labels_file",
     .type = PG_CFG_BOOL,
     .offset = CFG(labels_file),
     .default_value = "false",
     .help = "format pprof: also write X.labels.json (tenant, series labels, profile type, "
             "time) next to every X.pb.gz"},
    {.name = "compression",
     .type = PG_CFG_ENUM,
     .offset = CFG(compression),
     .default_value = "none",
     .enum_values = compression_values,
     .help = "zstd: every record is compressed as its own zstd frame (otlp formats only)"},
    {.name = "rotation",
     .type = PG_CFG_SECTION,
     .offset = CFG(rotation_present),
     .children = rotation_keys,
     .help = "size-based rotation (otlp formats only)"},
    {.name = "flush_interval",
     .type = PG_CFG_DURATION,
     .offset = CFG(flush_interval_ms),
     .default_value = "1s",
     .min = 1,
     .max = 3600000,
     .help = "written data reaches the operating system at least this often"},
    {.name = "queue_max_items",
     .type = PG_CFG_INT,
     .offset = CFG(queue_max_items),
     .default_value = "1024",
     .min = 1,
     .max = 1000000,
     .help = "records waiting for the writer thread before RESOURCE_EXHAUSTED"},
    {.name = "queue_max_bytes",
     .type = PG_CFG_SIZE,
     .offset = CFG(queue_max_bytes),
     .default_value = "64MiB",
     .min = 1024,
     .max = (int64_t)1 << 34,
     .help = "encoded bytes waiting for the writer thread before RESOURCE_EXHAUSTED"},
    PG_CONFIG_END,
};

typedef struct file_state {
    pg_file_writer *writer;
    pg_metric *sent_profiles, *sent_bytes, *failed_write, *failed_convert, *failed_encode,
        *queue_bytes;
} file_state;

static void file_validate(const void *config, pg_config_report *report, const pg_config_node *node)
{
    const pg_file_exporter_config *c = config;
    if (c->format != PG_FILE_FORMAT_PPROF) {
        /* the otlp formats keep labels inside the request: nothing to put beside it */
        if (c->labels_file) {
            const pg_config_node *at = pg_config_map_get(node, "labels_file");
            pg_config_report_error(report, at ? at : node,
                                   "labels_file applies to format pprof; the otlp formats carry "
                                   "the labels in the request");
        }
        return;
    }
    /* pprof files are gzipped and one per document: nothing to frame or rotate */
    if (c->compression != PG_FILE_COMPRESSION_NONE) {
        const pg_config_node *at = pg_config_map_get(node, "compression");
        pg_config_report_error(report, at ? at : node,
                               "compression applies to the otlp formats; pprof files are always "
                               "gzipped");
    }
    if (c->rotation_present) {
        const pg_config_node *at = pg_config_map_get(node, "rotation");
        pg_config_report_error(report, at ? at : node,
                               "rotation applies to the otlp formats; format pprof writes one "
                               "file per document");
    }
}

static pg_file_framing framing_of(int format)
{
    switch (format) {
    case PG_FILE_FORMAT_OTLP_JSON:
        return PG_FILE_FRAMING_NEWLINE;
    case PG_FILE_FORMAT_PPROF:
        return PG_FILE_FRAMING_TREE;
    default:
        return PG_FILE_FRAMING_LENGTH_PREFIX;
    }
}

static int file_create(pg_component *self, pg_error *err)
{
    const pg_file_exporter_config *cfg = self->config;
    file_state *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    st->sent_profiles = pg_exporter_counter(PG_EXPORTER_SENT_PROFILES, NULL, self->id, NULL);
    st->sent_bytes = pg_exporter_counter(PG_EXPORTER_SENT_BYTES, NULL, self->id, NULL);
    st->failed_write = pg_exporter_counter(PG_EXPORTER_FAILED_PROFILES, NULL, self->id, "write");
    st->failed_convert =
        pg_exporter_counter(PG_EXPORTER_FAILED_PROFILES, NULL, self->id, "convert");
    st->failed_encode = pg_exporter_counter(PG_EXPORTER_FAILED_PROFILES, NULL, self->id, "encode");
    char labels[256];
    snprintf(labels, sizeof(labels), "exporter=\"%s\"", self->id);
    st->queue_bytes = pg_metric_gauge("profgate_exporter_queue_bytes",
                                      "Encoded bytes waiting in an exporter's queue", labels);
    char scope[160];
    snprintf(scope, sizeof(scope), "exporter/%s", self->id);
    pg_file_writer_opts o = {
        .path = cfg->path,
        .log_scope = scope,
        .framing = framing_of(cfg->format),
        .zstd = cfg->compression == PG_FILE_COMPRESSION_ZSTD,
        .max_file_bytes = (uint64_t)cfg->max_megabytes * 1024 * 1024,
        .max_backups = (int)cfg->max_backups,
        .flush_interval_ms = cfg->flush_interval_ms,
        .queue_max_items = (size_t)cfg->queue_max_items,
        .queue_max_bytes = (size_t)cfg->queue_max_bytes,
        .sent_profiles = st->sent_profiles,
        .sent_bytes = st->sent_bytes,
        .failed_profiles = st->failed_write,
        .queue_bytes = st->queue_bytes,
    };
    st->writer = pg_file_writer_new(&o, err);
    if (!st->writer) {
        free(st);
        return err ? err->code : PG_ERR_NOMEM;
    }
    self->state = st;
    return PG_OK;
}

static int file_start(pg_component *self, pg_error *err)
{
    file_state *st = self->state;
    int rc = pg_file_writer_start(st->writer, err);
    if (rc != PG_OK)
        pg_error_prefix(err, "exporter %s: ", self->id);
    return rc;
}

static int encode(const pg_file_exporter_config *cfg, const pg_batch *b, pg_file_encoded *enc,
                  pg_error *err)
{
    if (cfg->format == PG_FILE_FORMAT_PPROF) {
        pg_file_pprof_opts o = {.labels_file = cfg->labels_file};
        return pg_file_encode_pprof(b, &o, enc, err);
    }
    return pg_file_encode_batch(
        b, cfg->format == PG_FILE_FORMAT_OTLP_JSON ? PG_FILE_ENC_JSON : PG_FILE_ENC_PROTO, enc,
        err);
}

static int file_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    file_state *st = self->state;
    pg_file_encoded enc;
    pg_error err;
    pg_error_clear(&err);
    int rc = encode(self->config, b, &enc, &err);
    if (enc.failed) {
        pg_metric_add(st->failed_convert, enc.failed);
        PG_CLOG(self, PG_LOG_WARN, "refused %u profiles that cannot be converted: %s", enc.failed,
                enc.why);
        res->rejected += enc.failed;
        if (enc.failed == b->count)
            pg_consume_fail(res, PG_CONSUME_PERMANENT, "file exporter %s: %s", self->id, enc.why);
    }
    if (rc != PG_OK) {
        uint32_t n = (uint32_t)(b->count - enc.failed);
        pg_metric_add(st->failed_encode, n);
        PG_CLOG(self, PG_LOG_ERROR, "cannot encode %u profiles: %s", n, err.msg);
        pg_consume_fail(res, rc == PG_ERR_NOMEM ? PG_CONSUME_RETRYABLE : PG_CONSUME_PERMANENT,
                        "file exporter %s: %s", self->id, err.msg);
        return res->status;
    }
    if (!enc.record)
        return res->status;
    rc = pg_file_writer_push(st->writer, enc.record);
    if (rc == PG_ERR_BUSY)
        pg_consume_fail(res, PG_CONSUME_RESOURCE_EXHAUSTED, "file exporter %s: queue full",
                        self->id);
    else if (rc != PG_OK)
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "file exporter %s is shutting down", self->id);
    if (rc != PG_OK)
        pg_file_record_free(enc.record);
    return res->status;
}

static void file_shutdown(pg_component *self, uint64_t deadline_ms)
{
    file_state *st = self->state;
    if (st)
        pg_file_writer_shutdown(st->writer, deadline_ms);
}

static void file_destroy(pg_component *self)
{
    file_state *st = self->state;
    if (!st)
        return;
    pg_file_writer_free(st->writer);
    free(st);
    self->state = NULL;
}

const pg_component_def pg_file_exporter_def = {
    .type = "file",
    .kind = PG_KIND_EXPORTER,
    .description =
        "appends OTLP requests (length-prefixed protobuf or JSON lines) to a local file, "
        "or writes one pprof file per document",
    .config_keys = file_keys,
    .config_size = sizeof(pg_file_exporter_config),
    .validate = file_validate,
    .create = file_create,
    .start = file_start,
    .consume = file_consume,
    .shutdown = file_shutdown,
    .destroy = file_destroy,
};
