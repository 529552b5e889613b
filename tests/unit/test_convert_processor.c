/* Convert processor: pprof -> OTLP, OTLP -> pprof, passthrough, failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "processors/convert/convert_processor.h"
#include "telemetry/metrics.h"
#include "test_convert_processor_util.h"
#include "test_processor_util.h"

typedef struct harness {
    pg_component comp;
    pg_convert_processor_config cfg;
    pg_batch *seen; /* copy of what reached downstream; NULL when nothing did */
    int calls;
} harness;

static int capture(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    harness *h = target;
    h->calls++;
    pg_batch_free(h->seen);
    h->seen = pg_batch_clone(b);
    assert_non_null(h->seen);
    return res->status;
}

static harness *start(int to, const char *id)
{
    harness *h = calloc(1, sizeof(*h));
    h->cfg.to = to;
    pg_error err = {0};
    assert_int_equal(
        tp_component_create(&h->comp, &pg_convert_processor_def, id, &h->cfg, capture, h, &err),
        PG_OK);
    return h;
}

static void stop(harness *h)
{
    pg_convert_processor_def.destroy(&h->comp);
    pg_batch_free(h->seen);
    free(h);
}

static pg_consume_status run(harness *h, pg_batch *b, pg_consume_result *res)
{
    pg_consume_result_init(res);
    pg_worker w = {0};
    return (pg_consume_status)pg_convert_processor_def.consume(&h->comp, &w, b, res);
}

/* A batch with one profile for payload p, labelled like a pprof push. */
static pg_profile *add_labelled(pg_batch *b, pg_payload *p)
{
    pg_profile *prof = pg_batch_add(b, p);
    assert_non_null(prof);
    assert_int_equal(pg_profile_set_label(b, prof, "service_name", "shop"), PG_OK);
    assert_int_equal(pg_profile_set_label(b, prof, "env", "prod"), PG_OK);
    assert_int_equal(pg_profile_set_label(b, prof, "__name__", "memory"), PG_OK);
    assert_int_equal(pg_profile_set_tenant(b, prof, "team-a"), PG_OK);
    return prof;
}

static const char *resource_attr(const pg_otlp_request *req, const char *key)
{
    const Opentelemetry__Proto__Resource__V1__Resource *r = req->resource_profiles[0]->resource;
    for (size_t i = 0; r && i < r->n_attributes; i++) {
        const Opentelemetry__Proto__Common__V1__KeyValue *kv = r->attributes[i];
        const char *k = kv->key && *kv->key ? kv->key : pg_otlp_string(req, kv->key_strindex);
        if (strcmp(k, key) == 0 && kv->value)
            return kv->value->string_value ? kv->value->string_value
                                           : pg_otlp_string(req, kv->value->string_value_strindex);
    }
    return NULL;
}

static void test_pprof_to_otlp_keeps_labels(void **state)
{
    harness *h = start(PG_CONVERT_TO_OTLP, "convert/otlp");
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    assert_non_null(pp);
    pg_batch *b = pg_batch_new();
    add_labelled(b, pp);
    pg_consume_result res;
    assert_int_equal(run(h, b, &res), PG_CONSUME_OK);
    assert_int_equal(res.rejected, 0);
    assert_non_null(h->seen);
    assert_int_equal(h->seen->count,
                     4); /* alloc_objects, alloc_space, inuse_objects, inuse_space */
    const char *want_types[] = {"alloc_objects:count:space:bytes", "alloc_space:bytes:space:bytes",
                                "inuse_objects:count:space:bytes", "inuse_space:bytes:space:bytes"};
    pg_arena *a = pg_arena_new(0, 0);
    Perftools__Profiles__Profile *src = tc_unpack_pprof(a, pp->bytes, pp->len);
    assert_non_null(src);
    for (size_t i = 0; i < 4; i++) {
        const pg_profile *p = &h->seen->profiles[i];
        assert_int_equal(p->payload->format, PG_PAYLOAD_OTLP);
        assert_ptr_equal(p->payload, h->seen->profiles[0].payload);
        assert_non_null(p->payload->decoded);
        assert_int_equal(p->profile_index, i);
        assert_string_equal(p->profile_type, want_types[i]);
        assert_string_equal(p->tenant, "team-a");
        assert_int_equal(p->n_labels, 3);
        assert_string_equal(pg_profile_label(p, "service_name"), "shop");
        assert_string_equal(pg_profile_label(p, "env"), "prod");
        assert_string_equal(pg_profile_label(p, "__name__"), "memory");
        assert_int_equal(p->sample_count, src->n_sample);
        const char *type = want_types[i];
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)(strchr(type, ':') - type), type);
        assert_int_equal(p->value_total, tc_pprof_total(src, name));
        assert_int_equal(p->time_unix_nano, (uint64_t)src->time_nanos);
    }
    /* the attached request is the encoded one, and carries the identity */
    const pg_payload *out = h->seen->profiles[0].payload;
    pg_otlp_request *again = NULL;
    pg_error err;
    assert_int_equal(pg_otlp_decode(a, out->bytes, out->len, &again, &err), PG_OK);
    assert_int_equal(pg_otlp_profile_count(again), 4);
    const pg_otlp_request *req = out->decoded;
    assert_string_equal(resource_attr(req, "service.name"), "shop");
    assert_string_equal(resource_attr(req, "env"), "prod");
    assert_null(resource_attr(req, "__name__"));
    assert_null(resource_attr(req, "service_name"));
    const pg_otlp_profile *first = req->resource_profiles[0]->scope_profiles[0]->profiles[0];
    assert_int_equal(first->original_payload.len, 0); /* off by default */
    pg_arena_free(a);
    pg_batch_free(b); /* the output must not depend on the input */
    pg_payload_unref(pp);
    assert_int_equal(pg_otlp_profile_count(req), 4);
    stop(h);
}

