/* Pyroscope exporter, request building: push bodies (decoded with plain
 * protobuf-c), /ingest queries (read back with the receiver's own parsers),
 * label rules, external_labels, tenant split, OTLP conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exporters/pyroscope/pyroscope_request.h"
#include "pyroscope_push.pb-c.h"
#include "receivers/pyroscope/labelset.h"
#include "receivers/pyroscope/multipart.h"
#include "test_convert_processor_util.h"

#define CPU_FIXTURE   "fixtures/captured/go-files/cpu.pb.gz"
#define BLOCK_FIXTURE "fixtures/captured/go-files/block.pb.gz"

/* ---- a sink that keeps every request ---- */

#define MAX_REQ 256

typedef struct collected {
    pg_pyroexp_request req[MAX_REQ];
    char *path[MAX_REQ], *ctype[MAX_REQ], *tenant[MAX_REQ];
    size_t n;
    uint32_t room; /* profiles that still fit; UINT32_MAX: no limit */
} collected;

static int collect_full(void *arg, uint32_t profiles)
{
    collected *c = arg;
    if (c->room == UINT32_MAX)
        return 0;
    if (profiles > c->room)
        return 1;
    c->room -= profiles;
    return 0;
}

static int collect_emit(void *arg, pg_pyroexp_request *r, pg_error *err)
{
    (void)err;
    collected *c = arg;
    assert_true(c->n < MAX_REQ);
    c->req[c->n] = *r;
    c->path[c->n] = strdup(r->path);
    c->ctype[c->n] = strdup(r->content_type);
    c->tenant[c->n] = strdup(r->tenant);
    c->n++;
    return PG_OK;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->req[i].body);
        free(c->path[i]);
        free(c->ctype[i]);
        free(c->tenant[i]);
    }
    free(c);
}

static collected *run(const pg_batch *b, pg_pyroexp_api api, const pg_str_map *ext,
                      pg_pyroexp_stats *st)
{
    collected *c = calloc(1, sizeof(*c));
    c->room = UINT32_MAX;
    pg_pyroexp_sink sink = {.full = collect_full, .emit = collect_emit, .arg = c};
    pg_error err = {0};
    assert_int_equal(pg_pyroexp_build(b, api, ext, &sink, st, &err), PG_OK);
    return c;
}

/* ---- batches ---- */

static pg_payload *pprof_payload(const char *rel)
{
    pg_payload *p = tc_payload(PG_PAYLOAD_PPROF, rel);
    assert_non_null(p);
    return p;
}

/* A profile with labels kv[0..2n) (name, value pairs) of a payload of its
 * own holding the fixture rel (profiles sharing a pprof payload would be one
 * document). */
static pg_profile *add(pg_batch *b, const char *rel, const char *tenant, const char *const *kv,
                       size_t n)
{
    pg_payload *p = pprof_payload(rel);
    pg_profile *prof = pg_batch_add(b, p);
    pg_payload_unref(p);
    assert_non_null(prof);
    assert_int_equal(pg_profile_set_tenant(b, prof, tenant), PG_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pg_profile_set_label(b, prof, kv[2 * i], kv[2 * i + 1]), PG_OK);
    return prof;
}

#define ADD(b, rel, tenant, ...)                                                                   \
    add((b), (rel), (tenant), (const char *const[]){__VA_ARGS__},                                  \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *) / 2)

static Push__V1__PushRequest *unpack_push(const pg_pyroexp_request *r)
{
    Push__V1__PushRequest *pr = push__v1__push_request__unpack(NULL, r->len, r->body);
    assert_non_null(pr);
    return pr;
}

static const char *series_label(const Push__V1__RawProfileSeries *s, const char *name)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (strcmp(s->labels[i]->name, name) == 0)
            return s->labels[i]->value;
    return NULL;
}

static void assert_sorted_unique(const Push__V1__RawProfileSeries *s)
{
    for (size_t i = 1; i < s->n_labels; i++)
        assert_true(strcmp(s->labels[i - 1]->name, s->labels[i]->name) < 0);
}

