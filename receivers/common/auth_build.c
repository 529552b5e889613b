/* Building the checker: digests of every secret, the files read once. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "receivers/common/auth_internal.h"

/* Secrets files are small; a bigger one is a wrong path, not a secret. */
#define MAX_SECRET_FILE ((size_t)16 << 20)

void pg_auth_digest(const void *data, size_t len, uint8_t out[PG_AUTH_DIGEST_LEN])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != PG_AUTH_DIGEST_LEN)
        memset(out, 0xff, PG_AUTH_DIGEST_LEN); /* matches no digest of real input in practice */
}

/* The whole file in malloc'd memory (NUL-terminated); the caller wipes and
 * frees it. */
static int read_file(const char *path, char **out, size_t *len, pg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return pg_error_set(err, PG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1 || cap > MAX_SECRET_FILE)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            OPENSSL_cleanse(buf, n);
            free(buf);
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (!bad && n < cap - 1) {
        buf[n] = '\0';
        *out = buf;
        *len = n;
        return PG_OK;
    }
    if (buf) {
        OPENSSL_cleanse(buf, n);
        free(buf);
    }
    if (bad)
        return pg_error_set(err, PG_ERR_IO, "cannot read %s", path);
    return pg_error_set(err, PG_ERR_LIMIT, "%s is larger than 16 MiB", path);
}

static void wipe(char *buf, size_t len)
{
    if (buf) {
        OPENSSL_cleanse(buf, len);
        free(buf);
    }
}

static int add_token(pg_auth *a, const char *token, size_t len, const char *tenant,
                     const char *where, pg_error *err)
{
    pg_auth_token *t = &a->tokens[a->n_tokens];
    pg_auth_digest(token, len, t->digest);
    for (size_t i = 0; i < a->n_tokens; i++)
        if (CRYPTO_memcmp(a->tokens[i].digest, t->digest, PG_AUTH_DIGEST_LEN) == 0)
            return pg_error_set(err, PG_ERR_INVALID, "auth: %s: a bearer token is listed twice",
                                where);
    t->tenant = tenant;
    a->n_tokens++;
    return PG_OK;
}

