/*
 * The HTTP server on a real socket: a worker loop in a thread, talked to
 * with libcurl (HTTP/1.1, h2c prior knowledge, gRPC, 50 multiplexed
 * streams) and with raw sockets (pipelining, timeouts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <uv.h>
#include <zlib.h>
#include <zstd.h>

#include "telemetry/log.h"
#include "transport/http_server.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* Three servers on one worker: plaintext, TLS, and TLS requiring client
 * certificates (mTLS). */
enum { SRV_PLAIN, SRV_TLS, SRV_MTLS, SRV_COUNT };

typedef struct server_fixture {
    pg_http_server *srv[SRV_COUNT];
    uv_loop_t loop;
    pg_worker worker;
    uv_async_t stop;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready;
    int start_rc;
    char base[SRV_COUNT][64];
    int port;
    char dir[64]; /* certificates */
    char ca[96], srv_cert[96], srv_key[96], cli_cert[96], cli_key[96];
} server_fixture;

static server_fixture fx;
static uint64_t last_timeout_ns;
static uint64_t fixture_timeout_ms = 1000;
static int stop_sent;

/* ---- handlers ---- */

static void echo_handler(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    resp->content_type = "application/octet-stream";
    pg_buf_append(&resp->body, req->body, req->body_len);
    const char *q = pg_http_request_query_param(req, "tag");
    if (q)
        pg_http_response_add_header(req, resp, "X-Tag", q);
}

static void hello_handler(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    resp->content_type = "text/plain";
    pg_buf_printf(&resp->body, "hello over HTTP/%d", req->http_major);
}

static void grpc_echo(void *ctx, pg_http_request *req, pg_grpc_response *resp)
{
    last_timeout_ns = req->timeout_ns;
    if (req->body_len == 4 && memcmp(req->body, "fail", 4) == 0) {
        resp->status = PG_GRPC_INVALID_ARGUMENT;
        resp->message = "bad input: 50% \xc3\xa9";
        return;
    }
    pg_buf_append(&resp->body, req->body, req->body_len);
}

/* ---- server thread ---- */

