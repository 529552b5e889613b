#include <string.h>

#include <jansson.h>

#include "processors/convert/convert_processor.h"

/* Per-sample-type attributes from the __sample_type_config__ label that the
 * Pyroscope receiver keeps: {"<type>": {"units": "...", ...}, ...} becomes
 * pyroscope.sample_type.<key> on that type's Profile. A label that does not
 * parse adds nothing (it is internal data, not user input). */
static int stconfig_attrs(pg_arena *a, const char *json, pg_pprof_to_otlp_options *opt)
{
    json_t *root = json_loads(json, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return PG_OK;
    }
    size_t cap = 0;
    const char *type;
    json_t *entry;
    json_object_foreach(root, type, entry)
    {
        cap += json_is_object(entry) ? json_object_size(entry) : 0;
    }
    pg_convert_type_attr *attrs = cap ? pg_arena_calloc(a, cap, sizeof(*attrs)) : NULL;
    if (cap && !attrs) {
        json_decref(root);
        return PG_ERR_NOMEM;
    }
    size_t n = 0;
    json_object_foreach(root, type, entry)
    {
        const char *key;
        json_t *v;
        json_object_foreach(entry, key, v)
        {
            const char *val = json_is_string(v)  ? json_string_value(v)
                              : json_is_true(v)  ? "true"
                              : json_is_false(v) ? "false"
                                                 : NULL;
            char *k = pg_arena_sprintf(a, "pyroscope.sample_type.%s", key);
            char *t = pg_arena_strdup(a, type);
            char *vv = val ? pg_arena_strdup(a, val) : NULL;
            if (!val)
                continue;
            if (!k || !t || !vv) {
                json_decref(root);
                return PG_ERR_NOMEM;
            }
            for (char *c = k; *c; c++)
                if (*c == '-')
                    *c = '_'; /* display-name -> display_name */
            attrs[n++] = (pg_convert_type_attr){t, k, vv};
        }
    }
    json_decref(root);
    opt->type_attrs = attrs;
    opt->n_type_attrs = n;
    return PG_OK;
}

int pg_convert_pprof_options(pg_arena *a, const pg_profile *prof, const uint8_t *original,
                             size_t original_len, pg_pprof_to_otlp_options *out, pg_error *err)
{
    pg_pprof_to_otlp_options opt = {0};
    pg_convert_attr *attrs = NULL;
    if (prof->n_labels && !(attrs = pg_arena_calloc(a, prof->n_labels, sizeof(*attrs))))
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < prof->n_labels; i++) {
        const pg_label *l = &prof->labels[i];
        if (strcmp(l->name, "service_name") == 0) {
            opt.service_name = l->value;
            continue;
        }
        if (strcmp(l->name, "__sample_type_config__") == 0 &&
            stconfig_attrs(a, l->value, &opt) != PG_OK)
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        /* `__name__`-style labels are pipeline internals, not resource data */
        if (strncmp(l->name, "__", 2) == 0)
            continue;
        attrs[opt.n_resource_attrs].key = l->name;
        attrs[opt.n_resource_attrs++].value = l->value;
    }
    opt.resource_attrs = attrs;
    if (original) {
        /* the request must not point into a payload it does not own */
        uint8_t *copy = original_len ? pg_arena_memdup(a, original, original_len) : NULL;
        if (original_len && !copy)
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        opt.original_payload = copy ? copy : (const uint8_t *)"";
        opt.original_payload_len = original_len;
    }
    *out = opt;
    return PG_OK;
}

int pg_convert_pprof_profile(pg_arena *a, const pg_profile *prof, const pg_pprof *doc,
                             const uint8_t *original, size_t original_len, pg_otlp_request **out,
                             pg_error *err)
{
    pg_pprof_to_otlp_options opt;
    int rc = pg_convert_pprof_options(a, prof, original, original_len, &opt, err);
    return rc == PG_OK ? pg_pprof_to_otlp(a, doc, &opt, out, err) : rc;
}
