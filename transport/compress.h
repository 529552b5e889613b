/*
 * Whole-buffer compression for what profgate sends: request bodies with
 * Content-Encoding or grpc-encoding gzip or zstd, and gzipped pprof files.
 * The inverse, with its size limits, is transport/decompress.h.
 */
#ifndef PG_TRANSPORT_COMPRESS_H
#define PG_TRANSPORT_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

typedef enum pg_compression {
    PG_COMPRESSION_NONE = 0,
    PG_COMPRESSION_GZIP = 1,
    PG_COMPRESSION_ZSTD = 2,
} pg_compression;

/* "gzip", "zstd" or NULL for none: the Content-Encoding / grpc-encoding name. */
const char *pg_compression_name(pg_compression c);

/* Compresses in into a malloc'd buffer (*out, *out_len). NONE copies.
 * PG_ERR_NOMEM, or PG_ERR_LIMIT for inputs zlib cannot take in one call. */
int pg_compress(pg_compression c, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

#endif
