#include "telemetry/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* upper bounds of the histogram buckets, in microseconds */
static const uint64_t bucket_bounds_us[] = {5000,     10000,    25000,   50000,   100000,
                                            250000,   500000,   1000000, 2500000, 5000000,
                                            10000000, 30000000, 60000000};
#define N_BUCKETS (sizeof(bucket_bounds_us) / sizeof(bucket_bounds_us[0]))

struct pg_metric {
    pg_metric *next;
    pg_metric_type type;
    char *name;
    char *help;
    char *labels;
    atomic_llong value;                  /* histograms: the sum in microseconds */
    atomic_llong buckets[N_BUCKETS + 1]; /* histograms: per bucket, the last is +Inf */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pg_metric *registry_head;

static pg_metric *find_locked(const char *name, const char *labels)
{
    for (pg_metric *m = registry_head; m; m = m->next)
        if (strcmp(m->name, name) == 0 && strcmp(m->labels, labels) == 0)
            return m;
    return NULL;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        /* only reached at start-up registration; nothing sensible to do */
        fputs("profgate: out of memory registering a metric\n", stderr);
        abort();
    }
    return d;
}

static pg_metric *metric_register(pg_metric_type type, const char *name, const char *help,
                                  const char *labels)
{
    if (!labels)
        labels = "";
    pthread_mutex_lock(&registry_lock);
    pg_metric *m = find_locked(name, labels);
    if (!m) {
        m = calloc(1, sizeof(*m));
        if (!m) {
            pthread_mutex_unlock(&registry_lock);
            fputs("profgate: out of memory registering a metric\n", stderr);
            abort();
        }
        m->type = type;
        m->name = xstrdup(name);
        m->help = xstrdup(help ? help : "");
        m->labels = xstrdup(labels);
        atomic_init(&m->value, 0);
        for (size_t b = 0; b <= N_BUCKETS; b++)
            atomic_init(&m->buckets[b], 0);
        /* append so that the output keeps registration order, which keeps
         * metrics of one family together */
        pg_metric **tail = &registry_head;
        while (*tail)
            tail = &(*tail)->next;
        *tail = m;
    }
    pthread_mutex_unlock(&registry_lock);
    return m;
}

pg_metric *pg_metric_counter(const char *name, const char *help, const char *labels)
{
    return metric_register(PG_METRIC_COUNTER, name, help, labels);
}

pg_metric *pg_metric_gauge(const char *name, const char *help, const char *labels)
{
    return metric_register(PG_METRIC_GAUGE, name, help, labels);
}

pg_metric *pg_metric_histogram(const char *name, const char *help, const char *labels)
{
    return metric_register(PG_METRIC_HISTOGRAM, name, help, labels);
}

void pg_metric_observe_us(pg_metric *m, uint64_t microseconds)
{
    size_t b = 0;
    while (b < N_BUCKETS && microseconds > bucket_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->value, (long long)microseconds, memory_order_relaxed);
}

int64_t pg_metric_histogram_count(const pg_metric *m)
{
    int64_t n = 0;
    for (size_t b = 0; b <= N_BUCKETS; b++)
        n += atomic_load_explicit(&((pg_metric *)m)->buckets[b], memory_order_relaxed);
    return n;
}

void pg_metric_add(pg_metric *m, int64_t delta)
{
    atomic_fetch_add_explicit(&m->value, delta, memory_order_relaxed);
}

void pg_metric_set(pg_metric *m, int64_t value)
{
    atomic_store_explicit(&m->value, value, memory_order_relaxed);
}

int64_t pg_metric_value(const pg_metric *m)
{
    return atomic_load_explicit(&((pg_metric *)m)->value, memory_order_relaxed);
}

pg_metric *pg_metric_find(const char *name, const char *labels)
{
    pthread_mutex_lock(&registry_lock);
    pg_metric *m = find_locked(name, labels ? labels : "");
    pthread_mutex_unlock(&registry_lock);
    return m;
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    long size = 0, resident = 0;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static void render_histogram(pg_buf *out, const pg_metric *m)
{
    const char *sep = m->labels[0] ? "," : "";
    long long cumulative = 0;
    for (size_t b = 0; b <= N_BUCKETS; b++) {
        cumulative += atomic_load_explicit(&((pg_metric *)m)->buckets[b], memory_order_relaxed);
        if (b < N_BUCKETS)
            pg_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %lld\n", m->name, m->labels, sep,
                          (double)bucket_bounds_us[b] / 1e6, cumulative);
        else
            pg_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %lld\n", m->name, m->labels, sep,
                          cumulative);
    }
    long long sum_us = atomic_load_explicit(&((pg_metric *)m)->value, memory_order_relaxed);
    const char *open = m->labels[0] ? "{" : "", *close = m->labels[0] ? "}" : "";
    pg_buf_printf(out, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %lld\n", m->name, open, m->labels, close,
                  (double)sum_us / 1e6, m->name, open, m->labels, close, cumulative);
}

static void render_value(pg_buf *out, const pg_metric *m)
{
    if (m->type == PG_METRIC_HISTOGRAM) {
        render_histogram(out, m);
        return;
    }
    long long v = (long long)atomic_load_explicit(&((pg_metric *)m)->value, memory_order_relaxed);
    if (m->labels[0])
        pg_buf_printf(out, "%s{%s} %lld\n", m->name, m->labels, v);
    else
        pg_buf_printf(out, "%s %lld\n", m->name, v);
}

void pg_metrics_render(pg_buf *out)
{
    pthread_mutex_lock(&registry_lock);
    /* the exposition format wants each family in one block, whatever order
     * components registered their series in */
    for (pg_metric *m = registry_head; m; m = m->next) {
        int seen = 0;
        for (pg_metric *p = registry_head; p != m; p = p->next)
            if (strcmp(p->name, m->name) == 0) {
                seen = 1;
                break;
            }
        if (seen)
            continue;
        pg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                      m->type == PG_METRIC_COUNTER ? "counter"
                      : m->type == PG_METRIC_GAUGE ? "gauge"
                                                   : "histogram");
        for (pg_metric *s = m; s; s = s->next)
            if (strcmp(s->name, m->name) == 0)
                render_value(out, s);
    }
    pthread_mutex_unlock(&registry_lock);
    pg_buf_printf(out,
                  "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                  "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n",
                  resident_bytes());
}
