/* File exporter, format pprof with labels_file: the X.labels.json sidecar
 * beside every X.pb.gz (content, naming, collisions) and its config rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "config/config.h"
#include "exporters/file/file_exporter.h"
#include "test_convert_processor_util.h"
#include "test_file_exporter_util.h"

#define MAX_SOURCES 4096
/* the heap fixture's time_nanos is 2026-11-24 19:06:09 UTC */
#define HEAP_STAMP "20261124T190609Z"

typedef struct env {
    fe_env *fe;
    char root[128];
} env;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static size_t count_suffix(const char *suffix)
{
    size_t n = 0;
    for (size_t i = 0; i < fe_n_found; i++)
        n += ends_with(fe_found[i], suffix);
    return n;
}

static int setup(void **state)
{
    env *e = calloc(1, sizeof(*e));
    e->fe = fe_env_new("pg-filelabels");
    snprintf(e->root, sizeof(e->root), "%s/out", e->fe->dir);
    e->fe->cfg.path = e->root;
    e->fe->cfg.labels_file = true;
    snprintf(e->fe->comp.id, sizeof(e->fe->comp.id), "file/labels");
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    fe_env_free(e->fe);
    free(e);
    return 0;
}

static pg_consume_result export_batch(env *e, pg_batch *b)
{
    return fe_export_batch(e->fe, b);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n + 1);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    data[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return data;
}