/* ---- push ---- */

static void test_push_groups_series_by_labels(void **state)
{
    (void)state;
    pg_payload *cpu = pprof_payload(CPU_FIXTURE);
    pg_payload *heap = pprof_payload(TC_HEAP_FIXTURE);
    pg_batch *b = pg_batch_new();
    ADD(b, CPU_FIXTURE, "", "service_name", "shop", "__name__", "process_cpu", "env", "prod",
        "__profile_id__", "id-1", "__session_id__", "s1");
    ADD(b, TC_HEAP_FIXTURE, "", "service_name", "shop", "__name__", "memory", "env", "prod");
    /* __delta__ is not dropped: a series of its own */
    ADD(b, TC_HEAP_FIXTURE, "", "env", "prod", "__name__", "process_cpu", "service_name", "shop",
        "__delta__", "false");
    ADD(b, CPU_FIXTURE, "", "__name__", "process_cpu", "env", "prod", "service_name", "shop",
        "__profile_id__", "id-2");
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_PUSH, NULL, &st);
    assert_int_equal(st.sent, 4);
    assert_int_equal(st.invalid + st.convert_failed + st.skipped, 0);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->path[0], "/push.v1.PusherService/Push");
    assert_string_equal(c->ctype[0], "application/proto");
    assert_string_equal(c->tenant[0], "");
    assert_int_equal(c->req[0].profiles, 4);

    Push__V1__PushRequest *pr = unpack_push(&c->req[0]);
    assert_int_equal(pr->n_series, 3);
    /* series 0: profiles 0 and 3, labels sorted, internal ones gone */
    const Push__V1__RawProfileSeries *s0 = pr->series[0];
    assert_sorted_unique(s0);
    assert_int_equal(s0->n_labels, 3);
    assert_string_equal(s0->labels[0]->name, "__name__");
    assert_string_equal(s0->labels[1]->name, "env");
    assert_string_equal(s0->labels[2]->name, "service_name");
    assert_int_equal(s0->n_samples, 2);
    assert_string_equal(s0->samples[0]->id, "id-1");
    assert_string_equal(s0->samples[1]->id, "id-2");
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(s0->samples[k]->raw_profile.len, cpu->len);
        assert_memory_equal(s0->samples[k]->raw_profile.data, cpu->bytes, cpu->len);
    }
    assert_string_equal(series_label(pr->series[1], "__name__"), "memory");
    assert_int_equal(pr->series[1]->n_samples, 1);
    assert_string_equal(pr->series[1]->samples[0]->id, "");
    assert_memory_equal(pr->series[1]->samples[0]->raw_profile.data, heap->bytes, heap->len);
    /* __delta__ is kept, as Alloy does */
    assert_string_equal(series_label(pr->series[2], "__delta__"), "false");
    assert_null(series_label(pr->series[2], "__session_id__"));
    push__v1__push_request__free_unpacked(pr, NULL);
    collected_free(c);
    pg_batch_free(b);
    pg_payload_unref(cpu);
    pg_payload_unref(heap);
}