static void on_stop(uv_async_t *a)
{
    for (int i = 0; i < SRV_COUNT; i++)
        pg_http_server_worker_stop(fx.srv[i], &fx.worker);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_thread(void *arg)
{
    pg_error err = {0};
    int rc = 0;
    for (int i = 0; i < SRV_COUNT && rc == 0; i++) {
        rc = pg_http_server_worker_start(fx.srv[i], &fx.worker, &err);
        if (rc != 0)
            fprintf(stderr, "worker_start: %s\n", err.msg);
    }
    uv_async_init(&fx.loop, &fx.stop, on_stop);
    pthread_mutex_lock(&fx.mu);
    fx.start_rc = rc;
    fx.ready = 1;
    pthread_cond_signal(&fx.cv);
    pthread_mutex_unlock(&fx.mu);
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---- certificates: a CA, a server certificate for 127.0.0.1, a client one ---- */

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       long serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    add_ext(x, &ctx, NID_basic_constraints, issuer ? "CA:FALSE" : "critical,CA:TRUE");
    if (issuer)
        add_ext(x, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (x)
        PEM_write_X509(f, x);
    if (k)
        PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

static void make_certificates(void)
{
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/pg_tls_XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    snprintf(fx.ca, sizeof(fx.ca), "%s/ca.pem", fx.dir);
    snprintf(fx.srv_cert, sizeof(fx.srv_cert), "%s/server.pem", fx.dir);
    snprintf(fx.srv_key, sizeof(fx.srv_key), "%s/server.key", fx.dir);
    snprintf(fx.cli_cert, sizeof(fx.cli_cert), "%s/client.pem", fx.dir);
    snprintf(fx.cli_key, sizeof(fx.cli_key), "%s/client.key", fx.dir);
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256"),
             *cli_key = EVP_EC_gen("P-256");
    assert_true(ca_key && srv_key && cli_key);
    X509 *ca = make_cert(ca_key, "profgate test CA", NULL, NULL, 1);
    X509 *srv = make_cert(srv_key, "localhost", ca, ca_key, 2);
    X509 *cli = make_cert(cli_key, "test client", ca, ca_key, 3);
    write_pem(fx.ca, ca, NULL);
    write_pem(fx.srv_cert, srv, NULL);
    write_pem(fx.srv_key, NULL, srv_key);
    write_pem(fx.cli_cert, cli, NULL);
    write_pem(fx.cli_key, NULL, cli_key);
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cli_key);
}

static void remove_certificates(void)
{
    const char *files[] = {fx.ca, fx.srv_cert, fx.srv_key, fx.cli_cert, fx.cli_key};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        unlink(files[i]);
    rmdir(fx.dir);
}

static pg_http_server *new_server(pg_tls_server_config tls)
{
    pg_http_server_config cfg = {
        .endpoint = "127.0.0.1:0",
        .tls = tls,
        .max_header_bytes = 8 * KIB,
        .max_body_bytes = 1 * MIB,
        .max_decompressed_bytes = 2 * MIB,
        .idle_timeout_ms = fixture_timeout_ms,
        .read_timeout_ms = fixture_timeout_ms,
        .log_scope = "test/http",
    };
    pg_error err = {0};
    pg_http_server *s = pg_http_server_new(&cfg, &err);
    if (!s)
        fprintf(stderr, "pg_http_server_new: %s\n", err.msg);
    assert_non_null(s);
    assert_int_equal(pg_http_server_route(s, "POST", "/echo", echo_handler, NULL), 0);
    assert_int_equal(pg_http_server_route(s, "GET", "/hello", hello_handler, NULL), 0);
    assert_int_equal(pg_http_server_grpc_route(s, "/test.Echo/Say", grpc_echo, NULL), 0);
    assert_int_not_equal(pg_http_server_route(s, "POST", "/echo", echo_handler, NULL), 0);
    return s;
}

static int port_of(const pg_http_server *s)
{
    const char *colon = strrchr(pg_http_server_endpoint(s), ':');
    assert_non_null(colon);
    return atoi(colon + 1);
}

static int setup(void **state)
{
    memset(&fx, 0, sizeof(fx));
    stop_sent = 0;
    if (getenv("PG_TEST_DEBUG"))
        pg_log_set_level(PG_LOG_DEBUG);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    make_certificates();
    fx.srv[SRV_PLAIN] = new_server((pg_tls_server_config){0});
    fx.srv[SRV_TLS] = new_server((pg_tls_server_config){fx.srv_cert, fx.srv_key, NULL});
    fx.srv[SRV_MTLS] = new_server((pg_tls_server_config){fx.srv_cert, fx.srv_key, fx.ca});
    assert_int_equal(uv_loop_init(&fx.loop), 0);
    fx.worker.id = 0;
    fx.worker.loop = &fx.loop;
    pthread_mutex_init(&fx.mu, NULL);
    pthread_cond_init(&fx.cv, NULL);
    pthread_create(&fx.thread, NULL, loop_thread, NULL);
    pthread_mutex_lock(&fx.mu);
    while (!fx.ready)
        pthread_cond_wait(&fx.cv, &fx.mu);
    pthread_mutex_unlock(&fx.mu);
    assert_int_equal(fx.start_rc, 0);
    fx.port = port_of(fx.srv[SRV_PLAIN]);
    assert_true(fx.port > 0);
    snprintf(fx.base[SRV_PLAIN], sizeof(fx.base[0]), "http://127.0.0.1:%d", fx.port);
    snprintf(fx.base[SRV_TLS], sizeof(fx.base[0]), "https://127.0.0.1:%d",
             port_of(fx.srv[SRV_TLS]));
    snprintf(fx.base[SRV_MTLS], sizeof(fx.base[0]), "https://127.0.0.1:%d",
             port_of(fx.srv[SRV_MTLS]));
    return 0;
}

static void stop_worker(void)
{
    if (!stop_sent)
        uv_async_send(&fx.stop);
    stop_sent = 1;
}

static int teardown(void **state)
{
    stop_worker();
    pthread_join(fx.thread, NULL); /* returns once every connection is closed */
    assert_int_equal(uv_loop_close(&fx.loop), 0);
    for (int i = 0; i < SRV_COUNT; i++)
        pg_http_server_free(fx.srv[i]);
    remove_certificates();
    curl_global_cleanup();
    return 0;
}

/* ---- curl helpers ---- */

typedef struct result {
    long status;
    long version;
    pg_buf body;
    pg_buf headers; /* header and trailer lines, lower-cased */
} result;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    pg_buf_append(&((result *)ud)->body, p, sz * n);
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    result *r = ud;
    for (size_t i = 0; i < sz * n; i++) {
        char c = p[i];
        pg_buf_append(&r->headers, &(char){(char)(c >= 'A' && c <= 'Z' ? c + 32 : c)}, 1);
    }
    return sz * n;
}

static void result_free(result *r)
{
    pg_buf_free(&r->body);
    pg_buf_free(&r->headers);
}

static int has_header(result *r, const char *line)
{
    pg_buf_append(&r->headers, "", 1);
    r->headers.len--;
    return strstr((const char *)r->headers.data, line) != NULL;
}

/* Which server the helpers talk to, and whether to present the client
 * certificate to the mTLS one. */
static int target = SRV_PLAIN;
static int send_client_cert = 1;

static CURL *easy_new(const char *path, long http_version, result *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", fx.base[target], path);
    CURL *e = curl_easy_init();
    if (target != SRV_PLAIN)
        curl_easy_setopt(e, CURLOPT_CAINFO, fx.ca);
    if (target == SRV_MTLS && send_client_cert) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, fx.cli_cert);
        curl_easy_setopt(e, CURLOPT_SSLKEY, fx.cli_key);
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, http_version);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    return e;
}

