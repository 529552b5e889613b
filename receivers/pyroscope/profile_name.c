#include "receivers/pyroscope/profile_name.h"

#include <string.h>

/* The rules after the "wall" check, applied to one (display) name. */
static const char *classify(const char *t)
{
    if (strstr(t, "cpu"))
        return "process_cpu";
    if (strstr(t, "alloc_") || strstr(t, "inuse_") || strcmp(t, "space") == 0 ||
        strcmp(t, "objects") == 0)
        return "memory";
    if (strstr(t, "mutex_"))
        return "mutex";
    if (strstr(t, "block_"))
        return "block";
    if (strstr(t, "goroutines"))
        return "goroutines";
    return NULL;
}

const char *pg_pyro_profile_name(const char *const *sample_types, size_t n,
                                 const pg_pyro_stconfig_entry *cfg, size_t n_cfg)
{
    for (size_t i = 0; i < n; i++) {
        if (sample_types[i] && strcmp(sample_types[i], "wall") == 0)
            return "wall";
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = sample_types[i];
        if (!t)
            continue;
        const pg_pyro_stconfig_entry *e = pg_pyro_stconfig_find(cfg, n_cfg, t);
        if (e && e->display_name && e->display_name[0])
            t = e->display_name;
        const char *name = classify(t);
        if (name)
            return name;
    }
    return NULL;
}
