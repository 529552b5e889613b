#include "exporters/file/file_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/common/otlp_request.h"

int pg_file_encode_batch(const pg_batch *b, pg_file_encoding enc, pg_file_encoded *out,
                         pg_error *err)
{
    memset(out, 0, sizeof(*out));
    pg_otlp_body body;
    int rc = pg_otlp_body_build(
        b, NULL, enc == PG_FILE_ENC_JSON ? PG_OTLP_BODY_JSON : PG_OTLP_BODY_PROTO, &body, err);
    out->failed = body.failed;
    out->forwarded = body.whole;
    snprintf(out->why, sizeof(out->why), "%s", body.why);
    if (rc == PG_OK && body.profiles) {
        if (body.payload) {
            out->record = pg_file_record_forward(body.payload, body.profiles);
        } else {
            size_t len = 0;
            uint8_t *data = pg_otlp_body_take(&body, &len);
            if (data && !(out->record = pg_file_record_new(data, len, body.profiles)))
                free(data);
        }
        if (!out->record)
            rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    pg_otlp_body_release(&body);
    return rc;
}
