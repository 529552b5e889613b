/*
 * pprof decoding: gzip is sniffed from the bytes (file names and headers lie),
 * the protobuf is unpacked into the caller's arena, and the result is
 * validated before anyone may index it.
 */
#include "convert/convert_internal.h"

#include <string.h>

#include "transport/decompress.h"

int pg_is_gzip(const uint8_t *buf, size_t len)
{
    return buf && len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

int pg_pprof_repair_function_ids(pg_pprof *p)
{
    if (!p->n_function)
        return 0;
    for (size_t i = 0; i < p->n_function; i++) {
        if (!p->function[i] || p->function[i]->id)
            return 0;
    }
    for (size_t i = 0; i < p->n_function; i++)
        p->function[i]->id = i + 1;
    return 1;
}

static int read_varint(const uint8_t *b, size_t n, size_t *i, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64 && *i < n; shift += 7) {
        uint8_t c = b[(*i)++];
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return 1;
    }
    return 0;
}

/* protobuf-c hands strings over NUL-terminated and without their length, so
 * a string with a NUL inside would silently lose its tail and hide whatever
 * follows from the UTF-8 check. The string_table entries are therefore
 * checked in the encoded bytes. Returns 1 when every entry was checked, 0
 * when the bytes did not parse (unpacking will then fail or the decoded
 * strings must be checked), or an error. */
static int check_encoded_strings(const uint8_t *b, size_t n, pg_error *err)
{
    size_t i = 0, index = 0;
    while (i < n) {
        uint64_t tag, len;
        if (!read_varint(b, n, &i, &tag))
            return 0;
        switch (tag & 7) {
        case 0:
            if (!read_varint(b, n, &i, &len))
                return 0;
            break;
        case 1:
        case 5:
            len = (tag & 7) == 1 ? 8 : 4;
            if (n - i < len)
                return 0;
            i += len;
            break;
        case 2:
            if (!read_varint(b, n, &i, &len) || len > n - i)
                return 0;
            if (tag >> 3 == 6) {
                const char *s = (const char *)b + i;
                if (pg_cv_utf8_invalid_at(s, len) != len)
                    return pg_error_set(err, PG_ERR_INVALID, "string_table[%zu] is not valid UTF-8",
                                        index);
                if (memchr(s, 0, len))
                    return pg_error_set(err, PG_ERR_UNSUPPORTED,
                                        "string_table[%zu] contains a NUL byte", index);
                index++;
            }
            i += len;
            break;
        default:
            return 0;
        }
    }
    return 1;
}

static void forget_unknown(ProtobufCMessage *m)
{
    if (m) {
        m->n_unknown_fields = 0;
        m->unknown_fields = NULL;
    }
}

/* Fields this schema does not know carry nothing the conversions use, and
 * protobuf-c keeps some (such as field number 0) that it then writes out in
 * a form it cannot read back, so they are dropped at decoding. */
static void forget_unknown_fields(pg_pprof *p)
{
    forget_unknown(&p->base);
    forget_unknown(p->period_type ? &p->period_type->base : NULL);
    for (size_t i = 0; i < p->n_sample_type; i++)
        forget_unknown(&p->sample_type[i]->base);
    for (size_t i = 0; i < p->n_sample; i++) {
        forget_unknown(&p->sample[i]->base);
        for (size_t j = 0; j < p->sample[i]->n_label; j++)
            forget_unknown(&p->sample[i]->label[j]->base);
    }
    for (size_t i = 0; i < p->n_mapping; i++)
        forget_unknown(&p->mapping[i]->base);
    for (size_t i = 0; i < p->n_location; i++) {
        forget_unknown(&p->location[i]->base);
        for (size_t j = 0; j < p->location[i]->n_line; j++)
            forget_unknown(&p->location[i]->line[j]->base);
    }
    for (size_t i = 0; i < p->n_function; i++)
        forget_unknown(&p->function[i]->base);
}

int pg_pprof_inflate(pg_arena *a, const uint8_t *buf, size_t len, uint64_t max_decompressed,
                     const uint8_t **data, size_t *n, pg_error *err)
{
    *data = buf;
    *n = len;
    if (!pg_is_gzip(buf, len))
        return PG_OK;
    int rc = pg_decompress(a, "gzip", buf, len, max_decompressed, data, n, err);
    if (rc != PG_OK) {
        if (rc == PG_ERR_NOMEM && pg_arena_limit_hit(a))
            rc = pg_error_set(err, PG_ERR_LIMIT,
                              "the decompressed document exceeds the memory limit");
        pg_error_prefix(err, "pprof: ");
    }
    return rc;
}

int pg_pprof_decode(pg_arena *a, const uint8_t *buf, size_t len, uint64_t max_decompressed,
                    pg_pprof **out, pg_error *err)
{
    *out = NULL;
    const uint8_t *data;
    size_t n;
    int inflated = pg_pprof_inflate(a, buf, len, max_decompressed, &data, &n, err);
    if (inflated != PG_OK)
        return inflated;
    int checked = check_encoded_strings(data, n, err);
    if (checked < 0) {
        pg_error_prefix(err, "pprof: ");
        return checked;
    }
    ProtobufCAllocator alloc = pg_arena_protobuf_allocator(a);
    pg_pprof *p = perftools__profiles__profile__unpack(&alloc, n, n ? data : (const uint8_t *)"");
    if (!p) {
        if (pg_arena_limit_hit(a))
            return pg_error_set(err, PG_ERR_LIMIT,
                                "pprof: the decoded document (%zu bytes encoded) exceeds the "
                                "memory limit",
                                n);
        return pg_error_set(err, PG_ERR_INVALID,
                            "pprof: not a valid perftools.profiles.Profile protobuf message");
    }
    forget_unknown_fields(p);
    pg_pprof_repair_function_ids(p);
    int rc = pg_pprof_validate_strings(p, !checked, err);
    if (rc != PG_OK) {
        pg_error_prefix(err, "pprof: ");
        return rc;
    }
    *out = p;
    return PG_OK;
}
