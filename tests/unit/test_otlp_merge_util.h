/*
 * Test helpers shared by the merge, file exporter and debug exporter tests:
 * loading the shared fixture, decoding it without model/otlp.c, and
 * rendering a profile with every dictionary index resolved to its value, so
 * that two requests with different dictionaries can be compared.
 */
#ifndef PG_TEST_OTLP_MERGE_UTIL_H
#define PG_TEST_OTLP_MERGE_UTIL_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "model/otlp.h"

#define TU_FIXTURE "fixtures/third_party/grafana-pyroscope/otlp-v1.10-ebpf-cpu-offcpu.pb"

static inline uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static inline uint8_t *tu_read_fixture(size_t *len)
{
    const char *dir = getenv("PG_SHARED_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared", TU_FIXTURE);
    return tu_read_file(path, len);
}

static inline pg_otlp_request *tu_unpack(pg_arena *a, const uint8_t *p, size_t len)
{
    ProtobufCAllocator al = pg_arena_protobuf_allocator(a);
    return (pg_otlp_request *)protobuf_c_message_unpack(
        &opentelemetry__proto__collector__profiles__v1development__export_profiles_service_request__descriptor,
        &al, len, p);
}

static inline size_t tu_profile_count(const pg_otlp_request *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_resource_profiles; i++)
        for (size_t j = 0; j < r->resource_profiles[i]->n_scope_profiles; j++)
            n += r->resource_profiles[i]->scope_profiles[j]->n_profiles;
    return n;
}

static inline const char *tu_str(const pg_otlp_request *r, int32_t i)
{
    if (!r->dictionary || i < 0 || (size_t)i >= r->dictionary->n_string_table)
        return "<bad-strindex>";
    return r->dictionary->string_table[i];
}

static inline void tu_any(const pg_otlp_request *r,
                          const Opentelemetry__Proto__Common__V1__AnyValue *v, pg_buf *o);

static inline void tu_kv(const pg_otlp_request *r,
                         const Opentelemetry__Proto__Common__V1__KeyValue *kv, pg_buf *o)
{
    pg_buf_printf(o, "%s%s=", kv->key, kv->key_strindex ? tu_str(r, kv->key_strindex) : "");
    tu_any(r, kv->value, o);
    pg_buf_append_str(o, ";");
}

