/* Whole-file loading against a small table of fake components, and against
 * the compiled-in registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "config/load.h"
#include "test_config_util.h"

typedef struct fake_otlp {
    int protocols, grpc, http;
    char *grpc_endpoint, *http_endpoint;
} fake_otlp;

static const pg_config_key grpc_keys[] = {
    {.name = "endpoint",
     .type = PG_CFG_ENDPOINT,
     .offset = offsetof(fake_otlp, grpc_endpoint),
     .default_value = "0.0.0.0:4317"},
    PG_CONFIG_END,
};
static const pg_config_key http_keys[] = {
    {.name = "endpoint",
     .type = PG_CFG_ENDPOINT,
     .offset = offsetof(fake_otlp, http_endpoint),
     .default_value = "0.0.0.0:4318"},
    PG_CONFIG_END,
};
static const pg_config_key proto_keys[] = {
    {.name = "grpc",
     .type = PG_CFG_SECTION,
     .offset = offsetof(fake_otlp, grpc),
     .children = grpc_keys},
    {.name = "http",
     .type = PG_CFG_SECTION,
     .offset = offsetof(fake_otlp, http),
     .children = http_keys},
    PG_CONFIG_END,
};
static const pg_config_key otlp_keys[] = {
    {.name = "protocols",
     .type = PG_CFG_SECTION,
     .offset = offsetof(fake_otlp, protocols),
     .children = proto_keys},
    PG_CONFIG_END,
};

static void otlp_validate(const void *config, pg_config_report *report, const pg_config_node *node)
{
    const fake_otlp *c = config;
    if (!c->grpc && !c->http)
        pg_config_report_error(report, node,
                               "enable at least one of protocols.grpc, protocols.http");
}

static const pg_component_def fake_otlp_def = {
    .type = "otlp",
    .kind = PG_KIND_RECEIVER,
    .config_keys = otlp_keys,
    .config_size = sizeof(fake_otlp),
    .validate = otlp_validate,
};

typedef struct fake_batch {
    uint64_t timeout_ms;
} fake_batch;
static const pg_config_key batch_keys[] = {
    {.name = "timeout",
     .type = PG_CFG_DURATION,
     .offset = offsetof(fake_batch, timeout_ms),
     .default_value = "200ms"},
    PG_CONFIG_END,
};
static const pg_component_def fake_batch_def = {
    .type = "batch",
    .kind = PG_KIND_PROCESSOR,
    .config_keys = batch_keys,
    .config_size = sizeof(fake_batch),
};

typedef struct fake_debug {
    int verbosity;
} fake_debug;
static const char *const verbosities[] = {"basic", "normal", "detailed", NULL};
static const pg_config_key debug_keys[] = {
    {.name = "verbosity",
     .type = PG_CFG_ENUM,
     .offset = offsetof(fake_debug, verbosity),
     .default_value = "basic",
     .enum_values = verbosities},
    PG_CONFIG_END,
};
static const pg_component_def fake_debug_def = {
    .type = "debug",
    .kind = PG_KIND_EXPORTER,
    .config_keys = debug_keys,
    .config_size = sizeof(fake_debug),
};

typedef struct fake_file {
    char *path;
} fake_file;
static const pg_config_key file_keys[] = {
    {.name = "path", .type = PG_CFG_STRING, .offset = offsetof(fake_file, path), .required = true},
    PG_CONFIG_END,
};
static const pg_component_def fake_file_def = {
    .type = "file",
    .kind = PG_KIND_EXPORTER,
    .config_keys = file_keys,
    .config_size = sizeof(fake_file),
};

static const pg_component_def *const fakes[] = {&fake_otlp_def, &fake_batch_def, &fake_debug_def,
                                                &fake_file_def, NULL};

/* A minimal valid tail that tests append to their own sections. */
#define MIN_EXPORTERS "exporters:\n  debug:\n"

typedef struct fixture {
    pg_config_report *report;
    pg_config *cfg;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->report = pg_config_report_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pg_config_free(f->cfg);
    pg_config_report_free(f->report);
    free(f);
    return 0;
}

