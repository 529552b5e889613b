/*
 * The HTTP client against profgate's own server on another thread: HTTP/1.1
 * and h2c round trips, gRPC trailers, connection errors, timeouts, response
 * limits, closing with requests in flight, auth and custom headers, and TLS
 * (CA verification, a wrong CA, skip-verify, name override, mTLS) with
 * certificates made by the openssl command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>

#include "common/buf.h"
#include "telemetry/log.h"
#include "test_http_client_server.h"
#include "transport/http_client.h"

enum { SRV_PLAIN, SRV_TLS, SRV_MTLS };

static test_server ts;
static char base[3][64];
static char dir[64];
static char ca[96], ca_key[96], other_ca[96], other_ca_key[96];
static char srv_cert[96], srv_key[96], cli_cert[96], cli_key[96];

/* What the last request to /echo carried (written on the server thread). */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static char seen[8][160];
static const char *const seen_names[8] = {"authorization", "x-custom", "content-type", "x-tenant",
                                          "x-empty",       "expect",   "user-agent",   "x-peer"};

/* ---- handlers ---- */

static void echo_handler(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    pthread_mutex_lock(&seen_mu);
    for (int i = 0; i < 7; i++) {
        const char *v = pg_http_request_header(req, seen_names[i]);
        snprintf(seen[i], sizeof(seen[i]), "%s", v ? (*v ? v : "(empty)") : "(absent)");
    }
    snprintf(seen[7], sizeof(seen[7]), "%s", req->remote_addr ? req->remote_addr : "");
    pthread_mutex_unlock(&seen_mu);
    resp->content_type = "application/octet-stream";
    pg_buf_append(&resp->body, req->body, req->body_len);
    char len[32];
    snprintf(len, sizeof(len), "%zu", req->body_len);
    pg_http_response_add_header(req, resp, "X-Echo-Len", len);
}

static void slow_handler(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    usleep(500 * 1000);
    pg_buf_append_str(&resp->body, "late");
}

static void big_handler(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    for (int i = 0; i < 64; i++)
        pg_buf_printf(&resp->body, "%01000d", i);
}

static void grpc_echo(void *ctx, pg_http_request *req, pg_grpc_response *resp)
{
    if (req->body_len == 4 && memcmp(req->body, "fail", 4) == 0) {
        resp->status = PG_GRPC_INVALID_ARGUMENT;
        resp->message = "no good";
        return;
    }
    pg_buf_append(&resp->body, req->body, req->body_len);
}

static const char *seen_value(int i)
{
    static char copy[160];
    pthread_mutex_lock(&seen_mu);
    memcpy(copy, seen[i], sizeof(copy));
    pthread_mutex_unlock(&seen_mu);
    return copy;
}

/* ---- certificates, made with the openssl command ---- */

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "failed (%d): %s\n", rc, cmd);
    assert_int_equal(rc, 0);
}

static void make_ca(const char *cert, const char *key, const char *cn)
{
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
       "-subj '/CN=%s' -keyout %s -out %s 2>/dev/null",
       cn, key, cert);
}

static void make_leaf(const char *cert, const char *key, const char *cn, const char *ext)
{
    sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=%s' "
       "-keyout %s -out %s/req.csr 2>/dev/null",
       cn, key, dir);
    sh("printf '%s\\n' > %s/ext.cnf", ext, dir);
    sh("openssl x509 -req -in %s/req.csr -CA %s -CAkey %s -CAcreateserial -days 1 "
       "-extfile %s/ext.cnf -out %s 2>/dev/null",
       dir, ca, ca_key, dir, cert);
}

