/*
 * Verdicts: which responses are delivered, retried or given up, the
 * server's wait hint, and the backoff between attempts.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "exporters/common/delivery_internal.h"

#define MAX_RETRY_AFTER_S (24u * 3600u)

pg_delivery_verdict pg_delivery_grpc_verdict(int grpc_status)
{
    switch (grpc_status) {
    case 0:
        return PG_DELIVERY_DELIVERED;
    case 1:  /* CANCELLED */
    case 4:  /* DEADLINE_EXCEEDED */
    case 8:  /* RESOURCE_EXHAUSTED: the server is overloaded, not the request too big */
    case 10: /* ABORTED */
    case 11: /* OUT_OF_RANGE */
    case 14: /* UNAVAILABLE */
    case 15: /* DATA_LOSS */
        return PG_DELIVERY_RETRY;
    default:
        return PG_DELIVERY_PERMANENT;
    }
}

uint64_t pg_delivery_parse_retry_after(const char *value, uint64_t now_unix_ms)
{
    if (!value)
        return 0;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end;
        unsigned long long s = strtoull(value, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end)
            return 0;
        return (s > MAX_RETRY_AFTER_S ? MAX_RETRY_AFTER_S : s) * 1000u;
    }
    time_t when = curl_getdate(value, NULL);
    if (when <= 0)
        return 0;
    uint64_t when_ms = (uint64_t)when * 1000u;
    if (when_ms <= now_unix_ms)
        return 0;
    uint64_t wait = when_ms - now_unix_ms;
    return wait > MAX_RETRY_AFTER_S * 1000ull ? MAX_RETRY_AFTER_S * 1000ull : wait;
}

/* Printable text only: the message goes into log lines. */
static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[n++] = ch >= 0x20 && ch != 0x7f ? (char)ch : ' ';
    }
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

static void body_message(const pg_http_client_response *resp, char *dst, size_t cap)
{
    dst[0] = '\0';
    if (!resp->body_len)
        return;
    json_t *j = json_loadb((const char *)resp->body, resp->body_len, 0, NULL);
    const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
    if (m)
        copy_text(dst, cap, m, strlen(m));
    else
        copy_text(dst, cap, (const char *)resp->body, resp->body_len);
    json_decref(j);
}

void pg_delivery_classify_http(void *arg, const pg_delivery_request *req,
                               const pg_http_client_response *resp, pg_delivery_outcome *out)
{
    int s = resp->status;
    memset(out, 0, sizeof(*out));
    if (s >= 200 && s < 300) {
        out->verdict = PG_DELIVERY_DELIVERED;
        return;
    }
    body_message(resp, out->message, sizeof(out->message));
    if (s == 408 || s == 429 || s == 502 || s == 503 || s == 504) {
        out->verdict = PG_DELIVERY_RETRY;
        out->retry_after_ms = pg_delivery_parse_retry_after(
            pg_http_client_response_header(resp, "retry-after"), (uint64_t)time(NULL) * 1000u);
        return;
    }
    out->verdict = PG_DELIVERY_PERMANENT;
}

static double next_random(uint64_t *state)
{
    /* xorshift64*: jitter only needs to spread clients apart */
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 0x2545f4914f6cdd1dull) >> 11) / (double)(1ull << 53);
}

uint64_t pg_delivery_backoff_ms(const pg_retry_config *c, uint32_t attempt, uint64_t *rng)
{
    double base = (double)c->initial_interval_ms;
    double mult = c->multiplier >= 1.0 ? c->multiplier : 1.0;
    for (uint32_t i = 1; i < attempt && base < (double)c->max_interval_ms; i++)
        base *= mult;
    if (c->max_interval_ms && base > (double)c->max_interval_ms)
        base = (double)c->max_interval_ms;
    double rf = c->randomization_factor;
    if (rf > 0)
        base *= 1.0 - rf + 2.0 * rf * next_random(rng);
    return base < 1.0 ? 1 : (uint64_t)llround(base);
}