static int load(fixture *f, const char *text)
{
    return pg_config_load_string_with("t.yaml", text, strlen(text), fakes, &f->cfg, f->report);
}

static char *data_path(const char *name)
{
    const char *src = getenv("PG_SOURCE_DIR");
    char *p = NULL;
    assert_non_null(src);
    assert_true(asprintf(&p, "%s/tests/unit/data/config/%s", src, name) > 0);
    return p;
}

static void test_valid_file(void **state)
{
    fixture *f = *state;
    char *path = data_path("valid.yaml");
    pg_config_report_free(f->report);
    f->report = pg_config_report_new();
    /* the file loader uses the registry; this file is checked against the fakes */
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    char text[4096];
    size_t n = fread(text, 1, sizeof(text) - 1, in);
    fclose(in);
    text[n] = '\0';
    assert_int_equal(pg_config_load_string_with(path, text, n, fakes, &f->cfg, f->report), 0);
    free(path);
    char *t = report_text(f->report);
    assert_string_equal(t ? t : "", "");
    free(t);

    pg_config *c = f->cfg;
    assert_non_null(c);
    assert_int_equal(c->n_receivers, 2);
    assert_string_equal(c->receivers[0].id, "otlp");
    assert_ptr_equal(c->receivers[0].def, &fake_otlp_def);
    const fake_otlp *o = c->receivers[0].typed;
    assert_int_equal(o->grpc, 1);
    assert_int_equal(o->http, 1);
    assert_string_equal(o->grpc_endpoint, "127.0.0.1:4317");
    assert_string_equal(o->http_endpoint, "0.0.0.0:4318");
    assert_string_equal(c->receivers[1].id, "otlp/internal");
    assert_int_equal(c->n_processors, 1);
    assert_int_equal(((const fake_batch *)c->processors[0].typed)->timeout_ms, 500);
    assert_int_equal(c->n_exporters, 2);
    assert_int_equal(((const fake_debug *)c->exporters[0].typed)->verbosity, 2);
    assert_string_equal(((const fake_file *)c->exporters[1].typed)->path,
                        "/var/lib/profgate/out.pb");

    assert_int_equal(c->service.workers, 4);
    assert_int_equal(c->service.shutdown_timeout_ms, 90000);
    assert_int_equal(c->service.log_level, PG_CFG_LOG_DEBUG);
    assert_string_equal(c->service.metrics_address, "none");

    assert_int_equal(c->n_pipelines, 2);
    const pg_config_pipeline *p = &c->pipelines[0];
    assert_string_equal(p->id, "profiles");
    assert_int_equal(p->n_receivers, 1);
    assert_int_equal(p->receivers[0], 0);
    assert_int_equal(p->n_processors, 1);
    assert_int_equal(p->processors[0], 0);
    assert_int_equal(p->n_exporters, 2);
    assert_int_equal(p->exporters[0], 0);
    assert_int_equal(p->exporters[1], 1);
    p = &c->pipelines[1];
    assert_string_equal(p->id, "profiles/internal");
    assert_int_equal(p->receivers[0], 1);
    assert_int_equal(p->n_processors, 0);
    assert_int_equal(p->exporters[0], 0);
}

static void test_service_defaults(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f,
                          "receivers: {otlp: {protocols: {grpc: {}}}}\n" MIN_EXPORTERS "service:\n"
                          "  pipelines:\n"
                          "    profiles: {receivers: [otlp], exporters: [debug]}\n"),
                     0);
    assert_int_equal(pg_config_report_warnings(f->report), 0);
    assert_int_equal(f->cfg->service.workers, 0);
    assert_int_equal(f->cfg->service.shutdown_timeout_ms, 10000);
    assert_int_equal(f->cfg->service.log_level, PG_CFG_LOG_INFO);
    assert_string_equal(f->cfg->service.metrics_address, "127.0.0.1:8888");
    assert_string_equal(f->cfg->file, "t.yaml");
    const fake_otlp *o = f->cfg->receivers[0].typed;
    assert_string_equal(o->grpc_endpoint, "0.0.0.0:4317");
    assert_int_equal(o->http, 0);
}

