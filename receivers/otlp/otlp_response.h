/*
 * Bodies of OTLP answers: ExportProfilesServiceResponse on success (with
 * partial_success when some profiles were rejected) and google.rpc.Status on
 * failure, in the request's encoding (protobuf, or OTLP/JSON when json != 0).
 */
#ifndef PG_RECEIVERS_OTLP_RESPONSE_H
#define PG_RECEIVERS_OTLP_RESPONSE_H

#include <stdint.h>

#include "common/buf.h"

int pg_otlp_response_encode(int64_t rejected, const char *message, int json, pg_buf *out);
int pg_otlp_status_encode(int grpc_code, const char *message, int json, pg_buf *out);

#endif