static void test_push_splits_tenants(void **state)
{
    (void)state;
    pg_payload *cpu = pprof_payload(CPU_FIXTURE);
    pg_batch *b = pg_batch_new();
    ADD(b, CPU_FIXTURE, "tenant-a", "service_name", "a", "__name__", "process_cpu");
    ADD(b, CPU_FIXTURE, "tenant-b", "service_name", "b", "__name__", "process_cpu");
    ADD(b, CPU_FIXTURE, "tenant-a", "service_name", "a2", "__name__", "process_cpu");
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_PUSH, NULL, &st);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->tenant[0], "tenant-a");
    assert_int_equal(c->req[0].profiles, 2);
    assert_string_equal(c->tenant[1], "tenant-b");
    assert_int_equal(c->req[1].profiles, 1);
    Push__V1__PushRequest *pa = unpack_push(&c->req[0]);
    Push__V1__PushRequest *pb = unpack_push(&c->req[1]);
    assert_int_equal(pa->n_series, 2);
    assert_string_equal(series_label(pa->series[0], "service_name"), "a");
    assert_string_equal(series_label(pa->series[1], "service_name"), "a2");
    assert_int_equal(pb->n_series, 1);
    assert_string_equal(series_label(pb->series[0], "service_name"), "b");
    push__v1__push_request__free_unpacked(pa, NULL);
    push__v1__push_request__free_unpacked(pb, NULL);
    collected_free(c);

    /* a full queue: the second tenant's request is not built */
    c = calloc(1, sizeof(*c));
    c->room = 2;
    pg_pyroexp_sink sink = {.full = collect_full, .emit = collect_emit, .arg = c};
    pg_error err = {0};
    assert_int_equal(pg_pyroexp_build(b, PG_PYROEXP_API_PUSH, NULL, &sink, &st, &err), PG_OK);
    assert_int_equal(c->n, 1);
    assert_int_equal(st.sent, 2);
    assert_int_equal(st.skipped, 1);
    collected_free(c);
    pg_batch_free(b);
    pg_payload_unref(cpu);
}

static void test_external_labels_override(void **state)
{
    (void)state;
    pg_payload *cpu = pprof_payload(CPU_FIXTURE);
    pg_batch *b = pg_batch_new();
    ADD(b, CPU_FIXTURE, "", "service_name", "shop", "__name__", "process_cpu", "env", "dev", "drop",
        "x");
    char *keys[] = {"env", "cluster", "drop"};
    char *values[] = {"prod", "eu-1", ""};
    pg_str_map ext = {keys, values, 3};
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_PUSH, &ext, &st);
    assert_int_equal(c->n, 1);
    Push__V1__PushRequest *pr = unpack_push(&c->req[0]);
    const Push__V1__RawProfileSeries *s = pr->series[0];
    assert_sorted_unique(s);
    assert_int_equal(s->n_labels, 4);
    assert_string_equal(series_label(s, "env"), "prod");
    assert_string_equal(series_label(s, "cluster"), "eu-1");
    assert_null(series_label(s, "drop")); /* an empty value removes the label */
    assert_string_equal(series_label(s, "service_name"), "shop");
    push__v1__push_request__free_unpacked(pr, NULL);
    collected_free(c);
    pg_batch_free(b);
    pg_payload_unref(cpu);
}

static void expect_invalid(const char *name, const char *value, const char *why)
{
    pg_payload *cpu = pprof_payload(CPU_FIXTURE);
    pg_batch *b = pg_batch_new();
    ADD(b, CPU_FIXTURE, "", "service_name", "ok", "__name__", "process_cpu");
    ADD(b, CPU_FIXTURE, "", "service_name", "bad", "__name__", "process_cpu", name, value);
    ADD(b, CPU_FIXTURE, "", "service_name", "ok2", "__name__", "process_cpu");
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_PUSH, NULL, &st);
    assert_int_equal(st.invalid, 1);
    assert_int_equal(st.sent, 2);
    assert_non_null(strstr(st.invalid_why, why));
    Push__V1__PushRequest *pr = unpack_push(&c->req[0]);
    assert_int_equal(pr->n_series, 2);
    assert_string_equal(series_label(pr->series[0], "service_name"), "ok");
    assert_string_equal(series_label(pr->series[1], "service_name"), "ok2");
    push__v1__push_request__free_unpacked(pr, NULL);
    collected_free(c);
    pg_batch_free(b);
    pg_payload_unref(cpu);
}

