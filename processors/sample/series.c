#include <string.h>

#include "common/hash.h"
#include "processors/sample/sample_internal.h"

/* Bytes are gathered in a small buffer and folded into the hash whenever it
 * fills, so label sets of any size hash without an allocation. */
typedef struct hasher {
    uint8_t buf[256];
    size_t n;
    uint64_t h;
} hasher;

static void put(hasher *hs, const char *s)
{
    size_t len = strlen(s) + 1; /* the NUL is the separator */
    while (len) {
        size_t room = sizeof(hs->buf) - hs->n;
        size_t take = len < room ? len : room;
        memcpy(hs->buf + hs->n, s, take);
        hs->n += take;
        s += take;
        len -= take;
        if (hs->n == sizeof(hs->buf)) {
            hs->h = pg_hash_bytes(hs->buf, hs->n, hs->h);
            hs->n = 0;
        }
    }
}

uint64_t pg_sample_series_hash(const pg_profile *prof, uint64_t seed)
{
    hasher hs = {.n = 0, .h = seed};
    put(&hs, prof->tenant ? prof->tenant : "");
    for (uint32_t i = 0; i < prof->n_labels; i++) {
        put(&hs, prof->labels[i].name);
        put(&hs, prof->labels[i].value);
    }
    return pg_hash_bytes(hs.buf, hs.n, hs.h);
}

int pg_sample_keep(uint64_t hash, double p)
{
    if (p >= 1.0)
        return 1;
    if (p <= 0.0)
        return 0;
    /* the top 53 bits as a uniform fraction in [0, 1) */
    return (double)(hash >> 11) * 0x1p-53 < p;
}