static void finish(CURL *e, result *r)
{
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &r->version);
}

/* One request; headers is a NULL-terminated list. */
static CURLcode try_request(const char *method, const char *path, long http_version,
                            const char *const *headers, const void *body, size_t len, result *r,
                            int expect_ok)
{
    memset(r, 0, sizeof(*r));
    CURL *e = easy_new(path, http_version, r);
    struct curl_slist *sl = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        sl = curl_slist_append(sl, headers[i]);
    sl = curl_slist_append(sl, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode rc = curl_easy_perform(e);
    if (rc != CURLE_OK && expect_ok)
        fprintf(stderr, "curl %s %s: %s\n", method, path, curl_easy_strerror(rc));
    finish(e, r);
    curl_slist_free_all(sl);
    curl_easy_cleanup(e);
    return rc;
}

static void request(const char *method, const char *path, long http_version,
                    const char *const *headers, const void *body, size_t len, result *r)
{
    assert_int_equal(try_request(method, path, http_version, headers, body, len, r, 1), CURLE_OK);
}

static void gzip_buf(pg_buf *out, const void *in, size_t len, size_t repeat)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
    uint8_t chunk[16 * 1024];
    for (size_t i = 0; i < repeat; i++) {
        zs.next_in = (Bytef *)in;
        zs.avail_in = (uInt)len;
        int flush = i + 1 == repeat ? Z_FINISH : Z_NO_FLUSH, rc;
        do {
            zs.next_out = chunk;
            zs.avail_out = sizeof(chunk);
            rc = deflate(&zs, flush);
            pg_buf_append(out, chunk, sizeof(chunk) - zs.avail_out);
        } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    }
    deflateEnd(&zs);
}

static void grpc_frame(pg_buf *out, int compressed, const void *msg, size_t len)
{
    uint8_t p[5] = {(uint8_t)compressed, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                    (uint8_t)(len >> 8), (uint8_t)len};
    pg_buf_append(out, p, 5);
    pg_buf_append(out, msg, len);
}

/* ---- HTTP/1.1 ---- */

static void test_h1_gzip_post(void **state)
{
    const char *text = "profile bytes, profile bytes, profile bytes; ";
    pg_buf plain, gz;
    pg_buf_init(&plain);
    pg_buf_init(&gz);
    for (int i = 0; i < 2000; i++)
        pg_buf_append_str(&plain, text);
    gzip_buf(&gz, plain.data, plain.len, 1);
    const char *h[] = {"Content-Encoding: gzip", "Content-Type: application/x-protobuf", NULL};
    result r;
    request("POST", "/echo?tag=a%20b", CURL_HTTP_VERSION_1_1, h, gz.data, gz.len, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.version, CURL_HTTP_VERSION_1_1);
    assert_int_equal(r.body.len, plain.len);
    assert_memory_equal(r.body.data, plain.data, plain.len);
    assert_true(has_header(&r, "x-tag: a b\r\n"));
    char cl[64];
    snprintf(cl, sizeof(cl), "content-length: %zu\r\n", plain.len);
    assert_true(has_header(&r, cl));
    result_free(&r);
    pg_buf_free(&plain);
    pg_buf_free(&gz);
}

