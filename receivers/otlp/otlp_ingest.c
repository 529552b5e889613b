#include "receivers/otlp/otlp_ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/otlp.h"

static void outcome_set(pg_otlp_outcome *o, int http, int grpc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void outcome_set(pg_otlp_outcome *o, int http, int grpc, const char *fmt, ...)
{
    o->http_status = http;
    o->grpc_status = grpc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->message, sizeof(o->message), fmt, ap);
    va_end(ap);
}

static void outcome_from_decode_error(pg_otlp_outcome *o, const pg_error *err)
{
    switch (err->code) {
    case PG_ERR_LIMIT:
        outcome_set(o, 413, PG_GRPC_RESOURCE_EXHAUSTED, "%s", err->msg);
        break;
    case PG_ERR_NOMEM:
        outcome_set(o, 503, PG_GRPC_UNAVAILABLE, "out of memory decoding the request");
        break;
    default:
        outcome_set(o, 400, PG_GRPC_INVALID_ARGUMENT, "%s", err->msg);
        break;
    }
}

static void outcome_from_consume(pg_otlp_outcome *o, const pg_consume_result *res, size_t n)
{
    switch (res->status) {
    case PG_CONSUME_OK:
        o->http_status = 200;
        o->grpc_status = PG_GRPC_OK;
        o->rejected_profiles = res->rejected;
        if (res->rejected)
            snprintf(o->message, sizeof(o->message), "%s", res->msg);
        break;
    case PG_CONSUME_RETRYABLE:
        outcome_set(o, 503, PG_GRPC_UNAVAILABLE, "pipeline unavailable: %s", res->msg);
        break;
    case PG_CONSUME_RESOURCE_EXHAUSTED:
        outcome_set(o, 429, PG_GRPC_RESOURCE_EXHAUSTED, "pipeline overloaded: %s", res->msg);
        break;
    case PG_CONSUME_PERMANENT:
        outcome_set(o, 400, PG_GRPC_INVALID_ARGUMENT, "%zu profile(s) refused: %s", n, res->msg);
        break;
    }
    o->retry_after_s = (res->retry_after_ms + 999) / 1000;
}

typedef struct label_sink {
    pg_batch *batch;
    pg_profile *prof;
} label_sink;

static int add_label(void *ctx, const char *name, const char *value)
{
    label_sink *s = ctx;
    return pg_profile_set_label(s->batch, s->prof, name, value);
}

/* One pg_profile per OTLP profile, all referencing the same payload. */
static int batch_from_request(pg_batch *b, pg_payload *payload, const pg_otlp_request *req,
                              const pg_otlp_tenants *tenants)
{
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++) {
        const Opentelemetry__Proto__Profiles__V1development__ResourceProfiles *rp =
            req->resource_profiles[ri];
        for (size_t si = 0; si < rp->n_scope_profiles; si++) {
            const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sp =
                rp->scope_profiles[si];
            for (size_t pi = 0; pi < sp->n_profiles; pi++) {
                pg_profile *prof = pg_batch_add(b, payload);
                if (!prof)
                    return PG_ERR_NOMEM;
                prof->resource_index = (uint32_t)ri;
                prof->scope_index = (uint32_t)si;
                prof->profile_index = (uint32_t)pi;
                pg_otlp_profile_view view;
                if (pg_otlp_view(b->arena, req, ri, si, pi, &view) != PG_OK)
                    return PG_ERR_NOMEM;
                prof->time_unix_nano = view.time_unix_nano;
                prof->duration_nano = view.duration_nano;
                prof->sample_count = view.sample_count;
                prof->value_total = view.value_total;
                label_sink sink = {b, prof};
                if (pg_profile_set_type(b, prof, view.profile_type) != PG_OK ||
                    pg_profile_set_tenant_sources(b, prof, tenants->auth_tenant,
                                                  tenants->header_tenant) != PG_OK ||
                    pg_otlp_labels(b->arena, req, ri, si, pi, add_label, &sink) != PG_OK)
                    return PG_ERR_NOMEM;
            }
        }
    }
    return PG_OK;
}

