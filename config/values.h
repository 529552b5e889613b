/*
 * Value syntax shared by the configuration tables and by components that
 * accept the same notations elsewhere. pg_config_parse_duration_ms and
 * pg_config_parse_size are declared in config/config.h.
 *
 *   bool      true | false
 *   int       optional sign and decimal digits
 *   float     a finite decimal number such as 0.5, 1.5 or 2
 *   size      <digits>[B|KB|MB|GB|TB|KiB|MiB|GiB|TiB]   (K/M/G/T = 1000^n, Ki/Mi/Gi/Ti = 1024^n)
 *   duration  one or more <digits><ms|s|m|h>, e.g. 250ms, 10s, 1m30s, 2h
 *   endpoint  host:port or [ipv6]:port, port 1..65535, host non-empty
 */
#ifndef PG_CONFIG_VALUES_H
#define PG_CONFIG_VALUES_H

#include <stddef.h>
#include <stdint.h>

/* All return 0 on success and PG_ERR_INVALID otherwise; *out is untouched then. */
int pg_config_parse_bool(const char *s, int *out);
int pg_config_parse_int(const char *s, int64_t *out);
/* Decimal notation only ("0.5", "1.5", "2", "1e3"); no inf, nan or hex. */
int pg_config_parse_float(const char *s, double *out);

/* Splits an endpoint. host receives the host without brackets. On failure
 * *why (if not NULL) names the problem in a few words. */
int pg_config_parse_endpoint(const char *s, char *host, size_t host_size, int *port,
                             const char **why);

/* 1 when two listening endpoints would collide: same port and the same host,
 * or one of them binds every address (0.0.0.0 or ::). Unparsable: 0. */
int pg_config_endpoints_overlap(const char *a, const char *b);

/* Shortest exact rendering: 90000 -> "1m30s", 0 -> "0ms"; 4194304 -> "4MiB",
 * 64000000 -> "64MB", 1000 -> "1KB", 123 -> "123B". */
void pg_config_format_duration(uint64_t ms, char *buf, size_t size);
void pg_config_format_size(uint64_t bytes, char *buf, size_t size);

#endif
