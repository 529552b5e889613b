#include "transport/tls.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct pg_tls_ctx {
    SSL_CTX *ssl_ctx;
};

struct pg_tls_conn {
    SSL *ssl;
    BIO *rbio; /* ciphertext from the peer; owned by ssl */
    BIO *wbio; /* ciphertext to the peer; owned by ssl */
    int handshake_done;
};

/* ALPN protocol list in wire format, server preference first. */
static const unsigned char alpn_protos[] = "\x02h2\x08http/1.1";

static int tls_error(pg_error *err, const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    else
        snprintf(buf, sizeof(buf), "unknown error");
    ERR_clear_error();
    return pg_error_set(err, PG_ERR_IO, "%s: %s", what, buf);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, alpn_protos, sizeof(alpn_protos) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* no common protocol: carry on as HTTP/1.1 */
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static int ctx_load(SSL_CTX *c, const pg_tls_server_config *cfg, pg_error *err)
{
    if (!cfg->key_file)
        return pg_error_set(err, PG_ERR_INVALID, "tls: cert_file given without key_file");
    if (SSL_CTX_use_certificate_chain_file(c, cfg->cert_file) != 1)
        return tls_error(err, "tls: cannot load cert_file");
    if (SSL_CTX_use_PrivateKey_file(c, cfg->key_file, SSL_FILETYPE_PEM) != 1)
        return tls_error(err, "tls: cannot load key_file");
    if (SSL_CTX_check_private_key(c) != 1)
        return tls_error(err, "tls: key_file does not match cert_file");
    if (cfg->client_ca_file) {
        if (SSL_CTX_load_verify_locations(c, cfg->client_ca_file, NULL) != 1)
            return tls_error(err, "tls: cannot load client_ca_file");
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->client_ca_file);
        if (names)
            SSL_CTX_set_client_CA_list(c, names);
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return PG_OK;
}

pg_tls_ctx *pg_tls_ctx_new(const pg_tls_server_config *cfg, pg_error *err)
{
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        tls_error(err, "tls: SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(c, alpn_select, NULL);
    if (ctx_load(c, cfg, err) != PG_OK) {
        SSL_CTX_free(c);
        return NULL;
    }
    pg_tls_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        SSL_CTX_free(c);
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ctx->ssl_ctx = c;
    return ctx;
}

void pg_tls_ctx_free(pg_tls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

pg_tls_conn *pg_tls_conn_new(pg_tls_ctx *ctx)
{
    pg_tls_conn *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ssl = SSL_new(ctx->ssl_ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    /* an empty read BIO means "want more", not EOF */
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_accept_state(t->ssl);
    return t;
}

void pg_tls_conn_free(pg_tls_conn *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

int pg_tls_conn_feed(pg_tls_conn *t, const uint8_t *data, size_t len)
{
    while (len) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int w = BIO_write(t->rbio, data, chunk);
        if (w <= 0)
            return PG_ERR_NOMEM;
        data += w;
        len -= (size_t)w;
    }
    return PG_OK;
}

int pg_tls_conn_read(pg_tls_conn *t, uint8_t *buf, size_t cap, size_t *n, pg_error *err)
{
    *n = 0;
    if (!t->handshake_done) {
        int r = SSL_do_handshake(t->ssl);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return PG_OK;
            return tls_error(err, "tls handshake failed");
        }
        t->handshake_done = 1;
    }
    int want = cap > INT_MAX ? INT_MAX : (int)cap;
    int r = SSL_read(t->ssl, buf, want);
    if (r > 0) {
        *n = (size_t)r;
        return PG_OK;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return PG_OK;
    if (e == SSL_ERROR_ZERO_RETURN)
        return 1;
    return tls_error(err, "tls read failed");
}

int pg_tls_conn_write(pg_tls_conn *t, const uint8_t *data, size_t len)
{
    while (len) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int w = SSL_write(t->ssl, data, chunk);
        if (w <= 0) {
            ERR_clear_error();
            return PG_ERR_IO;
        }
        data += w;
        len -= (size_t)w;
    }
    return PG_OK;
}

int pg_tls_conn_take_output(pg_tls_conn *t, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t pending = BIO_ctrl_pending(t->wbio);
    if (pending == 0)
        return PG_OK;
    uint8_t *b = malloc(pending);
    if (!b)
        return PG_ERR_NOMEM;
    size_t got = 0;
    while (got < pending) {
        int r =
            BIO_read(t->wbio, b + got, (int)(pending - got > INT_MAX ? INT_MAX : pending - got));
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    *out = b;
    *len = got;
    return PG_OK;
}

int pg_tls_conn_handshake_done(const pg_tls_conn *t)
{
    return t->handshake_done;
}

int pg_tls_conn_alpn_h2(const pg_tls_conn *t)
{
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(t->ssl, &p, &n);
    return n == 2 && memcmp(p, "h2", 2) == 0;
}

void pg_tls_conn_shutdown(pg_tls_conn *t)
{
    if (t->handshake_done) {
        SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
}
