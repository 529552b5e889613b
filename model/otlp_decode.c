/*
 * Protobuf decoding and encoding of ExportProfilesServiceRequest, plus the
 * small accessors every consumer of a decoded request needs.
 */
#include "model/otlp_types.h"
#include "model/otlp_wire.h"

#include <string.h>

#define REQ_DESC                                                                                   \
    opentelemetry__proto__collector__profiles__v1development__export_profiles_service_request__descriptor

/* The wording promised to clients: which layout we saw, which we accept. */
static int refuse_layout(const char *version, pg_error *err)
{
    const char *name = version;
    if (strcmp(version, "v1.8") == 0)
        name = "v1.8/v1.9";
    else if (strcmp(version, "v1.4") == 0)
        name = "v1.4/v1.5";
    else if (strcmp(version, "v1.3") == 0)
        name = "v1.3 (v1experimental)";
    return pg_error_set(err, PG_ERR_UNSUPPORTED,
                        "request uses the OTLP profiles %s wire layout; profgate accepts "
                        "v1.10/v1.11 (opentelemetry-proto >= 1.10.0)",
                        name);
}

int pg_otlp_decode(pg_arena *arena, const uint8_t *buf, size_t len, pg_otlp_request **out,
                   pg_error *err)
{
    static const uint8_t empty[1];
    const char *version = pg_otlp_sniff_version(buf, len);
    *out = NULL;
    if (strcmp(version, "unknown") == 0)
        return pg_error_set(err, PG_ERR_INVALID, "malformed protobuf: not a protobuf message");
    if (strcmp(version, "v1.10") != 0)
        return refuse_layout(version, err);
    if (pg_otlp_wire_depth_ok(buf, len, PG_OTLP_MAX_VALUE_DEPTH) < 0)
        return pg_error_set(err, PG_ERR_INVALID,
                            "malformed protobuf: attribute values nest deeper than %d levels",
                            PG_OTLP_MAX_VALUE_DEPTH);
    ProtobufCAllocator alloc = pg_arena_protobuf_allocator(arena);
    ProtobufCMessage *m = protobuf_c_message_unpack(&REQ_DESC, &alloc, len, len ? buf : empty);
    if (!m) {
        if (pg_arena_limit_hit(arena))
            return pg_error_set(err, PG_ERR_LIMIT,
                                "decoded request exceeds the memory limit for one request");
        return pg_error_set(err, PG_ERR_INVALID, "malformed protobuf");
    }
    pg_otlp_request *req = (pg_otlp_request *)m;
    int rc = pg_otlp_add_zero_entries(arena, req);
    if (rc < 0)
        return pg_error_set(err, rc, "decoded request exceeds the memory limit for one request");
    rc = pg_otlp_validate(req, err);
    if (rc < 0)
        return rc;
    *out = req;
    return PG_OK;
}

int pg_otlp_encode(const pg_otlp_request *req, pg_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(&req->base);
    if (pg_buf_reserve(out, n) < 0)
        return PG_ERR_NOMEM;
    protobuf_c_message_pack(&req->base, out->data + out->len);
    out->len += n;
    return PG_OK;
}

size_t pg_otlp_profile_count(const pg_otlp_request *req)
{
    size_t n = 0;
    for (size_t i = 0; i < req->n_resource_profiles; i++) {
        const pg_otlp_resource_profiles *rp = req->resource_profiles[i];
        for (size_t k = 0; rp && k < rp->n_scope_profiles; k++) {
            if (rp->scope_profiles[k])
                n += rp->scope_profiles[k]->n_profiles;
        }
    }
    return n;
}

const char *pg_otlp_string(const pg_otlp_request *req, int32_t index)
{
    const pg_otlp_dictionary *d = req->dictionary;
    if (!d || index < 0 || (size_t)index >= d->n_string_table || !d->string_table[index])
        return "";
    return d->string_table[index];
}

/* A one-entry table holding a zeroed message of type `desc`. */
static void **zero_table(pg_arena *arena, const ProtobufCMessageDescriptor *desc)
{
    void **t = pg_arena_alloc(arena, sizeof(void *));
    ProtobufCMessage *m = pg_arena_alloc(arena, desc->sizeof_message);
    if (!t || !m)
        return NULL;
    desc->message_init(m);
    t[0] = m;
    return t;
}

#define PG_PROF(x) opentelemetry__proto__profiles__v1development__##x##__descriptor
#define FILL(field, type, desc)                                                                    \
    do {                                                                                           \
        if (d->n_##field == 0) {                                                                   \
            void **t = zero_table(arena, &(desc));                                                 \
            if (!t)                                                                                \
                return pg_arena_limit_hit(arena) ? PG_ERR_LIMIT : PG_ERR_NOMEM;                    \
            d->field = (type **)t;                                                                 \
            d->n_##field = 1;                                                                      \
        }                                                                                          \
    } while (0)

int pg_otlp_add_zero_entries(pg_arena *arena, pg_otlp_request *req)
{
    pg_otlp_dictionary *d = req->dictionary;
    if (!d)
        return PG_OK;
    FILL(mapping_table, pg_otlp_mapping, PG_PROF(mapping));
    FILL(location_table, pg_otlp_location, PG_PROF(location));
    FILL(function_table, pg_otlp_function, PG_PROF(function));
    FILL(link_table, pg_otlp_link, PG_PROF(link));
    FILL(attribute_table, pg_otlp_kvu, PG_PROF(key_value_and_unit));
    FILL(stack_table, pg_otlp_stack, PG_PROF(stack));
    if (d->n_string_table == 0) {
        char **t = pg_arena_alloc(arena, sizeof(char *));
        if (!t)
            return pg_arena_limit_hit(arena) ? PG_ERR_LIMIT : PG_ERR_NOMEM;
        t[0] = pg_arena_strdup(arena, "");
        if (!t[0])
            return pg_arena_limit_hit(arena) ? PG_ERR_LIMIT : PG_ERR_NOMEM;
        d->string_table = t;
        d->n_string_table = 1;
    }
    return PG_OK;
}