/* The decoded form may be several times the size of the wire form; the
 * arena's limit keeps a hostile request from taking the process down. */
static size_t decoded_memory_limit(uint64_t max_body_size)
{
    return (size_t)(max_body_size * 8 + (1u << 20));
}

static pg_payload *decode_payload(pg_otlp_encoding enc, const uint8_t *body, size_t len,
                                  uint64_t max_body_size, pg_error *err)
{
    pg_arena *arena = pg_arena_new(0, decoded_memory_limit(max_body_size));
    pg_otlp_request *req = NULL;
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    if (!arena) {
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int rc = enc == PG_OTLP_JSON ? pg_otlp_json_decode(arena, (const char *)body, len, &req, err)
                                 : pg_otlp_decode(arena, body, len, &req, err);
    if (rc != PG_OK)
        goto fail;
    if (enc == PG_OTLP_JSON) {
        /* the pipeline carries protobuf: encode once here */
        pg_buf out;
        pg_buf_init(&out);
        if (pg_otlp_encode(req, &out) != PG_OK) {
            pg_buf_free(&out);
            pg_error_set(err, PG_ERR_NOMEM, "out of memory encoding the request");
            goto fail;
        }
        bytes = pg_buf_detach(&out, &nbytes);
    } else {
        bytes = malloc(len ? len : 1);
        if (!bytes) {
            pg_error_set(err, PG_ERR_NOMEM, "out of memory");
            goto fail;
        }
        memcpy(bytes, body, len);
        nbytes = len;
    }
    pg_payload *p = pg_payload_new(PG_PAYLOAD_OTLP, bytes, nbytes);
    if (!p) {
        free(bytes);
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        goto fail;
    }
    pg_payload_set_decoded(p, req, arena);
    return p;
fail:
    pg_arena_free(arena);
    return NULL;
}

void pg_otlp_ingest(pg_component *self, pg_otlp_counters *counters, pg_worker *w,
                    pg_otlp_encoding enc, const uint8_t *body, size_t len, uint64_t max_body_size,
                    const pg_otlp_tenants *tenants, pg_otlp_outcome *outcome)
{
    memset(outcome, 0, sizeof(*outcome));
    outcome->http_status = 200;
    pg_error err;
    pg_error_clear(&err);
    pg_payload *payload = decode_payload(enc, body, len, max_body_size, &err);
    if (!payload) {
        outcome_from_decode_error(outcome, &err);
        pg_metric_add(counters->requests_failed, 1);
        pg_metric_add(counters->refused_bytes, (int64_t)len);
        PG_CLOG(self, PG_LOG_DEBUG, "refused request (%zu bytes): %s", len, outcome->message);
        return;
    }
    const pg_otlp_request *req = payload->decoded;
    size_t n = pg_otlp_profile_count(req);
    if (n == 0) {
        /* an empty request is a success by the OTLP spec */
        pg_payload_unref(payload);
        return;
    }
    pg_batch *b = pg_batch_new();
    pg_consume_result res;
    pg_consume_result_init(&res);
    if (!b || batch_from_request(b, payload, req, tenants) != PG_OK) {
        outcome_set(outcome, 503, PG_GRPC_UNAVAILABLE, "out of memory building the batch");
    } else {
        pg_consumer_send(&self->next, w, b, &res);
        outcome_from_consume(outcome, &res, n);
    }
    pg_batch_free(b);
    pg_payload_unref(payload);
    if (outcome->grpc_status == PG_GRPC_OK) {
        pg_metric_add(counters->accepted_profiles,
                      (int64_t)(n - (size_t)outcome->rejected_profiles));
        pg_metric_add(counters->refused_profiles, outcome->rejected_profiles);
        pg_metric_add(counters->accepted_bytes, (int64_t)len);
    } else {
        pg_metric_add(counters->refused_profiles, (int64_t)n);
        pg_metric_add(counters->refused_bytes, (int64_t)len);
        pg_metric_add(counters->requests_failed, 1);
        PG_CLOG(self, PG_LOG_DEBUG, "refused %zu profile(s): %s", n, outcome->message);
    }
}