static void make_certificates(void)
{
    snprintf(dir, sizeof(dir), "/tmp/pg_client_tls_XXXXXX");
    assert_non_null(mkdtemp(dir));
#define PATH(var, name) snprintf(var, sizeof(var), "%s/" name, dir)
    PATH(ca, "ca.pem");
    PATH(ca_key, "ca.key");
    PATH(other_ca, "other_ca.pem");
    PATH(other_ca_key, "other_ca.key");
    PATH(srv_cert, "server.pem");
    PATH(srv_key, "server.key");
    PATH(cli_cert, "client.pem");
    PATH(cli_key, "client.key");
#undef PATH
    make_ca(ca, ca_key, "profgate client test CA");
    make_ca(other_ca, other_ca_key, "some other CA");
    make_leaf(srv_cert, srv_key, "localhost",
              "basicConstraints=CA:FALSE\\nsubjectAltName=IP:127.0.0.1,DNS:localhost");
    make_leaf(cli_cert, cli_key, "test client",
              "basicConstraints=CA:FALSE\\nextendedKeyUsage=clientAuth");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- fixture ---- */

static int setup(void **state)
{
    signal(SIGPIPE, SIG_IGN); /* as pipeline/service.c does */
    if (getenv("PG_TEST_DEBUG"))
        pg_log_set_level(PG_LOG_DEBUG);
    make_certificates();
    pg_http_server *s[3];
    s[SRV_PLAIN] = ts_add(&ts, "127.0.0.1:0", (pg_tls_server_config){0});
    s[SRV_TLS] = ts_add(&ts, "127.0.0.1:0", (pg_tls_server_config){srv_cert, srv_key, NULL});
    s[SRV_MTLS] = ts_add(&ts, "127.0.0.1:0", (pg_tls_server_config){srv_cert, srv_key, ca});
    for (int i = 0; i < 3; i++) {
        assert_non_null(s[i]);
        assert_int_equal(pg_http_server_route(s[i], "POST", "/echo", echo_handler, NULL), 0);
        assert_int_equal(pg_http_server_route(s[i], "POST", "/slow", slow_handler, NULL), 0);
        assert_int_equal(pg_http_server_route(s[i], "POST", "/big", big_handler, NULL), 0);
        assert_int_equal(pg_http_server_grpc_route(s[i], "/test.Echo/Call", grpc_echo, NULL), 0);
    }
    assert_int_equal(ts_start(&ts), 0);
    snprintf(base[SRV_PLAIN], sizeof(base[0]), "http://127.0.0.1:%d", ts_port(s[SRV_PLAIN]));
    snprintf(base[SRV_TLS], sizeof(base[0]), "https://127.0.0.1:%d", ts_port(s[SRV_TLS]));
    snprintf(base[SRV_MTLS], sizeof(base[0]), "https://127.0.0.1:%d", ts_port(s[SRV_MTLS]));
    return 0;
}

static int teardown(void **state)
{
    ts_stop(&ts);
    sh("rm -rf %s", dir);
    return 0;
}

/* ---- client helpers ---- */

typedef struct call {
    int done;
    pg_http_outcome outcome;
    int status, http_major;
    pg_buf body;
    char error[256];
    char grpc_status[16], grpc_message[64], echo_len[16];
} call;

static void on_done(void *arg, const pg_http_client_response *r)
{
    call *c = arg;
    c->done++;
    c->outcome = r->outcome;
    c->status = r->status;
    c->http_major = r->http_major;
    pg_buf_append(&c->body, r->body, r->body_len);
    snprintf(c->error, sizeof(c->error), "%s", r->error);
    const char *v = pg_http_client_response_header(r, "grpc-status");
    snprintf(c->grpc_status, sizeof(c->grpc_status), "%s", v ? v : "");
    v = pg_http_client_response_header(r, "grpc-message");
    snprintf(c->grpc_message, sizeof(c->grpc_message), "%s", v ? v : "");
    v = pg_http_client_response_header(r, "X-ECHO-LEN");
    snprintf(c->echo_len, sizeof(c->echo_len), "%s", v ? v : "");
}

static int call_done(void *arg)
{
    return ((call *)arg)->done > 0;
}

typedef struct client_env {
    uv_loop_t loop;
    pg_http_target *target;
    pg_http_client *client;
} client_env;

static void env_open(client_env *e, const pg_http_target_opts *o)
{
    pg_error err = {0};
    assert_int_equal(uv_loop_init(&e->loop), 0);
    int rc = pg_http_target_new(o, &e->target, &err);
    if (rc != 0)
        fprintf(stderr, "target: %s\n", err.msg);
    assert_int_equal(rc, 0);
    e->client = pg_http_client_new(&e->loop, e->target, &err);
    assert_non_null(e->client);
}

static void env_close(client_env *e)
{
    pg_http_client_close(e->client);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0); /* every handle was closed */
    pg_http_target_free(e->target);
}

