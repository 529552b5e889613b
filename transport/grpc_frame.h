/*
 * gRPC over HTTP/2 wire details that need no socket: length-prefixed message
 * framing, the grpc-timeout header, and grpc-message percent-encoding.
 *
 * A message on the wire is a 5-byte prefix (1 byte compressed flag, 0 or 1;
 * 4-byte big-endian length) followed by that many bytes.
 */
#ifndef PG_TRANSPORT_GRPC_FRAME_H
#define PG_TRANSPORT_GRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"

#define PG_GRPC_PREFIX_LEN 5

typedef struct pg_grpc_msg {
    int compressed;
    const uint8_t *data; /* points into the parsed buffer */
    size_t len;
} pg_grpc_msg;

/*
 * Splits the message at the start of buf. Returns 1 and fills *msg and
 * *consumed when a whole message is present; 0 when more bytes are needed.
 * Fails with PG_ERR_INVALID (flag byte other than 0 or 1) or PG_ERR_LIMIT
 * (declared length above max_len, detected from the prefix alone, before
 * the payload arrives).
 */
int pg_grpc_frame_next(const uint8_t *buf, size_t len, uint64_t max_len, pg_grpc_msg *msg,
                       size_t *consumed, pg_error *err);

/*
 * Unframes the body of a unary call, which must hold exactly one complete
 * message. Returns a gRPC status (0 = OK) and, when not OK, a message in err:
 * INTERNAL for a bad flag or truncated message, RESOURCE_EXHAUSTED above
 * max_len, INVALID_ARGUMENT for no message, UNIMPLEMENTED for more than one
 * (client streaming).
 */
int pg_grpc_unframe_unary(const uint8_t *body, size_t len, uint64_t max_len, pg_grpc_msg *msg,
                          pg_error *err);

/*
 * The request message of a unary call: unframes body (exactly one message,
 * at most max_len bytes) and removes its grpc-encoding `encoding` when the
 * compressed flag is set (at most max_decompressed bytes out, in arena).
 * Returns a gRPC status: OK with *msg and *msg_len set, or UNIMPLEMENTED for an
 * encoding pg_decompress cannot remove (or client streaming),
 * RESOURCE_EXHAUSTED over a limit, INTERNAL for a bad frame, a compressed
 * flag without an encoding or corrupt compressed data, INVALID_ARGUMENT for
 * no message; err says which.
 */
int pg_grpc_unary_message(pg_arena *a, const char *encoding, const uint8_t *body, size_t len,
                          uint64_t max_len, uint64_t max_decompressed, const uint8_t **msg,
                          size_t *msg_len, pg_error *err);

/* Appends prefix + message (uncompressed) to out; 0 or PG_ERR_NOMEM/LIMIT. */
int pg_grpc_frame_append(pg_buf *out, const uint8_t *msg, size_t len);

/*
 * Parses a grpc-timeout value: 1 to 8 ASCII digits then a unit, H M S
 * (hours, minutes, seconds) or m u n (milli-, micro-, nanoseconds).
 * Returns 0 with *ns set, or PG_ERR_INVALID.
 */
int pg_grpc_timeout_parse(const char *value, uint64_t *ns);

/* grpc-message encoding: bytes outside 0x20..0x7e, and '%', become %XX.
 * Returns an arena copy (NULL on allocation failure). */
char *pg_grpc_percent_encode(pg_arena *a, const char *msg);

#endif