static void test_original_payload_and_shared_payload(void **state)
{
    harness *h = start(PG_CONVERT_TO_OTLP, "convert/orig");
    h->cfg.original_payload = true;
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    pg_batch *b = pg_batch_new();
    add_labelled(b, pp);
    pg_profile *second = add_labelled(b, pp); /* same payload, other service */
    assert_int_equal(pg_profile_set_label(b, second, "service_name", "cart"), PG_OK);
    pg_consume_result res;
    assert_int_equal(run(h, b, &res), PG_CONSUME_OK);
    assert_int_equal(h->seen->count, 8);
    const pg_payload *p1 = h->seen->profiles[0].payload, *p2 = h->seen->profiles[4].payload;
    assert_ptr_not_equal(p1, p2);
    assert_string_equal(resource_attr(p1->decoded, "service.name"), "shop");
    assert_string_equal(resource_attr(p2->decoded, "service.name"), "cart");
    assert_string_equal(pg_profile_label(&h->seen->profiles[4], "service_name"), "cart");
    const pg_otlp_request *req = p1->decoded;
    const pg_otlp_profile *first = req->resource_profiles[0]->scope_profiles[0]->profiles[0];
    assert_int_equal(first->original_payload.len, pp->len);
    assert_memory_equal(first->original_payload.data, pp->bytes, pp->len);
    assert_string_equal(pg_otlp_string(req, 0), "");
    pg_batch_free(b);
    pg_payload_unref(pp);
    stop(h);
}

/* Totals per sample type name over the profiles of a batch. */
typedef struct type_total {
    char name[64];
    int64_t total;
} type_total;

static void add_total(type_total *t, size_t *n, const char *type, int64_t v)
{
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(type, ":"), type);
    for (size_t i = 0; i < *n; i++)
        if (strcmp(t[i].name, name) == 0) {
            t[i].total += v;
            return;
        }
    snprintf(t[*n].name, sizeof(t[0].name), "%s", name);
    t[(*n)++].total = v;
}

static void test_otlp_to_pprof_documents(void **state)
{
    harness *h = start(PG_CONVERT_TO_PPROF, "convert/pprof");
    pg_payload *op = tc_otlp_payload();
    assert_non_null(op);
    const pg_otlp_request *req = op->decoded;
    pg_batch *b = pg_batch_new();
    type_total want[16], got[16];
    size_t n_want = 0, n_got = 0;
    pg_arena *a = pg_arena_new(0, 0);
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++)
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++)
            for (size_t pi = 0; pi < req->resource_profiles[ri]->scope_profiles[si]->n_profiles;
                 pi++) {
                pg_profile *p = pg_batch_add(b, op);
                p->resource_index = (uint32_t)ri;
                p->scope_index = (uint32_t)si;
                p->profile_index = (uint32_t)pi;
                pg_otlp_profile_view v;
                assert_int_equal(pg_otlp_view(a, req, ri, si, pi, &v), PG_OK);
                assert_int_equal(pg_profile_set_label(b, p, "service_name", v.service_name), 0);
                assert_int_equal(pg_profile_set_label(b, p, "n", "x"), 0);
                add_total(want, &n_want, v.profile_type, v.value_total);
            }
    size_t n_in = b->count;
    assert_true(n_in > 1);
    pg_consume_result res;
    assert_int_equal(run(h, b, &res), PG_CONSUME_OK);
    assert_int_equal(res.rejected, 0);
    assert_true(h->seen->count >= 1 && h->seen->count <= n_in);
    for (size_t i = 0; i < h->seen->count; i++) {
        const pg_profile *p = &h->seen->profiles[i];
        assert_int_equal(p->payload->format, PG_PAYLOAD_PPROF);
        assert_true(p->payload->len > 2 && p->payload->bytes[0] == 0x1f &&
                    p->payload->bytes[1] == 0x8b);
        assert_int_equal(p->n_labels, 2);
        assert_string_equal(pg_profile_label(p, "n"), "x");
        Perftools__Profiles__Profile *doc = tc_unpack_pprof(a, p->payload->bytes, p->payload->len);
        assert_non_null(doc);
        assert_true(doc->n_sample_type >= 1);
        assert_int_equal(p->sample_count, doc->n_sample);
        /* profile_type names the first sample type */
        char first[128];
        snprintf(first, sizeof(first), "%s:%s:", tc_pstr(doc, doc->sample_type[0]->type),
                 tc_pstr(doc, doc->sample_type[0]->unit));
        assert_memory_equal(p->profile_type, first, strlen(first));
        for (size_t t = 0; t < doc->n_sample_type; t++) {
            const char *name = tc_pstr(doc, doc->sample_type[t]->type);
            add_total(got, &n_got, name, tc_pprof_total(doc, name));
        }
    }
    assert_int_equal(n_got, n_want);
    for (size_t i = 0; i < n_want; i++) {
        size_t j = 0;
        while (j < n_got && strcmp(got[j].name, want[i].name) != 0)
            j++;
        assert_true(j < n_got);
        assert_int_equal(got[j].total, want[i].total);
    }
    pg_arena_free(a);
    pg_batch_free(b);
    pg_payload_unref(op);
    stop(h);
}