static const char errors_expected[] =
    "E:6:9: error: unknown key 'max_msg_size' in protocols.grpc; allowed keys: endpoint\n"
    "E:10:19: error: receiver 'otlp/2' (protocols.grpc.endpoint) listens on '127.0.0.1:4317', "
    "which overlaps '0.0.0.0:4317' of receiver 'otlp' (protocols.grpc.endpoint) (line 5)\n"
    "E:11:3: error: unknown receiver type 'zipkin'; known receiver types: otlp\n"
    "E:12:3: error: invalid receiver id 'otlp/': expected <type> or <type>/<name> with a "
    "non-empty name and no further '/'\n"
    "E:16:14: error: timeout: expected a duration such as 500ms, 10s or 1m30s, got '10'\n"
    "E:20:16: error: verbosity: invalid value 'loud'; allowed values: basic, normal, detailed\n"
    "E:22:1: error: 'extensions' are not supported by profgate\n"
    "E:26:12: error: service.workers: 300 is out of range: must be between 0 and 256\n"
    "E:29:14: error: service.telemetry.logs.level: invalid value 'verbose'; allowed values: "
    "debug, info, warn, error\n"
    "E:31:5: error: pipeline 'traces': profgate handles only profiles pipelines\n"
    "E:35:33: error: pipeline 'profiles' lists receiver 'otlp' twice\n"
    "E:36:27: error: pipeline 'profiles' references processor 'memory_limiter', which is not "
    "defined in 'processors'\n";

static void test_all_errors_at_once_sorted(void **state)
{
    fixture *f = *state;
    char *path = data_path("errors.yaml");
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    char text[4096];
    size_t n = fread(text, 1, sizeof(text) - 1, in);
    fclose(in);
    free(path);
    assert_int_equal(pg_config_load_string_with("E", text, n, fakes, &f->cfg, f->report),
                     PG_ERR_INVALID);
    assert_null(f->cfg);
    char *t = report_text(f->report);
    assert_string_equal(t, errors_expected);
    free(t);
    assert_int_equal(pg_config_report_errors(f->report), 12);
    assert_int_equal(pg_config_report_warnings(f->report), 0);
}

static void test_load_file_paths(void **state)
{
    fixture *f = *state;
    assert_int_equal(pg_config_load_file("/nonexistent/profgate.yaml", &f->cfg, f->report),
                     PG_ERR_IO);
    assert_true(report_has(f->report, "/nonexistent/profgate.yaml: error: cannot open: No such "
                                      "file or directory"));
    pg_config_report *dir = pg_config_report_new();
    assert_int_equal(pg_config_load_file("/", &f->cfg, dir), PG_ERR_IO);
    assert_true(report_has(dir, "/: error: cannot read:"));
    pg_config_report_free(dir);
    /* through the real file loader: positions carry the path given */
    char *path = data_path("errors.yaml");
    pg_config_report *r = pg_config_report_new();
    assert_int_equal(pg_config_load_file(path, &f->cfg, r), PG_ERR_INVALID);
    char *want = NULL;
    assert_true(
        asprintf(&want, "%s:22:1: error: 'extensions' are not supported by profgate", path) > 0);
    assert_true(report_has(r, want));
    free(want);
    free(path);
    pg_config_report_free(r);
}

static void test_top_level(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "receivers: {otlp: {protocols: {grpc: {}}}}\n" MIN_EXPORTERS
                             "connectors: {}\n"
                             "extra: 1\n"
                             "service:\n"
                             "  pipelines:\n"
                             "    profiles: {receivers: [otlp], exporters: [debug]}\n"),
                     PG_ERR_INVALID);
    assert_true(
        report_has(f->report, "t.yaml:4:1: error: 'connectors' are not supported by profgate"));
    assert_true(report_has(f->report, "t.yaml:5:1: error: unknown key 'extra'; allowed keys: "
                                      "receivers, processors, exporters, service"));
    assert_int_equal(pg_config_report_errors(f->report), 2);
}