static void test_label_rules(void **state)
{
    (void)state;
    expect_invalid("bad-name", "v", "label name 'bad-name' does not match [A-Za-z_][A-Za-z0-9_.]*");
    expect_invalid("9lives", "v", "label name '9lives' does not match");
    expect_invalid("latin1", "caf\xe9", "value of label 'latin1' is not valid UTF-8");
    char *long_value = malloc(2050);
    memset(long_value, 'v', 2049);
    long_value[2049] = 0;
    expect_invalid("big", long_value, "value of label 'big' is longer than 2048 bytes");
    long_value[2048] = 0; /* exactly 2048 bytes is allowed */
    pg_payload *cpu = pprof_payload(CPU_FIXTURE);
    pg_batch *b = pg_batch_new();
    ADD(b, CPU_FIXTURE, "", "__name__", "process_cpu", "big", long_value);
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_PUSH, NULL, &st);
    assert_int_equal(st.invalid, 0);
    assert_int_equal(st.sent, 1);
    collected_free(c);
    pg_batch_free(b);
    free(long_value);

    /* 30 labels pass, 31 do not */
    b = pg_batch_new();
    for (int n = 30; n <= 31; n++) {
        pg_profile *p = ADD(b, CPU_FIXTURE, "", "__name__", "process_cpu");
        for (int i = 1; i < n; i++) {
            char name[16];
            snprintf(name, sizeof(name), "l%02d", i);
            assert_int_equal(pg_profile_set_label(b, p, name, "v"), PG_OK);
        }
    }
    c = run(b, PG_PYROEXP_API_PUSH, NULL, &st);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.invalid, 1);
    assert_string_equal(st.invalid_why, "31 labels, more than the 30 a series may have");
    collected_free(c);
    pg_batch_free(b);
    pg_payload_unref(cpu);

    pg_error err = {0};
    assert_int_equal(pg_pyroexp_label_name_check("service.name", &err), PG_OK);
    assert_int_equal(pg_pyroexp_label_name_check("_x9", &err), PG_OK);
    assert_int_equal(pg_pyroexp_label_name_check(".x", &err), PG_ERR_INVALID);
    assert_int_equal(pg_pyroexp_label_name_check("", &err), PG_ERR_INVALID);
}

/* __name__ for a pprof payload without one: from the document, with the
 * display names of __sample_type_config__ when the profile has them. */
static void test_name_derived_from_document(void **state)
{
    (void)state;
    pg_payload *cpu = pprof_payload(CPU_FIXTURE);
    pg_payload *block = pprof_payload(BLOCK_FIXTURE);
    pg_batch *b = pg_batch_new();
    ADD(b, CPU_FIXTURE, "", "service_name", "a");
    ADD(b, BLOCK_FIXTURE, "", "service_name", "b");
    ADD(b, BLOCK_FIXTURE, "", "service_name", "c", "__sample_type_config__",
        "{\"contentions\":{\"display-name\":\"block_count\"},\"delay\":{\"display-name\":"
        "\"block_duration\"}}");
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_PUSH, NULL, &st);
    assert_int_equal(st.sent, 3);
    Push__V1__PushRequest *pr = unpack_push(&c->req[0]);
    assert_int_equal(pr->n_series, 3);
    assert_string_equal(series_label(pr->series[0], "__name__"), "process_cpu");
    /* without its config a Go block profile is named mutex, as Pyroscope does */
    assert_string_equal(series_label(pr->series[1], "__name__"), "mutex");
    assert_string_equal(series_label(pr->series[2], "__name__"), "block");
    assert_null(series_label(pr->series[2], "__sample_type_config__"));
    push__v1__push_request__free_unpacked(pr, NULL);
    collected_free(c);
    pg_batch_free(b);
    pg_payload_unref(cpu);
    pg_payload_unref(block);
}

/* OTLP profiles go out as pprof documents a pprof reader takes, with the
 * sample types and totals they came with. */
