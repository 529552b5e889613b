/*
 * The fast pprof reader against its reference: runs pg_pprof_wire_read and
 * pg_pprof_wire_sample over a whole document, and compares what they read,
 * field by field, with what pg_pprof_decode (protobuf-c) decoded. Shared by
 * tests/unit/test_pprof_wire.c and the differential fuzz target
 * tests/fuzz/fuzz_pprof_wire.c.
 */
#ifndef PG_TEST_PPROF_WIRE_COMPARE_H
#define PG_TEST_PPROF_WIRE_COMPARE_H

#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "convert/convert.h"
#include "convert/pprof_wire.h"

/* pg_pprof_wire_read, then pg_pprof_wire_sample for every sample in order:
 * what a converter does. The first error wins. */
static inline int pgw_read_all(pg_arena *a, const uint8_t *buf, size_t len, uint64_t max,
                               pg_pprof_wire *w, pg_error *err)
{
    int rc = pg_pprof_wire_read(a, buf, len, max, w, err);
    if (rc != PG_OK)
        return rc;
    pgw_sample s;
    rc = pg_pprof_wire_sample_init(a, w, &s, err);
    for (size_t i = 0; rc == PG_OK && i < w->n_samples; i++)
        rc = pg_pprof_wire_sample(w, i, &s, err);
    return rc;
}

#define PGW_DIFF(...)                                                                              \
    do {                                                                                           \
        snprintf(why, why_len, __VA_ARGS__);                                                       \
        return -1;                                                                                 \
    } while (0)

#define PGW_SAME(what, x, y)                                                                       \
    do {                                                                                           \
        if ((uint64_t)(x) != (uint64_t)(y))                                                        \
            PGW_DIFF("%s: %llu (protobuf-c) != %llu (wire)", what, (unsigned long long)(x),        \
                     (unsigned long long)(y));                                                     \
    } while (0)

static inline int pgw_cmp_header(const pg_pprof *p, const pg_pprof_wire *w, char *why,
                                 size_t why_len)
{
    PGW_SAME("n_string_table", p->n_string_table, w->n_strings);
    for (size_t i = 0; i < p->n_string_table; i++) {
        const char *s = p->string_table[i];
        if (strlen(s) != w->strings[i].len || memcmp(s, w->strings[i].s, w->strings[i].len))
            PGW_DIFF("string_table[%zu] differs", i);
        if (w->strings[i].hash != (uint32_t)pg_hash_bytes(s, strlen(s), 0))
            PGW_DIFF("string_table[%zu].hash %u is not pg_hash_bytes's", i, w->strings[i].hash);
    }
    PGW_SAME("n_sample_type", p->n_sample_type, w->n_sample_types);
    for (size_t i = 0; i < p->n_sample_type; i++) {
        PGW_SAME("sample_type.type", p->sample_type[i]->type, w->sample_types[i].type);
        PGW_SAME("sample_type.unit", p->sample_type[i]->unit, w->sample_types[i].unit);
    }
    PGW_SAME("has_period_type", p->period_type != NULL, w->has_period_type != 0);
    if (p->period_type) {
        PGW_SAME("period_type.type", p->period_type->type, w->period_type.type);
        PGW_SAME("period_type.unit", p->period_type->unit, w->period_type.unit);
    }
    PGW_SAME("drop_frames", p->drop_frames, w->drop_frames);
    PGW_SAME("keep_frames", p->keep_frames, w->keep_frames);
    PGW_SAME("time_nanos", p->time_nanos, w->time_nanos);
    PGW_SAME("duration_nanos", p->duration_nanos, w->duration_nanos);
    PGW_SAME("period", p->period, w->period);
    PGW_SAME("default_sample_type", p->default_sample_type, w->default_sample_type);
    PGW_SAME("doc_url", p->doc_url, w->doc_url);
    PGW_SAME("n_comment", p->n_comment, w->n_comments);
    for (size_t i = 0; i < p->n_comment; i++)
        PGW_SAME("comment", p->comment[i], w->comments[i]);
    return 0;
}