static void test_empty_and_not_map(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "# only a comment\n"), PG_ERR_INVALID);
    assert_true(report_has(f->report, "t.yaml:1:1: error: the configuration is empty"));
    pg_config_report *r = pg_config_report_new();
    assert_int_equal(pg_config_load_string_with("t.yaml", "- a\n", 4, fakes, &f->cfg, r),
                     PG_ERR_INVALID);
    assert_true(report_has(r, "t.yaml:1:1: error: expected a map with keys receivers, "
                              "processors, exporters, service"));
    pg_config_report_free(r);
    r = pg_config_report_new();
    assert_int_equal(pg_config_load_string_with("t.yaml", "a: [\n", 5, fakes, &f->cfg, r),
                     PG_ERR_INVALID);
    assert_true(report_has(r, "t.yaml:2:1: error: invalid YAML"));
    pg_config_report_free(r);
}

static void test_component_ids_and_types(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "receivers:\n"
                             "  otlp/a/b:\n"
                             "  /x:\n"
                             "  kafka/main:\n"
                             "processors:\n"
                             "  filter:\n"
                             "exporters:\n"
                             "  debug:\n"
                             "  s3: {bucket: x}\n"
                             "service:\n"
                             "  pipelines:\n"
                             "    profiles: {receivers: [kafka/main], exporters: [debug]}\n"),
                     PG_ERR_INVALID);
    pg_config_report *r = f->report;
    assert_true(report_has(r, "t.yaml:2:3: error: invalid receiver id 'otlp/a/b'"));
    assert_true(report_has(r, "t.yaml:3:3: error: receiver id '/x' has an empty type"));
    assert_true(report_has(
        r, "t.yaml:4:3: error: unknown receiver type 'kafka'; known receiver types: otlp\n"));
    assert_true(report_has(
        r, "t.yaml:6:3: error: unknown processor type 'filter'; known processor types: batch\n"));
    assert_true(report_has(
        r, "t.yaml:9:3: error: unknown exporter type 's3'; known exporter types: debug, file\n"));
    assert_int_equal(pg_config_report_errors(r), 5);
    assert_int_equal(pg_config_report_warnings(r), 0);
}

static void test_pipelines(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "receivers: {otlp: {protocols: {grpc: {}}}}\n"
                             "exporters: {debug: , file: {path: /x}}\n"
                             "service:\n"
                             "  pipelines:\n"
                             "    metrics: {receivers: [otlp], exporters: [debug]}\n"
                             "    profiles/: {receivers: [otlp], exporters: [debug]}\n"
                             "    profiles/a: {receivers: [], exporters: [debug, file, debug]}\n"
                             "    profiles/b: {exporters: [nope], extra: 1}\n"
                             "    profiles/c:\n"
                             "    profiles/d: {receivers: otlp, exporters: [debug]}\n"
                             "    otel: {}\n"),
                     PG_ERR_INVALID);
    pg_config_report *r = f->report;
    assert_true(report_has(
        r, "t.yaml:5:5: error: pipeline 'metrics': profgate handles only profiles pipelines"));
    assert_true(report_has(r, "t.yaml:6:5: error: invalid pipeline id 'profiles/': the name"));
    assert_true(
        report_has(r, "t.yaml:7:29: error: pipeline 'profiles/a' needs at least one receiver"));
    assert_true(
        report_has(r, "t.yaml:7:58: error: pipeline 'profiles/a' lists exporter 'debug' twice"));
    assert_true(
        report_has(r, "t.yaml:8:17: error: pipeline 'profiles/b' needs at least one receiver"));
    assert_true(report_has(r, "t.yaml:8:30: error: pipeline 'profiles/b' references exporter "
                              "'nope', which is not defined in 'exporters'"));
    assert_true(report_has(r, "t.yaml:8:37: error: unknown key 'extra' in pipeline 'profiles/b'; "
                              "allowed keys: receivers, processors, exporters"));
    assert_true(
        report_has(r, "t.yaml:9:5: error: pipeline 'profiles/c' needs at least one receiver"));
    assert_true(
        report_has(r, "t.yaml:9:5: error: pipeline 'profiles/c' needs at least one exporter"));
    assert_true(report_has(
        r, "t.yaml:10:29: error: pipeline 'profiles/d': 'receivers' must be a list of ids"));
    assert_true(report_has(r,
                           "t.yaml:11:5: error: invalid pipeline id 'otel': expected profiles or "
                           "profiles/<name>"));
    assert_true(report_has(r, "t.yaml:11:11: error: pipeline 'otel' needs at least one exporter"));
    /* the receiver is referenced only by invalid pipelines: no "unused" warning on top */
    assert_int_equal(pg_config_report_warnings(r), 0);
    assert_int_equal(pg_config_report_errors(r), 13);
}

