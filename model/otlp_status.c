/*
 * google.rpc.Status and ExportProfilesServiceResponse encodings (protobuf
 * and JSON through the generic converter, so both follow the same rules as
 * requests).
 */
#include "model/otlp_status.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "model/json_pb.h"
#include "model/otlp_types.h"
#include "profiles_service.pb-c.h"
#include "status.pb-c.h"

typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceResponse
    export_response;
typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesPartialSuccess
    partial_success;

/* A copy of s with every byte that is not valid UTF-8 replaced by '?'
 * (malloc'd; NULL when out of memory). */
static char *clean_text(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, s ? s : "", n + 1);
    size_t at = 0;
    while ((at += pg_utf8_invalid_at((const uint8_t *)c + at, n - at)) < n)
        c[at++] = '?';
    return c;
}

static int pack_into(const ProtobufCMessage *m, pg_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    if (pg_buf_reserve(out, n) < 0)
        return PG_ERR_NOMEM;
    out->len += protobuf_c_message_pack(m, out->data + out->len);
    return PG_OK;
}

static int append_chunk(const char *p, size_t n, void *ctx)
{
    return pg_buf_append(ctx, p, n) == PG_OK ? 0 : -1;
}

static int json_into(const ProtobufCMessage *m, pg_buf *out)
{
    json_t *j = pg_jpb_encode(m, NULL);
    if (!j)
        return PG_ERR_NOMEM;
    int rc = json_dump_callback(j, append_chunk, out, JSON_COMPACT);
    json_decref(j);
    return rc < 0 ? PG_ERR_NOMEM : PG_OK;
}

static int status_encode(int32_t code, const char *message, int json, pg_buf *out)
{
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    char *text = clean_text(message);
    if (!text)
        return PG_ERR_NOMEM;
    st.code = code;
    st.message = text;
    int rc = json ? json_into(&st.base, out) : pack_into(&st.base, out);
    free(text);
    return rc;
}

static int response_encode(int64_t rejected, const char *message, int json, pg_buf *out)
{
    export_response resp =
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_RESPONSE__INIT;
    partial_success ps =
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_PARTIAL_SUCCESS__INIT;
    char *text = clean_text(message);
    if (!text)
        return PG_ERR_NOMEM;
    /* the spec asks to leave partial_success unset on full success */
    if (rejected || *text) {
        ps.rejected_profiles = rejected;
        ps.error_message = text;
        resp.partial_success = &ps;
    }
    int rc = json ? json_into(&resp.base, out) : pack_into(&resp.base, out);
    free(text);
    return rc;
}

int pg_rpc_status_pack(int32_t code, const char *message, pg_buf *out)
{
    return status_encode(code, message, 0, out);
}

int pg_rpc_status_json(int32_t code, const char *message, pg_buf *out)
{
    return status_encode(code, message, 1, out);
}

int pg_otlp_export_response_pack(int64_t rejected_profiles, const char *message, pg_buf *out)
{
    return response_encode(rejected_profiles, message, 0, out);
}

int pg_otlp_export_response_json(int64_t rejected_profiles, const char *message, pg_buf *out)
{
    return response_encode(rejected_profiles, message, 1, out);
}
