#include "receivers/pyroscope/sample_type_config.h"

#include <string.h>

#include <jansson.h>

#define PREFIX "sample_type_config"

static const pg_pyro_stconfig_entry defaults[] = {
    {"samples", "samples", "cpu", NULL, -1, 1},
    {"inuse_objects", "objects", NULL, "average", -1, -1},
    {"alloc_objects", "objects", NULL, NULL, 1, -1},
    {"inuse_space", "bytes", NULL, "average", -1, -1},
    {"alloc_space", "bytes", NULL, NULL, 1, -1},
    {"goroutine", "goroutines", "goroutines", "average", -1, -1},
    {"contentions", "lock_samples", "mutex_count", NULL, 1, -1},
    {"delay", "lock_nanoseconds", "mutex_duration", NULL, 1, -1},
};

const pg_pyro_stconfig_entry *pg_pyro_stconfig_defaults(size_t *n)
{
    *n = sizeof(defaults) / sizeof(defaults[0]);
    return defaults;
}

const pg_pyro_stconfig_entry *pg_pyro_stconfig_find(const pg_pyro_stconfig_entry *e, size_t n,
                                                    const char *sample_type)
{
    for (size_t i = 0; e && i < n; i++) {
        if (strcmp(e[i].sample_type, sample_type) == 0)
            return &e[i];
    }
    return NULL;
}

static int wrong_type(const char *type, const char *key, const char *want, pg_error *err)
{
    return pg_error_set(err, PG_ERR_INVALID, PREFIX " entry '%.64s': '%s' must be %s", type, key,
                        want);
}

/* A string field; NULL stays NULL (absent). */
static int string_field(pg_arena *a, const char *type, const char *key, json_t *v, const char **out,
                        pg_error *err)
{
    if (json_is_null(v))
        return PG_OK;
    if (!json_is_string(v))
        return wrong_type(type, key, "a string", err);
    *out = pg_arena_strndup(a, json_string_value(v), json_string_length(v));
    return *out ? PG_OK : pg_error_set(err, PG_ERR_NOMEM, "out of memory reading " PREFIX);
}

static int bool_field(const char *type, const char *key, json_t *v, int *out, pg_error *err)
{
    if (json_is_null(v))
        return PG_OK;
    if (!json_is_boolean(v))
        return wrong_type(type, key, "a boolean", err);
    *out = json_is_true(v);
    return PG_OK;
}

static int read_field(pg_arena *a, pg_pyro_stconfig_entry *e, const char *key, json_t *v,
                      pg_error *err)
{
    const char *type = e->sample_type;
    if (strcmp(key, "units") == 0)
        return string_field(a, type, key, v, &e->units, err);
    if (strcmp(key, "display-name") == 0)
        return string_field(a, type, key, v, &e->display_name, err);
    if (strcmp(key, "cumulative") == 0)
        return bool_field(type, key, v, &e->cumulative, err);
    if (strcmp(key, "sampled") == 0)
        return bool_field(type, key, v, &e->sampled, err);
    if (strcmp(key, "aggregation") != 0)
        return pg_error_set(err, PG_ERR_INVALID, PREFIX " entry '%.64s': unknown key '%.64s'", type,
                            key);
    int rc = string_field(a, type, key, v, &e->aggregation, err);
    if (rc == PG_OK && e->aggregation && strcmp(e->aggregation, "sum") != 0 &&
        strcmp(e->aggregation, "average") != 0)
        rc = pg_error_set(err, PG_ERR_INVALID,
                          PREFIX " entry '%.64s': aggregation '%.64s' is not sum or average", type,
                          e->aggregation);
    return rc;
}

static int read_entry(pg_arena *a, const char *type, json_t *obj, pg_pyro_stconfig_entry *e,
                      pg_error *err)
{
    *e = (pg_pyro_stconfig_entry){.cumulative = -1, .sampled = -1};
    e->sample_type = pg_arena_strdup(a, type);
    if (!e->sample_type)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory reading " PREFIX);
    if (!json_is_object(obj))
        return pg_error_set(err, PG_ERR_INVALID, PREFIX " entry '%.64s' is not an object", type);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int rc = read_field(a, e, key, v, err);
        if (rc != PG_OK)
            return rc;
    }
    return PG_OK;
}

static int read_entries(pg_arena *a, json_t *root, pg_pyro_stconfig_entry **out, size_t *n,
                        pg_error *err)
{
    if (!json_is_object(root))
        return pg_error_set(err, PG_ERR_INVALID, PREFIX " is not a JSON object");
    size_t count = json_object_size(root);
    if (count == 0)
        return PG_OK;
    pg_pyro_stconfig_entry *e = pg_arena_calloc(a, count, sizeof(*e));
    if (!e)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory reading " PREFIX);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        int rc = read_entry(a, key, v, &e[*n], err);
        if (rc != PG_OK)
            return rc;
        (*n)++;
    }
    *out = e;
    return PG_OK;
}

int pg_pyro_stconfig_parse(pg_arena *a, const uint8_t *json, size_t len,
                           pg_pyro_stconfig_entry **out, size_t *n, pg_error *err)
{
    json_error_t jerr;
    *out = NULL;
    *n = 0;
    json_t *root = json_loadb((const char *)json, len, JSON_DECODE_ANY, &jerr);
    if (!root)
        return pg_error_set(err, PG_ERR_INVALID,
                            PREFIX " is not valid JSON (line %d column %d): %s", jerr.line,
                            jerr.column, jerr.text);
    int rc = read_entries(a, root, out, n, err);
    json_decref(root);
    if (rc != PG_OK) {
        *out = NULL;
        *n = 0;
    }
    return rc;
}
