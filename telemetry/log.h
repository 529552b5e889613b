/*
 * Logging: one line per event on stderr, written with a single write(2) so
 * that lines from several threads never interleave:
 *
 *   2026-11-24T19:40:21.123Z info  [receiver/otlp] listening on 127.0.0.1:4317
 */
#ifndef PG_TELEMETRY_LOG_H
#define PG_TELEMETRY_LOG_H

typedef enum pg_log_level {
    PG_LOG_DEBUG = 0,
    PG_LOG_INFO = 1,
    PG_LOG_WARN = 2,
    PG_LOG_ERROR = 3,
} pg_log_level;

void pg_log_set_level(pg_log_level level);
pg_log_level pg_log_get_level(void);
int pg_log_enabled(pg_log_level level);

/* scope: "service", "receiver/otlp", ... */
void pg_log(pg_log_level level, const char *scope, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with scope built as "<kind>/<id>" (kind from pg_component_kind). */
void pg_log_component(pg_log_level level, int kind, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
