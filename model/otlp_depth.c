/*
 * Nesting-depth guard for encoded requests: protobuf-c recurses once per
 * nested message with no limit, so a small request of deeply nested
 * AnyValue arrays would exhaust the stack. Only the recursive part of the
 * schema (attribute values) can nest without bound; this walks exactly the
 * paths that lead to it.
 */
#include "model/otlp_wire.h"

typedef enum node {
    N_NONE,
    N_REQUEST,
    N_RESOURCE_PROFILES,
    N_RESOURCE,
    N_SCOPE_PROFILES,
    N_SCOPE,
    N_DICTIONARY,
    N_KEY_VALUE_AND_UNIT,
    N_KEY_VALUE,
    N_ANY_VALUE,
    N_ARRAY_VALUE,
    N_KEY_VALUE_LIST,
} node;

/* The message kind held by field `num` of a `parent` message, on the paths
 * that reach an AnyValue. */
static node child_of(node parent, uint32_t num)
{
    switch (parent) {
    case N_REQUEST:
        return num == 1 ? N_RESOURCE_PROFILES : num == 2 ? N_DICTIONARY : N_NONE;
    case N_RESOURCE_PROFILES:
        return num == 1 ? N_RESOURCE : num == 2 ? N_SCOPE_PROFILES : N_NONE;
    case N_RESOURCE:
        return num == 1 ? N_KEY_VALUE : N_NONE;
    case N_SCOPE_PROFILES:
        return num == 1 ? N_SCOPE : N_NONE;
    case N_SCOPE:
        return num == 3 ? N_KEY_VALUE : N_NONE;
    case N_DICTIONARY:
        return num == 6 ? N_KEY_VALUE_AND_UNIT : N_NONE;
    case N_KEY_VALUE_AND_UNIT:
    case N_KEY_VALUE:
        return num == 2 ? N_ANY_VALUE : N_NONE;
    case N_ANY_VALUE:
        return num == 5 ? N_ARRAY_VALUE : num == 6 ? N_KEY_VALUE_LIST : N_NONE;
    case N_ARRAY_VALUE:
        return num == 1 ? N_ANY_VALUE : N_NONE;
    case N_KEY_VALUE_LIST:
        return num == 1 ? N_KEY_VALUE : N_NONE;
    default:
        return N_NONE;
    }
}

static int walk(const uint8_t *p, size_t n, node kind, int depth, int max_depth)
{
    if (kind == N_ANY_VALUE && ++depth > max_depth)
        return -1;
    pg_wire w = {p, p + n};
    pg_wire_field f;
    while (pg_wire_next(&w, &f) > 0) {
        node c = f.wt == PG_WIRE_LEN ? child_of(kind, f.num) : N_NONE;
        if (c != N_NONE && walk(f.data, f.len, c, depth, max_depth) < 0)
            return -1;
    }
    return 0;
}

int pg_otlp_wire_depth_ok(const uint8_t *buf, size_t len, int max_depth)
{
    return walk(buf, len, N_REQUEST, 0, max_depth);
}
