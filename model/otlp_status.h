/*
 * Bodies the OTLP receiver answers with, in both encodings:
 * google.rpc.Status for failures (HTTP 4xx/5xx bodies, gRPC error details)
 * and ExportProfilesServiceResponse for success, with partial_success only
 * when profiles were rejected or there is a warning to pass on.
 * JSON follows OTLP/JSON: {"code":3,"message":"..."},
 * {"partialSuccess":{"rejectedProfiles":"2","errorMessage":"..."}}, and {}
 * for a plain success. Invalid UTF-8 in a message is replaced by '?'.
 * All functions append to out; 0 or PG_ERR_NOMEM.
 */
#ifndef PG_MODEL_OTLP_STATUS_H
#define PG_MODEL_OTLP_STATUS_H

#include <stdint.h>

#include "common/buf.h"

int pg_rpc_status_pack(int32_t code, const char *message, pg_buf *out);
int pg_rpc_status_json(int32_t code, const char *message, pg_buf *out);

int pg_otlp_export_response_pack(int64_t rejected_profiles, const char *message, pg_buf *out);
int pg_otlp_export_response_json(int64_t rejected_profiles, const char *message, pg_buf *out);

#endif
