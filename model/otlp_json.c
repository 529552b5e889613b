/*
 * OTLP/JSON for ExportProfilesServiceRequest: the generic converter
 * (model/json_pb.h) plus the OTLP deviations from proto3 JSON, i.e. trace,
 * span and profile ids written as hex.
 */
#include "model/json_pb.h"
#include "model/otlp_types.h"

#define PG_PROF(x) opentelemetry__proto__profiles__v1development__##x##__descriptor
#define REQ_DESC                                                                                   \
    opentelemetry__proto__collector__profiles__v1development__export_profiles_service_request__descriptor

static size_t otlp_hex_len(const ProtobufCMessageDescriptor *msg,
                           const ProtobufCFieldDescriptor *field)
{
    if (msg == &PG_PROF(link))
        return field->id == 1 ? 16 : field->id == 2 ? 8 : 0;
    if (msg == &PG_PROF(profile) && field->id == 7)
        return 16;
    return 0;
}

/* Each AnyValue level costs two message levels (AnyValue, ArrayValue or
 * KeyValueList + KeyValue); the request adds a few above the first one. */
static const pg_jpb_options otlp_json = {otlp_hex_len, 3 * PG_OTLP_MAX_VALUE_DEPTH + 8};

int pg_otlp_json_decode(pg_arena *arena, const char *json, size_t len, pg_otlp_request **out,
                        pg_error *err)
{
    json_error_t jerr;
    ProtobufCMessage *m = NULL;
    *out = NULL;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return pg_error_set(err, PG_ERR_INVALID, "invalid JSON at line %d column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    int rc = pg_jpb_decode(arena, &REQ_DESC, root, &otlp_json, &m, err);
    json_decref(root);
    if (rc < 0)
        return rc;
    pg_otlp_request *req = (pg_otlp_request *)m;
    rc = pg_otlp_add_zero_entries(arena, req);
    if (rc < 0)
        return pg_error_set(err, rc, "decoded request exceeds the memory limit for one request");
    rc = pg_otlp_validate(req, err);
    if (rc < 0)
        return rc;
    *out = req;
    return PG_OK;
}

static int append_chunk(const char *p, size_t n, void *ctx)
{
    return pg_buf_append(ctx, p, n) == PG_OK ? 0 : -1;
}

int pg_otlp_json_encode(const pg_otlp_request *req, pg_buf *out, pg_error *err)
{
    json_t *root = pg_jpb_encode(&req->base, &otlp_json);
    if (!root)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory while encoding JSON");
    int rc = json_dump_callback(root, append_chunk, out, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (rc < 0)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory while encoding JSON");
    return PG_OK;
}
