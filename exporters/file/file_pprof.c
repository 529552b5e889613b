/* Worker-side half of `format: pprof`: one gzipped pprof file per document. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "exporters/file/file_encode.h"
#include "exporters/file/file_labels.h"
#include "exporters/file/file_tree.h"
#include "model/otlp.h"
#include "processors/convert/convert_processor.h"

#define DIR_COMPONENT_MAX 128

typedef struct pprof_enc {
    const pg_batch *b;
    pg_file_encoded *out;
    pg_file_record **tail;
    pg_arena *tmp;
    unsigned char *done;
    int labels_file;
} pprof_enc;

static int gzip_bytes(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return PG_ERR_NOMEM;
    uLong cap = deflateBound(&z, (uLong)len);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) {
        deflateEnd(&z);
        return PG_ERR_NOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int zr = len > UINT32_MAX ? Z_BUF_ERROR : deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return PG_ERR_LIMIT;
    }
    *out = buf;
    return PG_OK;
}

static void component(char *dst, const char *s, const char *fallback)
{
    snprintf(dst, DIR_COMPONENT_MAX, "%s", s ? s : "");
    pg_file_tree_sanitize(dst, DIR_COMPONENT_MAX, fallback);
}

/* "<tenant>/<service>/<sample type>", each component made safe. */
static char *record_dir(const pg_profile *src, const pg_pprof *doc)
{
    char t[DIR_COMPONENT_MAX], s[DIR_COMPONENT_MAX], ty[DIR_COMPONENT_MAX];
    const char *type = doc->n_sample_type ? pg_pprof_str(doc, doc->sample_type[0]->type) : "";
    component(t, src->tenant, "_default");
    component(s, pg_profile_label(src, "service_name"), "_unknown");
    component(ty, type, "_unknown");
    size_t n = strlen(t) + strlen(s) + strlen(ty) + 3;
    char *dir = malloc(n);
    if (dir)
        snprintf(dir, n, "%s/%s/%s", t, s, ty);
    return dir;
}

/* Queues one file; takes data (or, when ref is set, a reference to it). */
static int add_file(pprof_enc *e, const pg_profile *src, const pg_pprof *doc, uint8_t *data,
                    size_t len, pg_payload *ref, uint32_t profiles)
{
    pg_file_record *r =
        ref ? pg_file_record_forward(ref, profiles) : pg_file_record_new(data, len, profiles);
    if (!r) {
        if (!ref)
            free(data);
        return PG_ERR_NOMEM;
    }
    r->time_unix_nano = doc->time_nanos > 0 ? (uint64_t)doc->time_nanos : 0;
    if (!(r->dir = record_dir(src, doc)) ||
        (e->labels_file && pg_file_labels_json(src, doc, &r->sidecar, &r->sidecar_len) != PG_OK)) {
        pg_file_record_free(r);
        return PG_ERR_NOMEM;
    }
    *e->tail = r;
    e->tail = &r->sibling;
    return PG_OK;
}

static void refuse(pprof_enc *e, uint32_t n, const pg_error *err)
{
    if (!e->out->failed && err)
        snprintf(e->out->why, sizeof(e->out->why), "%s", err->msg);
    e->out->failed += n;
}

/* Marks the profiles like b->profiles[first] (same payload and tenant) done;
 * fills refs (when given) with their positions. Returns their number. */
static size_t take_group(pprof_enc *e, size_t first, pg_otlp_ref *refs, size_t *members)
{
    const pg_profile *lead = &e->b->profiles[first];
    size_t n = 0;
    for (size_t i = first; i < e->b->count; i++) {
        const pg_profile *p = &e->b->profiles[i];
        if (e->done[i] || p->payload != lead->payload || strcmp(p->tenant, lead->tenant) != 0)
            continue;
        e->done[i] = 1;
        if (refs) {
            refs[n] = (pg_otlp_ref){p->resource_index, p->scope_index, p->profile_index};
            members[n] = i;
        }
        n++;
    }
    return n;
}