static void test_no_pipelines(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f,
                          "receivers: {otlp: {protocols: {grpc: {}}}}\n" MIN_EXPORTERS "service:\n"
                          "  workers: 2\n"),
                     PG_ERR_INVALID);
    assert_true(report_has(
        f->report, "t.yaml:5:3: error: at least one pipeline is required (service.pipelines)"));
    /* both components unused as well */
    assert_true(
        report_has(f->report, "t.yaml:1:13: warning: receiver 'otlp' is not used by any pipeline"));
    assert_true(
        report_has(f->report, "t.yaml:3:3: warning: exporter 'debug' is not used by any pipeline"));
}

static void test_unused_component_warning(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "receivers: {otlp: {protocols: {grpc: {}}}}\n"
                             "processors: {batch: {}}\n"
                             "exporters:\n"
                             "  debug:\n"
                             "  file/spare: {path: /tmp/x}\n"
                             "service:\n"
                             "  pipelines:\n"
                             "    profiles: {receivers: [otlp], exporters: [debug]}\n"),
                     0);
    assert_non_null(f->cfg);
    assert_int_equal(pg_config_report_errors(f->report), 0);
    assert_int_equal(pg_config_report_warnings(f->report), 2);
    char *t = report_text(f->report);
    assert_string_equal(t,
                        "t.yaml:2:14: warning: processor 'batch' is not used by any pipeline\n"
                        "t.yaml:5:3: warning: exporter 'file/spare' is not used by any pipeline\n");
    free(t);
}

static void test_validate_hook(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "receivers:\n"
                             "  otlp:\n"
                             "    protocols: {}\n"
                             "  otlp/2:\n" MIN_EXPORTERS "service:\n"
                             "  pipelines:\n"
                             "    profiles: {receivers: [otlp, otlp/2], exporters: [debug]}\n"),
                     PG_ERR_INVALID);
    /* at the component's map; at its id when it has no settings */
    assert_true(report_has(f->report, "t.yaml:3:5: error: enable at least one of protocols.grpc"));
    assert_true(report_has(f->report, "t.yaml:4:3: error: enable at least one of protocols.grpc"));
    assert_int_equal(pg_config_report_errors(f->report), 2);
}

