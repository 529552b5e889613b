/*
 * JSON -> protobuf-c message, driven by the message descriptors (rules in
 * json_pb.h). Errors carry the JSON path, kept as a chain of stack frames
 * and rendered only on failure.
 */
#include "model/json_pb.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jpath {
    const struct jpath *up;
    const char *key; /* NULL for an array element */
    long index;
} jpath;

typedef struct jctx {
    pg_arena *arena;
    const pg_jpb_options *opt;
    int max_depth;
    pg_error *err;
} jctx;

static size_t render(const jpath *p, char *out, size_t cap)
{
    size_t n = p->up ? render(p->up, out, cap) : 0;
    int k = p->key ? snprintf(out + n, cap - n, "%s%s", n ? "." : "", p->key)
                   : snprintf(out + n, cap - n, "[%ld]", p->index);
    return k < 0 || (size_t)k >= cap - n ? cap - 1 : n + (size_t)k;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static int fail(jctx *c, const jpath *p, const char *what, const json_t *got)
{
    char path[PG_ERROR_MSG_MAX / 2] = "(top level)";
    if (p)
        render(p, path, sizeof(path));
    if (got)
        return pg_error_set(c->err, PG_ERR_INVALID, "%s: expected %s, got %s", path, what,
                            json_kind(got));
    return pg_error_set(c->err, PG_ERR_INVALID, "%s: %s", path, what);
}

/* Integer fields: a number of the wrong range reads better than "got number". */
static int bad_int(jctx *c, const jpath *p, const char *what, const json_t *v)
{
    char buf[128];
    if (!json_is_number(v) && !json_is_string(v))
        return fail(c, p, what, v);
    snprintf(buf, sizeof(buf), "expected %s, got %s out of range or not an integer", what,
             json_is_number(v) ? "a number" : "a string");
    return fail(c, p, buf, NULL);
}

static int nomem(jctx *c)
{
    return pg_error_set(c->err, pg_arena_limit_hit(c->arena) ? PG_ERR_LIMIT : PG_ERR_NOMEM,
                        "decoded request exceeds the memory limit for one request");
}

/* Integers: JSON integers, integral reals, or decimal strings. */
static int read_int(const json_t *v, int is_signed, int64_t *s, uint64_t *u)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (!is_signed && i < 0)
            return -1;
        *s = i;
        *u = (uint64_t)i;
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d) || d < (is_signed ? -9223372036854775808.0 : 0.0) ||
            d >= (is_signed ? 9223372036854775808.0 : 18446744073709551616.0))
            return -1;
        *s = is_signed ? (int64_t)d : 0;
        *u = is_signed ? (uint64_t)*s : (uint64_t)d;
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    const char *t = json_string_value(v);
    char *end;
    if (!*t || !(t[0] == '-' || (t[0] >= '0' && t[0] <= '9')) || (!is_signed && t[0] == '-'))
        return -1;
    errno = 0;
    if (is_signed) {
        *s = strtoll(t, &end, 10);
        *u = (uint64_t)*s;
    } else {
        *u = strtoull(t, &end, 10);
        *s = (int64_t)*u;
    }
    return errno || *end || (size_t)(end - t) != json_string_length(v) ? -1 : 0;
}

