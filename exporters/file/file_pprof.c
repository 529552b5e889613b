/* Worker-side half of `format: pprof`: one gzipped pprof file per document
 * (the documents come from exporters/common/pprof_docs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/common/pprof_docs.h"
#include "exporters/file/file_encode.h"
#include "exporters/file/file_labels.h"
#include "exporters/file/file_tree.h"
#include "transport/compress.h"

#define DIR_COMPONENT_MAX 128

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

/* The record of entry i: a gzipped payload is referenced as it is, a raw
 * one gzipped, a converted one (already gzipped) taken over. */
static int new_record(pg_pprof_docs *docs, size_t i, pg_file_record **out)
{
    pg_pprof_docs_entry *e = &docs->entries[i];
    if (e->payload && e->gzipped)
        return (*out = pg_file_record_forward(e->payload, e->profiles)) ? PG_OK : PG_ERR_NOMEM;
    uint8_t *data = NULL;
    size_t len = 0;
    if (e->payload) {
        int rc = pg_compress(PG_COMPRESSION_GZIP, e->data, e->len, &data, &len);
        if (rc != PG_OK)
            return rc;
    } else if (!(data = pg_pprof_docs_take(docs, i, &len))) {
        return PG_ERR_NOMEM;
    }
    if (!(*out = pg_file_record_new(data, len, e->profiles)))
        free(data);
    return *out ? PG_OK : PG_ERR_NOMEM;
}

static int add_file(pg_pprof_docs *docs, size_t i, int labels_file, pg_file_record ***tail)
{
    const pg_pprof_docs_entry *e = &docs->entries[i];
    const pg_profile *src = e->src;
    const pg_pprof *doc = e->doc;
    pg_file_record *r = NULL;
    int rc = new_record(docs, i, &r);
    if (rc != PG_OK)
        return rc;
    r->time_unix_nano = doc->time_nanos > 0 ? (uint64_t)doc->time_nanos : 0;
    if (!(r->dir = record_dir(src, doc)) ||
        (labels_file && pg_file_labels_json(src, doc, &r->sidecar, &r->sidecar_len) != PG_OK)) {
        pg_file_record_free(r);
        return PG_ERR_NOMEM;
    }
    **tail = r;
    *tail = &r->sibling;
    return PG_OK;
}

int pg_file_encode_pprof(const pg_batch *b, const pg_file_pprof_opts *o, pg_file_encoded *out,
                         pg_error *err)
{
    memset(out, 0, sizeof(*out));
    pg_pprof_docs docs;
    pg_pprof_docs_opts dopts = {.decode_pprof = 1, .gzip = 1};
    int rc = pg_pprof_docs_build(b, &dopts, &docs, err);
    out->failed = docs.failed;
    snprintf(out->why, sizeof(out->why), "%s", docs.why);
    pg_file_record **tail = &out->record;
    for (size_t i = 0; i < docs.n && rc == PG_OK; i++)
        rc = add_file(&docs, i, o && o->labels_file, &tail);
    pg_pprof_docs_release(&docs);
    if (rc != PG_OK) {
        pg_file_record_free(out->record);
        out->record = NULL;
        return pg_error_set(err, rc, "%s", rc == PG_ERR_NOMEM ? "out of memory" : pg_strerror(rc));
    }
    return PG_OK;
}