static void do_call(client_env *e, const pg_http_client_request *req, call *c)
{
    pg_error err = {0};
    memset(c, 0, sizeof(*c));
    pg_buf_init(&c->body);
    assert_int_equal(pg_http_client_send(e->client, req, on_done, c, &err), 0);
    assert_int_equal(c->done, 0); /* never from inside send */
    assert_true(ts_run_until(&e->loop, call_done, c, 10000));
    assert_int_equal(c->done, 1);
}

static void one_call(const pg_http_target_opts *o, const pg_http_client_request *req, call *c)
{
    client_env e;
    env_open(&e, o);
    do_call(&e, req, c);
    env_close(&e);
}

static pg_http_client_request echo_request(void)
{
    return (pg_http_client_request){.path = "/echo",
                                    .content_type = "application/x-test",
                                    .body = (const uint8_t *)"hello",
                                    .body_len = 5,
                                    .timeout_ms = 5000};
}

/* ---- tests ---- */

static void test_h1_round_trip_and_reuse(void **state)
{
    char *keys[] = {"X-Custom"}, *values[] = {"custom-value"};
    pg_str_map headers = {keys, values, 1};
    pg_http_target_opts o = {.endpoint = base[SRV_PLAIN], .headers = &headers};
    pg_http_header extra[] = {{"X-Tenant", "tenant-a"}, {"X-Empty", ""}};
    pg_http_client_request req = echo_request();
    req.headers = extra;
    req.n_headers = 2;
    client_env e;
    env_open(&e, &o);
    call c;
    do_call(&e, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.http_major, 1);
    assert_int_equal(c.body.len, 5);
    assert_memory_equal(c.body.data, "hello", 5);
    assert_string_equal(c.echo_len, "5"); /* header names looked up case-insensitively */
    assert_string_equal(seen_value(1), "custom-value");
    assert_string_equal(seen_value(2), "application/x-test");
    assert_string_equal(seen_value(3), "tenant-a");
    assert_string_equal(seen_value(4), "(empty)");
    assert_string_equal(seen_value(5), "(absent)"); /* no Expect: 100-continue */
    assert_true(strncmp(seen_value(6), "profgate/", 9) == 0);
    char peer[160];
    snprintf(peer, sizeof(peer), "%s", seen_value(7));
    pg_buf_free(&c.body);
    assert_int_equal(pg_http_client_active(e.client), 0);
    do_call(&e, &req, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(seen_value(7), peer); /* same connection, kept alive */
    pg_buf_free(&c.body);
    env_close(&e);
}

static void grpc_frame(pg_buf *b, const char *msg)
{
    uint8_t hdr[5] = {0};
    size_t n = strlen(msg);
    hdr[1] = (uint8_t)(n >> 24);
    hdr[2] = (uint8_t)(n >> 16);
    hdr[3] = (uint8_t)(n >> 8);
    hdr[4] = (uint8_t)n;
    pg_buf_append(b, hdr, 5);
    pg_buf_append(b, msg, n);
}

static void grpc_call(client_env *e, const char *msg, call *c)
{
    pg_buf body;
    pg_buf_init(&body);
    grpc_frame(&body, msg);
    pg_http_header h[] = {{"TE", "trailers"}};
    pg_http_client_request req = {.path = "/test.Echo/Call",
                                  .content_type = "application/grpc",
                                  .headers = h,
                                  .n_headers = 1,
                                  .body = body.data,
                                  .body_len = body.len,
                                  .timeout_ms = 5000};
    do_call(e, &req, c);
    pg_buf_free(&body);
}

static void test_h2c_and_grpc_trailers(void **state)
{
    pg_http_target_opts o = {.endpoint = base[SRV_PLAIN], .http2 = 1};
    client_env e;
    env_open(&e, &o);
    pg_http_client_request req = echo_request();
    call c;
    do_call(&e, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_int_equal(c.http_major, 2);
    assert_int_equal(c.status, 200);
    pg_buf_free(&c.body);

    grpc_call(&e, "ping", &c);
    assert_int_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.grpc_status, "0"); /* from the trailers */
    assert_int_equal(c.body.len, 9);
    assert_memory_equal(c.body.data + 5, "ping", 4);
    pg_buf_free(&c.body);

    grpc_call(&e, "fail", &c);
    assert_int_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_string_equal(c.grpc_status, "3");
    assert_string_equal(c.grpc_message, "no good");
    pg_buf_free(&c.body);
    env_close(&e);
}

static void test_connection_refused(void **state)
{
    char ep[64];
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", ts_free_port());
    pg_http_target_opts o = {.endpoint = ep};
    pg_http_client_request req = echo_request();
    call c;
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_CONNECT_ERROR);
    assert_true(strlen(c.error) > 0);
    pg_buf_free(&c.body);
}

