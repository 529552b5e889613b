/*
 * pg_http_target: the endpoint parsed once (with libcurl's URL parser), the
 * TLS material and credentials read from disk once, on the main thread, so
 * that nothing on a worker loop ever opens a file.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "transport/http_client_internal.h"

#define SYSTEM_CA_BUNDLE    "/etc/ssl/certs/ca-certificates.crt"
#define MAX_CREDENTIAL_FILE (4u * 1024u * 1024u)

struct pg_http_target {
    pg_arena *arena; /* every string below */
    const char *url; /* scheme://host:port/prefix, no trailing '/' */
    int tls;
    int http2;
    int verify;
    int no_reuse;                  /* h2c on libcurl < 8.0: see pg_http_target_new */
    struct curl_slist *connect_to; /* server_name_override: name -> real address */
    pg_buf ca, cert, key;          /* PEM blobs; empty when unused */
    const char *username, *password;
    const char *user_agent;
    const char **header_lines; /* "Name: value" or "Name;" (empty value) */
    size_t n_header_lines;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void pg_http_curl_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

static int read_file(const char *path, const char *what, pg_buf *out, pg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return pg_error_set(err, PG_ERR_IO, "%s %s: cannot open: %s", what, path, strerror(errno));
    char chunk[16384];
    size_t n;
    int rc = PG_OK;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (out->len + n > MAX_CREDENTIAL_FILE) {
            rc = pg_error_set(err, PG_ERR_LIMIT, "%s %s: larger than %u bytes", what, path,
                              MAX_CREDENTIAL_FILE);
            break;
        }
        if (pg_buf_append(out, chunk, n) != 0) {
            rc = pg_error_set(err, PG_ERR_NOMEM, "%s %s: out of memory", what, path);
            break;
        }
    }
    if (rc == PG_OK && ferror(f))
        rc = pg_error_set(err, PG_ERR_IO, "%s %s: read error", what, path);
    fclose(f);
    return rc;
}

static int contains(const pg_buf *b, const char *needle)
{
    return b->len > 0 && memmem(b->data, b->len, needle, strlen(needle)) != NULL;
}

static int read_pem(const char *path, const char *what, const char *marker, pg_buf *out,
                    pg_error *err)
{
    int rc = read_file(path, what, out, err);
    if (rc != PG_OK)
        return rc;
    if (!contains(out, "-----BEGIN ") || !contains(out, marker))
        return pg_error_set(err, PG_ERR_INVALID, "%s %s: not PEM (no %s block)", what, path,
                            marker);
    return PG_OK;
}

