/*
 * libFuzzer target: the /ingest `name` parameter (label set) and the
 * from/until values (at-time). A parsed label set must hold what the rules
 * promise: a non-empty app name and non-empty label values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "receivers/pyroscope/attime.h"
#include "receivers/pyroscope/labelset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_arena *a = pg_arena_new(0, 16u << 20);
    pg_error err;
    pg_pyro_labelset ls;
    if (pg_pyro_labelset_parse(a, (const char *)data, size, &ls, &err) == PG_OK) {
        if (!ls.app_name[0] || ls.n_labels > PG_PYRO_MAX_NAME_LABELS)
            abort();
        for (size_t i = 0; i < ls.n_labels; i++) {
            if (!ls.labels[i].name[0] || !ls.labels[i].value[0])
                abort();
        }
    }
    uint64_t ns;
    const uint64_t now = 1795547197123456789ull;
    if (pg_pyro_attime_parse((const char *)data, size, now, &ns, &err) == PG_OK &&
        ns > (uint64_t)INT64_MAX)
        abort();
    pg_arena_free(a);
    return 0;
}
