/*
 * The delivery chain against a scripted server (profgate's HTTP server on
 * its own thread): retries, Retry-After, permanent failures, connection
 * refused, timeouts, the full-queue policies, max_elapsed_time and the
 * drain. Every test checks the metrics and that sent + failed + dropped
 * equals what was accepted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>

#include "exporters/common/delivery.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "test_http_client_server.h"

/* ---- the scripted server ---- */

typedef struct step {
    int status;
    const char *retry_after;
    int delay_ms;
    const char *body;
} step;

static test_server ts;
static char endpoint[64];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static step script[8];
static int n_script, pos, after_status;
static int hits;
static uint64_t hit_ms[32];
static char tenant_seen[64];

static void set_script(const step *steps, int n, int then)
{
    pthread_mutex_lock(&mu);
    if (n)
        memcpy(script, steps, (size_t)n * sizeof(*steps));
    n_script = n;
    pos = 0;
    after_status = then;
    hits = 0;
    tenant_seen[0] = '\0';
    pthread_mutex_unlock(&mu);
}

static int hit_count(void)
{
    pthread_mutex_lock(&mu);
    int n = hits;
    pthread_mutex_unlock(&mu);
    return n;
}

static void push_handler(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    pthread_mutex_lock(&mu);
    step s = pos < n_script ? script[pos++] : (step){.status = after_status};
    if (hits < 32)
        hit_ms[hits] = pg_now_ms();
    hits++;
    const char *t = pg_http_request_header(req, "x-scope-orgid");
    snprintf(tenant_seen, sizeof(tenant_seen), "%s", t ? t : "");
    pthread_mutex_unlock(&mu);
    if (s.delay_ms)
        usleep((useconds_t)s.delay_ms * 1000);
    resp->status = s.status;
    if (s.retry_after)
        pg_http_response_add_header(req, resp, "Retry-After", s.retry_after);
    if (s.body)
        pg_buf_append_str(&resp->body, s.body);
}

static int setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    if (getenv("PG_TEST_DEBUG"))
        pg_log_set_level(PG_LOG_DEBUG);
    pg_http_server *s = ts_add(&ts, "127.0.0.1:0", (pg_tls_server_config){0});
    assert_non_null(s);
    assert_int_equal(pg_http_server_route(s, "POST", "/push", push_handler, NULL), 0);
    assert_int_equal(ts_start(&ts), 0);
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", ts_port(s));
    return 0;
}

static int teardown(void **state)
{
    ts_stop(&ts);
    return 0;
}

/* ---- the chain on a loop of the test's own ---- */

typedef struct env {
    char id[64];
    char ep[64];
    pg_delivery_config cfg;
    uv_loop_t loop;
    pg_worker w;
    pg_delivery *d;
    uint32_t accepted; /* profiles the chain took (submit answered OK, not dropped) */
} env;

static void env_config(env *e, const char *id, const char *ep)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "test/%s", id);
    snprintf(e->ep, sizeof(e->ep), "%s", ep ? ep : endpoint);
    e->cfg.endpoint = e->ep;
    e->cfg.timeout_ms = 2000;
    e->cfg.tenant_header = "X-Scope-OrgID";
    e->cfg.queue = (pg_sending_queue_config){.enabled = true,
                                             .queue_size = 100,
                                             .queue_bytes = 1 << 20,
                                             .num_consumers = 2,
                                             .block_on_overflow = true};
    e->cfg.retry = (pg_retry_config){.enabled = true,
                                     .initial_interval_ms = 50,
                                     .max_interval_ms = 200,
                                     .multiplier = 2.0,
                                     .randomization_factor = 0.0,
                                     .max_elapsed_time_ms = 5000};
}

static void env_start(env *e)
{
    pg_error err = {0};
    pg_delivery_opts o = {.exporter_id = e->id, .config = &e->cfg, .workers = 1};
    assert_int_equal(pg_delivery_new(&o, &e->d, &err), 0);
    assert_int_equal(pg_delivery_start(e->d, &err), 0);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    e->w.id = 0;
    e->w.loop = &e->loop;
    assert_int_equal(pg_delivery_worker_start(e->d, &e->w, &err), 0);
}

