#include "receivers/pyroscope/attime.h"

#include <string.h>

#define NS_PER_S   1000000000ll
#define SECS_DAY   86400ll
#define MAX_VALUE  64 /* longer values (after stripping) are never valid */
#define MSG_LEN(n) ((int)((n) > 64 ? 64 : (n)))

static int invalid(const char *s, size_t len, pg_error *err)
{
    return pg_error_set(err, PG_ERR_INVALID, "invalid time '%.*s'", MSG_LEN(len), s);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Value of s[0..n) (all digits); 0 on overflow of int64. */
static int parse_uint(const char *s, size_t n, int64_t *v)
{
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (__builtin_mul_overflow(acc, 10, &acc) || __builtin_add_overflow(acc, s[i] - '0', &acc))
            return 0;
    }
    *v = acc;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (era-based arithmetic,
 * valid for any year >= 0). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = y / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* YYYYMMDD, UTC midnight; 0 for an invalid or pre-1970 date. */
static int parse_date(const char *s, int64_t *ns)
{
    int64_t y = 0, m = 0, d = 0;
    parse_uint(s, 4, &y);
    parse_uint(s + 4, 2, &m);
    parse_uint(s + 6, 2, &d);
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    *ns = days_from_civil(y, m, d) * SECS_DAY * NS_PER_S;
    return 1;
}

static int parse_absolute(const char *s, size_t n, int64_t *ns)
{
    int64_t v;
    if (n == 8)
        return parse_date(s, ns);
    if (!parse_uint(s, n, &v))
        return 0;
    switch (n) {
    case 13:
        return !__builtin_mul_overflow(v, 1000000, ns);
    case 16:
        return !__builtin_mul_overflow(v, 1000, ns);
    case 19:
        *ns = v;
        return 1;
    default:
        return !__builtin_mul_overflow(v, NS_PER_S, ns);
    }
}

/* Seconds per unit at s[0..n); *used gets the unit's length; 0 if none. */
static int64_t unit_seconds(const char *s, size_t n, size_t *used)
{
    if (n >= 3 && memcmp(s, "min", 3) == 0) {
        *used = 3;
        return 60;
    }
    if (n >= 3 && memcmp(s, "mon", 3) == 0) {
        *used = 3;
        return 30 * SECS_DAY;
    }
    *used = 1;
    switch (n ? s[0] : 0) {
    case 's':
        return 1;
    case 'm':
        return 60;
    case 'h':
        return 3600;
    case 'd':
        return SECS_DAY;
    case 'w':
        return 7 * SECS_DAY;
    case 'M':
        return 30 * SECS_DAY;
    case 'y':
        return 365 * SECS_DAY;
    default:
        return 0;
    }
}

/* Sum of the signed terms of s[0..n) (after "now"), in nanoseconds. */
static int parse_offset(const char *s, size_t n, int64_t *off)
{
    int sign = 0;
    size_t i = 0;
    *off = 0;
    while (i < n) {
        if (s[i] == '+' || s[i] == '-')
            sign = s[i++] == '-' ? -1 : 1;
        size_t start = i;
        while (i < n && is_digit(s[i]))
            i++;
        int64_t v, term;
        size_t used;
        if (sign == 0 || i == start || !parse_uint(s + start, i - start, &v))
            return 0;
        int64_t unit = unit_seconds(s + i, n - i, &used);
        if (unit == 0 || __builtin_mul_overflow(v, unit * NS_PER_S, &term) ||
            __builtin_add_overflow(*off, sign * term, off))
            return 0;
        i += used;
    }
    return 1;
}

int pg_pyro_attime_parse(const char *s, size_t len, uint64_t now_ns, uint64_t *out_ns,
                         pg_error *err)
{
    char v[MAX_VALUE];
    size_t n = 0, digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '_' || s[i] == ',' || s[i] == ' ')
            continue;
        if (n == sizeof(v))
            return invalid(s, len, err);
        digits += is_digit(s[i]);
        v[n++] = s[i];
    }
    if (n == 0) {
        *out_ns = now_ns;
        return PG_OK;
    }
    int64_t ns, off;
    if (digits == n) {
        if (!parse_absolute(v, n, &ns))
            return invalid(s, len, err);
    } else {
        size_t skip = n >= 3 && memcmp(v, "now", 3) == 0 ? 3 : 0;
        if (now_ns > INT64_MAX || !parse_offset(v + skip, n - skip, &off) ||
            __builtin_add_overflow((int64_t)now_ns, off, &ns))
            return invalid(s, len, err);
    }
    if (ns < 0)
        return pg_error_set(err, PG_ERR_INVALID, "time '%.*s' is before 1970", MSG_LEN(len), s);
    *out_ns = (uint64_t)ns;
    return PG_OK;
}
