#include "exporters/file/file_labels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* jansson refuses invalid UTF-8; a label must not cost the file its sidecar. */
static json_t *lossy_string(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* Takes value; the key goes through lossy_string as jansson checks it too. */
static int set(json_t *obj, const char *key, json_t *value)
{
    json_t *k = value ? lossy_string(key) : NULL;
    int rc = k ? json_object_set_new(obj, json_string_value(k), value) : -1;
    if (!k)
        json_decref(value);
    json_decref(k);
    return rc;
}

static json_t *labels_object(const pg_profile *src)
{
    json_t *labels = json_object();
    for (uint32_t i = 0; labels && i < src->n_labels; i++) {
        if (set(labels, src->labels[i].name, lossy_string(src->labels[i].value)) != 0) {
            json_decref(labels);
            return NULL;
        }
    }
    return labels;
}

static json_int_t as_json_int(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v;
}

static json_t *sidecar_object(const pg_profile *src, const pg_pprof *doc, const char *type)
{
    uint64_t t = src->time_unix_nano;
    if (!t && doc->time_nanos > 0)
        t = (uint64_t)doc->time_nanos;
    uint64_t d = src->duration_nano;
    if (!d && doc->duration_nanos > 0)
        d = (uint64_t)doc->duration_nanos;
    json_t *o = json_object();
    if (!o || set(o, "tenant", lossy_string(src->tenant)) != 0 ||
        set(o, "labels", labels_object(src)) != 0 ||
        set(o, "profile_type", lossy_string(type)) != 0 ||
        set(o, "time_unix_nano", json_integer(as_json_int(t))) != 0 ||
        set(o, "duration_nano", json_integer(as_json_int(d))) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int pg_file_labels_json(const pg_profile *src, const pg_pprof *doc, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    pg_arena *tmp = NULL;
    const char *type = src->profile_type;
    if (!type || !*type) {
        if (!(tmp = pg_arena_new(0, 0)) || !(type = pg_pprof_profile_type(tmp, doc))) {
            pg_arena_free(tmp);
            return PG_ERR_NOMEM;
        }
    }
    json_t *o = sidecar_object(src, doc, type);
    pg_arena_free(tmp);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return PG_ERR_NOMEM;
    size_t n = strlen(text);
    char *buf = realloc(text, n + 2);
    if (!buf) {
        free(text);
        return PG_ERR_NOMEM;
    }
    buf[n] = '\n';
    buf[n + 1] = 0;
    *out = buf;
    *len = n + 1;
    return PG_OK;
}
