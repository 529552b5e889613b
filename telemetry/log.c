#include "telemetry/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = PG_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void pg_log_set_level(pg_log_level level)
{
    atomic_store(&log_level, (int)level);
}

pg_log_level pg_log_get_level(void)
{
    return (pg_log_level)atomic_load(&log_level);
}

int pg_log_enabled(pg_log_level level)
{
    return (int)level >= atomic_load_explicit(&log_level, memory_order_relaxed);
}

static void log_write(pg_log_level level, const char *scope, const char *fmt, va_list ap)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[level], scope ? scope : "-");
    if (n < 0)
        return;
    if ((size_t)n < sizeof(line)) {
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n >= sizeof(line) - 1)
        n = (int)sizeof(line) - 2; /* truncated: keep the newline */
    /* one line must stay one line, whatever a message contains */
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    /* a single write(2) keeps lines from different threads whole */
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void pg_log(pg_log_level level, const char *scope, const char *fmt, ...)
{
    if (!pg_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_write(level, scope, fmt, ap);
    va_end(ap);
}

void pg_log_component(pg_log_level level, int kind, const char *id, const char *fmt, ...)
{
    if (!pg_log_enabled(level))
        return;
    static const char *const kinds[] = {"component", "receiver", "processor", "exporter"};
    char scope[192];
    snprintf(scope, sizeof(scope), "%s/%s", (kind >= 1 && kind <= 3) ? kinds[kind] : kinds[0], id);
    va_list ap;
    va_start(ap, fmt);
    log_write(level, scope, fmt, ap);
    va_end(ap);
}