static void test_h1_errors(void **state)
{
    result r;
    const char *br[] = {"Content-Encoding: br", NULL};
    request("POST", "/echo", CURL_HTTP_VERSION_1_1, br, "x", 1, &r);
    assert_int_equal(r.status, 415);
    assert_non_null(memmem(r.body.data, r.body.len, "'br'", 4));
    result_free(&r);

    request("GET", "/nope", CURL_HTTP_VERSION_1_1, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    result_free(&r);

    request("GET", "/echo", CURL_HTTP_VERSION_1_1, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 405);
    assert_true(has_header(&r, "allow: post\r\n"));
    result_free(&r);

    const char *grpc[] = {"Content-Type: application/grpc", NULL};
    request("POST", "/test.Echo/Say", CURL_HTTP_VERSION_1_1, grpc, "\0\0\0\0\0", 5, &r);
    assert_int_equal(r.status, 415);
    assert_non_null(memmem(r.body.data, r.body.len, "HTTP/2", 6));
    result_free(&r);

    /* corrupt gzip */
    const char *gz[] = {"Content-Encoding: gzip", NULL};
    request("POST", "/echo", CURL_HTTP_VERSION_1_1, gz, "\x1f\x8b garbage", 10, &r);
    assert_int_equal(r.status, 400);
    result_free(&r);
}

static void test_h1_limits(void **state)
{
    result r;
    /* a gzip bomb: 64 MiB of zeros, limit 2 MiB */
    uint8_t *zeros = calloc(1, MIB);
    pg_buf bomb;
    pg_buf_init(&bomb);
    gzip_buf(&bomb, zeros, MIB, 64);
    const char *gz[] = {"Content-Encoding: gzip", NULL};
    request("POST", "/echo", CURL_HTTP_VERSION_1_1, gz, bomb.data, bomb.len, &r);
    assert_int_equal(r.status, 413);
    result_free(&r);
    pg_buf_free(&bomb);

    /* a wire body over max_body_bytes (1 MiB) */
    uint8_t *big = calloc(1, 2 * MIB);
    request("POST", "/echo", CURL_HTTP_VERSION_1_1, NULL, big, 2 * MIB, &r);
    assert_int_equal(r.status, 413);
    assert_true(has_header(&r, "connection: close"));
    result_free(&r);

    /* headers over 8 KiB */
    char *hv = malloc(10 * KIB);
    memcpy(hv, "X-Big: ", 7);
    memset(hv + 7, 'a', 9 * KIB);
    hv[7 + 9 * KIB] = '\0';
    const char *h[] = {hv, NULL};
    request("GET", "/hello", CURL_HTTP_VERSION_1_1, h, NULL, 0, &r);
    assert_int_equal(r.status, 431);
    result_free(&r);
    request("GET", "/hello", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, h, NULL, 0, &r);
    assert_int_equal(r.status, 431);
    result_free(&r);
    free(hv);
    free(big);
    free(zeros);
}

static void test_h1_keep_alive_reuses_connection(void **state)
{
    result r;
    memset(&r, 0, sizeof(r));
    CURL *e = easy_new("/hello", CURL_HTTP_VERSION_1_1, &r);
    long connects = -1;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(curl_easy_perform(e), CURLE_OK);
        finish(e, &r);
        assert_int_equal(r.status, 200);
        curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
        assert_int_equal(connects, i == 0 ? 1 : 0);
    }
    assert_int_equal(r.body.len, 3 * strlen("hello over HTTP/1"));
    curl_easy_cleanup(e);
    result_free(&r);
}

/* ---- HTTP/2 and gRPC ---- */