static int submit(env *e, uint32_t profiles, pg_consume_result *res)
{
    pg_delivery_request *r =
        pg_delivery_request_new("/push", "application/octet-stream", "tenant-a", profiles);
    assert_non_null(r);
    uint8_t *body = malloc(100);
    memset(body, 'p', 100);
    pg_delivery_request_set_body(r, body, 100);
    pg_consume_result_init(res);
    return pg_delivery_submit(e->d, &e->w, r, res);
}

static int64_t metric(const env *e, const char *name, const char *reason)
{
    char labels[160];
    if (reason)
        snprintf(labels, sizeof(labels), "exporter=\"%s\",reason=\"%s\"", e->id, reason);
    else
        snprintf(labels, sizeof(labels), "exporter=\"%s\"", e->id);
    pg_metric *m = pg_metric_find(name, labels);
    assert_non_null(m);
    return pg_metric_value(m);
}

#define SENT(e)       metric(e, "profgate_exporter_sent_profiles_total", NULL)
#define FAILED(e, r)  metric(e, "profgate_exporter_failed_profiles_total", r)
#define DROPPED(e, r) metric(e, "profgate_exporter_dropped_profiles_total", r)
#define RETRIES(e)    metric(e, "profgate_exporter_retries_total", NULL)

/* Nothing the chain took may vanish. */
static void assert_accounted(const env *e, int64_t submitted)
{
    int64_t total = SENT(e) + FAILED(e, "permanent") + FAILED(e, "retries_exhausted") +
                    FAILED(e, "partial") + DROPPED(e, "queue_full") + DROPPED(e, "shutdown");
    assert_int_equal(total, submitted);
}

static int queue_empty(void *arg)
{
    return pg_delivery_queued_profiles(((env *)arg)->d) == 0;
}

static void run_until_empty(env *e, uint64_t max_ms)
{
    assert_true(ts_run_until(&e->loop, queue_empty, e, max_ms));
}

/* Stops the worker with `grace_ms` to drain and runs the loop until it ends. */
static void env_stop(env *e, uint64_t grace_ms)
{
    e->w.stop_deadline_ms = pg_now_ms() + grace_ms;
    pg_delivery_worker_stop(e->d, &e->w);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0); /* every handle closed */
    pg_delivery_shutdown(e->d);
    pg_delivery_free(e->d);
}

/* ---- stderr capture, for what gets logged ---- */

typedef struct capture {
    int saved;
    FILE *f;
} capture;

static void capture_start(capture *c)
{
    fflush(stderr);
    c->f = tmpfile();
    assert_non_null(c->f);
    c->saved = dup(2);
    dup2(fileno(c->f), 2);
}

static char *capture_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    long n = ftell(c->f);
    char *text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    rewind(c->f);
    if (n > 0 && fread(text, 1, (size_t)n, c->f) != (size_t)n)
        text[0] = '\0';
    fclose(c->f);
    return text;
}

/* ---- tests ---- */

static void test_503_then_200(void **state)
{
    env e;
    pg_consume_result res;
    set_script((step[]){{.status = 503}}, 1, 200);
    env_config(&e, "503", NULL);
    env_start(&e);
    assert_int_equal(submit(&e, 3, &res), PG_CONSUME_OK);
    run_until_empty(&e, 5000);
    assert_int_equal(hit_count(), 2);
    assert_string_equal(tenant_seen, "tenant-a");
    assert_int_equal(SENT(&e), 3);
    assert_int_equal(RETRIES(&e), 1);
    assert_int_equal(metric(&e, "profgate_exporter_sent_requests_total", NULL), 1);
    assert_int_equal(metric(&e, "profgate_exporter_sent_bytes_total", NULL), 100);
    assert_int_equal(metric(&e, "profgate_exporter_queue_profiles", NULL), 0);
    assert_accounted(&e, 3);
    env_stop(&e, 1000);
}

