#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "receivers/pyroscope/pyroscope_internal.h"

int pg_pyro_set_series_labels(pg_batch *b, pg_profile *p, const pg_pyro_series *s)
{
    const char *service_tag = NULL;
    for (size_t i = 0; i < s->n_tags; i++) {
        const pg_label *t = &s->tags[i];
        if (strncmp(t->name, "__", 2) == 0 && strcmp(t->name, "__session_id__") != 0)
            continue;
        if (strcmp(t->name, "service_name") == 0)
            service_tag = t->value;
        if (pg_profile_set_label(b, p, t->name, t->value) != PG_OK)
            return PG_ERR_NOMEM;
    }
    if (s->app_name && *s->app_name) {
        const char *key = service_tag ? "app_name" : "service_name";
        if (pg_profile_set_label(b, p, key, s->app_name) != PG_OK)
            return PG_ERR_NOMEM;
    }
    if (s->spy && *s->spy && pg_profile_set_label(b, p, "pyroscope_spy", s->spy) != PG_OK)
        return PG_ERR_NOMEM;
    if (s->profile_name && pg_profile_set_label(b, p, "__name__", s->profile_name) != PG_OK)
        return PG_ERR_NOMEM;
    return PG_OK;
}

static int doc_has_type(const pg_pprof *doc, const char *type)
{
    for (size_t i = 0; i < doc->n_sample_type; i++)
        if (strcmp(pg_pprof_str(doc, doc->sample_type[i]->type), type) == 0)
            return 1;
    return 0;
}

static json_t *entry_json(const pg_pyro_stconfig_entry *e)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = 0;
    if (e->units)
        rc |= json_object_set_new(o, "units", json_string(e->units));
    if (e->display_name)
        rc |= json_object_set_new(o, "display-name", json_string(e->display_name));
    if (e->aggregation)
        rc |= json_object_set_new(o, "aggregation", json_string(e->aggregation));
    if (e->cumulative >= 0)
        rc |= json_object_set_new(o, "cumulative", json_boolean(e->cumulative));
    if (e->sampled >= 0)
        rc |= json_object_set_new(o, "sampled", json_boolean(e->sampled));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int pg_pyro_set_stconfig_label(pg_batch *b, pg_profile *p, const pg_pprof *doc,
                               const pg_pyro_stconfig_entry *cfg, size_t n_cfg)
{
    json_t *all = json_object();
    if (!all)
        return PG_ERR_NOMEM;
    size_t kept = 0;
    for (size_t i = 0; i < n_cfg; i++) {
        if (!doc_has_type(doc, cfg[i].sample_type))
            continue;
        json_t *e = entry_json(&cfg[i]);
        if (!e || json_object_set_new(all, cfg[i].sample_type, e) != 0) {
            json_decref(all);
            return PG_ERR_NOMEM;
        }
        kept++;
    }
    int rc = PG_OK;
    if (kept) {
        char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
        rc = text ? pg_profile_set_label(b, p, "__sample_type_config__", text) : PG_ERR_NOMEM;
        free(text);
    }
    json_decref(all);
    return rc;
}
