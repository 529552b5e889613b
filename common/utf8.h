#ifndef PG_COMMON_UTF8_H
#define PG_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Offset of the first byte that is not part of valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid), or n when all is
 * valid. */
size_t pg_utf8_invalid_at(const uint8_t *s, size_t n);

#endif