static void test_429_retry_after(void **state)
{
    env e;
    pg_consume_result res;
    set_script((step[]){{.status = 429, .retry_after = "1"}}, 1, 200);
    env_config(&e, "429", NULL);
    env_start(&e);
    assert_int_equal(submit(&e, 1, &res), PG_CONSUME_OK);
    run_until_empty(&e, 5000);
    assert_int_equal(hit_count(), 2);
    uint64_t gap = hit_ms[1] - hit_ms[0];
    assert_true(gap >= 950); /* the server's second, not the 50 ms backoff */
    assert_true(gap < 1500);
    assert_int_equal(SENT(&e), 1);
    assert_int_equal(RETRIES(&e), 1);
    assert_accounted(&e, 1);
    env_stop(&e, 1000);
}

static void test_retry_after_beyond_max_elapsed(void **state)
{
    env e;
    pg_consume_result res;
    set_script((step[]){{.status = 503, .retry_after = "10"}}, 1, 200);
    env_config(&e, "503-long-wait", NULL);
    e.cfg.retry.max_elapsed_time_ms = 2000;
    env_start(&e);
    uint64_t t0 = pg_now_ms();
    assert_int_equal(submit(&e, 4, &res), PG_CONSUME_OK);
    run_until_empty(&e, 5000);
    assert_true(pg_now_ms() - t0 < 1000); /* given up at once, not after 10 s */
    assert_int_equal(hit_count(), 1);
    assert_int_equal(FAILED(&e, "retries_exhausted"), 4);
    assert_accounted(&e, 4);
    env_stop(&e, 1000);
}

static void test_400_is_permanent_and_logged(void **state)
{
    env e;
    pg_consume_result res;
    capture cap;
    set_script((step[]){{.status = 400,
                         .body = "{\"code\":\"invalid_argument\","
                                 "\"message\":\"label name is invalid\"}"}},
               1, 200);
    env_config(&e, "400", NULL);
    env_start(&e);
    capture_start(&cap);
    assert_int_equal(submit(&e, 2, &res), PG_CONSUME_OK);
    run_until_empty(&e, 5000);
    ts_run_for(&e.loop, 100); /* a retry would have happened by now */
    char *log = capture_end(&cap);
    assert_int_equal(hit_count(), 1);
    assert_int_equal(FAILED(&e, "permanent"), 2);
    assert_int_equal(RETRIES(&e), 0);
    assert_int_equal(SENT(&e), 0);
    assert_accounted(&e, 2);
    assert_non_null(strstr(log, "[exporter/test/400]"));
    assert_non_null(strstr(log, "status 400"));
    assert_non_null(strstr(log, "label name is invalid"));
    assert_non_null(strstr(log, "tenant tenant-a"));
    free(log);
    env_stop(&e, 1000);
}

static void test_connection_refused_then_available(void **state)
{
    env e;
    pg_consume_result res;
    test_server late;
    memset(&late, 0, sizeof(late));
    int port = ts_free_port();
    char ep[64], listen[64];
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", port);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    set_script(NULL, 0, 200);
    env_config(&e, "refused", ep);
    env_start(&e);
    assert_int_equal(submit(&e, 5, &res), PG_CONSUME_OK);
    ts_run_for(&e.loop, 300);
    assert_true(RETRIES(&e) >= 1);
    assert_int_equal(pg_delivery_queued_profiles(e.d), 5); /* still waiting, not lost */
    pg_http_server *s = ts_add(&late, listen, (pg_tls_server_config){0});
    assert_non_null(s);
    assert_int_equal(pg_http_server_route(s, "POST", "/push", push_handler, NULL), 0);
    assert_int_equal(ts_start(&late), 0);
    run_until_empty(&e, 5000);
    assert_int_equal(SENT(&e), 5);
    assert_accounted(&e, 5);
    env_stop(&e, 1000);
    ts_stop(&late);
}

static void test_slow_server_then_fast(void **state)
{
    env e;
    pg_consume_result res;
    set_script((step[]){{.status = 200, .delay_ms = 400}}, 1, 200);
    env_config(&e, "slow", NULL);
    e.cfg.timeout_ms = 150;
    env_start(&e);
    assert_int_equal(submit(&e, 1, &res), PG_CONSUME_OK);
    run_until_empty(&e, 5000);
    assert_true(RETRIES(&e) >= 1);
    assert_true(hit_count() >= 2);
    assert_int_equal(SENT(&e), 1);
    assert_true(pg_metric_histogram_count(pg_metric_find(
                    "profgate_exporter_request_duration_seconds", "exporter=\"test/slow\"")) >= 2);
    assert_accounted(&e, 1);
    env_stop(&e, 1000);
}

