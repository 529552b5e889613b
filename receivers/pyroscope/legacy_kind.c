#include "receivers/pyroscope/legacy_kind.h"

#include <string.h>

static const pg_pyro_legacy_kind kinds[] = {
    {"", "process_cpu", "samples", "count", "cpu"},
    {"cpu", "process_cpu", "samples", "count", "cpu"},
    {"itimer", "process_cpu", "samples", "count", "cpu"},
    {"wall", "wall", "samples", "count", "wall"},
    {"seconds", "wall", "samples", "count", NULL},
    {"nanoseconds", "wall", "samples", "count", NULL},
    {"microseconds", "wall", "samples", "count", NULL},
    {"milliseconds", "wall", "samples", "count", NULL},
    {"inuse_objects", "memory", "inuse_objects", "count", NULL},
    {"alloc_objects", "memory", "alloc_objects", "count", NULL},
    {"inuse_space", "memory", "inuse_space", "bytes", NULL},
    {"alloc_space", "memory", "alloc_space", "bytes", NULL},
    {"alloc_in_new_tlab_objects", "memory", "alloc_in_new_tlab_objects", "count", NULL},
    {"alloc_outside_tlab_objects", "memory", "alloc_outside_tlab_objects", "count", NULL},
    {"alloc_in_new_tlab_bytes", "memory", "alloc_in_new_tlab_bytes", "bytes", NULL},
    {"alloc_outside_tlab_bytes", "memory", "alloc_outside_tlab_bytes", "bytes", NULL},
    {"live", "memory", "live", "count", NULL},
    {"bytes", "memory", "samples", "bytes", NULL},
    {"goroutines", "goroutine", "goroutines", "count", NULL},
    {"mutex_count", "mutex", "contentions", "count", NULL},
    {"mutex_duration", "mutex", "delay", "nanoseconds", NULL},
    {"block_count", "block", "contentions", "count", NULL},
    {"block_duration", "block", "delay", "nanoseconds", NULL},
    {"lock_count", "block", "contentions", "count", NULL},
    {"lock_duration", "block", "delay", "nanoseconds", NULL},
    {"exceptions", "exceptions", "samples", "count", NULL},
};

const pg_pyro_legacy_kind *pg_pyro_legacy_kind_of(const char *app_name, size_t *service_len)
{
    const char *dot = strrchr(app_name, '.');
    const char *suffix = dot ? dot + 1 : "";
    *service_len = dot ? (size_t)(dot - app_name) : strlen(app_name);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].suffix, suffix) == 0)
            return &kinds[i];
    return NULL;
}
