#include "exporters/pyroscope/pyroscope_exporter.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exporters/common/delivery.h"
#include "telemetry/log.h"

#define CFG(field) offsetof(pg_pyroscope_exporter_config, field)

_Static_assert(offsetof(pg_pyroscope_exporter_config, delivery) == 0, "delivery first");

static const char *const api_values[] = {"push", "ingest", NULL};

static const pg_config_key pyro_keys[] = {
    PG_DELIVERY_CONFIG_KEYS,
    {.name = "api",
     .type = PG_CFG_ENUM,
     .offset = CFG(api),
     .default_value = "push",
     .enum_values = api_values,
     .help = "push: POST /push.v1.PusherService/Push (Connect, application/proto), one request "
             "per tenant; ingest: POST /ingest?name=app{labels}&from&until, one request per "
             "document"},
    {.name = "external_labels",
     .type = PG_CFG_STRING_MAP,
     .offset = CFG(external_labels),
     .help = "labels set on every profile, overriding its own (an empty value removes the "
             "label)"},
    PG_CONFIG_END,
};

typedef struct pyro_state {
    pg_delivery *d;
    char timeout_ms[24]; /* Connect-Timeout-Ms */
} pyro_state;

static void pyro_validate(const void *config, pg_config_report *report, const pg_config_node *node)
{
    const pg_pyroscope_exporter_config *c = config;
    pg_delivery_config_validate(&c->delivery, report, node);
    const pg_config_node *ext = pg_config_map_get(node, "external_labels");
    for (size_t i = 0; i < c->external_labels.n; i++) {
        const char *name = c->external_labels.keys[i];
        const pg_config_node *at = pg_config_map_get(ext, name);
        pg_error err;
        pg_error_clear(&err);
        if (pg_pyroexp_label_name_check(name, &err) != PG_OK)
            pg_config_report_error(report, at ? at : node, "external_labels: %s", err.msg);
        else if (strncmp(name, "__", 2) == 0)
            pg_config_report_error(report, at ? at : node,
                                   "external_labels: '%s' starts with \"__\", which is reserved "
                                   "for internal labels",
                                   name);
    }
}

/* A Connect error is JSON {"code", "message"}; its code says more than a
 * 5xx status does (data_loss or aborted are worth retrying, internal is not). */
static int connect_code_to_grpc(const char *code)
{
    static const char *const codes[] = {
        "ok",
        "canceled",
        "unknown",
        "invalid_argument",
        "deadline_exceeded",
        "not_found",
        "already_exists",
        "permission_denied",
        "resource_exhausted",
        "failed_precondition",
        "aborted",
        "out_of_range",
        "unimplemented",
        "internal",
        "unavailable",
        "data_loss",
        "unauthenticated",
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(codes[i], code) == 0)
            return (int)i;
    return -1;
}

/* The "code" of a Connect error body; 0 when there is none. */
static int json_code(const uint8_t *body, size_t len, char *out, size_t cap)
{
    json_t *root = body && len ? json_loadb((const char *)body, len, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(root, "code"));
    int found = code != NULL;
    if (found)
        snprintf(out, cap, "%s", code);
    json_decref(root);
    return found;
}

static void pyro_classify(void *arg, const pg_delivery_request *req,
                          const pg_http_client_response *resp, pg_delivery_outcome *out)
{
    pg_delivery_classify_http(arg, req, resp, out);
    char code[32];
    if (out->verdict != PG_DELIVERY_PERMANENT || resp->outcome != PG_HTTP_RESPONSE ||
        resp->status < 500 || !json_code(resp->body, resp->body_len, code, sizeof(code)))
        return;
    int grpc = connect_code_to_grpc(code);
    if (grpc > 0)
        out->verdict = pg_delivery_grpc_verdict(grpc);
}

static int pyro_create(pg_component *self, pg_error *err)
{
    const pg_pyroscope_exporter_config *cfg = self->config;
    pyro_state *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    snprintf(st->timeout_ms, sizeof(st->timeout_ms), "%" PRIu64, cfg->delivery.timeout_ms);
    pg_delivery_opts o = {
        .exporter_id = self->id,
        .config = &cfg->delivery,
        .workers = self->workers,
        .classify = pyro_classify,
    };
    int rc = pg_delivery_new(&o, &st->d, err);
    if (rc != PG_OK) {
        free(st);
        return rc;
    }
    self->state = st;
    return PG_OK;
}

static int pyro_start(pg_component *self, pg_error *err)
{
    pyro_state *st = self->state;
    return pg_delivery_start(st->d, err);
}

static int pyro_worker_start(pg_component *self, pg_worker *w, pg_error *err)
{
    pyro_state *st = self->state;
    return pg_delivery_worker_start(st->d, w, err);
}

typedef struct consume_ctx {
    pg_component *self;
    pg_worker *w;
    pg_consume_result *res;
} consume_ctx;

static int sink_full(void *arg, uint32_t profiles)
{
    consume_ctx *c = arg;
    return pg_delivery_full(((pyro_state *)c->self->state)->d, profiles);
}