/* The sidecar of X.pb.gz, parsed (fails the test when missing or invalid). */
static json_t *sidecar_of(const char *pbgz)
{
    char path[512];
    snprintf(path, sizeof(path), "%.*s.labels.json", (int)(strlen(pbgz) - strlen(".pb.gz")), pbgz);
    json_error_t jerr;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        fprintf(stderr, "%s: %s\n", path, jerr.text);
    assert_non_null(j);
    assert_true(json_is_object(j));
    return j;
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static json_int_t jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void label(pg_batch *b, pg_profile *p, const char *name, const char *value)
{
    assert_int_equal(pg_profile_set_label(b, p, name, value), PG_OK);
}

/* pprof payload with labels and a tenant: the file as it came, and a sidecar
 * with exactly the profile's labels, tenant, type and time. */
static void test_pprof_payload_sidecar(void **state)
{
    env *e = *state;
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    assert_non_null(pp);
    pg_batch *b = pg_batch_new();
    pg_profile *p = pg_batch_add(b, pp);
    label(b, p, "service_name", "shop");
    label(b, p, "__name__", "memory");
    label(b, p, "env", "prod");
    label(b, p, "__session_id__", "0123456789abcdef");
    assert_int_equal(pg_profile_set_tenant(b, p, "team-a"), PG_OK);
    pg_consume_result res = export_batch(e, b);
    assert_int_equal(res.status, PG_CONSUME_OK);
    fe_list_files(e->root);
    assert_int_equal(fe_n_found, 2);
    char want[256];
    snprintf(want, sizeof(want), "%s/team-a/shop/alloc_objects/" HEAP_STAMP "-000000.labels.json",
             e->root);
    assert_string_equal(fe_found[0], want);
    snprintf(want, sizeof(want), "%s/team-a/shop/alloc_objects/" HEAP_STAMP "-000000.pb.gz",
             e->root);
    assert_string_equal(fe_found[1], want);
    size_t len = 0;
    uint8_t *data = read_all(fe_found[1], &len);
    assert_int_equal(len, pp->len);
    assert_memory_equal(data, pp->bytes, len);
    free(data);

    pg_arena *a = pg_arena_new(0, 0);
    Perftools__Profiles__Profile *doc = tc_unpack_pprof(a, pp->bytes, pp->len);
    assert_non_null(doc);
    json_t *j = sidecar_of(fe_found[1]);
    assert_int_equal(json_object_size(j), 5);
    assert_string_equal(jstr(j, "tenant"), "team-a");
    assert_string_equal(jstr(j, "profile_type"), "alloc_objects:count:space:bytes");
    assert_int_equal(jint(j, "time_unix_nano"), doc->time_nanos);
    assert_int_equal(jint(j, "duration_nano"), doc->duration_nanos);
    json_t *labels = json_object_get(j, "labels");
    assert_true(json_is_object(labels));
    assert_int_equal(json_object_size(labels), 4);
    assert_string_equal(jstr(labels, "service_name"), "shop");
    assert_string_equal(jstr(labels, "__name__"), "memory");
    assert_string_equal(jstr(labels, "env"), "prod");
    assert_string_equal(jstr(labels, "__session_id__"), "0123456789abcdef");
    json_decref(j);
    pg_arena_free(a);
    pg_batch_free(b);
    pg_payload_unref(pp);
}

/* What the pipeline knows wins over the document in the sidecar: the
 * profile's own type and time; no tenant is "" (directory _default); a label value that is not
 * UTF-8 does not cost the file its sidecar. */
static void test_profile_fields_and_odd_values(void **state)
{
    env *e = *state;
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    pg_batch *b = pg_batch_new();
    pg_profile *p = pg_batch_add(b, pp);
    label(b, p, "service_name", "svc");
    label(b, p, "bad",
          "a\xff\xfe"
          "b");
    label(b, p, "quote", "say \"hi\"\n");
    assert_int_equal(pg_profile_set_type(b, p, "inuse_space:bytes:space:bytes"), PG_OK);
    p->time_unix_nano = 1700000000123456789ull;
    p->duration_nano = 15000000000ull;
    assert_int_equal(export_batch(e, b).status, PG_CONSUME_OK);
    fe_list_files(e->root);
    assert_int_equal(fe_n_found, 2);
    assert_true(ends_with(fe_found[1], ".pb.gz"));
    /* the file name keeps following the document's time */
    assert_non_null(strstr(fe_found[1], "/_default/svc/alloc_objects/" HEAP_STAMP "-000000"));
    json_t *j = sidecar_of(fe_found[1]);
    assert_string_equal(jstr(j, "tenant"), "");
    assert_string_equal(jstr(j, "profile_type"), "inuse_space:bytes:space:bytes");
    assert_int_equal(jint(j, "time_unix_nano"), 1700000000123456789ll);
    assert_int_equal(jint(j, "duration_nano"), 15000000000ll);
    json_t *labels = json_object_get(j, "labels");
    assert_string_equal(jstr(labels, "bad"), "a??b");
    assert_string_equal(jstr(labels, "quote"), "say \"hi\"\n");
    json_decref(j);
    pg_batch_free(b);
    pg_payload_unref(pp);
}

typedef struct source {
    char which[64];
    const char *type; /* sample type name, arena */
    uint64_t time;
} source;

/* An OTLP payload becomes pprof files; each sidecar carries the labels of
 * the first source profile of its document. */
static void test_otlp_sidecar_first_source(void **state)
{
    env *e = *state;
    pg_payload *op = tc_otlp_payload();
    assert_non_null(op);
    const pg_otlp_request *req = op->decoded;
    pg_arena *a = pg_arena_new(0, 0);
    pg_batch *b = pg_batch_new();
    source *src = calloc(MAX_SOURCES, sizeof(*src));
    size_t n_src = 0;
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++)
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++)
            for (size_t pi = 0; pi < req->resource_profiles[ri]->scope_profiles[si]->n_profiles;
                 pi++) {
                assert_true(n_src < MAX_SOURCES);
                pg_profile *p = pg_batch_add(b, op);
                p->resource_index = (uint32_t)ri;
                p->scope_index = (uint32_t)si;
                p->profile_index = (uint32_t)pi;
                pg_otlp_profile_view v;
                assert_int_equal(pg_otlp_view(a, req, ri, si, pi, &v), PG_OK);
                source *s = &src[n_src++];
                snprintf(s->which, sizeof(s->which), "%zu-%zu-%zu", ri, si, pi);
                s->type = pg_arena_strndup(a, v.profile_type, strcspn(v.profile_type, ":"));
                s->time = v.time_unix_nano;
                label(b, p, "service_name", "ebpf");
                label(b, p, "which", s->which);
                assert_int_equal(pg_profile_set_tenant(b, p, "t1"), PG_OK);
            }
    pg_consume_result res = export_batch(e, b);
    assert_int_equal(res.status, PG_CONSUME_OK);
    assert_int_equal(res.rejected, 0);
    fe_list_files(e->root);
    size_t files = count_suffix(".pb.gz");
    assert_true(files >= 1);
    assert_int_equal(count_suffix(".labels.json"), files);
    assert_int_equal(fe_n_found, 2 * files);
    for (size_t i = 0; i < fe_n_found; i++) {
        if (!ends_with(fe_found[i], ".pb.gz"))
            continue;
        size_t len = 0;
        uint8_t *data = read_all(fe_found[i], &len);
        Perftools__Profiles__Profile *doc = tc_unpack_pprof(a, data, len);
        assert_non_null(doc);
        json_t *j = sidecar_of(fe_found[i]);
        assert_string_equal(jstr(j, "tenant"), "t1");
        json_t *labels = json_object_get(j, "labels");
        assert_int_equal(json_object_size(labels), 2);
        assert_string_equal(jstr(labels, "service_name"), "ebpf");
        const char *which = jstr(labels, "which");
        const source *s = NULL;
        for (size_t k = 0; k < n_src; k++)
            if (strcmp(src[k].which, which) == 0)
                s = &src[k];
        assert_non_null(s);
        /* the named source is the one the document starts with */
        assert_string_equal(s->type, tc_pstr(doc, doc->sample_type[0]->type));
        assert_int_equal(jint(j, "time_unix_nano"), (json_int_t)s->time);
        const char *type = jstr(j, "profile_type");
        assert_int_equal(strncmp(type, s->type, strlen(s->type)), 0);
        assert_int_equal(type[strlen(s->type)], ':');
        json_decref(j);
        free(data);
    }
    free(src);
    pg_batch_free(b);
    pg_payload_unref(op);
    pg_arena_free(a);
}

