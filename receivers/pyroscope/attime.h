/*
 * The `from` and `until` query parameters of Pyroscope's /ingest API
 * (Graphite-style "at-time" values). Clients send absolute times: the Node
 * SDK Unix seconds, pyroscope-go Unix nanoseconds; the relative forms exist
 * for hand-written requests.
 */
#ifndef PG_RECEIVERS_PYROSCOPE_ATTIME_H
#define PG_RECEIVERS_PYROSCOPE_ATTIME_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Unix nanoseconds for a from/until value, relative forms resolved against now_ns.
 *
 * `_`, `,` and spaces are removed first; what remains (s is not NUL-terminated):
 *   ""                 now_ns
 *   digits only        by count: 13 = milliseconds, 16 = microseconds,
 *                      19 = nanoseconds, 8 = YYYYMMDD (UTC midnight), any
 *                      other count = seconds
 *   now, now-1h, -1h30m, +30s
 *                      now_ns plus/minus terms `<digits><unit>`; a sign holds
 *                      for the terms after it until the next sign; units s,
 *                      min, m (minutes), h, d, w, mon and M (30 days),
 *                      y (365 days)
 * PG_ERR_INVALID (naming the value) for anything else, an invalid date, a
 * result before 1970 or beyond INT64_MAX nanoseconds. */
int pg_pyro_attime_parse(const char *s, size_t len, uint64_t now_ns, uint64_t *out_ns,
                         pg_error *err);

#endif