static int sink_emit(void *arg, pg_pyroexp_request *r, pg_error *err)
{
    consume_ctx *c = arg;
    pyro_state *st = c->self->state;
    const pg_pyroscope_exporter_config *cfg = c->self->config;
    const pg_http_header connect[] = {{"Connect-Protocol-Version", "1"},
                                      {"Connect-Timeout-Ms", st->timeout_ms}};
    size_t n_headers = cfg->api == PG_PYROEXP_API_PUSH ? 2 : 0;
    pg_delivery_request *dr = pg_delivery_request_build(
        r->path, r->content_type, r->tenant, r->profiles, connect, n_headers, r->body, r->len, err);
    if (!dr)
        return PG_ERR_NOMEM;
    pg_consume_result one;
    pg_consume_result_init(&one);
    if (pg_delivery_submit(st->d, c->w, dr, &one) != PG_CONSUME_OK)
        pg_consume_fail(c->res, one.status, "%s", one.msg);
    if (one.retry_after_ms > c->res->retry_after_ms)
        c->res->retry_after_ms = one.retry_after_ms;
    return PG_OK;
}

/* Profiles that will not be sent: counted, logged, and reported upstream. */
static void report_left_out(pg_component *self, const pg_pyroexp_stats *s, size_t total,
                            pg_consume_result *res)
{
    pyro_state *st = self->state;
    if (s->convert_failed) {
        pg_delivery_count_failed(st->d, s->convert_failed, "convert");
        PG_CLOG(self, PG_LOG_WARN, "%u profile(s) not sent: cannot convert to pprof: %s",
                s->convert_failed, s->convert_why);
    }
    if (s->invalid) {
        pg_delivery_count_failed(st->d, s->invalid, "invalid_labels");
        PG_CLOG(self, PG_LOG_WARN, "%u profile(s) not sent: invalid labels: %s", s->invalid,
                s->invalid_why);
    }
    uint32_t out = s->convert_failed + s->invalid;
    res->rejected += out;
    if (out && out >= total)
        pg_consume_fail(res, PG_CONSUME_PERMANENT, "pyroscope exporter %s: %s", self->id,
                        s->invalid ? s->invalid_why : s->convert_why);
}

static int pyro_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    pyro_state *st = self->state;
    const pg_pyroscope_exporter_config *cfg = self->config;
    /* Decided for the whole batch first: refusing one tenant's share after
     * another's was queued would make the client resend (and duplicate) it. */
    if (pg_delivery_full(st->d, (uint32_t)b->count)) {
        pg_delivery_overflow(st->d, (uint32_t)b->count, res);
        return res->status;
    }
    consume_ctx c = {.self = self, .w = w, .res = res};
    pg_pyroexp_sink sink = {.full = sink_full, .emit = sink_emit, .arg = &c};
    pg_pyroexp_stats s;
    pg_error err;
    pg_error_clear(&err);
    int rc = pg_pyroexp_build(b, (pg_pyroexp_api)cfg->api, &cfg->external_labels, &sink, &s, &err);
    report_left_out(self, &s, b->count, res);
    if (s.skipped)
        pg_delivery_overflow(st->d, s.skipped, res);
    if (rc != PG_OK) {
        size_t done = (size_t)s.sent + s.skipped + s.convert_failed + s.invalid;
        uint32_t rest = b->count > done ? (uint32_t)(b->count - done) : 0;
        pg_delivery_count_failed(st->d, rest, "encode");
        PG_CLOG(self, PG_LOG_ERROR, "cannot build requests for %u profile(s): %s", rest, err.msg);
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "pyroscope exporter %s: %s", self->id, err.msg);
    }
    return res->status;
}

static void pyro_worker_stop(pg_component *self, pg_worker *w)
{
    pyro_state *st = self->state;
    if (st)
        pg_delivery_worker_stop(st->d, w);
}

static void pyro_shutdown(pg_component *self, uint64_t deadline_ms)
{
    (void)deadline_ms;
    pyro_state *st = self->state;
    if (st)
        pg_delivery_shutdown(st->d);
}

static void pyro_destroy(pg_component *self)
{
    pyro_state *st = self->state;
    if (!st)
        return;
    pg_delivery_free(st->d);
    free(st);
    self->state = NULL;
}

const pg_component_def pg_pyroscope_exporter_def = {
    .type = "pyroscope",
    .kind = PG_KIND_EXPORTER,
    .description = "sends profiles to Grafana Pyroscope (push API or /ingest); OTLP profiles are "
                   "converted to pprof",
    .config_keys = pyro_keys,
    .config_size = sizeof(pg_pyroscope_exporter_config),
    .validate = pyro_validate,
    .create = pyro_create,
    .start = pyro_start,
    .worker_start = pyro_worker_start,
    .consume = pyro_consume,
    .worker_stop = pyro_worker_stop,
    .shutdown = pyro_shutdown,
    .destroy = pyro_destroy,
};