static void test_h2_prior_knowledge(void **state)
{
    result r;
    request("GET", "/hello", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.version, CURL_HTTP_VERSION_2_0);
    assert_int_equal(r.body.len, strlen("hello over HTTP/2"));
    assert_memory_equal(r.body.data, "hello over HTTP/2", r.body.len);
    result_free(&r);

    /* zstd body over h2 */
    const char *msg = "zstd over h2, zstd over h2, zstd over h2";
    uint8_t z[256];
    size_t zlen = ZSTD_compress(z, sizeof(z), msg, strlen(msg), 3);
    assert_false(ZSTD_isError(zlen));
    const char *h[] = {"Content-Encoding: zstd", NULL};
    request("POST", "/echo", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, h, z, zlen, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, strlen(msg));
    assert_memory_equal(r.body.data, msg, r.body.len);
    result_free(&r);

    /* a big body flows through the flow-control windows, and is limited */
    uint8_t *big = malloc(MIB);
    memset(big, 'q', MIB);
    request("POST", "/echo", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL, big, MIB, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, MIB);
    result_free(&r);
    uint8_t *too_big = calloc(1, 3 * MIB / 2);
    request("POST", "/echo", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL, too_big, 3 * MIB / 2, &r);
    assert_int_equal(r.status, 413);
    result_free(&r);
    free(too_big);
    free(big);
}

static void grpc_call(const char *path, const char *const *extra, const pg_buf *body, result *r)
{
    const char *h[8] = {"Content-Type: application/grpc", "TE: trailers"};
    size_t n = 2;
    for (size_t i = 0; extra && extra[i] && n < 7; i++)
        h[n++] = extra[i];
    h[n] = NULL;
    request("POST", path, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, h, body->data, body->len, r);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->version, CURL_HTTP_VERSION_2_0);
}

static void test_grpc_unary_ok(void **state)
{
    pg_buf body;
    pg_buf_init(&body);
    grpc_frame(&body, 0, "ping", 4);
    const char *timeout[] = {"grpc-timeout: 5S", NULL};
    result r;
    grpc_call("/test.Echo/Say", timeout, &body, &r);
    assert_true(has_header(&r, "content-type: application/grpc\r\n"));
    assert_true(has_header(&r, "grpc-status: 0\r\n"));
    assert_int_equal(r.body.len, 9);
    assert_memory_equal(r.body.data, "\0\0\0\0\4ping", 9);
    assert_true(last_timeout_ns == 5000000000ull);
    result_free(&r);
    pg_buf_free(&body);

    /* gzip-compressed message */
    pg_buf gz, framed;
    pg_buf_init(&gz);
    pg_buf_init(&framed);
    gzip_buf(&gz, "compressed ping", 15, 1);
    grpc_frame(&framed, 1, gz.data, gz.len);
    const char *enc[] = {"grpc-encoding: gzip", NULL};
    grpc_call("/test.Echo/Say", enc, &framed, &r);
    assert_true(has_header(&r, "grpc-status: 0\r\n"));
    assert_int_equal(r.body.len, 20);
    assert_memory_equal(r.body.data + 5, "compressed ping", 15);
    result_free(&r);
    pg_buf_free(&gz);
    pg_buf_free(&framed);
}

static void expect_grpc_status(const char *path, const char *const *extra, const pg_buf *body,
                               const char *status_line, const char *message_part)
{
    result r;
    grpc_call(path, extra, body, &r);
    assert_true(has_header(&r, status_line));
    if (message_part)
        assert_true(has_header(&r, message_part));
    assert_int_equal(r.body.len, 0); /* errors are trailers-only */
    result_free(&r);
}

static void test_grpc_errors(void **state)
{
    pg_buf ping, fail, two, flagged, empty;
    pg_buf_init(&ping);
    pg_buf_init(&fail);
    pg_buf_init(&two);
    pg_buf_init(&flagged);
    pg_buf_init(&empty);
    grpc_frame(&ping, 0, "ping", 4);
    grpc_frame(&fail, 0, "fail", 4);
    grpc_frame(&two, 0, "a", 1);
    grpc_frame(&two, 0, "b", 1);
    grpc_frame(&flagged, 1, "ping", 4);

    expect_grpc_status("/test.Echo/Say", NULL, &fail, "grpc-status: 3\r\n",
                       "grpc-message: bad input: 50%25 %c3%a9\r\n");
    expect_grpc_status("/test.Echo/Nope", NULL, &ping, "grpc-status: 12\r\n", "nope");
    const char *snappy[] = {"grpc-encoding: snappy", NULL};
    expect_grpc_status("/test.Echo/Say", snappy, &ping, "grpc-status: 12\r\n", "snappy");
    expect_grpc_status("/test.Echo/Say", NULL, &flagged, "grpc-status: 13\r\n", NULL);
    expect_grpc_status("/test.Echo/Say", NULL, &two, "grpc-status: 12\r\n", NULL);
    expect_grpc_status("/test.Echo/Say", NULL, &empty, "grpc-status: 3\r\n", NULL);
    const char *past[] = {"grpc-timeout: 1n", NULL};
    expect_grpc_status("/test.Echo/Say", past, &ping, "grpc-status: 4\r\n", NULL);
    const char *gz[] = {"grpc-encoding: gzip", NULL};
    expect_grpc_status("/test.Echo/Say", gz, &flagged, "grpc-status: 13\r\n", NULL);

    /* message over max_body_bytes: RESOURCE_EXHAUSTED */
    pg_buf big;
    pg_buf_init(&big);
    uint8_t *zeros = calloc(1, 3 * MIB / 2);
    grpc_frame(&big, 0, zeros, 3 * MIB / 2);
    expect_grpc_status("/test.Echo/Say", NULL, &big, "grpc-status: 8\r\n", NULL);
    free(zeros);
    pg_buf_free(&big);
    pg_buf_free(&ping);
    pg_buf_free(&fail);
    pg_buf_free(&two);
    pg_buf_free(&flagged);
    pg_buf_free(&empty);
}

