/*
 * Removal of a body's content coding (HTTP Content-Encoding, gRPC
 * grpc-encoding), as pure functions over buffers.
 *
 * Output is bounded: decompression stops as soon as the output would pass
 * `limit`, so a compression bomb costs at most about `limit` bytes of memory
 * and never more CPU than it takes to produce that many bytes.
 */
#ifndef PG_TRANSPORT_DECOMPRESS_H
#define PG_TRANSPORT_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"

/* Encodings understood by pg_decompress, for Accept-Encoding style headers. */
#define PG_DECOMPRESS_ACCEPTED "identity, gzip, deflate, zstd"

/* True when `encoding` (case-insensitive, surrounding blanks ignored) is one
 * that pg_decompress can remove. NULL and "" mean identity. */
int pg_decompress_supported(const char *encoding);

/* True for NULL, "", and "identity". */
int pg_decompress_is_identity(const char *encoding);

/*
 * Decodes `in` according to `encoding`:
 *   NULL, "", "identity"  the input itself (no copy)
 *   "gzip", "x-gzip"      RFC 1952, concatenated members accepted
 *   "deflate"             zlib-wrapped (RFC 1950) or, as some clients send, raw
 *                         RFC 1951 data
 *   "zstd"                one or more zstd frames
 * On success *out points into the arena (or at `in` for identity) and holds
 * *out_len bytes. `limit` is the largest acceptable output (0: none).
 *
 * Returns 0, PG_ERR_UNSUPPORTED (unknown encoding; the message names it),
 * PG_ERR_LIMIT (output would exceed limit), PG_ERR_INVALID (corrupt or
 * truncated data) or PG_ERR_NOMEM.
 */
int pg_decompress(pg_arena *arena, const char *encoding, const uint8_t *in, size_t len,
                  uint64_t limit, const uint8_t **out, size_t *out_len, pg_error *err);

#endif
