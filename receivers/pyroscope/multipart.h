/*
 * multipart/form-data bodies (RFC 7578 over RFC 2046), as sent to Pyroscope's
 * /ingest by pyroscope-go (Go's mime/multipart) and the Node SDK (undici's
 * FormData). The parser is pure and runs in one pass: parts point into the
 * body, only the header values are copied.
 */
#ifndef PG_RECEIVERS_PYROSCOPE_MULTIPART_H
#define PG_RECEIVERS_PYROSCOPE_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"

typedef struct pg_multipart_part {
    const char *name;         /* form-data name parameter; "" when absent */
    const char *filename;     /* NULL when the part has no filename parameter */
    const char *content_type; /* NULL when absent */
    const uint8_t *data;      /* points into the body given to the parser */
    size_t len;
} pg_multipart_part;

/* Largest header block of one part, blank line included. */
#define PG_MULTIPART_MAX_HEADER 8192

/* Boundary of a Content-Type value such as `multipart/form-data; boundary=----x`
 * (quoted or not; media type and parameter names are case-insensitive). The
 * boundary is copied into the arena. PG_ERR_UNSUPPORTED when the media type is
 * not multipart/form-data, or content_type is NULL (no header); PG_ERR_INVALID
 * without a usable boundary (1..70 characters, no control characters). */
int pg_multipart_boundary(pg_arena *a, const char *content_type, const char **boundary,
                          pg_error *err);

/* Splits body[0..len) into its parts, in order.
 *
 * The preamble before the first delimiter line is skipped. A delimiter line is
 * `--boundary`, optional spaces/tabs, CRLF (or a bare LF); `--boundary--` ends
 * the body and whatever follows is ignored. Part headers end at an empty line;
 * Content-Disposition (parameters `name` and `filename`, quoted with `\`
 * escapes or not) and Content-Type are read, other headers ignored. A part's
 * data ends right before the CRLF (or LF) that precedes the next delimiter.
 *
 * PG_ERR_INVALID: no delimiter, no close delimiter, a part without the blank
 * line after its headers, a header block over PG_MULTIPART_MAX_HEADER bytes.
 * PG_ERR_LIMIT: more than max_parts parts. PG_ERR_NOMEM. The parts array is
 * arena memory; *parts is NULL when there are none. */
int pg_multipart_parse(pg_arena *a, const uint8_t *body, size_t len, const char *boundary,
                       size_t max_parts, pg_multipart_part **parts, size_t *n_parts, pg_error *err);

#endif