/* 50 gRPC calls multiplexed on one HTTP/2 connection. Over TLS (ALPN h2):
 * libcurl 7.88 cannot multiplex on a prior-knowledge h2c connection (curl
 * issue 10634, fixed in 8.0); h2c multiplexing is covered by h2load, see
 * docs/transport.md. */
static void test_h2_many_streams_one_connection(void **state)
{
    enum { N = 50 };
    target = SRV_TLS;
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
    static result res[N];
    static pg_buf bodies[N];
    CURL *easies[N];
    struct curl_slist *sl = NULL;
    sl = curl_slist_append(sl, "Content-Type: application/grpc");
    sl = curl_slist_append(sl, "TE: trailers");
    for (int i = 0; i < N; i++) {
        memset(&res[i], 0, sizeof(res[i]));
        pg_buf_init(&bodies[i]);
        char msg[32];
        int n = snprintf(msg, sizeof(msg), "call-%d", i);
        grpc_frame(&bodies[i], 0, msg, (size_t)n);
        easies[i] = easy_new("/test.Echo/Say", CURL_HTTP_VERSION_2TLS, &res[i]);
        curl_easy_setopt(easies[i], CURLOPT_HTTPHEADER, sl);
        curl_easy_setopt(easies[i], CURLOPT_POSTFIELDS, bodies[i].data);
        curl_easy_setopt(easies[i], CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodies[i].len);
        curl_easy_setopt(easies[i], CURLOPT_PIPEWAIT, 1L);
        curl_multi_add_handle(m, easies[i]);
    }
    int running = 1;
    while (running) {
        assert_int_equal(curl_multi_perform(m, &running), CURLM_OK);
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
        if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK)
            fprintf(stderr, "curl multi: %s\n", curl_easy_strerror(msg->data.result));
        assert_int_equal(msg->data.result, CURLE_OK);
    }
    long connects = 0;
    for (int i = 0; i < N; i++) {
        long c = 0;
        finish(easies[i], &res[i]);
        curl_easy_getinfo(easies[i], CURLINFO_NUM_CONNECTS, &c);
        connects += c;
        assert_int_equal(res[i].status, 200);
        assert_int_equal(res[i].version, CURL_HTTP_VERSION_2_0);
        assert_true(has_header(&res[i], "grpc-status: 0\r\n"));
        assert_int_equal(res[i].body.len, bodies[i].len);
        assert_memory_equal(res[i].body.data, bodies[i].data, bodies[i].len);
        curl_multi_remove_handle(m, easies[i]);
        curl_easy_cleanup(easies[i]);
        result_free(&res[i]);
        pg_buf_free(&bodies[i]);
    }
    assert_int_equal(connects, 1);
    curl_slist_free_all(sl);
    curl_multi_cleanup(m);
    target = SRV_PLAIN;
}

/* ---- TLS ---- */