static void test_timeout(void **state)
{
    pg_http_target_opts o = {.endpoint = base[SRV_PLAIN]};
    pg_http_client_request req = echo_request();
    req.path = "/slow";
    req.timeout_ms = 150;
    uint64_t t0 = pg_now_ms();
    call c;
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_TIMEOUT);
    assert_true(pg_now_ms() - t0 < 450);
    assert_true(strlen(c.error) > 0);
    pg_buf_free(&c.body);
}

static void test_max_response_bytes(void **state)
{
    pg_http_target_opts o = {.endpoint = base[SRV_PLAIN]};
    pg_http_client_request req = echo_request();
    req.path = "/big";
    req.max_response_bytes = 1000;
    call c;
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_TRANSPORT_ERROR);
    assert_non_null(strstr(c.error, "larger than 1000 bytes"));
    pg_buf_free(&c.body);
    req.max_response_bytes = 0; /* 1 MiB by default: 64000 bytes fit */
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_int_equal(c.body.len, 64000);
    pg_buf_free(&c.body);
}

static void test_close_aborts_in_flight(void **state)
{
    pg_http_target_opts o = {.endpoint = base[SRV_PLAIN], .http2 = 1};
    client_env e;
    env_open(&e, &o);
    pg_http_client_request req = echo_request();
    req.path = "/slow";
    call c[3];
    pg_error err = {0};
    for (int i = 0; i < 3; i++) {
        memset(&c[i], 0, sizeof(c[i]));
        assert_int_equal(pg_http_client_send(e.client, &req, on_done, &c[i], &err), 0);
    }
    ts_run_for(&e.loop, 50);
    assert_int_equal(pg_http_client_active(e.client), 3);
    pg_http_client_close(e.client);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c[i].done, 1);
        assert_int_equal(c[i].outcome, PG_HTTP_ABORTED);
        pg_buf_free(&c[i].body);
    }
    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e.loop), 0);
    pg_http_target_free(e.target);
    usleep(600 * 1000); /* let the server finish its slow handlers */
}

