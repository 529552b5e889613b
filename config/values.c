#include "config/values.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "config/config.h"

int pg_config_parse_bool(const char *s, int *out)
{
    if (strcmp(s, "true") == 0)
        *out = 1;
    else if (strcmp(s, "false") == 0)
        *out = 0;
    else
        return PG_ERR_INVALID;
    return 0;
}

/* Reads decimal digits at *p into *v; fails on overflow or when none. */
static int read_digits(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t acc = 0;
    if (!isdigit((unsigned char)*s))
        return PG_ERR_INVALID;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (acc > (UINT64_MAX - d) / 10)
            return PG_ERR_INVALID;
        acc = acc * 10 + d;
    }
    *p = s;
    *v = acc;
    return 0;
}

int pg_config_parse_int(const char *s, int64_t *out)
{
    int neg = 0;
    uint64_t v;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (read_digits(&s, &v) != 0 || *s != '\0')
        return PG_ERR_INVALID;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return PG_ERR_INVALID;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return PG_ERR_INVALID;
        *out = (int64_t)v;
    }
    return 0;
}

int pg_config_parse_float(const char *s, double *out)
{
    /* strtod also takes "inf", "nan" and hex floats; a config value must be
     * plain decimal, so the characters are checked first */
    if (!*s || strspn(s, "+-0123456789.eE") != strlen(s))
        return PG_ERR_INVALID;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || !end || *end != '\0' || !isfinite(v))
        return PG_ERR_INVALID;
    *out = v;
    return 0;
}

static int mul_add(uint64_t *acc, uint64_t v, uint64_t unit)
{
    if (unit != 0 && v > UINT64_MAX / unit)
        return PG_ERR_INVALID;
    if (*acc > UINT64_MAX - v * unit)
        return PG_ERR_INVALID;
    *acc += v * unit;
    return 0;
}

int pg_config_parse_duration_ms(const char *s, uint64_t *out)
{
    static const struct {
        const char *name;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    uint64_t total = 0;
    if (!s || !*s)
        return PG_ERR_INVALID;
    while (*s) {
        uint64_t v;
        size_t u, len = 0;
        if (read_digits(&s, &v) != 0)
            return PG_ERR_INVALID;
        while (isalpha((unsigned char)s[len]))
            len++;
        for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
            if (len == strlen(units[u].name) && strncmp(s, units[u].name, len) == 0)
                break;
        if (len == 0 || u == sizeof(units) / sizeof(units[0]))
            return PG_ERR_INVALID;
        if (mul_add(&total, v, units[u].ms) != 0)
            return PG_ERR_INVALID;
        s += len;
    }
    *out = total;
    return 0;
}

int pg_config_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *name;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"KB", 1000ULL},
        {"MB", 1000ULL * 1000},
        {"GB", 1000ULL * 1000 * 1000},
        {"TB", 1000ULL * 1000 * 1000 * 1000},
        {"KiB", 1ULL << 10},
        {"MiB", 1ULL << 20},
        {"GiB", 1ULL << 30},
        {"TiB", 1ULL << 40},
    };
    uint64_t v, total = 0;
    if (!s || read_digits(&s, &v) != 0)
        return PG_ERR_INVALID;
    while (*s == ' ')
        s++;
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (strcmp(s, units[u].name) == 0) {
            if (mul_add(&total, v, units[u].mult) != 0)
                return PG_ERR_INVALID;
            *out = total;
            return 0;
        }
    }
    return PG_ERR_INVALID;
}

static int endpoint_fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return PG_ERR_INVALID;
}

static int parse_port(const char *p, int *port, const char **why)
{
    uint64_t v;
    if (*p == '\0')
        return endpoint_fail(why, "missing port");
    if (read_digits(&p, &v) != 0 || *p != '\0')
        return endpoint_fail(why, "port is not a number");
    if (v < 1 || v > 65535)
        return endpoint_fail(why, "port must be 1..65535");
    *port = (int)v;
    return 0;
}

int pg_config_parse_endpoint(const char *s, char *host, size_t host_size, int *port,
                             const char **why)
{
    const char *h = s, *hend, *colon;
    if (strstr(s, "://"))
        return endpoint_fail(why, "expected host:port without a scheme");
    if (*s == '[') {
        h = s + 1;
        hend = strchr(h, ']');
        if (!hend)
            return endpoint_fail(why, "missing ']'");
        if (hend[1] != ':')
            return endpoint_fail(why, "expected ':' and a port after ']'");
        colon = hend + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return endpoint_fail(why, "expected host:port");
        hend = colon;
        if (memchr(s, ':', (size_t)(colon - s)))
            return endpoint_fail(why, "IPv6 addresses must be written as [addr]:port");
    }
    if (hend == h)
        return endpoint_fail(why, "empty host");
    for (const char *c = h; c < hend; c++)
        if (isspace((unsigned char)*c) || *c == '/' || *c == '[' || *c == ']')
            return endpoint_fail(why, "invalid character in host");
    if ((size_t)(hend - h) >= host_size)
        return endpoint_fail(why, "host name too long");
    int p;
    if (parse_port(colon + 1, &p, why) != 0)
        return PG_ERR_INVALID;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    *port = p;
    return 0;
}

static int is_wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

int pg_config_endpoints_overlap(const char *a, const char *b)
{
    char ha[256], hb[256];
    int pa, pb;
    if (pg_config_parse_endpoint(a, ha, sizeof(ha), &pa, NULL) != 0 ||
        pg_config_parse_endpoint(b, hb, sizeof(hb), &pb, NULL) != 0)
        return 0;
    if (pa != pb)
        return 0;
    return is_wildcard(ha) || is_wildcard(hb) || strcasecmp(ha, hb) == 0;
}

void pg_config_format_duration(uint64_t ms, char *buf, size_t size)
{
    static const struct {
        const char *name;
        uint64_t ms;
    } units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    size_t used = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    if (ms == 0) {
        snprintf(buf, size, "0ms");
        return;
    }
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]) && used < size; u++) {
        uint64_t n = ms / units[u].ms;
        if (n == 0)
            continue;
        int w = snprintf(buf + used, size - used, "%llu%s", (unsigned long long)n, units[u].name);
        if (w < 0)
            return;
        used += (size_t)w;
        ms -= n * units[u].ms;
    }
}

void pg_config_format_size(uint64_t bytes, char *buf, size_t size)
{
    /* Largest unit first, so the rendering with the fewest digits wins. */
    static const struct {
        const char *name;
        uint64_t mult;
    } units[] = {
        {"TiB", 1ULL << 40}, {"TB", 1000000000000ULL}, {"GiB", 1ULL << 30}, {"GB", 1000000000ULL},
        {"MiB", 1ULL << 20}, {"MB", 1000000ULL},       {"KiB", 1ULL << 10}, {"KB", 1000ULL},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && bytes != 0; i++) {
        if (bytes % units[i].mult == 0) {
            snprintf(buf, size, "%llu%s", (unsigned long long)(bytes / units[i].mult),
                     units[i].name);
            return;
        }
    }
    snprintf(buf, size, "%lluB", (unsigned long long)bytes);
}
