/*
 * Server-side TLS over OpenSSL memory BIOs: the connection code feeds
 * ciphertext in and takes ciphertext out, so the event loop never blocks on
 * TLS. ALPN offers "h2" and "http/1.1"; with a client CA file, client
 * certificates are required and verified (mTLS).
 */
#ifndef PG_TRANSPORT_TLS_H
#define PG_TRANSPORT_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "transport/http_server.h"

typedef struct pg_tls_ctx pg_tls_ctx;
typedef struct pg_tls_conn pg_tls_conn;

/* Loads certificate, key and (optional) client CA; shared by all workers. */
pg_tls_ctx *pg_tls_ctx_new(const pg_tls_server_config *cfg, pg_error *err);
void pg_tls_ctx_free(pg_tls_ctx *ctx);

pg_tls_conn *pg_tls_conn_new(pg_tls_ctx *ctx);
void pg_tls_conn_free(pg_tls_conn *t);

/* Ciphertext received from the peer. */
int pg_tls_conn_feed(pg_tls_conn *t, const uint8_t *data, size_t len);

/* Advances the handshake and decrypts into buf. Returns 0 with *n bytes (0:
 * more input needed), 1 when the peer sent close_notify, PG_ERR_IO when the
 * handshake or record layer failed (message in err). */
int pg_tls_conn_read(pg_tls_conn *t, uint8_t *buf, size_t cap, size_t *n, pg_error *err);

/* Encrypts plaintext for the peer; call after the handshake. */
int pg_tls_conn_write(pg_tls_conn *t, const uint8_t *data, size_t len);

/* Moves pending ciphertext (handshake or records) into a malloc'd buffer the
 * caller frees; *out is NULL when nothing is pending. */
int pg_tls_conn_take_output(pg_tls_conn *t, uint8_t **out, size_t *len);

int pg_tls_conn_handshake_done(const pg_tls_conn *t);
/* True when ALPN selected "h2". */
int pg_tls_conn_alpn_h2(const pg_tls_conn *t);
/* Queues close_notify. */
void pg_tls_conn_shutdown(pg_tls_conn *t);

#endif
