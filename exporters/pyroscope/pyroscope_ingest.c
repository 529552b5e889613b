/* The /ingest request of one document (see pyroscope_request.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "exporters/pyroscope/pyroscope_request.h"

#define QUOTE(s) (int)(strlen(s) > 64 ? 64 : strlen(s)), (s)

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static int append_escaped(pg_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        int rc = unreserved(*p) ? pg_buf_append(b, p, 1) : pg_buf_append(b, enc, 3);
        if (rc != PG_OK)
            return rc;
    }
    return PG_OK;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* A value the name syntax carries unchanged: the parser ends a value at ','
 * or '}' and trims white space. */
static int check_value(const pg_label *l, pg_error *err)
{
    const char *v = l->value;
    size_t n = strlen(v);
    if (strpbrk(v, ",}"))
        return pg_error_set(err, PG_ERR_INVALID,
                            "value of label '%.*s' holds ',' or '}', which /ingest's name "
                            "syntax cannot carry",
                            QUOTE(l->name));
    if (n && (is_space(v[0]) || is_space(v[n - 1])))
        return pg_error_set(err, PG_ERR_INVALID,
                            "value of label '%.*s' starts or ends with white space, which "
                            "/ingest's name syntax trims",
                            QUOTE(l->name));
    return PG_OK;
}

static int check_app(const char *app, pg_error *err)
{
    for (const char *p = app; *p; p++)
        if (!unreserved((unsigned char)*p) && *p != '/')
            return pg_error_set(err, PG_ERR_INVALID,
                                "service_name '%.*s' is not a valid /ingest application name "
                                "([A-Za-z0-9_.-/]+)",
                                QUOTE(app));
    return *app ? PG_OK : pg_error_set(err, PG_ERR_INVALID, "empty service_name");
}

/* Labels that are not tags of the name: the app name, what Pyroscope sets
 * itself, and the spy (its own parameter). */
static int is_tag(const char *name)
{
    return strcmp(name, "service_name") != 0 && strcmp(name, "__name__") != 0 &&
           strcmp(name, "__delta__") != 0 && strcmp(name, "pyroscope_spy") != 0;
}

/* "app{k=v,...}", or "app" without tags. */
static int name_param(const pg_pyroexp_labels *l, pg_buf *name, pg_error *err)
{
    const char *app = pg_pyroexp_labels_get(l, "service_name");
    if (!app)
        app = "unknown_service";
    int rc = check_app(app, err);
    if (rc != PG_OK)
        return rc;
    rc = pg_buf_append_str(name, app);
    const char *sep = "{";
    for (size_t i = 0; i < l->n && rc == PG_OK; i++) {
        const pg_label *t = &l->labels[i];
        if (!is_tag(t->name))
            continue;
        if (check_value(t, err) != PG_OK)
            return PG_ERR_INVALID;
        rc = pg_buf_printf(name, "%s%s=%s", sep, t->name, t->value);
        sep = ",";
    }
    if (rc == PG_OK && *sep == ',')
        rc = pg_buf_append_str(name, "}");
    if (rc == PG_OK)
        rc = pg_buf_append(name, "", 1);
    return rc == PG_OK ? PG_OK : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
}

static int query(const pg_pyroexp_doc *d, int form, pg_buf *q, pg_error *err)
{
    pg_buf name;
    pg_buf_init(&name);
    int rc = name_param(&d->labels, &name, err);
    if (rc != PG_OK) {
        pg_buf_free(&name);
        return rc;
    }
    const pg_profile *src = d->entry->src;
    const char *spy = pg_pyroexp_labels_get(&d->labels, "pyroscope_spy");
    rc = pg_buf_append_str(q, "/ingest?name=");
    if (rc == PG_OK)
        rc = append_escaped(q, (const char *)name.data);
    pg_buf_free(&name);
    if (rc == PG_OK && src->time_unix_nano)
        rc = pg_buf_printf(q, "&from=%019" PRIu64 "&until=%019" PRIu64, src->time_unix_nano,
                           src->time_unix_nano + src->duration_nano);
    if (rc == PG_OK && spy)
        rc = pg_buf_append_str(q, "&spyName=");
    if (rc == PG_OK && spy)
        rc = append_escaped(q, spy);
    if (rc == PG_OK && !form)
        rc = pg_buf_append_str(q, "&format=pprof");
    if (rc == PG_OK)
        rc = pg_buf_append(q, "", 1);
    return rc == PG_OK ? PG_OK : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
}

static int contains(const uint8_t *data, size_t len, const char *s)
{
    return memmem(data, len, s, strlen(s)) != NULL;
}

static int add_part(pg_buf *b, const char *boundary, const char *name, const char *filename,
                    const uint8_t *data, size_t len)
{
    int rc = pg_buf_printf(b,
                           "--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                           "filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                           boundary, name, filename);
    if (rc == PG_OK)
        rc = pg_buf_append(b, data, len);
    if (rc == PG_OK)
        rc = pg_buf_append_str(b, "\r\n");
    return rc;
}

/* multipart/form-data with the parts `profile` and `sample_type_config`. */
static int form_body(pg_arena *a, const pg_pyroexp_doc *d, pg_buf *b, const char **ctype)
{
    const uint8_t *prof = d->entry->data, *cfg = (const uint8_t *)d->labels.stconfig;
    size_t prof_len = d->entry->len, cfg_len = strlen(d->labels.stconfig);
    /* a boundary must not occur in the parts; counting up finds one fast */
    char boundary[64];
    for (unsigned i = 0;; i++) {
        snprintf(boundary, sizeof(boundary), "profgate-%08x-pyroscope-form", i);
        if (!contains(prof, prof_len, boundary) && !contains(cfg, cfg_len, boundary))
            break;
    }
    int rc = add_part(b, boundary, "profile", "profile.pprof", prof, prof_len);
    if (rc == PG_OK)
        rc = add_part(b, boundary, "sample_type_config", "sample_type_config.json", cfg, cfg_len);
    if (rc == PG_OK)
        rc = pg_buf_printf(b, "--%s--\r\n", boundary);
    if (rc == PG_OK &&
        !(*ctype = pg_arena_sprintf(a, "multipart/form-data; boundary=%s", boundary)))
        rc = PG_ERR_NOMEM;
    return rc;
}

int pg_pyroexp_ingest_request(pg_arena *a, const pg_pyroexp_doc *d, pg_pyroexp_request *out,
                              pg_error *err)
{
    memset(out, 0, sizeof(*out));
    int form = d->labels.stconfig != NULL;
    pg_buf q, body;
    pg_buf_init(&q);
    pg_buf_init(&body);
    int rc = query(d, form, &q, err);
    if (rc != PG_OK) {
        pg_buf_free(&q);
        return rc;
    }
    out->path = pg_arena_strdup(a, (const char *)q.data);
    pg_buf_free(&q);
    out->content_type = "application/octet-stream";
    rc = out->path ? PG_OK : PG_ERR_NOMEM;
    if (rc == PG_OK)
        rc = form ? form_body(a, d, &body, &out->content_type)
                  : pg_buf_append(&body, d->entry->data, d->entry->len);
    if (rc == PG_OK && !(out->body = pg_buf_detach(&body, &out->len)))
        rc = PG_ERR_NOMEM; /* an empty document still gets a buffer */
    pg_buf_free(&body);
    return rc == PG_OK ? PG_OK : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
}