/* A secret from a file, surrounding whitespace (the usual trailing newline) removed. */
static int read_secret(pg_http_target *t, const char *path, const char *what, const char **out,
                       pg_error *err)
{
    pg_buf b;
    pg_buf_init(&b);
    int rc = read_file(path, what, &b, err);
    size_t start = 0, end = b.len;
    while (start < end && isspace(b.data[start]))
        start++;
    while (end > start && isspace(b.data[end - 1]))
        end--;
    if (rc == PG_OK && start == end)
        rc = pg_error_set(err, PG_ERR_INVALID, "%s %s is empty", what, path);
    if (rc == PG_OK) {
        *out = pg_arena_strndup(t->arena, (const char *)b.data + start, end - start);
        if (!*out)
            rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    pg_buf_free(&b);
    return rc;
}

static int load_tls(pg_http_target *t, const pg_http_client_tls *o, pg_error *err)
{
    t->verify = !o->insecure_skip_verify;
    if (o->ca_file) {
        int rc = read_pem(o->ca_file, "tls.ca_file", "CERTIFICATE-----", &t->ca, err);
        if (rc != PG_OK)
            return rc;
    } else if (t->verify) {
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
        const char *sys = v && v->cainfo ? v->cainfo : SYSTEM_CA_BUNDLE;
        if (read_pem(sys, "system CA bundle", "CERTIFICATE-----", &t->ca, err) != PG_OK) {
            pg_error_prefix(err, "no tls.ca_file given and ");
            return err ? err->code : PG_ERR_IO;
        }
    }
    if (!o->cert_file != !o->key_file)
        return pg_error_set(err, PG_ERR_INVALID, "tls.cert_file and tls.key_file go together");
    if (o->cert_file) {
        int rc = read_pem(o->cert_file, "tls.cert_file", "CERTIFICATE-----", &t->cert, err);
        if (rc == PG_OK)
            rc = read_pem(o->key_file, "tls.key_file", "PRIVATE KEY-----", &t->key, err);
        if (rc != PG_OK)
            return rc;
    }
    return PG_OK;
}

static int add_header_line(pg_http_target *t, const char *name, const char *value)
{
    const char **grown = pg_arena_alloc(t->arena, (t->n_header_lines + 1) * sizeof(*grown));
    if (!grown)
        return PG_ERR_NOMEM;
    if (t->n_header_lines)
        memcpy(grown, t->header_lines, t->n_header_lines * sizeof(*grown));
    /* libcurl drops "Name:" with nothing after it; "Name;" sends it empty. */
    grown[t->n_header_lines] = *value ? pg_arena_sprintf(t->arena, "%s: %s", name, value)
                                      : pg_arena_sprintf(t->arena, "%s;", name);
    if (!grown[t->n_header_lines])
        return PG_ERR_NOMEM;
    t->header_lines = grown;
    t->n_header_lines++;
    return PG_OK;
}

static int load_auth(pg_http_target *t, const pg_http_client_auth *a, pg_error *err)
{
    int rc = PG_OK;
    if (a->username) {
        t->username = pg_arena_strdup(t->arena, a->username);
        if (a->password_file)
            rc = read_secret(t, a->password_file, "auth.password_file", &t->password, err);
        else
            t->password = pg_arena_strdup(t->arena, a->password ? a->password : "");
        if (rc == PG_OK && (!t->username || !t->password))
            rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return rc;
    }
    const char *token = a->bearer_token;
    if (a->bearer_token_file)
        rc = read_secret(t, a->bearer_token_file, "auth.bearer_token_file", &token, err);
    if (rc == PG_OK && token) {
        if (!*token)
            return pg_error_set(err, PG_ERR_INVALID, "auth.bearer_token is empty");
        char *v = pg_arena_sprintf(t->arena, "Bearer %s", token);
        if (!v || add_header_line(t, "Authorization", v) != PG_OK)
            rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    return rc;
}

static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
    char *s = NULL;
    if (curl_url_get(u, part, &s, flags) != CURLUE_OK)
        return NULL;
    return s;
}

/* "http://h:p/x", "https://h:p/x" or "h:p" (scheme from the TLS choice). */
static int parse_endpoint(pg_http_target *t, const pg_http_target_opts *o, CURLU *u, pg_error *err)
{
    const char *ep = o->endpoint;
    if (!ep || !*ep)
        return pg_error_set(err, PG_ERR_INVALID, "endpoint is empty");
    const char *rest = ep;
    t->tls = !o->tls.insecure;
    if (strncmp(ep, "http://", 7) == 0) {
        t->tls = 0;
        rest = ep + 7;
    } else if (strncmp(ep, "https://", 8) == 0) {
        rest = ep + 8;
    } else if (strstr(ep, "://")) {
        return pg_error_set(err, PG_ERR_INVALID, "endpoint %s: only http:// and https://", ep);
    }
    char *full = pg_arena_sprintf(t->arena, "%s://%s", t->tls ? "https" : "http", rest);
    if (!full)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, full, 0);
    if (uc != CURLUE_OK)
        return pg_error_set(err, PG_ERR_INVALID, "endpoint %s: %s", ep, curl_url_strerror(uc));
    char *query = url_part(u, CURLUPART_QUERY, 0);
    curl_free(query);
    if (query)
        return pg_error_set(err, PG_ERR_INVALID, "endpoint %s: no query string allowed", ep);
    return PG_OK;
}

/* Keeps the URL's host as the name TLS checks and routes the connection to
 * the real address: libcurl has no separate SNI setting. */
static int apply_name_override(pg_http_target *t, const char *name, CURLU *u, pg_error *err)
{
    char *host = url_part(u, CURLUPART_HOST, 0);
    char *port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    char *entry =
        host && port ? pg_arena_sprintf(t->arena, "%s:%s:%s:%s", name, port, host, port) : NULL;
    curl_free(host);
    curl_free(port);
    if (!entry)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    struct curl_slist *l = curl_slist_append(NULL, entry);
    if (!l)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    t->connect_to = l;
    if (curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK)
        return pg_error_set(err, PG_ERR_INVALID, "tls.server_name_override %s: not a host name",
                            name);
    return PG_OK;
}

static int finish_url(pg_http_target *t, CURLU *u, pg_error *err)
{
    char *s = url_part(u, CURLUPART_URL, 0);
    if (!s)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    t->url = pg_arena_strndup(t->arena, s, n);
    curl_free(s);
    return t->url ? PG_OK : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
}