static size_t count_lines(const char *s)
{
    size_t n = 1;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Lines "<token> <tenant>"; blank lines and lines starting with '#' skipped. */
static int parse_tokens_file(pg_auth *a, const char *path, char *text, pg_error *err)
{
    size_t lineno = 0;
    for (char *line = text; line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *fields[3] = {NULL, NULL, NULL};
        size_t nf = 0;
        for (char *save = NULL, *tok = strtok_r(line, " \t\r", &save); tok;
             tok = strtok_r(NULL, " \t\r", &save)) {
            if (nf == 0 && tok[0] == '#')
                break;
            if (nf < 3)
                fields[nf] = tok;
            nf++;
        }
        char where[64];
        snprintf(where, sizeof(where), "%.40s:%zu", path, lineno);
        if (nf != 0 && nf != 2)
            return pg_error_set(err, PG_ERR_INVALID,
                                "auth: %s: expected '<token> <tenant>' (%zu fields)", where, nf);
        if (nf != 2) {
            line = next;
            continue;
        }
        const char *tenant = pg_arena_strdup(a->arena, fields[1]);
        if (!tenant)
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        if (add_token(a, fields[0], strlen(fields[0]), tenant, where, err) != PG_OK)
            return err->code;
        line = next;
    }
    return PG_OK;
}

static int add_user(pg_auth *a, const pg_auth_user *u, pg_error *err)
{
    pg_auth_basic_user *bu = &a->users[a->n_users];
    const char *pw = u->password;
    size_t len = pw ? strlen(pw) : 0;
    if (u->password_file) {
        char *text = NULL;
        size_t file_len = 0;
        if (read_file(u->password_file, &text, &file_len, err) != PG_OK) {
            pg_error_prefix(err, "auth.basic.%s.password_file: ", u->elem.key);
            return err->code;
        }
        /* trimmed as the exporters trim theirs, so that one file can serve
         * both ends of a profgate -> profgate chain */
        size_t start = 0;
        len = file_len;
        while (start < len && isspace((unsigned char)text[start]))
            start++;
        while (len > start && isspace((unsigned char)text[len - 1]))
            len--;
        len -= start;
        pg_auth_digest(text + start, len, bu->digest);
        wipe(text, file_len);
    } else {
        pg_auth_digest(pw ? pw : "", len, bu->digest);
    }
    if (len == 0)
        return pg_error_set(err, PG_ERR_INVALID, "auth.basic.%s: empty password", u->elem.key);
    bu->name = u->elem.key;
    bu->tenant = u->tenant;
    a->n_users++;
    return PG_OK;
}

static int build_tables(pg_auth *a, const pg_auth_config *c, pg_error *err)
{
    char *file_text = NULL;
    size_t file_len = 0;
    if (c->bearer_tokens_file &&
        read_file(c->bearer_tokens_file, &file_text, &file_len, err) != PG_OK) {
        pg_error_prefix(err, "auth.bearer_tokens_file: ");
        return err->code;
    }
    size_t max_tokens = c->bearer_tokens.n + (file_text ? count_lines(file_text) : 0);
    a->tokens = pg_arena_calloc(a->arena, max_tokens + 1, sizeof(*a->tokens));
    a->users = pg_arena_calloc(a->arena, c->basic.n + 1, sizeof(*a->users));
    int rc = a->tokens && a->users ? PG_OK : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == PG_OK && i < c->bearer_tokens.n; i++) {
        const char *tok = c->bearer_tokens.keys[i];
        rc = add_token(a, tok, strlen(tok), c->bearer_tokens.values[i], "bearer_tokens", err);
    }
    if (rc == PG_OK && file_text)
        rc = parse_tokens_file(a, c->bearer_tokens_file, file_text, err);
    wipe(file_text, file_len);
    if (rc != PG_OK)
        return rc;
    if (a->n_tokens == 0 && c->basic.n == 0)
        return pg_error_set(err, PG_ERR_INVALID, "auth.bearer_tokens_file: %s holds no token",
                            c->bearer_tokens_file ? c->bearer_tokens_file : "(none)");
    for (size_t i = 0; i < c->basic.n; i++)
        if (add_user(a, PG_CFG_LIST_AT(c->basic, pg_auth_user, i), err) != PG_OK)
            return err->code;
    return PG_OK;
}

static void init_metrics(pg_auth *a, const char *receiver_id)
{
    static const char help[] = "Requests a receiver refused before reading their data, by reason.";
    char labels[200];
    snprintf(labels, sizeof(labels), "receiver=\"%s\",reason=\"unauthenticated\"", receiver_id);
    a->refused_unauthenticated =
        pg_metric_counter("profgate_receiver_refused_requests_total", help, labels);
    snprintf(labels, sizeof(labels), "receiver=\"%s\",reason=\"permission_denied\"", receiver_id);
    a->refused_permission_denied =
        pg_metric_counter("profgate_receiver_refused_requests_total", help, labels);
}

int pg_auth_new(const pg_auth_config *c, const char *receiver_id, pg_auth **out, pg_error *err)
{
    *out = NULL;
    if (!c || !c->present)
        return PG_OK;
    pg_auth *a = calloc(1, sizeof(*a));
    if (!a || !(a->arena = pg_arena_new(0, 0))) {
        free(a);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    snprintf(a->scope, sizeof(a->scope), "receiver/%s", receiver_id);
    if (build_tables(a, c, err) != PG_OK) {
        int rc = err->code ? err->code : PG_ERR_INVALID;
        pg_auth_free(a);
        return rc;
    }
    init_metrics(a, receiver_id);
    *out = a;
    return PG_OK;
}

void pg_auth_free(pg_auth *a)
{
    if (!a)
        return;
    pg_arena_free(a->arena);
    free(a);
}
