/*
 * Arbitrary answers from a destination server, as the exporters read them:
 * the status, Retry-After, grpc-status / grpc-message /
 * grpc-status-details-bin (RetryInfo), Content-Type and a body read as an
 * ExportProfilesServiceResponse, a google.rpc.Status (protobuf and JSON) or
 * a Connect JSON error. Input layout: byte 0 picks the status, then up to
 * five '\n'-terminated header values, then the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/common/delivery.h"
#include "exporters/otlp/otlp_grpc.h"
#include "exporters/otlphttp/otlphttp_call.h"

static const char *const header_names[] = {"retry-after", "grpc-status", "grpc-message",
                                           "grpc-status-details-bin", "content-type"};
#define N_HEADERS (sizeof(header_names) / sizeof(header_names[0]))

static void check_outcome(const pg_delivery_outcome *o)
{
    if (o->verdict != PG_DELIVERY_DELIVERED && o->verdict != PG_DELIVERY_RETRY &&
        o->verdict != PG_DELIVERY_PERMANENT)
        abort();
    if (memchr(o->message, '\0', sizeof(o->message)) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const int statuses[] = {200, 204, 400, 408, 429, 500, 502, 503, 504, 401, 413, 301};
    int status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    size_t off = 1;
    char values[N_HEADERS][256];
    pg_http_header headers[N_HEADERS];
    size_t n = 0;
    while (n < N_HEADERS && off < size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (data + off));
        if (len >= sizeof(values[n]))
            len = sizeof(values[n]) - 1;
        memcpy(values[n], data + off, len);
        values[n][len] = '\0';
        headers[n].name = header_names[n];
        headers[n].value = values[n];
        n++;
        off = (size_t)(nl - data) + 1;
    }
    /* the body gets its own allocation so that ASan sees reads past its end */
    size_t body_len = size - off;
    uint8_t *body = malloc(body_len ? body_len : 1);
    if (!body)
        return 0;
    memcpy(body, data + off, body_len);

    pg_http_client_response resp;
    memset(&resp, 0, sizeof(resp));
    resp.outcome = PG_HTTP_RESPONSE;
    resp.status = status;
    resp.http_major = 2;
    resp.headers = headers;
    resp.n_headers = n;
    resp.body = body;
    resp.body_len = body_len;

    pg_delivery_outcome out;
    memset(&out, 0, sizeof(out));
    pg_delivery_classify_http(NULL, NULL, &resp, &out);
    check_outcome(&out);
    memset(&out, 0, sizeof(out));
    pg_otlp_grpc_classify(NULL, NULL, &resp, &out);
    check_outcome(&out);
    memset(&out, 0, sizeof(out));
    pg_otlphttp_classify(NULL, NULL, &resp, &out);
    check_outcome(&out);

    pg_otlphttp_reply hr;
    pg_otlphttp_read(&resp, 1, &hr);
    pg_otlphttp_read(&resp, 0, &hr);
    pg_otlp_grpc_reply gr;
    pg_otlp_grpc_read(&resp, 1700000000000ull, &gr);
    if (n > 0)
        (void)pg_delivery_parse_retry_after(values[0], 1700000000000ull);
    free(body);
    return 0;
}