static int setup(pg_http_target *t, const pg_http_target_opts *o, pg_error *err)
{
    CURLU *u = curl_url();
    if (!u)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    int rc = parse_endpoint(t, o, u, err);
    if (rc == PG_OK && t->tls && o->tls.server_name_override && *o->tls.server_name_override)
        rc = apply_name_override(t, o->tls.server_name_override, u, err);
    if (rc == PG_OK)
        rc = finish_url(t, u, err);
    curl_url_cleanup(u);
    if (rc == PG_OK && t->tls)
        rc = load_tls(t, &o->tls, err);
    if (rc == PG_OK)
        rc = load_auth(t, &o->auth, err);
    for (size_t i = 0; rc == PG_OK && o->headers && i < o->headers->n; i++)
        if (add_header_line(t, o->headers->keys[i], o->headers->values[i]) != PG_OK)
            rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    if (rc == PG_OK) {
        t->user_agent =
            o->user_agent ? pg_arena_strdup(t->arena, o->user_agent) : "profgate/" PG_VERSION;
        if (!t->user_agent)
            rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    return rc;
}

int pg_http_target_new(const pg_http_target_opts *o, pg_http_target **out, pg_error *err)
{
    *out = NULL;
    pg_http_curl_init();
    pg_http_target *t = calloc(1, sizeof(*t));
    if (!t || !(t->arena = pg_arena_new(4096, 0))) {
        free(t);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    pg_buf_init(&t->ca);
    pg_buf_init(&t->cert);
    pg_buf_init(&t->key);
    t->http2 = o->http2;
    int rc = setup(t, o, err);
    /* libcurl before 8.0 fails a second request on a reused prior-knowledge
     * HTTP/2 connection ("Error in the HTTP2 framing layer", curl issue
     * 10634): h2c requests get a connection each there. */
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    t->no_reuse = !t->tls && t->http2 && v && v->version_num < 0x080000;
    if (rc != PG_OK) {
        pg_http_target_free(t);
        return rc;
    }
    *out = t;
    return PG_OK;
}

void pg_http_target_free(pg_http_target *t)
{
    if (!t)
        return;
    curl_slist_free_all(t->connect_to);
    pg_buf_free(&t->ca);
    pg_buf_free(&t->cert);
    /* the key is a secret: do not leave it in freed memory */
    if (t->key.data)
        memset(t->key.data, 0, t->key.cap);
    pg_buf_free(&t->key);
    pg_arena_free(t->arena);
    free(t);
}

const char *pg_http_target_url(const pg_http_target *t)
{
    return t->url;
}

int pg_http_target_tls(const pg_http_target *t)
{
    return t->tls;
}

int pg_http_target_http2(const pg_http_target *t)
{
    return t->http2;
}

int pg_http_target_headers(const pg_http_target *t, struct curl_slist **list)
{
    for (size_t i = 0; i < t->n_header_lines; i++) {
        struct curl_slist *l = curl_slist_append(*list, t->header_lines[i]);
        if (!l)
            return PG_ERR_NOMEM;
        *list = l;
    }
    return PG_OK;
}

static void set_blob(CURL *e, CURLoption opt, const pg_buf *b)
{
    /* NOCOPY: the target outlives every request made with it. */
    struct curl_blob blob = {.data = b->data, .len = b->len, .flags = CURL_BLOB_NOCOPY};
    curl_easy_setopt(e, opt, &blob);
}

static void apply_tls(const pg_http_target *t, CURL *e)
{
    /* Only blobs: no CA directory lookups on the loop thread. */
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
    if (t->ca.len)
        set_blob(e, CURLOPT_CAINFO_BLOB, &t->ca);
    if (t->cert.len) {
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
        set_blob(e, CURLOPT_SSLCERT_BLOB, &t->cert);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
        set_blob(e, CURLOPT_SSLKEY_BLOB, &t->key);
    }
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, t->verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, t->verify ? 2L : 0L);
}

static long http_version(const pg_http_target *t)
{
    if (t->tls)
        return CURL_HTTP_VERSION_2TLS;
    return t->http2 ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE : CURL_HTTP_VERSION_1_1;
}

int pg_http_target_apply(const pg_http_target *t, CURL *e, const char *path, pg_error *err)
{
    pg_buf url;
    pg_buf_init(&url);
    if (pg_buf_printf(&url, "%s%s%s", t->url, path && *path && *path != '/' ? "/" : "",
                      path ? path : "") != 0 ||
        pg_buf_append(&url, "", 1) != 0) {
        pg_buf_free(&url);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    CURLcode cc = curl_easy_setopt(e, CURLOPT_URL, (const char *)url.data);
    pg_buf_free(&url);
    if (cc != CURLE_OK)
        return pg_error_set(err, PG_ERR_INVALID, "url: %s", curl_easy_strerror(cc));
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, http_version(t));
    if (t->no_reuse) {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    }
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, t->user_agent);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (t->connect_to)
        curl_easy_setopt(e, CURLOPT_CONNECT_TO, t->connect_to);
    if (t->tls)
        apply_tls(t, e);
    if (t->username) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, t->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, t->password);
    }
    return PG_OK;
}