static void test_push_converts_otlp(void **state)
{
    (void)state;
    pg_payload *op = tc_otlp_payload();
    assert_non_null(op);
    const pg_otlp_request *req = op->decoded;
    pg_batch *b = pg_batch_new();
    pg_arena *a = pg_arena_new(0, 0);
    int64_t want_off = 0, want_samples = 0;
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++)
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++)
            for (size_t pi = 0; pi < req->resource_profiles[ri]->scope_profiles[si]->n_profiles;
                 pi++) {
                pg_profile *p = pg_batch_add(b, op);
                assert_int_equal(pg_profile_set_tenant(b, p, "t1"), PG_OK);
                assert_int_equal(pg_profile_set_label(b, p, "process.pid", "1"), PG_OK);
                p->resource_index = (uint32_t)ri;
                p->scope_index = (uint32_t)si;
                p->profile_index = (uint32_t)pi;
                pg_otlp_profile_view v;
                assert_int_equal(pg_otlp_view(a, req, ri, si, pi, &v), PG_OK);
                if (strncmp(v.profile_type, "off_cpu:", 8) == 0)
                    want_off += v.value_total;
                else
                    want_samples += v.value_total;
            }
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_PUSH, NULL, &st);
    assert_int_equal(st.sent, b->count);
    assert_int_equal(st.convert_failed + st.invalid, 0);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->tenant[0], "t1");
    Push__V1__PushRequest *pr = unpack_push(&c->req[0]);
    assert_int_equal(pr->n_series, 1); /* every profile has the same labels here */
    const Push__V1__RawProfileSeries *s = pr->series[0];
    assert_string_equal(series_label(s, "__name__"), "process_cpu");
    int64_t got_off = 0, got_samples = 0;
    for (size_t k = 0; k < s->n_samples; k++) {
        const ProtobufCBinaryData *raw = &s->samples[k]->raw_profile;
        assert_true(raw->len > 2 && raw->data[0] == 0x1f && raw->data[1] == 0x8b);
        Perftools__Profiles__Profile *doc = tc_unpack_pprof(a, raw->data, raw->len);
        assert_non_null(doc);
        assert_int_equal(doc->n_sample_type, 1);
        int64_t off = tc_pprof_total(doc, "off_cpu"), smp = tc_pprof_total(doc, "samples");
        assert_true(off != INT64_MIN || smp != INT64_MIN);
        got_off += off != INT64_MIN ? off : 0;
        got_samples += smp != INT64_MIN ? smp : 0;
    }
    assert_int_equal(got_off, want_off);
    assert_int_equal(got_samples, want_samples);
    push__v1__push_request__free_unpacked(pr, NULL);
    collected_free(c);
    pg_arena_free(a);
    pg_batch_free(b);
    pg_payload_unref(op);
}

/* ---- ingest ---- */

static char *url_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n + 1) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            out[k++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[k] = 0;
    return out;
}

/* The decoded value of query parameter key in path, NULL when absent. */
static char *query_param(const char *path, const char *key)
{
    const char *q = strchr(path, '?');
    assert_non_null(q);
    size_t klen = strlen(key);
    for (const char *p = q + 1; *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
            return url_decode(p + klen + 1, n - klen - 1);
        p += n + (end ? 1 : 0);
    }
    return NULL;
}

