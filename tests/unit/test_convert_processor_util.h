/*
 * Helpers for the tests of the pipeline's pprof handling (convert processor,
 * file and debug exporters): reading shared fixtures, and reading pprof
 * documents with plain protobuf-c (not convert/'s decoder), so the checks do
 * not depend on the code under test.
 */
#ifndef PG_TEST_CONVERT_PROCESSOR_UTIL_H
#define PG_TEST_CONVERT_PROCESSOR_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "model/otlp.h"
#include "pipeline/profile.h"
#include "pprof.pb-c.h"
#include "transport/decompress.h"

#define TC_HEAP_FIXTURE "fixtures/captured/go-files/heap.pb.gz"
#define TC_OTLP_FIXTURE "fixtures/third_party/grafana-pyroscope/otlp-v1.10-ebpf-cpu-offcpu.pb"

static inline uint8_t *tc_read_shared(const char *rel, size_t *len)
{
    const char *dir = getenv("PG_SHARED_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared", rel);
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

/* A payload holding a copy of the shared file rel. */
static inline pg_payload *tc_payload(pg_payload_format fmt, const char *rel)
{
    size_t len = 0;
    uint8_t *bytes = tc_read_shared(rel, &len);
    return bytes ? pg_payload_new(fmt, bytes, len) : NULL;
}

/* An OTLP payload of the fixture with its decoded form attached. */
static inline pg_payload *tc_otlp_payload(void)
{
    pg_payload *p = tc_payload(PG_PAYLOAD_OTLP, TC_OTLP_FIXTURE);
    if (!p)
        return NULL;
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err;
    if (pg_otlp_decode(a, p->bytes, p->len, &req, &err) != PG_OK) {
        pg_arena_free(a);
        pg_payload_unref(p);
        return NULL;
    }
    pg_payload_set_decoded(p, req, a);
    return p;
}

/* The document in bytes (gzipped or not), read with protobuf-c alone. */
static inline Perftools__Profiles__Profile *tc_unpack_pprof(pg_arena *a, const uint8_t *p,
                                                            size_t len)
{
    if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
        const uint8_t *raw = NULL;
        size_t raw_len = 0;
        pg_error err;
        if (pg_decompress(a, "gzip", p, len, 1u << 30, &raw, &raw_len, &err) != 0)
            return NULL;
        p = raw;
        len = raw_len;
    }
    ProtobufCAllocator al = pg_arena_protobuf_allocator(a);
    return perftools__profiles__profile__unpack(&al, len, p);
}

static inline const char *tc_pstr(const Perftools__Profiles__Profile *p, int64_t i)
{
    return i >= 0 && (size_t)i < p->n_string_table ? p->string_table[i] : "<bad>";
}

/* Sum of the column of sample type `type` ("" when absent: INT64_MIN). */
static inline int64_t tc_pprof_total(const Perftools__Profiles__Profile *p, const char *type)
{
    for (size_t t = 0; t < p->n_sample_type; t++) {
        if (strcmp(tc_pstr(p, p->sample_type[t]->type), type) != 0)
            continue;
        int64_t sum = 0;
        for (size_t s = 0; s < p->n_sample; s++)
            sum += p->sample[s]->value[t];
        return sum;
    }
    return INT64_MIN;
}

#endif
