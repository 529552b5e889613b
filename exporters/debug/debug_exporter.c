#include "exporters/debug/debug_exporter.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry/exporter_metrics.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"

#define CFG(field) offsetof(pg_debug_exporter_config, field)

static const char *const verbosity_values[] = {"basic", "detailed", NULL};

static const pg_config_key debug_keys[] = {
    {.name = "verbosity",
     .type = PG_CFG_ENUM,
     .offset = CFG(verbosity),
     .default_value = "basic",
     .enum_values = verbosity_values,
     .help = "basic: one line per profile; detailed: also sample types and the top 5 stacks"},
    PG_CONFIG_END,
};

typedef struct debug_state {
    pg_metric *sent;
} debug_state;

static int debug_create(pg_component *self, pg_error *err)
{
    debug_state *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    st->sent = pg_exporter_counter(PG_EXPORTER_SENT_PROFILES, NULL, self->id, NULL);
    self->state = st;
    return PG_OK;
}

/* Logs text line by line: pg_log writes one line per call. */
static void log_lines(pg_component *self, const char *text)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        PG_CLOG(self, PG_LOG_INFO, "%.*s", (int)n, text);
        text += n + (text[n] == '\n');
    }
}

static int debug_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    const pg_debug_exporter_config *cfg = self->config;
    debug_state *st = self->state;
    if (!pg_log_enabled(PG_LOG_INFO)) {
        pg_metric_add(st->sent, (int64_t)b->count);
        return res->status;
    }
    pg_buf line;
    pg_buf_init(&line);
    for (size_t i = 0; i < b->count; i++) {
        line.len = 0;
        pg_debug_format_basic(&b->profiles[i], &line);
        if (cfg->verbosity == PG_DEBUG_DETAILED) {
            pg_buf_append_str(&line, "\n");
            pg_debug_format_details(&b->profiles[i], &line);
        }
        if (pg_buf_append(&line, "", 1) == 0)
            log_lines(self, (const char *)line.data);
    }
    pg_buf_free(&line);
    pg_metric_add(st->sent, (int64_t)b->count);
    return res->status;
}

static void debug_destroy(pg_component *self)
{
    free(self->state);
    self->state = NULL;
}

const pg_component_def pg_debug_exporter_def = {
    .type = "debug",
    .kind = PG_KIND_EXPORTER,
    .description = "logs a summary of every profile (and its top stacks) for debugging",
    .config_keys = debug_keys,
    .config_size = sizeof(pg_debug_exporter_config),
    .create = debug_create,
    .consume = debug_consume,
    .destroy = debug_destroy,
};