static void test_same_format_passes_unchanged(void **state)
{
    harness *h = start(PG_CONVERT_TO_OTLP, "convert/pass");
    pg_payload *op = tc_otlp_payload();
    pg_batch *b = pg_batch_new();
    pg_profile *p = pg_batch_add(b, op);
    p->profile_index = 1;
    assert_int_equal(pg_profile_set_label(b, p, "a", "b"), 0);
    pg_consume_result res;
    assert_int_equal(run(h, b, &res), PG_CONSUME_OK);
    assert_int_equal(h->seen->count, 1);
    assert_ptr_equal(h->seen->profiles[0].payload, op);
    assert_int_equal(h->seen->profiles[0].profile_index, 1);
    assert_string_equal(pg_profile_label(&h->seen->profiles[0], "a"), "b");
    stop(h);

    h = start(PG_CONVERT_TO_PPROF, "convert/pass2");
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    pg_batch *b2 = pg_batch_new();
    add_labelled(b2, pp);
    assert_int_equal(run(h, b2, &res), PG_CONSUME_OK);
    assert_int_equal(h->seen->count, 1);
    assert_ptr_equal(h->seen->profiles[0].payload, pp);
    stop(h);
    pg_batch_free(b);
    pg_batch_free(b2);
    pg_payload_unref(op);
    pg_payload_unref(pp);
}

static void test_failures_are_counted(void **state)
{
    harness *h = start(PG_CONVERT_TO_OTLP, "convert/bad");
    pg_metric *dropped = pg_metric_find("profgate_processor_dropped_profiles_total",
                                        "processor=\"convert/bad\",reason=\"convert\"");
    assert_non_null(dropped);
    pg_payload *good = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    uint8_t junk[] = {0x0a, 0x05, 0x01}; /* truncated field */
    uint8_t *jb = malloc(sizeof(junk));
    memcpy(jb, junk, sizeof(junk));
    pg_payload *bad = pg_payload_new(PG_PAYLOAD_PPROF, jb, sizeof(junk));
    pg_batch *b = pg_batch_new();
    add_labelled(b, bad);
    add_labelled(b, good);
    add_labelled(b, bad); /* decoded (and refused) once, dropped twice */
    pg_consume_result res;
    assert_int_equal(run(h, b, &res), PG_CONSUME_OK);
    assert_int_equal(res.rejected, 2);
    assert_int_equal(pg_metric_value(dropped), 2);
    assert_int_equal(h->seen->count, 4);

    pg_batch *all_bad = pg_batch_new();
    add_labelled(all_bad, bad);
    h->calls = 0;
    assert_int_equal(run(h, all_bad, &res), PG_CONSUME_PERMANENT);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(h->calls, 0);
    assert_int_equal(pg_metric_value(dropped), 3);
    pg_batch_free(b);
    pg_batch_free(all_bad);
    pg_payload_unref(good);
    pg_payload_unref(bad);
    stop(h);
}