static inline void tu_any(const pg_otlp_request *r,
                          const Opentelemetry__Proto__Common__V1__AnyValue *v, pg_buf *o)
{
    if (!v) {
        pg_buf_append_str(o, "nil");
        return;
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        pg_buf_printf(o, "s:%s", v->string_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE_STRINDEX:
        /* a string by reference means the same as the string inline */
        pg_buf_printf(o, "s:%s", tu_str(r, v->string_value_strindex));
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        pg_buf_printf(o, "i:%" PRId64, v->int_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        pg_buf_printf(o, "b:%d", v->bool_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        pg_buf_printf(o, "d:%g", v->double_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        pg_buf_printf(o, "y:%zu", v->bytes_value.len);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        pg_buf_append_str(o, "[");
        for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++) {
            tu_any(r, v->array_value->values[i], o);
            pg_buf_append_str(o, ",");
        }
        pg_buf_append_str(o, "]");
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        pg_buf_append_str(o, "{");
        for (size_t i = 0; v->kvlist_value && i < v->kvlist_value->n_values; i++)
            tu_kv(r, v->kvlist_value->values[i], o);
        pg_buf_append_str(o, "}");
        break;
    default:
        pg_buf_append_str(o, "unset");
    }
}

static inline void tu_attrs(const pg_otlp_request *r, const int32_t *idx, size_t n, pg_buf *o)
{
    pg_buf_append_str(o, "{");
    for (size_t i = 0; i < n; i++) {
        const Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit *a =
            r->dictionary->attribute_table[idx[i]];
        pg_buf_printf(o, "%s=", tu_str(r, a->key_strindex));
        tu_any(r, a->value, o);
        pg_buf_printf(o, "/%s;", tu_str(r, a->unit_strindex));
    }
    pg_buf_append_str(o, "}");
}

static inline void tu_stack(const pg_otlp_request *r, int32_t si, pg_buf *o)
{
    const pg_otlp_dictionary *d = r->dictionary;
    const Opentelemetry__Proto__Profiles__V1development__Stack *st = d->stack_table[si];
    pg_buf_append_str(o, "stack[");
    for (size_t i = 0; i < st->n_location_indices; i++) {
        const Opentelemetry__Proto__Profiles__V1development__Location *l =
            d->location_table[st->location_indices[i]];
        const Opentelemetry__Proto__Profiles__V1development__Mapping *m =
            d->mapping_table[l->mapping_index];
        pg_buf_printf(o, "%" PRIx64 "@%s(%" PRIx64 "-%" PRIx64 "+%" PRIx64 ")", l->address,
                      tu_str(r, m->filename_strindex), m->memory_start, m->memory_limit,
                      m->file_offset);
        tu_attrs(r, m->attribute_indices, m->n_attribute_indices, o);
        for (size_t k = 0; k < l->n_lines; k++) {
            const Opentelemetry__Proto__Profiles__V1development__Function *f =
                d->function_table[l->lines[k]->function_index];
            pg_buf_printf(o, "<%s|%s|%s:%" PRId64 " %" PRId64 ":%" PRId64 ">",
                          tu_str(r, f->name_strindex), tu_str(r, f->system_name_strindex),
                          tu_str(r, f->filename_strindex), f->start_line, l->lines[k]->line,
                          l->lines[k]->column);
        }
        tu_attrs(r, l->attribute_indices, l->n_attribute_indices, o);
        pg_buf_append_str(o, " ");
    }
    pg_buf_append_str(o, "]");
}

/* Everything a profile means, with its resource and scope, as text. */
static inline void tu_render(const pg_otlp_request *r, size_t ri, size_t si, size_t pi, pg_buf *o)
{
    const Opentelemetry__Proto__Profiles__V1development__ResourceProfiles *rp =
        r->resource_profiles[ri];
    const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sp = rp->scope_profiles[si];
    const pg_otlp_profile *p = sp->profiles[pi];
    pg_buf_printf(o, "resource(%s){", rp->schema_url);
    for (size_t i = 0; rp->resource && i < rp->resource->n_attributes; i++)
        tu_kv(r, rp->resource->attributes[i], o);
    pg_buf_printf(o, "} scope(%s %s %s){", sp->schema_url, sp->scope ? sp->scope->name : "-",
                  sp->scope ? sp->scope->version : "-");
    for (size_t i = 0; sp->scope && i < sp->scope->n_attributes; i++)
        tu_kv(r, sp->scope->attributes[i], o);
    pg_buf_printf(o, "} type=%s/%s period=%s/%s %" PRId64 " t=%" PRIu64 " d=%" PRIu64 " id=%zu ",
                  p->sample_type ? tu_str(r, p->sample_type->type_strindex) : "-",
                  p->sample_type ? tu_str(r, p->sample_type->unit_strindex) : "-",
                  p->period_type ? tu_str(r, p->period_type->type_strindex) : "-",
                  p->period_type ? tu_str(r, p->period_type->unit_strindex) : "-", p->period,
                  p->time_unix_nano, p->duration_nano, p->profile_id.len);
    tu_attrs(r, p->attribute_indices, p->n_attribute_indices, o);
    for (size_t i = 0; i < p->n_samples; i++) {
        const Opentelemetry__Proto__Profiles__V1development__Sample *s = p->samples[i];
        pg_buf_append_str(o, "\n  ");
        tu_stack(r, s->stack_index, o);
        pg_buf_append_str(o, " v=");
        for (size_t k = 0; k < s->n_values; k++)
            pg_buf_printf(o, "%" PRId64 ",", s->values[k]);
        pg_buf_append_str(o, " ts=");
        for (size_t k = 0; k < s->n_timestamps_unix_nano; k++)
            pg_buf_printf(o, "%" PRIu64 ",", s->timestamps_unix_nano[k]);
        tu_attrs(r, s->attribute_indices, s->n_attribute_indices, o);
        const Opentelemetry__Proto__Profiles__V1development__Link *l =
            r->dictionary->link_table[s->link_index];
        pg_buf_printf(o, " link=%zu/%zu", l->trace_id.len, l->span_id.len);
        for (size_t k = 0; k < l->trace_id.len; k++)
            pg_buf_printf(o, "%02x", l->trace_id.data[k]);
    }
    pg_buf_append_str(o, "\n");
}

/* Sum of sample values of one profile (timestamps-only samples count 1 each). */
static inline int64_t tu_value_total(const pg_otlp_profile *p)
{
    int64_t t = 0;
    for (size_t i = 0; i < p->n_samples; i++) {
        const Opentelemetry__Proto__Profiles__V1development__Sample *s = p->samples[i];
        if (s->n_values)
            for (size_t k = 0; k < s->n_values; k++)
                t += s->values[k];
        else
            t += (int64_t)s->n_timestamps_unix_nano;
    }
    return t;
}

#endif