static inline int pgw_cmp_tables(const pg_pprof *p, const pg_pprof_wire *w, char *why,
                                 size_t why_len)
{
    PGW_SAME("n_mapping", p->n_mapping, w->n_mappings);
    for (size_t i = 0; i < p->n_mapping; i++) {
        const Perftools__Profiles__Mapping *m = p->mapping[i];
        const pgw_mapping *x = &w->mappings[i];
        PGW_SAME("mapping.id", m->id, x->id);
        PGW_SAME("mapping.memory_start", m->memory_start, x->memory_start);
        PGW_SAME("mapping.memory_limit", m->memory_limit, x->memory_limit);
        PGW_SAME("mapping.file_offset", m->file_offset, x->file_offset);
        PGW_SAME("mapping.filename", m->filename, x->filename);
        PGW_SAME("mapping.build_id", m->build_id, x->build_id);
        PGW_SAME("mapping.has_functions", m->has_functions != 0, x->has_functions);
        PGW_SAME("mapping.has_filenames", m->has_filenames != 0, x->has_filenames);
        PGW_SAME("mapping.has_line_numbers", m->has_line_numbers != 0, x->has_line_numbers);
        PGW_SAME("mapping.has_inline_frames", m->has_inline_frames != 0, x->has_inline_frames);
    }
    PGW_SAME("n_function", p->n_function, w->n_functions);
    for (size_t i = 0; i < p->n_function; i++) {
        const Perftools__Profiles__Function *f = p->function[i];
        const pgw_function *x = &w->functions[i];
        PGW_SAME("function.id", f->id, x->id);
        PGW_SAME("function.name", f->name, x->name);
        PGW_SAME("function.system_name", f->system_name, x->system_name);
        PGW_SAME("function.filename", f->filename, x->filename);
        PGW_SAME("function.start_line", f->start_line, x->start_line);
    }
    return 0;
}

static inline int pgw_cmp_locations(const pg_pprof *p, const pg_pprof_wire *w, char *why,
                                    size_t why_len)
{
    PGW_SAME("n_location", p->n_location, w->n_locations);
    size_t lines = 0;
    for (size_t i = 0; i < p->n_location; i++) {
        const Perftools__Profiles__Location *l = p->location[i];
        const pgw_location *x = &w->locations[i];
        PGW_SAME("location.id", l->id, x->id);
        PGW_SAME("location.mapping_id", l->mapping_id, x->mapping_id);
        PGW_SAME("location.address", l->address, x->address);
        PGW_SAME("location.is_folded", l->is_folded != 0, x->is_folded);
        PGW_SAME("location.first_line", lines, x->first_line);
        PGW_SAME("location.n_line", l->n_line, x->n_line);
        if (!l->mapping_id)
            PGW_SAME("location.mapping (none)", 0, x->mapping);
        else if (x->mapping < 1 || x->mapping > p->n_mapping)
            PGW_DIFF("location[%zu].mapping %u out of range", i, x->mapping);
        else
            PGW_SAME("location.mapping", l->mapping_id, p->mapping[x->mapping - 1]->id);
        PGW_SAME("location_ids", i, pg_idmap_find(&w->location_ids, l->id));
        for (size_t k = 0; k < l->n_line; k++) {
            const Perftools__Profiles__Line *ln = l->line[k];
            const pgw_line *y = &w->lines[lines + k];
            PGW_SAME("line.function_id", ln->function_id, y->function_id);
            PGW_SAME("line.line", ln->line, y->line);
            PGW_SAME("line.column", ln->column, y->column);
            if (y->function >= p->n_function)
                PGW_DIFF("location[%zu].line[%zu].function out of range", i, k);
            PGW_SAME("line.function", ln->function_id, p->function[y->function]->id);
        }
        lines += l->n_line;
    }
    PGW_SAME("n_lines", lines, w->n_lines);
    return 0;
}