static void test_tls_alpn(void **state)
{
    target = SRV_TLS;
    result r;
    request("GET", "/hello", CURL_HTTP_VERSION_2TLS, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.version, CURL_HTTP_VERSION_2_0);
    assert_memory_equal(r.body.data, "hello over HTTP/2", r.body.len);
    result_free(&r);
    request("GET", "/hello", CURL_HTTP_VERSION_1_1, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.version, CURL_HTTP_VERSION_1_1);
    assert_memory_equal(r.body.data, "hello over HTTP/1", r.body.len);
    result_free(&r);
    pg_buf body;
    pg_buf_init(&body);
    grpc_frame(&body, 0, "tls ping", 8);
    const char *h[] = {"Content-Type: application/grpc", "TE: trailers", NULL};
    request("POST", "/test.Echo/Say", CURL_HTTP_VERSION_2TLS, h, body.data, body.len, &r);
    assert_true(has_header(&r, "grpc-status: 0\r\n"));
    assert_int_equal(r.body.len, body.len);
    result_free(&r);
    pg_buf_free(&body);
    target = SRV_PLAIN;
}

static void test_mtls_requires_client_certificate(void **state)
{
    target = SRV_MTLS;
    result r;
    request("POST", "/echo", CURL_HTTP_VERSION_2TLS, NULL, "with cert", 9, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body.data, "with cert", 9);
    result_free(&r);
    send_client_cert = 0;
    CURLcode rc = try_request("POST", "/echo", CURL_HTTP_VERSION_2TLS, NULL, "no cert", 7, &r, 0);
    assert_int_not_equal(rc, CURLE_OK);
    assert_int_equal(r.status, 0);
    result_free(&r);
    send_client_cert = 1;
    target = SRV_PLAIN;
}

/* ---- raw sockets ---- */

static int raw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx.port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Reads until the peer closes or `ms` pass without data; returns bytes read,
 * *closed tells whether the peer closed. */
static size_t raw_read(int fd, char *buf, size_t cap, int ms, int *closed)
{
    size_t got = 0;
    *closed = 0;
    while (got < cap - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, ms) <= 0)
            break;
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n <= 0) {
            *closed = 1;
            break;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got;
}

static void test_h1_pipelining_in_order(void **state)
{
    int fd = raw_connect();
    const char *reqs = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
                       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "6\r\nsecond\r\n0\r\n\r\n"
                       "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(fd, reqs, strlen(reqs), 0), (ssize_t)strlen(reqs));
    char buf[4096];
    int closed;
    raw_read(fd, buf, sizeof(buf), 2000, &closed);
    assert_true(closed);
    char *a = strstr(buf, "hello over HTTP/1");
    char *b = strstr(buf, "first");
    char *c = strstr(buf, "second");
    char *d = a ? strstr(a + 1, "hello over HTTP/1") : NULL;
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    assert_true(a < b && b < c && c < d);
    assert_non_null(strstr(c, "Connection: close\r\n"));
    close(fd);
}

static void test_h1_bad_request_closes(void **state)
{
    int fd = raw_connect();
    const char *junk = "this is not http\r\n\r\n";
    send(fd, junk, strlen(junk), 0);
    char buf[2048];
    int closed;
    raw_read(fd, buf, sizeof(buf), 2000, &closed);
    assert_true(closed);
    assert_int_equal(strncmp(buf, "HTTP/1.1 400 ", 13), 0);
    close(fd);
}

static void test_idle_and_read_timeouts(void **state)
{
    int idle = raw_connect();
    int slow = raw_connect();
    const char *part = "POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";
    send(slow, part, strlen(part), 0);
    char buf[256];
    int closed;
    /* both are closed after about a second (the configured timeouts) */
    size_t n = raw_read(idle, buf, sizeof(buf), 3000, &closed);
    assert_true(closed);
    assert_int_equal(n, 0);
    raw_read(slow, buf, sizeof(buf), 3000, &closed);
    assert_true(closed);
    close(idle);
    close(slow);
}

/* Stopping the worker closes idle connections at once, lets a request in
 * flight finish (answered with Connection: close) and stops accepting. The
 * timeouts are long here, so only the stop can explain prompt closes. */
static void test_stop_drains_connections(void **state)
{
    int idle = raw_connect();
    int busy = raw_connect();
    const char *head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab";
    send(busy, head, strlen(head), 0);
    usleep(200 * 1000); /* let the loop accept and parse */
    stop_worker();
    char buf[1024];
    int closed;
    size_t n = raw_read(idle, buf, sizeof(buf), 1000, &closed);
    assert_true(closed);
    assert_int_equal(n, 0);
    send(busy, "cde", 3, 0);
    raw_read(busy, buf, sizeof(buf), 2000, &closed);
    assert_true(closed);
    assert_int_equal(strncmp(buf, "HTTP/1.1 200 ", 13), 0);
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\nabcde"));
    /* no longer listening */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx.port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_not_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    close(fd);
    close(idle);
    close(busy);
}