static void test_duplicate_listeners(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f,
                          "receivers:\n"
                          "  otlp/a: {protocols: {grpc: {endpoint: '127.0.0.1:5000'}, http: {}}}\n"
                          "  otlp/b: {protocols: {grpc: {endpoint: '127.0.0.1:5000'}}}\n"
                          "  otlp/c: {protocols: {http: {endpoint: 'localhost:4318'}}}\n"
                          "  otlp/unused: {protocols: {grpc: {endpoint: '127.0.0.1:5000'}}}\n"
                          "  otlp/d: {protocols: {grpc: {endpoint: '127.0.0.1:8888'}}}\n"
                          "  otlp/e: {protocols: {grpc: {endpoint: '[::1]:7000'}}}\n"
                          "  otlp/f: {protocols: {grpc: {endpoint: '[::1]:7000'}}}\n" MIN_EXPORTERS
                          "service:\n"
                          "  pipelines:\n"
                          "    profiles:\n"
                          "      receivers: [otlp/a, otlp/b, otlp/c, otlp/d, otlp/e, otlp/f]\n"
                          "      exporters: [debug]\n"),
                     PG_ERR_INVALID);
    pg_config_report *r = f->report;
    assert_true(report_has(r, "t.yaml:3:41: error: receiver 'otlp/b' (protocols.grpc.endpoint) "
                              "listens on '127.0.0.1:5000', which overlaps '127.0.0.1:5000' of "
                              "receiver 'otlp/a' (protocols.grpc.endpoint) (line 2)"));
    /* otlp/a's http default 0.0.0.0:4318 (placed at its `http:` value) covers localhost:4318 */
    assert_true(report_has(r, "t.yaml:4:41: error: receiver 'otlp/c' (protocols.http.endpoint) "
                              "listens on 'localhost:4318', which overlaps '0.0.0.0:4318' of "
                              "receiver 'otlp/a' (protocols.http.endpoint) (line 2)"));
    assert_true(report_has(r, "t.yaml:8:41: error: receiver 'otlp/f' (protocols.grpc.endpoint) "
                              "listens on '[::1]:7000', which overlaps '[::1]:7000' of receiver "
                              "'otlp/e' (protocols.grpc.endpoint) (line 7)"));
    /* the metrics listener comes later in the file than otlp/d */
    assert_true(report_has(r,
                           "error: service.telemetry.metrics.address listens on '127.0.0.1:8888', "
                           "which overlaps '127.0.0.1:8888' of receiver 'otlp/d' "
                           "(protocols.grpc.endpoint) (line 6)"));
    /* otlp/unused is in no pipeline: never started, so no collision (only a warning) */
    assert_int_equal(pg_config_report_errors(r), 4);
    assert_int_equal(pg_config_report_warnings(r), 1);
}

static void test_metrics_address(void **state)
{
    fixture *f = *state;
    assert_int_equal(
        load(f, "receivers: {otlp: {protocols: {grpc: {endpoint: '0.0.0.0:9090'}}}}\n" MIN_EXPORTERS
                "service:\n"
                "  telemetry:\n"
                "    metrics:\n"
                "      address: 127.0.0.1:9090\n"
                "  pipelines:\n"
                "    profiles: {receivers: [otlp], exporters: [debug]}\n"),
        PG_ERR_INVALID);
    assert_true(report_has(f->report,
                           "t.yaml:7:16: error: service.telemetry.metrics.address listens "
                           "on '127.0.0.1:9090', which overlaps '0.0.0.0:9090'"));
    pg_config_report *r = pg_config_report_new();
    const char *bad = "receivers: {otlp: {protocols: {grpc: {}}}}\n" MIN_EXPORTERS "service:\n"
                      "  telemetry: {metrics: {address: 'off'}}\n"
                      "  pipelines:\n"
                      "    profiles: {receivers: [otlp], exporters: [debug]}\n";
    assert_int_equal(pg_config_load_string_with("t.yaml", bad, strlen(bad), fakes, &f->cfg, r),
                     PG_ERR_INVALID);
    assert_true(report_has(r, "t.yaml:5:34: error: service.telemetry.metrics.address: invalid "
                              "endpoint 'off': expected host:port (use host:port or \"none\")"));
    pg_config_report_free(r);
}

static void test_env_in_file(void **state)
{
    fixture *f = *state;
    setenv("PG_T_GRPC_PORT", "6001", 1);
    unsetenv("PG_T_LEVEL");
    unsetenv("PG_T_WORKERS");
    assert_int_equal(
        load(f, "receivers:\n"
                "  otlp:\n"
                "    protocols:\n"
                "      grpc: {endpoint: '127.0.0.1:${env:PG_T_GRPC_PORT}'}\n" MIN_EXPORTERS
                "service:\n"
                "  workers: ${env:PG_T_WORKERS}\n"
                "  telemetry: {logs: {level: '${env:PG_T_LEVEL:-warn}'}}\n"
                "  pipelines:\n"
                "    profiles: {receivers: [otlp], exporters: [debug]}\n"),
        0);
    const fake_otlp *o = f->cfg->receivers[0].typed;
    assert_string_equal(o->grpc_endpoint, "127.0.0.1:6001");
    assert_int_equal(f->cfg->service.log_level, PG_CFG_LOG_WARN);
    assert_int_equal(f->cfg->service.workers, 0); /* unset variable: the default */
}