static void test_basic_and_bearer_auth(void **state)
{
    pg_http_client_request req = echo_request();
    call c;
    pg_http_target_opts o = {.endpoint = base[SRV_PLAIN],
                             .auth = {.username = "user", .password = "secret"}};
    one_call(&o, &req, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(seen_value(0), "Basic dXNlcjpzZWNyZXQ="); /* user:secret */
    pg_buf_free(&c.body);

    char token_file[128], pw_file[128];
    snprintf(token_file, sizeof(token_file), "%s/token", dir);
    snprintf(pw_file, sizeof(pw_file), "%s/password", dir);
    write_file(token_file, "  tok-123\n");
    o = (pg_http_target_opts){.endpoint = base[SRV_PLAIN],
                              .auth = {.bearer_token_file = token_file}};
    one_call(&o, &req, &c);
    assert_string_equal(seen_value(0), "Bearer tok-123");
    pg_buf_free(&c.body);

    write_file(pw_file, "secret\n");
    o = (pg_http_target_opts){.endpoint = base[SRV_PLAIN],
                              .auth = {.username = "user", .password_file = pw_file}};
    one_call(&o, &req, &c);
    assert_string_equal(seen_value(0), "Basic dXNlcjpzZWNyZXQ=");
    pg_buf_free(&c.body);

    write_file(token_file, "\n");
    o = (pg_http_target_opts){.endpoint = base[SRV_PLAIN],
                              .auth = {.bearer_token_file = token_file}};
    pg_http_target *t = NULL;
    pg_error err = {0};
    assert_int_not_equal(pg_http_target_new(&o, &t, &err), 0);
    assert_null(t);
    assert_non_null(strstr(err.msg, token_file));
    assert_non_null(strstr(err.msg, "empty"));
}

static void test_target_endpoints_and_errors(void **state)
{
    pg_http_target *t = NULL;
    pg_error err = {0};
    pg_http_target_opts o = {.endpoint = "127.0.0.1:4317", .tls.insecure_skip_verify = 1};
    assert_int_equal(pg_http_target_new(&o, &t, &err), 0);
    assert_string_equal(pg_http_target_url(t), "https://127.0.0.1:4317");
    assert_int_equal(pg_http_target_tls(t), 1);
    pg_http_target_free(t);

    o = (pg_http_target_opts){.endpoint = "localhost:4040", .tls.insecure = 1};
    assert_int_equal(pg_http_target_new(&o, &t, &err), 0);
    assert_string_equal(pg_http_target_url(t), "http://localhost:4040");
    assert_int_equal(pg_http_target_tls(t), 0);
    pg_http_target_free(t);

    o = (pg_http_target_opts){.endpoint = "http://h:1/prefix/"};
    assert_int_equal(pg_http_target_new(&o, &t, &err), 0);
    assert_string_equal(pg_http_target_url(t), "http://h:1/prefix");
    pg_http_target_free(t);

    o = (pg_http_target_opts){.endpoint = "ftp://h:1"};
    assert_int_not_equal(pg_http_target_new(&o, &t, &err), 0);
    assert_non_null(strstr(err.msg, "ftp://h:1"));

    o = (pg_http_target_opts){.endpoint = "https://h:1", .tls.ca_file = "/nonexistent/ca.pem"};
    assert_int_not_equal(pg_http_target_new(&o, &t, &err), 0);
    assert_non_null(strstr(err.msg, "/nonexistent/ca.pem"));

    o = (pg_http_target_opts){.endpoint = "https://h:1", .tls.ca_file = srv_key};
    assert_int_not_equal(pg_http_target_new(&o, &t, &err), 0);
    assert_non_null(strstr(err.msg, "not PEM"));
}

static void test_tls_verification(void **state)
{
    pg_http_client_request req = echo_request();
    call c;
    pg_http_target_opts o = {.endpoint = base[SRV_TLS], .tls.ca_file = ca};
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.http_major, 2); /* ALPN picked h2 */
    pg_buf_free(&c.body);

    o.tls.ca_file = other_ca;
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_TLS_ERROR);
    assert_true(strlen(c.error) > 0);
    pg_buf_free(&c.body);

    o.tls.insecure_skip_verify = 1;
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_int_equal(c.status, 200);
    pg_buf_free(&c.body);
}

static void test_tls_server_name_override(void **state)
{
    pg_http_client_request req = echo_request();
    call c;
    char ep[64];
    snprintf(ep, sizeof(ep), "127.0.0.1:%d", ts_port(ts.srv[SRV_TLS])); /* TLS without scheme */
    pg_http_target_opts o = {.endpoint = ep,
                             .tls = {.ca_file = ca, .server_name_override = "localhost"}};
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_int_equal(c.status, 200);
    pg_buf_free(&c.body);

    o.tls.server_name_override = "wrong.example";
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_TLS_ERROR);
    pg_buf_free(&c.body);
}

static void test_mtls(void **state)
{
    pg_http_client_request req = echo_request();
    call c;
    pg_http_target_opts o = {.endpoint = base[SRV_MTLS],
                             .tls = {.ca_file = ca, .cert_file = cli_cert, .key_file = cli_key}};
    one_call(&o, &req, &c);
    assert_int_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_int_equal(c.status, 200);
    pg_buf_free(&c.body);

    o.tls.cert_file = o.tls.key_file = NULL;
    one_call(&o, &req, &c);
    assert_int_not_equal(c.outcome, PG_HTTP_RESPONSE);
    assert_true(strlen(c.error) > 0);
    pg_buf_free(&c.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h1_round_trip_and_reuse),
        cmocka_unit_test(test_h2c_and_grpc_trailers),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_max_response_bytes),
        cmocka_unit_test(test_close_aborts_in_flight),
        cmocka_unit_test(test_basic_and_bearer_auth),
        cmocka_unit_test(test_target_endpoints_and_errors),
        cmocka_unit_test(test_tls_verification),
        cmocka_unit_test(test_tls_server_name_override),
        cmocka_unit_test(test_mtls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
