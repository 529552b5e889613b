#include "processors/convert/convert_processor.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/convert/convert_internal.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"

#define CFG(field) offsetof(pg_convert_processor_config, field)

static const char *const to_values[] = {"otlp", "pprof", NULL};

static const pg_config_key convert_keys[] = {
    {.name = "to",
     .type = PG_CFG_ENUM,
     .offset = CFG(to),
     .enum_values = to_values,
     .required = true,
     .help = "format every payload is converted to; payloads already in it pass unchanged"},
    {.name = "original_payload",
     .type = PG_CFG_BOOL,
     .offset = CFG(original_payload),
     .default_value = "false",
     .help = "pprof -> OTLP: keep the source pprof bytes in the first profile's original_payload"},
    PG_CONFIG_END,
};

typedef struct convert_state {
    pg_metric *dropped;
    pg_metric *converted;
} convert_state;

static int convert_create(pg_component *self, pg_error *err)
{
    convert_state *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    char labels[256];
    snprintf(labels, sizeof(labels), "processor=\"%s\",reason=\"convert\"", self->id);
    st->dropped =
        pg_metric_counter("profgate_processor_dropped_profiles_total",
                          "Profiles a processor accepted but could not hand downstream", labels);
    snprintf(labels, sizeof(labels), "processor=\"%s\"", self->id);
    st->converted = pg_metric_counter("profgate_processor_converted_profiles_total",
                                      "Input profiles a convert processor converted", labels);
    self->state = st;
    return PG_OK;
}

void pg_convert_drop(pg_convert_call *c, uint32_t count, const char *why)
{
    convert_state *st = c->self->state;
    c->dropped += count;
    pg_metric_add(st->dropped, count);
    PG_CLOG(c->self, PG_LOG_WARN, "dropped %u profiles that cannot be converted: %s", count, why);
}

pg_profile *pg_convert_add_derived(pg_convert_call *c, pg_payload *p, const pg_profile *src)
{
    pg_batch *b = c->out;
    pg_profile *prof = pg_batch_add(b, p);
    if (!prof || pg_profile_set_tenant(b, prof, src->tenant) != PG_OK) {
        c->nomem = 1;
        return NULL;
    }
    if (!src->n_labels)
        return prof;
    /* the source labels are sorted and unique already: copy them in order */
    pg_label *l = pg_arena_alloc(b->arena, src->n_labels * sizeof(*l));
    if (!l) {
        c->nomem = 1;
        return NULL;
    }
    for (uint32_t i = 0; i < src->n_labels; i++) {
        l[i].name = pg_arena_strdup(b->arena, src->labels[i].name);
        l[i].value = pg_arena_strdup(b->arena, src->labels[i].value);
        if (!l[i].name || !l[i].value) {
            c->nomem = 1;
            return NULL;
        }
    }
    prof->labels = l;
    prof->n_labels = src->n_labels;
    return prof;
}

/* The answer: downstream's, plus what this stage dropped. */
static int finish_call(pg_convert_call *c, pg_worker *w, pg_consume_result *res)
{
    convert_state *st = c->self->state;
    if (c->nomem) {
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "convert processor %s: out of memory",
                        c->self->id);
        return res->status;
    }
    pg_metric_add(st->converted, (int64_t)(c->in->count - c->dropped));
    if (c->dropped && c->dropped == c->in->count) {
        res->rejected += c->dropped;
        pg_consume_fail(res, PG_CONSUME_PERMANENT,
                        "convert processor %s: no profile could be converted", c->self->id);
        return res->status;
    }
    pg_consumer_send(&c->self->next, w, c->out, res);
    res->rejected += c->dropped;
    return res->status;
}

static int convert_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    const pg_convert_processor_config *cfg = self->config;
    pg_convert_call c = {.self = self, .in = b};
    c.out = pg_batch_new();
    c.tmp = pg_arena_new(0, 0);
    int rc = PG_ERR_NOMEM;
    if (c.out && c.tmp)
        rc = cfg->to == PG_CONVERT_TO_PPROF ? pg_convert_batch_to_pprof(&c)
                                            : pg_convert_batch_to_otlp(&c, cfg->original_payload);
    if (rc != PG_OK)
        c.nomem = 1;
    finish_call(&c, w, res);
    pg_arena_free(c.tmp);
    pg_batch_free(c.out);
    return res->status;
}

static void convert_destroy(pg_component *self)
{
    free(self->state);
    self->state = NULL;
}

const pg_component_def pg_convert_processor_def = {
    .type = "convert",
    .kind = PG_KIND_PROCESSOR,
    .description = "converts every payload to OTLP or to pprof (lossless, see docs/convert.md)",
    .config_keys = convert_keys,
    .config_size = sizeof(pg_convert_processor_config),
    .mutates_data = 1,
    .create = convert_create,
    .consume = convert_consume,
    .destroy = convert_destroy,
};
