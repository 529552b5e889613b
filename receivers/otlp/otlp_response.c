#include "receivers/otlp/otlp_response.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "profiles_service.pb-c.h"
#include "status.pb-c.h"

static int append_json(json_t *obj, pg_buf *out)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!s)
        return PG_ERR_NOMEM;
    int rc = pg_buf_append_str(out, s);
    free(s);
    return rc;
}

static int append_packed(const ProtobufCMessage *m, pg_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    if (pg_buf_reserve(out, n) != PG_OK)
        return PG_ERR_NOMEM;
    out->len += protobuf_c_message_pack(m, out->data + out->len);
    return PG_OK;
}

int pg_otlp_response_encode(int64_t rejected, const char *message, int json, pg_buf *out)
{
    int partial = rejected > 0 || (message && message[0]);
    if (json) {
        json_t *obj = json_object();
        if (partial) {
            /* OTLP/JSON writes 64-bit integers as strings */
            char n[32];
            snprintf(n, sizeof(n), "%lld", (long long)rejected);
            json_object_set_new(obj, "partialSuccess",
                                json_pack("{s:s, s:s}", "rejectedProfiles", n, "errorMessage",
                                          message ? message : ""));
        }
        return append_json(obj, out);
    }
    Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceResponse resp =
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_RESPONSE__INIT;
    Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesPartialSuccess ps =
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_PARTIAL_SUCCESS__INIT;
    if (partial) {
        ps.rejected_profiles = rejected;
        ps.error_message = (char *)(message ? message : "");
        resp.partial_success = &ps;
    }
    return append_packed(&resp.base, out);
}

int pg_otlp_status_encode(int grpc_code, const char *message, int json, pg_buf *out)
{
    if (json)
        return append_json(json_pack("{s:i, s:s}", "code", grpc_code, "message",
                                     message ? message : ""),
                           out);
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = grpc_code;
    st.message = (char *)(message ? message : "");
    return append_packed(&st.base, out);
}