static void test_queue_full_blocks(void **state)
{
    env e;
    pg_consume_result res;
    set_script(NULL, 0, 200);
    env_config(&e, "full-block", NULL);
    e.cfg.queue.queue_size = 3;
    env_start(&e);
    assert_int_equal(submit(&e, 2, &res), PG_CONSUME_OK);
    assert_int_equal(pg_delivery_full(e.d, 1), 0);
    assert_int_equal(pg_delivery_full(e.d, 2), 1);
    assert_int_equal(submit(&e, 2, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_true(res.retry_after_ms > 0);
    assert_int_equal(metric(&e, "profgate_exporter_refused_profiles_total", NULL), 2);
    pg_consume_result_init(&res);
    pg_delivery_overflow(e.d, 4, &res); /* what an exporter does when it skips building */
    assert_int_equal(res.status, PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_int_equal(metric(&e, "profgate_exporter_refused_profiles_total", NULL), 6);
    assert_int_equal(metric(&e, "profgate_exporter_queue_profiles", NULL), 2);
    run_until_empty(&e, 5000);
    assert_int_equal(SENT(&e), 2);
    assert_int_equal(DROPPED(&e, "queue_full"), 0);
    assert_accounted(&e, 2); /* refused profiles stayed with the client */
    env_stop(&e, 1000);
}

static void test_queue_full_drops(void **state)
{
    env e;
    pg_consume_result res;
    set_script(NULL, 0, 200);
    env_config(&e, "full-drop", NULL);
    e.cfg.queue.queue_size = 3;
    e.cfg.queue.block_on_overflow = false;
    env_start(&e);
    assert_int_equal(submit(&e, 2, &res), PG_CONSUME_OK);
    assert_int_equal(submit(&e, 2, &res), PG_CONSUME_OK); /* accepted upstream, dropped here */
    assert_int_equal(DROPPED(&e, "queue_full"), 2);
    assert_int_equal(metric(&e, "profgate_exporter_refused_profiles_total", NULL), 0);
    run_until_empty(&e, 5000);
    assert_int_equal(SENT(&e), 2);
    assert_accounted(&e, 4);
    env_stop(&e, 1000);
}

static void test_max_elapsed_time_exhausted(void **state)
{
    env e;
    pg_consume_result res;
    set_script(NULL, 0, 503);
    env_config(&e, "exhausted", NULL);
    e.cfg.retry.max_elapsed_time_ms = 300;
    env_start(&e);
    uint64_t t0 = pg_now_ms();
    assert_int_equal(submit(&e, 3, &res), PG_CONSUME_OK);
    run_until_empty(&e, 5000);
    uint64_t took = pg_now_ms() - t0;
    assert_true(took >= 300);
    assert_true(took < 1500);
    assert_int_equal(FAILED(&e, "retries_exhausted"), 3);
    assert_true(RETRIES(&e) >= 2); /* 50, 100, 150 (capped to what was left) */
    assert_int_equal(hit_count(), RETRIES(&e) + 1);
    assert_int_equal(SENT(&e), 0);
    assert_accounted(&e, 3);
    env_stop(&e, 1000);
}

static void test_drain_delivers_queue(void **state)
{
    env e;
    pg_consume_result res;
    set_script(NULL, 0, 200);
    env_config(&e, "drain", NULL);
    e.cfg.queue.num_consumers = 1;
    env_start(&e);
    for (int i = 0; i < 5; i++)
        assert_int_equal(submit(&e, 2, &res), PG_CONSUME_OK);
    e.w.stop_deadline_ms = pg_now_ms() + 5000;
    pg_delivery_worker_stop(e.d, &e.w);
    assert_int_equal(submit(&e, 1, &res), PG_CONSUME_RETRYABLE); /* no longer accepting */
    uint64_t t0 = pg_now_ms();
    uv_run(&e.loop, UV_RUN_DEFAULT); /* ends once drained, well before the deadline */
    assert_true(pg_now_ms() - t0 < 3000);
    assert_int_equal(uv_loop_close(&e.loop), 0);
    assert_int_equal(hit_count(), 5);
    assert_int_equal(SENT(&e), 10);
    assert_int_equal(DROPPED(&e, "shutdown"), 0);
    assert_accounted(&e, 10);
    pg_delivery_shutdown(e.d);
    pg_delivery_free(e.d);
}

static void test_drain_deadline_drops(void **state)
{
    env e;
    pg_consume_result res;
    capture cap;
    set_script(NULL, 0, 503);
    env_config(&e, "deadline", NULL);
    e.cfg.queue.num_consumers = 1;
    e.cfg.retry.initial_interval_ms = 100;
    env_start(&e);
    for (int i = 0; i < 3; i++)
        assert_int_equal(submit(&e, 2, &res), PG_CONSUME_OK);
    ts_run_for(&e.loop, 120); /* some in backoff, one maybe in flight */
    capture_start(&cap);
    e.w.stop_deadline_ms = pg_now_ms() + 300;
    pg_delivery_worker_stop(e.d, &e.w);
    uint64_t t0 = pg_now_ms();
    uv_run(&e.loop, UV_RUN_DEFAULT);
    uint64_t took = pg_now_ms() - t0;
    char *log = capture_end(&cap);
    assert_true(took >= 250);
    assert_true(took < 1500);
    assert_int_equal(uv_loop_close(&e.loop), 0);
    assert_int_equal(DROPPED(&e, "shutdown"), 6);
    assert_int_equal(SENT(&e), 0);
    assert_accounted(&e, 6);
    assert_non_null(strstr(log, "dropped 6 profiles in 3 requests"));
    free(log);
    pg_delivery_shutdown(e.d); /* nothing left: counts nothing twice */
    assert_int_equal(DROPPED(&e, "shutdown"), 6);
    pg_delivery_free(e.d);
}

static void test_drain_aborts_in_flight(void **state)
{
    env e;
    pg_consume_result res;
    set_script((step[]){{.status = 200, .delay_ms = 800}}, 1, 200);
    env_config(&e, "abort", NULL);
    e.cfg.queue.num_consumers = 1;
    env_start(&e);
    assert_int_equal(submit(&e, 1, &res), PG_CONSUME_OK); /* in flight, slow */
    assert_int_equal(submit(&e, 2, &res), PG_CONSUME_OK); /* waits for the slot */
    ts_run_for(&e.loop, 50);
    e.w.stop_deadline_ms = pg_now_ms() + 200;
    pg_delivery_worker_stop(e.d, &e.w);
    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e.loop), 0);
    assert_int_equal(DROPPED(&e, "shutdown"), 3);
    assert_accounted(&e, 3);
    pg_delivery_shutdown(e.d);
    pg_delivery_free(e.d);
    usleep(800 * 1000); /* the server's slow handler */
}

static void test_queue_disabled_holds_num_consumers(void **state)
{
    env e;
    pg_consume_result res;
    set_script(NULL, 0, 200);
    env_config(&e, "no-queue", NULL);
    e.cfg.queue.enabled = false;
    e.cfg.queue.num_consumers = 1;
    env_start(&e);
    assert_int_equal(submit(&e, 1, &res), PG_CONSUME_OK);
    assert_int_equal(submit(&e, 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    run_until_empty(&e, 5000);
    assert_int_equal(submit(&e, 1, &res), PG_CONSUME_OK);
    run_until_empty(&e, 5000);
    assert_int_equal(SENT(&e), 2);
    assert_accounted(&e, 2);
    env_stop(&e, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_503_then_200),
        cmocka_unit_test(test_429_retry_after),
        cmocka_unit_test(test_retry_after_beyond_max_elapsed),
        cmocka_unit_test(test_400_is_permanent_and_logged),
        cmocka_unit_test(test_connection_refused_then_available),
        cmocka_unit_test(test_slow_server_then_fast),
        cmocka_unit_test(test_queue_full_blocks),
        cmocka_unit_test(test_queue_full_drops),
        cmocka_unit_test(test_max_elapsed_time_exhausted),
        cmocka_unit_test(test_drain_delivers_queue),
        cmocka_unit_test(test_drain_deadline_drops),
        cmocka_unit_test(test_drain_aborts_in_flight),
        cmocka_unit_test(test_queue_disabled_holds_num_consumers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
