/* lowercase/uppercase and hashmod, byte for byte what Prometheus computes. */
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

#include "processors/relabel/relabel_internal.h"

static locale_t utf8_locale;
static pthread_once_t locale_once = PTHREAD_ONCE_INIT;

static void locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

locale_t relabel_utf8_locale(void)
{
    pthread_once(&locale_once, locale_init);
    return utf8_locale;
}

static size_t encode_rune(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static uint32_t map_rune(uint32_t cp, int upper)
{
    if (cp < 0x80) {
        if (upper && cp >= 'a' && cp <= 'z')
            return cp - 32;
        if (!upper && cp >= 'A' && cp <= 'Z')
            return cp + 32;
        return cp;
    }
    locale_t loc = relabel_utf8_locale();
    if (!loc)
        return cp;
    wint_t m = upper ? towupper_l((wint_t)cp, loc) : towlower_l((wint_t)cp, loc);
    /* a mapping outside Unicode or into a surrogate cannot be encoded */
    if (m > 0x10ffff || (m >= 0xd800 && m <= 0xdfff))
        return cp;
    return (uint32_t)m;
}

/* Like Go's strings.Map: each invalid byte becomes U+FFFD. */
static char *map_case(pg_arena *a, const char *s, size_t len, int upper)
{
    /* no rune grows by more than 3x: an invalid byte becomes 3 bytes, and
     * case pairs differ by at most one byte of encoded length */
    char *out = pg_arena_alloc(a, 3 * len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0xfffd;
        size_t n = relabel_decode_rune(s + i, len - i, &cp);
        if (!n) {
            cp = 0xfffd;
            n = 1;
        } else {
            cp = map_rune(cp, upper);
        }
        o += encode_rune(cp, out + o);
        i += n;
    }
    out[o] = '\0';
    return out;
}

char *relabel_lower(pg_arena *a, const char *s, size_t len)
{
    return map_case(a, s, len, 0);
}

char *relabel_upper(pg_arena *a, const char *s, size_t len)
{
    return map_case(a, s, len, 1);
}

int relabel_hashmod(const char *s, size_t len, uint64_t modulus, uint64_t *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!modulus || !EVP_Digest(s, len, md, &md_len, EVP_md5(), NULL) || md_len != 16)
        return PG_ERR_NOMEM;
    /* Prometheus's sum64 shifts the first 8 bytes out of a uint64 */
    uint64_t v = 0;
    for (int i = 8; i < 16; i++)
        v = (v << 8) | md[i];
    *out = v % modulus;
    return PG_OK;
}