static int read_double(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    const char *t = json_string_value(v);
    if (strcmp(t, "NaN") == 0)
        *out = NAN;
    else if (strcmp(t, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(t, "-Infinity") == 0)
        *out = -INFINITY;
    else {
        char *end;
        if (!*t || (t[0] != '-' && (t[0] < '0' || t[0] > '9')))
            return -1;
        *out = strtod(t, &end);
        return *end ? -1 : 0;
    }
    return 0;
}

static int read_bytes(jctx *c, const jpath *p, const ProtobufCMessageDescriptor *md,
                      const ProtobufCFieldDescriptor *fd, const json_t *v, ProtobufCBinaryData *out)
{
    if (!json_is_string(v))
        return fail(c, p, "a base64 string", v);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    /* room for base64 (3 bytes per 4 characters) and for hex (1 per 2) */
    uint8_t *buf = pg_arena_alloc(c->arena, len / 4 * 3 + 4);
    if (!buf)
        return nomem(c);
    size_t hex = c->opt && c->opt->hex_len ? c->opt->hex_len(md, fd) : 0;
    long n = -1;
    if (hex && len == 2 * hex)
        n = pg_hex_decode(s, len, buf);
    if (n < 0)
        n = pg_base64_decode(s, len, buf);
    if (n < 0)
        return fail(c, p, hex ? "a hex (or base64) string" : "a base64 string", NULL);
    out->data = n ? buf : NULL;
    out->len = (size_t)n;
    return 0;
}

static int decode_message(jctx *c, const jpath *p, const ProtobufCMessageDescriptor *desc,
                          json_t *obj, ProtobufCMessage **out, int depth);

static int read_enum(const ProtobufCFieldDescriptor *fd, const json_t *v, int32_t *out)
{
    int64_t s;
    uint64_t u;
    if (json_is_string(v)) {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value_by_name(fd->descriptor, json_string_value(v));
        if (ev) {
            *out = ev->value;
            return 0;
        }
    }
    if (read_int(v, 1, &s, &u) < 0 || s < INT32_MIN || s > INT32_MAX)
        return -1;
    *out = (int32_t)s;
    return 0;
}

/* Decodes one value of field fd into dst (a scalar slot or a pointer slot). */
static int decode_value(jctx *c, const jpath *p, const ProtobufCMessageDescriptor *md,
                        const ProtobufCFieldDescriptor *fd, json_t *v, void *dst, int depth)
{
    int64_t s;
    uint64_t u;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (read_int(v, 1, &s, &u) < 0 || s < INT32_MIN || s > INT32_MAX)
            return bad_int(c, p, "a 32-bit integer", v);
        *(int32_t *)dst = (int32_t)s;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (read_int(v, 0, &s, &u) < 0 || u > UINT32_MAX)
            return bad_int(c, p, "an unsigned 32-bit integer", v);
        *(uint32_t *)dst = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (read_int(v, 1, &s, &u) < 0)
            return bad_int(c, p, "a 64-bit integer (number or decimal string)", v);
        *(int64_t *)dst = s;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (read_int(v, 0, &s, &u) < 0)
            return bad_int(c, p, "an unsigned 64-bit integer (number or decimal string)", v);
        *(uint64_t *)dst = u;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FLOAT: {
        double d;
        if (read_double(v, &d) < 0)
            return fail(c, p, "a number (or \"NaN\", \"Infinity\", \"-Infinity\")", v);
        if (fd->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)dst = (float)d;
        else
            *(double *)dst = d;
        return 0;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return fail(c, p, "true or false", v);
        *(protobuf_c_boolean *)dst = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        if (read_enum(fd, v, dst) < 0)
            return bad_int(c, p, "an enum number or name", v);
        return 0;
    case PROTOBUF_C_TYPE_STRING:
        if (!json_is_string(v))
            return fail(c, p, "a string", v);
        *(char **)dst = pg_arena_strndup(c->arena, json_string_value(v), json_string_length(v));
        return *(char **)dst ? 0 : nomem(c);
    case PROTOBUF_C_TYPE_BYTES:
        return read_bytes(c, p, md, fd, v, dst);
    case PROTOBUF_C_TYPE_MESSAGE:
        return decode_message(c, p, fd->descriptor, v, dst, depth + 1);
    }
    return fail(c, p, "a supported field type", NULL);
}

static int decode_repeated(jctx *c, const jpath *p, const ProtobufCMessageDescriptor *md,
                           const ProtobufCFieldDescriptor *fd, json_t *arr, ProtobufCMessage *m,
                           int depth)
{
    if (!json_is_array(arr))
        return fail(c, p, "an array", arr);
    size_t n = json_array_size(arr), sz = pg_jpb_slot_size(fd->type);
    uint8_t *items = n ? pg_arena_calloc(c->arena, n, sz) : NULL;
    if (n && !items)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        jpath e = {p, NULL, (long)i};
        json_t *v = json_array_get(arr, i);
        if (json_is_null(v))
            return fail(c, &e, "null is not allowed inside an array", NULL);
        if (decode_value(c, &e, md, fd, v, items + i * sz, depth) < 0)
            return -1;
    }
    *(size_t *)((uint8_t *)m + fd->quantifier_offset) = n;
    *(void **)((uint8_t *)m + fd->offset) = items;
    return 0;
}

/* Proto name, or its lowerCamelCase JSON name. */
static int key_matches(const char *key, const char *name)
{
    if (strcmp(key, name) == 0)
        return 1;
    for (;; key++, name++) {
        if (*name == '_' && name[1] >= 'a' && name[1] <= 'z') {
            name++;
            if (*key != *name - 'a' + 'A')
                return 0;
        } else if (*key != *name)
            return 0;
        if (!*key)
            return 1;
    }
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
                                                  const char *key)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (key_matches(key, d->fields[i].name))
            return &d->fields[i];
    }
    return NULL;
}

static int decode_field(jctx *c, const jpath *p, const ProtobufCMessageDescriptor *desc,
                        const ProtobufCFieldDescriptor *fd, json_t *v, ProtobufCMessage *m,
                        int depth)
{
    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        return decode_repeated(c, p, desc, fd, v, m, depth);
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = (uint32_t *)((uint8_t *)m + fd->quantifier_offset);
        if (*which && *which != fd->id)
            return fail(c, p, "more than one member of a oneof is set", NULL);
        *which = fd->id;
    } else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset &&
               fd->type != PROTOBUF_C_TYPE_MESSAGE && fd->type != PROTOBUF_C_TYPE_STRING) {
        *(protobuf_c_boolean *)((uint8_t *)m + fd->quantifier_offset) = 1;
    }
    return decode_value(c, p, desc, fd, v, (uint8_t *)m + fd->offset, depth);
}

static int decode_message(jctx *c, const jpath *p, const ProtobufCMessageDescriptor *desc,
                          json_t *obj, ProtobufCMessage **out, int depth)
{
    if (!json_is_object(obj))
        return fail(c, p, "an object", obj);
    if (depth > c->max_depth)
        return fail(c, p, "messages nest too deeply", NULL);
    ProtobufCMessage *m = pg_arena_alloc(c->arena, desc->sizeof_message);
    if (!m)
        return nomem(c);
    desc->message_init(m);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const ProtobufCFieldDescriptor *fd = find_field(desc, key);
        if (!fd || json_is_null(v))
            continue; /* unknown keys are ignored; null is "absent" */
        jpath fp = {p, key, -1};
        if (decode_field(c, &fp, desc, fd, v, m, depth) < 0)
            return -1;
    }
    *out = m;
    return 0;
}

int pg_jpb_decode(pg_arena *arena, const ProtobufCMessageDescriptor *desc, json_t *json,
                  const pg_jpb_options *opt, ProtobufCMessage **out, pg_error *err)
{
    jctx c = {arena, opt, opt && opt->max_depth ? opt->max_depth : 100, err};
    *out = NULL;
    return decode_message(&c, NULL, desc, json, out, 0) < 0 ? (err ? err->code : PG_ERR_INVALID)
                                                            : PG_OK;
}