static void test_env_error_fails_load(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f,
                          "receivers: {otlp: {protocols: {grpc: {}}}}\n" MIN_EXPORTERS "service:\n"
                          "  shutdown_timeout: ${env:X\n"
                          "  pipelines:\n"
                          "    profiles: {receivers: [otlp], exporters: [debug]}\n"),
                     PG_ERR_INVALID);
    assert_true(report_has(f->report, "t.yaml:5:21: error: unterminated '${' (missing '}')"));
}

static void test_real_registry(void **state)
{
    fixture *f = *state;
    const pg_component_def *const *all = pg_registry_all();
    assert_non_null(all);
    /* the unknown-type message lists exactly what the registry has */
    assert_int_equal(
        pg_config_load_string("r.yaml", "receivers: {nope: {}}\n", 21, &f->cfg, f->report),
        PG_ERR_INVALID);
    char *t = report_text(f->report);
    assert_non_null(
        strstr(t, "r.yaml:1:13: error: unknown receiver type 'nope'; known receiver types: "));
    for (size_t i = 0; all[i]; i++)
        if (all[i]->kind == PG_KIND_RECEIVER)
            assert_non_null(strstr(t, all[i]->type));
    free(t);
    if (!pg_registry_find(PG_KIND_RECEIVER, "otlp") || !pg_registry_find(PG_KIND_EXPORTER, "debug"))
        skip();
    const char *ok = "receivers: {otlp: {protocols: {grpc: {endpoint: '127.0.0.1:4317'}}}}\n"
                     "exporters: {debug: {}}\n"
                     "service:\n"
                     "  pipelines:\n"
                     "    profiles: {receivers: [otlp], exporters: [debug]}\n";
    pg_config_report *r = pg_config_report_new();
    int rc = pg_config_load_string("ok.yaml", ok, strlen(ok), &f->cfg, r);
    t = report_text(r);
    assert_string_equal(t ? t : "", "");
    free(t);
    assert_int_equal(rc, 0);
    assert_ptr_equal(f->cfg->receivers[0].def, pg_registry_find(PG_KIND_RECEIVER, "otlp"));
    pg_config_report_free(r);
}

/* The shipped default configuration must load with the compiled-in components. */
static void test_default_yaml_with_registry(void **state)
{
    fixture *f = *state;
    if (!pg_registry_find(PG_KIND_RECEIVER, "otlp") ||
        !pg_registry_find(PG_KIND_PROCESSOR, "batch") ||
        !pg_registry_find(PG_KIND_EXPORTER, "debug") || !pg_registry_find(PG_KIND_EXPORTER, "file"))
        skip();
    const char *src = getenv("PG_SOURCE_DIR");
    char *path = NULL;
    assert_non_null(src);
    assert_true(asprintf(&path, "%s/config/default.yaml", src) > 0);
    int rc = pg_config_load_file(path, &f->cfg, f->report);
    free(path);
    char *t = report_text(f->report);
    assert_string_equal(t ? t : "", "");
    free(t);
    assert_int_equal(rc, 0);
    assert_int_equal(f->cfg->n_pipelines, 1);
    assert_int_equal(f->cfg->pipelines[0].n_exporters, 2);
}

static void test_service_keys_markdown(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    pg_config_print_keys_markdown(pg_config_service_keys(), out);
    fclose(out);
    assert_non_null(strstr(buf, "| `workers` | int | `0` | 0 .. 256 |"));
    assert_non_null(
        strstr(buf, "| `telemetry.logs.level` | enum | `info` | debug, info, warn, error |"));
    assert_non_null(strstr(buf, "| `telemetry.metrics.address` | string | `127.0.0.1:8888` |"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_errors_at_once_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_not_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_component_ids_and_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_pipelines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unused_component_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_listeners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_in_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_error_fails_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_yaml_with_registry, setup, teardown),
        cmocka_unit_test(test_service_keys_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
