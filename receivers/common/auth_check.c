/* Checking one request's Authorization and X-Scope-OrgID header values. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "receivers/common/auth_internal.h"

/* Longer Basic credentials are refused unread (a user name and password of
 * 3 KiB are no one's). */
#define MAX_BASIC_B64 4096

static pg_auth_status refuse(pg_auth_result *res, pg_auth_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static pg_auth_status refuse(pg_auth_result *res, pg_auth_status st, const char *fmt, ...)
{
    res->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
    return st;
}

/* A client-supplied name made safe to quote in a message or a log line. */
static void quote(char *dst, size_t size, const char *src, size_t len)
{
    size_t n = len < size - 1 ? len : size - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    dst[n] = '\0';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Strict standard base64 (padding required, as RFC 7617 clients send it);
 * returns the decoded length or -1. out holds at least 3 * len / 4 bytes. */
static int b64_decode(const char *in, size_t len, unsigned char *out)
{
    if (len == 0 || len % 4 != 0)
        return -1;
    size_t pad = in[len - 1] == '=' ? (in[len - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < len - pad; i++)
        if (!b64_char((unsigned char)in[i]))
            return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    return n < 0 ? -1 : n - (int)pad;
}

static pg_auth_status check_bearer(const pg_auth *a, const char *cred, size_t len,
                                   pg_auth_result *res)
{
    if (a->n_tokens == 0)
        return refuse(res, PG_AUTH_UNAUTHENTICATED,
                      "bearer tokens are not accepted here (use Basic credentials)");
    uint8_t d[PG_AUTH_DIGEST_LEN];
    pg_auth_digest(cred, len, d);
    /* every entry is compared, so the time taken does not tell which matched */
    const pg_auth_token *match = NULL;
    for (size_t i = 0; i < a->n_tokens; i++)
        if (CRYPTO_memcmp(d, a->tokens[i].digest, sizeof(d)) == 0)
            match = &a->tokens[i];
    if (!match)
        return refuse(res, PG_AUTH_UNAUTHENTICATED, "unknown bearer token");
    res->auth_tenant = match->tenant;
    return PG_AUTH_OK;
}

static pg_auth_status check_basic(const pg_auth *a, const char *cred, size_t len,
                                  pg_auth_result *res)
{
    if (a->n_users == 0)
        return refuse(res, PG_AUTH_UNAUTHENTICATED,
                      "basic credentials are not accepted here (use a Bearer token)");
    if (len > MAX_BASIC_B64)
        return refuse(res, PG_AUTH_UNAUTHENTICATED, "malformed Basic credentials: too long");
    unsigned char plain[MAX_BASIC_B64 / 4 * 3 + 1];
    int n = b64_decode(cred, len, plain);
    if (n < 0)
        return refuse(res, PG_AUTH_UNAUTHENTICATED,
                      "malformed Basic credentials: not valid base64");
    const unsigned char *colon = memchr(plain, ':', (size_t)n);
    if (!colon) {
        OPENSSL_cleanse(plain, sizeof(plain));
        return refuse(res, PG_AUTH_UNAUTHENTICATED,
                      "malformed Basic credentials: no ':' between user and password");
    }
    size_t ulen = (size_t)(colon - plain);
    uint8_t d[PG_AUTH_DIGEST_LEN];
    pg_auth_digest(colon + 1, (size_t)n - ulen - 1, d);
    const pg_auth_basic_user *user = NULL;
    for (size_t i = 0; i < a->n_users && !user; i++)
        if (strlen(a->users[i].name) == ulen && memcmp(a->users[i].name, plain, ulen) == 0)
            user = &a->users[i];
    char name[65];
    quote(name, sizeof(name), (const char *)plain, ulen);
    OPENSSL_cleanse(plain, sizeof(plain));
    if (!user)
        return refuse(res, PG_AUTH_UNAUTHENTICATED, "unknown user '%s'", name);
    if (CRYPTO_memcmp(d, user->digest, sizeof(d)) != 0)
        return refuse(res, PG_AUTH_UNAUTHENTICATED, "wrong password for user %s", name);
    res->auth_tenant = user->tenant;
    return PG_AUTH_OK;
}

/* "<scheme> <credentials>" with the scheme matched case-insensitively. */
static pg_auth_status check_authorization(const pg_auth *a, const char *h, pg_auth_result *res)
{
    if (!h)
        return refuse(res, PG_AUTH_UNAUTHENTICATED, "missing Authorization header");
    while (is_space(*h))
        h++;
    size_t slen = strcspn(h, " \t");
    const char *cred = h + slen;
    while (is_space(*cred))
        cred++;
    size_t clen = strlen(cred);
    while (clen && is_space(cred[clen - 1]))
        clen--;
    if (slen == 0)
        return refuse(res, PG_AUTH_UNAUTHENTICATED, "empty Authorization header");
    int bearer = slen == 6 && strncasecmp(h, "Bearer", 6) == 0;
    int basic = slen == 5 && strncasecmp(h, "Basic", 5) == 0;
    if (!bearer && !basic) {
        char scheme[33];
        quote(scheme, sizeof(scheme), h, slen);
        return refuse(res, PG_AUTH_UNAUTHENTICATED,
                      "unsupported Authorization scheme '%s' (use Bearer or Basic)", scheme);
    }
    if (clen == 0)
        return refuse(res, PG_AUTH_UNAUTHENTICATED,
                      "Authorization header has no credentials "
                      "after '%s'",
                      bearer ? "Bearer" : "Basic");
    return bearer ? check_bearer(a, cred, clen, res) : check_basic(a, cred, clen, res);
}

pg_auth_status pg_auth_check(const pg_auth *a, const char *authorization, const char *org_id,
                             pg_auth_result *res)
{
    memset(res, 0, sizeof(*res));
    res->auth_tenant = "";
    res->header_tenant = org_id ? org_id : "";
    if (!a)
        return PG_AUTH_OK;
    if (check_authorization(a, authorization, res) != PG_AUTH_OK) {
        res->auth_tenant = "";
        return res->status;
    }
    if (*res->header_tenant && strcmp(res->header_tenant, res->auth_tenant) != 0) {
        char asked[65];
        quote(asked, sizeof(asked), res->header_tenant, strlen(res->header_tenant));
        return refuse(res, PG_AUTH_PERMISSION_DENIED,
                      "credential of tenant %s cannot write as tenant %s", res->auth_tenant, asked);
    }
    return PG_AUTH_OK;
}
