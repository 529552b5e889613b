/*
 * protobuf-c message -> jansson value, driven by the descriptors (rules in
 * json_pb.h).
 */
#include "model/json_pb.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *encode_message(const ProtobufCMessage *m, const pg_jpb_options *opt);

static json_t *int64_text(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return json_string(buf);
}

static json_t *uint64_text(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return json_string(buf);
}

static json_t *double_value(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static json_t *bytes_value(const ProtobufCMessageDescriptor *md, const ProtobufCFieldDescriptor *fd,
                           const ProtobufCBinaryData *b, const pg_jpb_options *opt)
{
    /* only ids of the documented size are hex: the reader takes any other
     * length for base64, so this keeps encode/decode symmetric */
    size_t want = opt && opt->hex_len ? opt->hex_len(md, fd) : 0;
    int hex = want && b->len == want;
    size_t cap = hex ? 2 * b->len + 1 : 4 * ((b->len + 2) / 3) + 1;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    if (hex)
        pg_hex_encode(b->data, b->len, text);
    else
        pg_base64_encode(b->data, b->len, text);
    json_t *v = json_string(text);
    free(text);
    return v;
}

static json_t *encode_value(const ProtobufCMessageDescriptor *md,
                            const ProtobufCFieldDescriptor *fd, const void *p,
                            const pg_jpb_options *opt)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return int64_text(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return uint64_text(*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return double_value(*(const double *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return double_value(*(const float *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return json_string(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_value(md, fd, p, opt);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        return sub ? encode_message(sub, opt) : json_object();
    }
    }
    return NULL;
}

/* Proto3 scalars without presence are written only when not the default. */
static int is_default(const ProtobufCFieldDescriptor *fd, const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)p == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)p == 0 && !signbit(*(const double *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)p == 0 && !signbit(*(const float *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return !*(const protobuf_c_boolean *)p;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(void *const *)p == NULL;
    default:
        return *(const uint32_t *)p == 0;
    }
}

/* lowerCamelCase of a proto field name. */
static void camel(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    for (; *name && n + 1 < cap; name++) {
        if (*name == '_' && name[1] >= 'a' && name[1] <= 'z')
            out[n++] = (char)(*++name - 'a' + 'A');
        else
            out[n++] = *name;
    }
    out[n] = '\0';
}

/* The JSON value of field fd of m, or NULL (with *skip set) when omitted. */
static json_t *encode_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
                            const pg_jpb_options *opt, int *skip)
{
    const uint8_t *base = (const uint8_t *)m;
    const void *slot = base + fd->offset;
    *skip = 0;
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *)(base + fd->quantifier_offset), sz = pg_jpb_slot_size(fd->type);
        const uint8_t *items = *(void *const *)slot;
        if (n == 0) {
            *skip = 1;
            return NULL;
        }
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
            if (json_array_append_new(arr, encode_value(m->descriptor, fd, items + i * sz, opt)) <
                0) {
                json_decref(arr);
                arr = NULL;
            }
        }
        return arr;
    }
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *skip = *(const uint32_t *)(base + fd->quantifier_offset) != fd->id;
    else
        *skip = is_default(fd, slot);
    return *skip ? NULL : encode_value(m->descriptor, fd, slot, opt);
}

static json_t *encode_message(const ProtobufCMessage *m, const pg_jpb_options *opt)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *obj = json_object();
    for (unsigned i = 0; obj && i < d->n_fields; i++) {
        int skip;
        json_t *v = encode_field(m, &d->fields[i], opt, &skip);
        if (skip)
            continue;
        char key[128];
        camel(d->fields[i].name, key, sizeof(key));
        if (!v || json_object_set_new(obj, key, v) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

json_t *pg_jpb_encode(const ProtobufCMessage *msg, const pg_jpb_options *opt)
{
    return encode_message(msg, opt);
}