static void test_ingest_query_reads_back(void **state)
{
    (void)state;
    pg_payload *cpu = pprof_payload(CPU_FIXTURE);
    pg_batch *b = pg_batch_new();
    pg_profile *p = ADD(b, CPU_FIXTURE, "tenant-x", "service_name", "shop/api", "__name__",
                        "process_cpu", "env", "prod eu", "pyroscope_spy", "gospy", "version",
                        "1.2=3", "__session_id__", "abc", "__delta__", "false");
    p->time_unix_nano = 1700000000123456789ull;
    p->duration_nano = 10000000000ull;
    pg_profile *q = ADD(b, CPU_FIXTURE, "", "__name__", "process_cpu", "k", "v");
    q->time_unix_nano = 0;
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_INGEST, NULL, &st);
    assert_int_equal(c->n, 2);
    assert_int_equal(st.sent, 2);
    assert_string_equal(c->tenant[0], "tenant-x");
    assert_string_equal(c->ctype[0], "application/octet-stream");
    assert_int_equal(c->req[0].len, cpu->len);
    assert_memory_equal(c->req[0].body, cpu->bytes, cpu->len);
    assert_true(strncmp(c->path[0], "/ingest?", 8) == 0);

    char *name = query_param(c->path[0], "name");
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_labelset ls;
    pg_error err = {0};
    assert_int_equal(pg_pyro_labelset_parse(a, name, strlen(name), &ls, &err), PG_OK);
    assert_string_equal(ls.app_name, "shop/api");
    assert_int_equal(ls.n_labels, 2);
    assert_string_equal(ls.labels[0].name, "env");
    assert_string_equal(ls.labels[0].value, "prod eu");
    assert_string_equal(ls.labels[1].name, "version");
    assert_string_equal(ls.labels[1].value, "1.2=3");
    char *from = query_param(c->path[0], "from"), *until = query_param(c->path[0], "until");
    assert_string_equal(from, "1700000000123456789");
    assert_string_equal(until, "1700000010123456789");
    char *spy = query_param(c->path[0], "spyName"), *format = query_param(c->path[0], "format");
    assert_string_equal(spy, "gospy");
    assert_string_equal(format, "pprof");
    free(name);
    free(from);
    free(until);
    free(spy);
    free(format);

    /* no time: no window; no service_name: Pyroscope's unknown_service */
    assert_null(query_param(c->path[1], "from"));
    assert_null(query_param(c->path[1], "until"));
    assert_null(query_param(c->path[1], "spyName"));
    name = query_param(c->path[1], "name");
    assert_string_equal(name, "unknown_service{k=v}");
    free(name);
    pg_arena_free(a);
    collected_free(c);
    pg_batch_free(b);
    pg_payload_unref(cpu);
}

static void test_ingest_form_with_sample_type_config(void **state)
{
    (void)state;
    static const char cfg[] = "{\"contentions\":{\"display-name\":\"block_count\"}}";
    pg_payload *block = pprof_payload(BLOCK_FIXTURE);
    pg_batch *b = pg_batch_new();
    ADD(b, BLOCK_FIXTURE, "", "service_name", "svc", "__name__", "block", "__sample_type_config__",
        cfg);
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_INGEST, NULL, &st);
    assert_int_equal(c->n, 1);
    /* a form is read as a form only without format=pprof */
    char *format = query_param(c->path[0], "format");
    assert_null(format);
    pg_arena *a = pg_arena_new(0, 0);
    const char *boundary = NULL;
    pg_multipart_part *parts = NULL;
    size_t n = 0;
    pg_error err = {0};
    assert_int_equal(pg_multipart_boundary(a, c->ctype[0], &boundary, &err), PG_OK);
    assert_int_equal(
        pg_multipart_parse(a, c->req[0].body, c->req[0].len, boundary, 8, &parts, &n, &err), PG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(parts[0].name, "profile");
    assert_non_null(parts[0].filename); /* Pyroscope reads file parts only */
    assert_int_equal(parts[0].len, block->len);
    assert_memory_equal(parts[0].data, block->bytes, block->len);
    assert_string_equal(parts[1].name, "sample_type_config");
    assert_non_null(parts[1].filename);
    assert_int_equal(parts[1].len, strlen(cfg));
    assert_memory_equal(parts[1].data, cfg, strlen(cfg));
    pg_arena_free(a);
    collected_free(c);
    pg_batch_free(b);
    pg_payload_unref(block);
}