/* pprof -> OTLP -> pprof through two processors keeps every total. */
static void test_round_trip_through_two_processors(void **state)
{
    harness *to_otlp = start(PG_CONVERT_TO_OTLP, "convert/rt1");
    harness *to_pprof = start(PG_CONVERT_TO_PPROF, "convert/rt2");
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    pg_batch *b = pg_batch_new();
    add_labelled(b, pp);
    pg_consume_result res;
    assert_int_equal(run(to_otlp, b, &res), PG_CONSUME_OK);
    assert_int_equal(run(to_pprof, to_otlp->seen, &res), PG_CONSUME_OK);
    assert_int_equal(to_pprof->seen->count, 1); /* the four sample types re-assembled */
    const pg_profile *p = &to_pprof->seen->profiles[0];
    assert_string_equal(pg_profile_label(p, "env"), "prod");
    assert_string_equal(p->tenant, "team-a");
    pg_arena *a = pg_arena_new(0, 0);
    Perftools__Profiles__Profile *src = tc_unpack_pprof(a, pp->bytes, pp->len);
    Perftools__Profiles__Profile *back = tc_unpack_pprof(a, p->payload->bytes, p->payload->len);
    assert_non_null(back);
    assert_int_equal(back->n_sample_type, src->n_sample_type);
    for (size_t t = 0; t < src->n_sample_type; t++) {
        const char *name = tc_pstr(src, src->sample_type[t]->type);
        assert_string_equal(tc_pstr(back, back->sample_type[t]->type), name);
        assert_int_equal(tc_pprof_total(back, name), tc_pprof_total(src, name));
    }
    assert_int_equal(back->time_nanos, src->time_nanos);
    assert_string_equal(p->profile_type, "alloc_objects:count:space:bytes");
    /* Go heap profiles name no default: the last type (inuse_space) counts */
    assert_int_equal(p->value_total, tc_pprof_total(src, "inuse_space"));
    pg_arena_free(a);
    pg_batch_free(b);
    pg_payload_unref(pp);
    stop(to_otlp);
    stop(to_pprof);
}

/* Attribute value of a Profile by key (reference or inline key). */
static const char *profile_attr(const pg_otlp_request *req, const pg_otlp_profile *p,
                                const char *key)
{
    const pg_otlp_dictionary *d = req->dictionary;
    for (size_t i = 0; i < p->n_attribute_indices; i++) {
        const Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit *kv =
            d->attribute_table[p->attribute_indices[i]];
        if (strcmp(d->string_table[kv->key_strindex], key) == 0 && kv->value)
            return kv->value->string_value;
    }
    return NULL;
}

/* A Pyroscope sample_type_config kept as __sample_type_config__ becomes
 * pyroscope.sample_type.* attributes of the Profile of each type it names,
 * and the internal label becomes no resource attribute. */
static void test_sample_type_config_label(void **state)
{
    (void)state;
    harness *h = start(PG_CONVERT_TO_OTLP, "convert/otlp");
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    pg_batch *b = pg_batch_new();
    pg_profile *prof = add_labelled(b, pp);
    assert_int_equal(pg_profile_set_label(b, prof, "__sample_type_config__",
                                          "{\"inuse_space\":{\"aggregation\":\"average\","
                                          "\"display-name\":\"inuse\",\"units\":\"bytes\"}}"),
                     PG_OK);
    pg_consume_result res;
    assert_int_equal(run(h, b, &res), PG_CONSUME_OK);
    const pg_otlp_request *req = h->seen->profiles[0].payload->decoded;
    const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sp =
        req->resource_profiles[0]->scope_profiles[0];
    assert_int_equal(sp->n_profiles, 4);
    for (size_t i = 0; i < 4; i++) {
        const pg_otlp_profile *p = sp->profiles[i];
        const char *type = req->dictionary->string_table[p->sample_type->type_strindex];
        const char *agg = profile_attr(req, p, "pyroscope.sample_type.aggregation");
        if (strcmp(type, "inuse_space") == 0) {
            assert_string_equal(agg, "average");
            assert_string_equal(profile_attr(req, p, "pyroscope.sample_type.display_name"),
                                "inuse");
            assert_string_equal(profile_attr(req, p, "pyroscope.sample_type.units"), "bytes");
        } else {
            assert_null(agg);
        }
    }
    assert_null(resource_attr(req, "__sample_type_config__"));
    assert_int_equal(pg_otlp_validate(req, &(pg_error){0}), PG_OK);
    pg_batch_free(b);
    pg_payload_unref(pp);
    stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pprof_to_otlp_keeps_labels),
        cmocka_unit_test(test_original_payload_and_shared_payload),
        cmocka_unit_test(test_otlp_to_pprof_documents),
        cmocka_unit_test(test_same_format_passes_unchanged),
        cmocka_unit_test(test_failures_are_counted),
        cmocka_unit_test(test_round_trip_through_two_processors),
        cmocka_unit_test(test_sample_type_config_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