/* Without labels_file nothing but the .pb.gz files is written. */
static void test_off_by_default(void **state)
{
    env *e = *state;
    e->fe->cfg.labels_file = false;
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    pg_batch *b = pg_batch_new();
    label(b, pg_batch_add(b, pp), "service_name", "shop");
    assert_int_equal(export_batch(e, b).status, PG_CONSUME_OK);
    fe_list_files(e->root);
    assert_int_equal(fe_n_found, 1);
    assert_true(ends_with(fe_found[0], ".pb.gz"));
    pg_batch_free(b);
    pg_payload_unref(pp);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A name is free only when both X.labels.json and X.pb.gz are: a stray
 * sidecar or a profile without one is skipped and left as it was. */
static void test_taken_names_are_skipped(void **state)
{
    env *e = *state;
    char dir[256], path[512];
    snprintf(dir, sizeof(dir), "%s/_default/shop/alloc_objects", e->root);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/" HEAP_STAMP "-000000.labels.json", dir);
    write_text(path, "stray sidecar\n");
    snprintf(path, sizeof(path), "%s/" HEAP_STAMP "-000001.pb.gz", dir);
    write_text(path, "old profile\n");
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    pg_batch *b = pg_batch_new();
    label(b, pg_batch_add(b, pp), "service_name", "shop");
    assert_int_equal(export_batch(e, b).status, PG_CONSUME_OK);
    fe_list_files(e->root);
    assert_int_equal(fe_n_found, 4);
    const char *want[] = {"-000000.labels.json", "-000001.pb.gz", "-000002.labels.json",
                          "-000002.pb.gz"};
    for (size_t i = 0; i < 4; i++)
        assert_true(ends_with(fe_found[i], want[i]));
    size_t len = 0;
    uint8_t *data = read_all(fe_found[0], &len);
    assert_string_equal((char *)data, "stray sidecar\n");
    free(data);
    data = read_all(fe_found[1], &len);
    assert_string_equal((char *)data, "old profile\n");
    free(data);
    data = read_all(fe_found[3], &len);
    assert_int_equal(len, pp->len);
    assert_memory_equal(data, pp->bytes, len);
    free(data);
    json_t *j = sidecar_of(fe_found[3]);
    assert_string_equal(jstr(json_object_get(j, "labels"), "service_name"), "shop");
    json_decref(j);
    pg_batch_free(b);
    pg_payload_unref(pp);
}

static char *report_text(const pg_config_report *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    pg_config_report_print(r, f);
    fclose(f);
    return text;
}

/* labels_file is refused with the otlp formats, like compression is with pprof. */
static void test_validate_labels_file(void **state)
{
    (void)state;
    pg_config_node key = {
        .kind = PG_NODE_SCALAR, .file = "c.yaml", .line = 5, .col = 5, .scalar = "labels_file"};
    pg_config_node val = {
        .kind = PG_NODE_SCALAR, .file = "c.yaml", .line = 5, .col = 18, .scalar = "true"};
    pg_config_node *keys[] = {&key}, *vals[] = {&val};
    pg_config_node map = {.kind = PG_NODE_MAP,
                          .file = "c.yaml",
                          .line = 3,
                          .col = 3,
                          .keys = keys,
                          .values = vals,
                          .n = 1};
    int formats[] = {PG_FILE_FORMAT_OTLP_PROTO, PG_FILE_FORMAT_OTLP_JSON};
    for (size_t i = 0; i < 2; i++) {
        pg_file_exporter_config c = {.path = "/tmp/x", .format = formats[i], .labels_file = true};
        pg_config_report *r = pg_config_report_new();
        pg_file_exporter_def.validate(&c, r, &map);
        assert_int_equal(pg_config_report_errors(r), 1);
        char *text = report_text(r);
        assert_non_null(strstr(text, "c.yaml:5:18"));
        assert_non_null(strstr(text, "labels_file applies to format pprof"));
        free(text);
        pg_config_report_free(r);
    }
    pg_file_exporter_config c = {
        .path = "/tmp/x", .format = PG_FILE_FORMAT_PPROF, .labels_file = true};
    pg_config_report *r = pg_config_report_new();
    pg_file_exporter_def.validate(&c, r, &map);
    assert_int_equal(pg_config_report_errors(r), 0);
    pg_config_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pprof_payload_sidecar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_fields_and_odd_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_sidecar_first_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_off_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_taken_names_are_skipped, setup, teardown),
        cmocka_unit_test(test_validate_labels_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
