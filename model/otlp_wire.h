/*
 * Schema-less protobuf wire reader (internal to the OTLP model): walks the
 * fields of one message without allocating. Used to look at a request before
 * it is decoded (layout detection, nesting depth), where the schema is not
 * yet known to apply.
 */
#ifndef PG_MODEL_OTLP_WIRE_H
#define PG_MODEL_OTLP_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum { PG_WIRE_VARINT = 0, PG_WIRE_I64 = 1, PG_WIRE_LEN = 2, PG_WIRE_I32 = 5 };

typedef struct pg_wire {
    const uint8_t *p, *end;
} pg_wire;

typedef struct pg_wire_field {
    uint32_t num;
    int wt;
    uint64_t value;      /* varint / fixed value */
    const uint8_t *data; /* PG_WIRE_LEN payload */
    size_t len;
} pg_wire_field;

static inline int pg_wire_varint(pg_wire *w, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && w->p < w->end; shift += 7) {
        uint8_t b = *w->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Reads the next field: 1 = read, 0 = end of message, -1 = malformed (groups,
 * field number 0, truncated value). */
static inline int pg_wire_next(pg_wire *w, pg_wire_field *f)
{
    uint64_t key;
    if (w->p >= w->end)
        return 0;
    if (pg_wire_varint(w, &key) < 0 || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wt = (int)(key & 7);
    size_t left = (size_t)(w->end - w->p);
    switch (f->wt) {
    case PG_WIRE_VARINT:
        return pg_wire_varint(w, &f->value) < 0 ? -1 : 1;
    case PG_WIRE_I64:
    case PG_WIRE_I32: {
        size_t n = f->wt == PG_WIRE_I64 ? 8 : 4;
        if (left < n)
            return -1;
        f->value = 0;
        for (size_t i = 0; i < n; i++)
            f->value |= (uint64_t)w->p[i] << (8 * i);
        w->p += n;
        return 1;
    }
    case PG_WIRE_LEN:
        if (pg_wire_varint(w, &f->value) < 0 || f->value > (uint64_t)(w->end - w->p))
            return -1;
        f->data = w->p;
        f->len = (size_t)f->value;
        w->p += f->len;
        return 1;
    default:
        return -1;
    }
}

/* 0 when no attribute value (AnyValue inside arrays and key-value lists) of
 * an encoded v1.10 request nests deeper than max_depth, -1 otherwise.
 * protobuf-c unpacks recursively without a depth limit, so this runs first.
 * Malformed parts are left for the decoder to reject. */
int pg_otlp_wire_depth_ok(const uint8_t *buf, size_t len, int max_depth);

#endif