/* A pprof payload is written once per tenant, as it is (gzipped if raw). */
static int pprof_payload(pprof_enc *e, size_t first)
{
    const pg_profile *src = &e->b->profiles[first];
    pg_payload *p = src->payload;
    uint32_t n = (uint32_t)take_group(e, first, NULL, NULL);
    pg_pprof *doc = NULL;
    pg_error err;
    pg_error_clear(&err);
    int rc = pg_pprof_decode(e->tmp, p->bytes, p->len, PG_CONVERT_MAX_PPROF_BYTES, &doc, &err);
    if (rc == PG_ERR_NOMEM)
        return rc;
    if (rc != PG_OK) {
        refuse(e, n, &err);
        return PG_OK;
    }
    if (pg_is_gzip(p->bytes, p->len))
        return add_file(e, src, doc, NULL, 0, p, n);
    uint8_t *gz = NULL;
    size_t gz_len = 0;
    if ((rc = gzip_bytes(p->bytes, p->len, &gz, &gz_len)) != PG_OK)
        return rc;
    return add_file(e, src, doc, gz, gz_len, NULL, n);
}

static int otlp_document(pprof_enc *e, const pg_profile *src, const pg_pprof_doc *doc)
{
    pg_buf buf;
    pg_buf_init(&buf);
    pg_error err;
    pg_error_clear(&err);
    int rc = pg_pprof_encode(doc->profile, 1, &buf, &err);
    if (rc != PG_OK) {
        pg_buf_free(&buf);
        if (rc == PG_ERR_NOMEM)
            return rc;
        refuse(e, (uint32_t)doc->n_sources, &err);
        return PG_OK;
    }
    size_t len = 0;
    uint8_t *data = pg_buf_detach(&buf, &len);
    if (!data)
        return PG_ERR_NOMEM;
    return add_file(e, src, doc->profile, data, len, NULL, (uint32_t)doc->n_sources);
}

/* The profiles of one OTLP payload and tenant, converted together so that
 * the profiles of one former pprof document become one file again. */
static int otlp_payload(pprof_enc *e, size_t first)
{
    size_t max = e->b->count - first;
    pg_otlp_ref *refs = pg_arena_alloc(e->tmp, max * sizeof(*refs));
    size_t *members = pg_arena_alloc(e->tmp, max * sizeof(*members));
    if (!refs || !members)
        return PG_ERR_NOMEM;
    size_t n = take_group(e, first, refs, members);
    pg_payload *p = e->b->profiles[first].payload;
    pg_error err;
    pg_error_clear(&err);
    const pg_otlp_request *req = p->decoded;
    pg_otlp_request *decoded = NULL;
    int rc = req ? PG_OK : pg_otlp_decode(e->tmp, p->bytes, p->len, &decoded, &err);
    pg_pprof_doc *docs = NULL;
    size_t n_docs = 0;
    if (rc == PG_OK)
        rc = pg_otlp_to_pprof(e->tmp, req ? req : decoded, refs, n, &docs, &n_docs, &err);
    if (rc == PG_ERR_NOMEM)
        return rc;
    if (rc != PG_OK) {
        refuse(e, (uint32_t)n, &err);
        return PG_OK;
    }
    for (size_t d = 0; d < n_docs && rc == PG_OK; d++) {
        const pg_profile *src = &e->b->profiles[members[0]];
        for (size_t k = 0; k < n && docs[d].n_sources; k++)
            if (memcmp(&refs[k], &docs[d].sources[0], sizeof(refs[k])) == 0)
                src = &e->b->profiles[members[k]];
        rc = otlp_document(e, src, &docs[d]);
    }
    return rc;
}

int pg_file_encode_pprof(const pg_batch *b, const pg_file_pprof_opts *o, pg_file_encoded *out,
                         pg_error *err)
{
    memset(out, 0, sizeof(*out));
    pprof_enc e = {.b = b, .out = out, .tail = &out->record, .labels_file = o && o->labels_file};
    e.tmp = pg_arena_new(0, 0);
    e.done = e.tmp ? pg_arena_calloc(e.tmp, b->count + 1, 1) : NULL;
    int rc = e.done ? PG_OK : PG_ERR_NOMEM;
    for (size_t i = 0; i < b->count && rc == PG_OK; i++) {
        if (e.done[i])
            continue;
        rc = b->profiles[i].payload->format == PG_PAYLOAD_PPROF ? pprof_payload(&e, i)
                                                                : otlp_payload(&e, i);
    }
    pg_arena_free(e.tmp);
    if (rc != PG_OK) {
        pg_file_record_free(out->record);
        out->record = NULL;
        return pg_error_set(err, rc, "%s", rc == PG_ERR_NOMEM ? "out of memory" : pg_strerror(rc));
    }
    return PG_OK;
}