/* Two workers bind the same port (SO_REUSEPORT), also when it was 0; the
 * endpoint forms host:port, [v6]:port and hostnames resolve. No traffic: the
 * loops only run to finish closing. */
static void check_two_workers(const char *endpoint, int must_work)
{
    pg_http_server_config cfg = {.endpoint = endpoint};
    pg_error err = {0};
    pg_http_server *s = pg_http_server_new(&cfg, &err);
    assert_non_null(s);
    uv_loop_t loops[2];
    pg_worker workers[2];
    for (int i = 0; i < 2; i++) {
        uv_loop_init(&loops[i]);
        workers[i] = (pg_worker){.id = i, .loop = &loops[i]};
    }
    int rc = pg_http_server_worker_start(s, &workers[0], &err);
    if (rc != 0 && !must_work) {
        fprintf(stderr, "skipping %s: %s\n", endpoint, err.msg);
    } else {
        assert_int_equal(rc, 0);
        const char *ep = pg_http_server_endpoint(s);
        int port = port_of(s);
        assert_true(port > 0);
        assert_int_equal(pg_http_server_worker_start(s, &workers[1], &err), 0);
        assert_int_equal(port_of(s), port);
        assert_ptr_equal(ep, pg_http_server_endpoint(s));
        /* the same worker twice is refused */
        assert_int_not_equal(pg_http_server_worker_start(s, &workers[1], &err), 0);
    }
    for (int i = 0; i < 2; i++) {
        pg_http_server_worker_stop(s, &workers[i]);
        pg_http_server_worker_stop(s, &workers[i]); /* twice is harmless */
        uv_run(&loops[i], UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&loops[i]), 0);
    }
    pg_http_server_free(s);
}

static void test_workers_share_port(void **state)
{
    check_two_workers("127.0.0.1:0", 1);
    check_two_workers("localhost:0", 1);
    check_two_workers("[::1]:0", 0); /* IPv6 may be off in containers */
    pg_error err = {0};
    pg_http_server_config bad = {.endpoint = "no-port-here"};
    pg_http_server *s = pg_http_server_new(&bad, &err);
    assert_non_null(s); /* the endpoint is resolved when a worker starts */
    uv_loop_t loop;
    uv_loop_init(&loop);
    pg_worker w = {.id = 0, .loop = &loop};
    assert_int_equal(pg_http_server_worker_start(s, &w, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no-port-here"));
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    pg_http_server_free(s);
    pg_http_server_config none = {0};
    assert_null(pg_http_server_new(&none, &err));
}

static int setup_long_timeouts(void **state)
{
    fixture_timeout_ms = 10000;
    int rc = setup(state);
    fixture_timeout_ms = 1000;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h1_gzip_post),
        cmocka_unit_test(test_h1_errors),
        cmocka_unit_test(test_h1_limits),
        cmocka_unit_test(test_h1_keep_alive_reuses_connection),
        cmocka_unit_test(test_h2_prior_knowledge),
        cmocka_unit_test(test_grpc_unary_ok),
        cmocka_unit_test(test_grpc_errors),
        cmocka_unit_test(test_h2_many_streams_one_connection),
        cmocka_unit_test(test_tls_alpn),
        cmocka_unit_test(test_mtls_requires_client_certificate),
        cmocka_unit_test(test_h1_pipelining_in_order),
        cmocka_unit_test(test_h1_bad_request_closes),
        cmocka_unit_test(test_idle_and_read_timeouts),
    };
    const struct CMUnitTest stop_tests[] = {
        cmocka_unit_test(test_stop_drains_connections),
    };
    const struct CMUnitTest standalone[] = {
        cmocka_unit_test(test_workers_share_port),
    };
    int failed = cmocka_run_group_tests(standalone, NULL, NULL);
    failed += cmocka_run_group_tests(tests, setup, teardown);
    failed += cmocka_run_group_tests(stop_tests, setup_long_timeouts, teardown);
    return failed;
}