static void test_ingest_refuses_what_the_name_cannot_carry(void **state)
{
    (void)state;
    pg_payload *cpu = pprof_payload(CPU_FIXTURE);
    pg_batch *b = pg_batch_new();
    ADD(b, CPU_FIXTURE, "", "service_name", "ok", "__name__", "process_cpu");
    ADD(b, CPU_FIXTURE, "", "service_name", "ok", "__name__", "process_cpu", "list", "a,b");
    ADD(b, CPU_FIXTURE, "", "service_name", "ok", "__name__", "process_cpu", "brace", "x}");
    ADD(b, CPU_FIXTURE, "", "service_name", "ok", "__name__", "process_cpu", "pad", " x");
    ADD(b, CPU_FIXTURE, "", "service_name", "my service", "__name__", "process_cpu");
    pg_pyroexp_stats st;
    collected *c = run(b, PG_PYROEXP_API_INGEST, NULL, &st);
    assert_int_equal(c->n, 1);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.invalid, 4);
    assert_non_null(strstr(st.invalid_why, "label 'list' holds ',' or '}'"));
    /* the push API carries them all */
    collected_free(c);
    c = run(b, PG_PYROEXP_API_PUSH, NULL, &st);
    assert_int_equal(st.sent, 5);
    assert_int_equal(st.invalid, 0);
    collected_free(c);
    pg_batch_free(b);
    pg_payload_unref(cpu);
}

/* ---- documents ---- */

static void shared(pg_batch *b, pg_payload *p, const char *tenant, const char *k)
{
    pg_profile *prof = pg_batch_add(b, p);
    assert_non_null(prof);
    assert_int_equal(pg_profile_set_tenant(b, prof, tenant), PG_OK);
    assert_int_equal(pg_profile_set_label(b, prof, "k", k), PG_OK);
}

static void test_docs_of_a_batch(void **state)
{
    (void)state;
    pg_payload *cpu = pprof_payload(CPU_FIXTURE);
    uint8_t *junk = malloc(4);
    memcpy(junk, "\x0a\xff\xff\x01", 4);
    pg_payload *bad = pg_payload_new(PG_PAYLOAD_PPROF, junk, 4);
    pg_batch *b = pg_batch_new();
    shared(b, cpu, "a", "1");
    shared(b, bad, "a", "2");
    shared(b, cpu, "a", "3"); /* same payload and tenant: one document */
    shared(b, cpu, "b", "4");
    pg_pprof_docs d;
    pg_error err = {0};
    pg_pprof_docs_opts o = {.decode_pprof = 1};
    assert_int_equal(pg_pprof_docs_build(b, &o, &d, &err), PG_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.failed, 1);
    assert_true(strlen(d.why) > 0);
    assert_int_equal(d.entries[0].profiles, 2);
    assert_string_equal(pg_profile_label(d.entries[0].src, "k"), "1");
    assert_ptr_equal(d.entries[0].payload, cpu);
    assert_true(d.entries[0].gzipped);
    assert_non_null(d.entries[0].doc);
    assert_string_equal(d.entries[1].src->tenant, "b");
    size_t len = 0;
    uint8_t *copy = pg_pprof_docs_take(&d, 1, &len);
    assert_int_equal(len, cpu->len);
    assert_memory_equal(copy, cpu->bytes, len);
    free(copy);
    pg_pprof_docs_release(&d);

    /* without decoding, the bad payload passes unread */
    o.decode_pprof = 0;
    assert_int_equal(pg_pprof_docs_build(b, &o, &d, &err), PG_OK);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.failed, 0);
    assert_null(d.entries[1].doc);
    pg_pprof_docs_release(&d);
    pg_batch_free(b);
    pg_payload_unref(cpu);
    pg_payload_unref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_groups_series_by_labels),
        cmocka_unit_test(test_push_splits_tenants),
        cmocka_unit_test(test_external_labels_override),
        cmocka_unit_test(test_label_rules),
        cmocka_unit_test(test_name_derived_from_document),
        cmocka_unit_test(test_push_converts_otlp),
        cmocka_unit_test(test_ingest_query_reads_back),
        cmocka_unit_test(test_ingest_form_with_sample_type_config),
        cmocka_unit_test(test_ingest_refuses_what_the_name_cannot_carry),
        cmocka_unit_test(test_docs_of_a_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
