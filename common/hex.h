/* Hexadecimal digits. */
#ifndef PG_COMMON_HEX_H
#define PG_COMMON_HEX_H

/* Value of one hex digit (either case), or -1. */
static inline int pg_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