static inline int pgw_cmp_sample(const pg_pprof *p, const Perftools__Profiles__Sample *s,
                                 const pgw_sample *x, char *why, size_t why_len)
{
    PGW_SAME("n_location_id", s->n_location_id, x->n_locations);
    for (size_t k = 0; k < s->n_location_id; k++) {
        int32_t at = x->locations[k];
        if (at < 1 || (size_t)at > p->n_location)
            PGW_DIFF("location index %d out of range", at);
        PGW_SAME("location_id", s->location_id[k], p->location[at - 1]->id);
    }
    PGW_SAME("n_value", s->n_value, x->n_values);
    for (size_t k = 0; k < s->n_value; k++)
        PGW_SAME("value", s->value[k], x->values[k]);
    PGW_SAME("n_label", s->n_label, x->n_labels);
    for (size_t k = 0; k < s->n_label; k++) {
        PGW_SAME("label.key", s->label[k]->key, x->labels[k].key);
        PGW_SAME("label.str", s->label[k]->str, x->labels[k].str);
        PGW_SAME("label.num", s->label[k]->num, x->labels[k].num);
        PGW_SAME("label.num_unit", s->label[k]->num_unit, x->labels[k].num_unit);
    }
    return 0;
}

/* 0 when the wire reader read what protobuf-c decoded; -1 with the first
 * difference in why. Parses every sample again (scratch from a). */
static inline int pgw_compare(pg_arena *a, const pg_pprof *p, const pg_pprof_wire *w, char *why,
                              size_t why_len)
{
    if (pgw_cmp_header(p, w, why, why_len) < 0 || pgw_cmp_tables(p, w, why, why_len) < 0 ||
        pgw_cmp_locations(p, w, why, why_len) < 0)
        return -1;
    PGW_SAME("n_sample", p->n_sample, w->n_samples);
    pgw_sample s;
    pg_error err;
    if (pg_pprof_wire_sample_init(a, w, &s, &err) != PG_OK)
        PGW_DIFF("sample scratch: %.200s", err.msg);
    for (size_t i = 0; i < p->n_sample; i++) {
        if (pg_pprof_wire_sample(w, i, &s, &err) != PG_OK)
            PGW_DIFF("sample[%zu]: %.200s", i, err.msg);
        if (pgw_cmp_sample(p, p->sample[i], &s, why, why_len) < 0) {
            char inner[200];
            snprintf(inner, sizeof(inner), "%.150s", why);
            PGW_DIFF("sample[%zu]: %.150s", i, inner);
        }
    }
    return 0;
}

/* 0 when a rejection is the same both ways; -1 with the difference in why.
 * pg_pprof_decode checks the strings' bytes first, then unpacks the whole
 * document, then validates it; the wire reader checks the strings and
 * unpacks all but the samples, validates, then parses and validates one
 * sample at a time. So when protobuf-c unpacked the document (or found a
 * bad string), both must say the same, the wire path without the "pprof: "
 * prefix for a sample. When protobuf-c found the document malformed, a
 * malformed sample may let the wire path report a validation error first,
 * but never a bad string: those come before any wire error. */
static inline int pgw_compare_errors(int rc_pb, const pg_error *e_pb, int rc_wire,
                                     const pg_error *e_wire, char *why, size_t why_len)
{
    static const char bad_wire[] = "pprof: not a valid perftools.profiles.Profile protobuf message";
    if (rc_pb == PG_OK || rc_wire == PG_OK)
        PGW_DIFF("accept/reject differ: protobuf-c %d, wire %d", rc_pb, rc_wire);
    if (strcmp(e_pb->msg, bad_wire) != 0) {
        if (rc_pb != rc_wire ||
            (strcmp(e_pb->msg, e_wire->msg) != 0 &&
             (strncmp(e_pb->msg, "pprof: ", 7) != 0 || strcmp(e_pb->msg + 7, e_wire->msg) != 0)))
            PGW_DIFF("errors differ: protobuf-c %d (%.100s), wire %d (%.100s)", rc_pb, e_pb->msg,
                     rc_wire, e_wire->msg);
        return 0;
    }
    if (rc_wire != PG_ERR_INVALID || strstr(e_wire->msg, "UTF-8") ||
        strstr(e_wire->msg, "NUL byte"))
        PGW_DIFF("errors differ: protobuf-c %d (%.100s), wire %d (%.100s)", rc_pb, e_pb->msg,
                 rc_wire, e_wire->msg);
    return 0;
}

#endif
