/*
 * Private to transport/http_client*.c: how a pg_http_target is put on a
 * libcurl easy handle. The target (http_client_target.c) knows the files,
 * names and credentials; the client (http_client.c) knows the loop.
 */
#ifndef PG_TRANSPORT_HTTP_CLIENT_INTERNAL_H
#define PG_TRANSPORT_HTTP_CLIENT_INTERNAL_H

#include <curl/curl.h>

#include "transport/http_client.h"

/* Sets URL (target URL + path), TLS, auth, HTTP version and connection
 * options on e. Every pointer handed to libcurl lives as long as t. */
int pg_http_target_apply(const pg_http_target *t, CURL *e, const char *path, pg_error *err);

/* Appends the target's own headers ("Name: value" lines, the bearer token
 * among them) to *list; PG_ERR_NOMEM on failure (the list is kept). */
int pg_http_target_headers(const pg_http_target *t, struct curl_slist **list);

/* 1 when every response must come over HTTP/2. */
int pg_http_target_http2(const pg_http_target *t);

/* curl_global_init once per process. */
void pg_http_curl_init(void);

#endif
