/*
 * The HTTP side of the otlphttp exporter, apart from any socket.
 *
 * Request: POST <profiles_endpoint> with Content-Type application/x-protobuf
 * or application/json and, when compressed, Content-Encoding gzip or zstd.
 *
 * Answer: the verdict follows the default HTTP rules
 * (pg_delivery_classify_http: 2xx delivered; 408, 429, 502, 503, 504
 * retryable with Retry-After; other statuses permanent). Besides:
 *   2xx    the body is an ExportProfilesServiceResponse in the response's
 *          encoding (Content-Type; the request's when absent): its
 *          partial_success is logged and reported as rejected profiles;
 *   error  the body may be a google.rpc.Status (protobuf or JSON): its
 *          message becomes the outcome's message.
 */
#ifndef PG_EXPORTERS_OTLPHTTP_OTLPHTTP_CALL_H
#define PG_EXPORTERS_OTLPHTTP_OTLPHTTP_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "exporters/common/delivery.h"
#include "exporters/common/otlp_request.h"
#include "transport/compress.h"
#include "transport/http_client.h"

#define PG_OTLPHTTP_DEFAULT_PATH "/v1development/profiles"

typedef struct pg_otlphttp_call {
    uint8_t *body; /* malloc'd, compressed as asked */
    size_t len;
    const char *content_type;
    pg_http_header headers[1]; /* Content-Encoding when compressed */
    size_t n_headers;
} pg_otlphttp_call;

int pg_otlphttp_call_build(pg_otlp_body_encoding enc, pg_compression c, const uint8_t *msg,
                           size_t len, pg_otlphttp_call *call, pg_error *err);

/* What a response body says. */
typedef struct pg_otlphttp_reply {
    int parsed;        /* 1: the body was read as the message expected */
    int64_t rejected;  /* 2xx: partial_success.rejected_profiles */
    char message[256]; /* 2xx: partial_success.error_message; else Status.message */
} pg_otlphttp_reply;

/* Reads the body of a complete response: an ExportProfilesServiceResponse
 * for 2xx, a google.rpc.Status otherwise. json: the body's encoding. */
void pg_otlphttp_read(const pg_http_client_response *resp, int json, pg_otlphttp_reply *reply);

/* pg_delivery_classify_fn; arg is the component (for its config's encoding
 * and its log lines), or NULL (protobuf assumed). */
void pg_otlphttp_classify(void *arg, const pg_delivery_request *req,
                          const pg_http_client_response *resp, pg_delivery_outcome *out);

#endif
