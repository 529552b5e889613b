/*
 * profgate command line:
 *   profgate [--config FILE]             run (embedded default config without --config)
 *   profgate validate --config FILE      check a configuration, print every problem
 *   profgate components [--docs]         list compiled-in components (--docs: key reference)
 *   profgate convert [--to FORMAT] ... IN OUT   convert between pprof and OTLP (app/convert_cmd.c)
 *   profgate version
 */
#include <stdio.h>
#include <string.h>

#include "app/convert_cmd.h"
#include "app/default_config.h"
#include "config/config.h"
#include "pipeline/service.h"
#include "telemetry/log.h"

static void usage(FILE *out)
{
    fputs("usage: profgate [--config FILE]\n"
          "       profgate validate --config FILE\n"
          "       profgate components [--docs]\n"
          "       profgate convert [--to otlp|otlp-json|pprof] [--service NAME] [--attr k=v]... IN "
          "OUT\n"
          "       profgate version\n"
          "\n"
          "Without --config, profgate runs its default configuration: OTLP gRPC on\n"
          "127.0.0.1:4317 and OTLP/HTTP on 127.0.0.1:4318, a batch processor, a debug\n"
          "exporter and a file exporter writing ./profgate-data/profiles.otlp.\n",
          out);
}

/* Returns the value of --config (or --config=FILE), NULL if absent; -1 in *bad
 * when an argument is not understood. */
static const char *config_arg(int argc, char **argv, int first, int *bad)
{
    const char *path = NULL;
    *bad = 0;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        else {
            fprintf(stderr, "profgate: unexpected argument '%s'\n", argv[i]);
            *bad = 1;
        }
    }
    return path;
}

static pg_config *load_config(const char *path, int print_ok)
{
    pg_config_report *rep = pg_config_report_new();
    pg_config *cfg = NULL;
    int rc;
    if (path)
        rc = pg_config_load_file(path, &cfg, rep);
    else
        rc = pg_config_load_string("<default config>", pg_default_config_yaml,
                                   strlen(pg_default_config_yaml), &cfg, rep);
    pg_config_report_print(rep, stderr);
    if (rc == 0 && print_ok)
        printf("%s: configuration is valid (%zu warning(s))\n", path ? path : "<default config>",
               pg_config_report_warnings(rep));
    else if (rc != 0)
        fprintf(stderr, "%s: %zu error(s)\n", path ? path : "<default config>",
                pg_config_report_errors(rep));
    pg_config_report_free(rep);
    return rc == 0 ? cfg : NULL;
}

static int cmd_validate(int argc, char **argv)
{
    int bad;
    const char *path = config_arg(argc, argv, 2, &bad);
    if (bad || !path) {
        fputs("usage: profgate validate --config FILE\n", stderr);
        return 2;
    }
    pg_config *cfg = load_config(path, 1);
    if (!cfg)
        return 1;
    pg_config_free(cfg);
    return 0;
}

static int cmd_components(int argc, char **argv)
{
    int docs = argc > 2 && strcmp(argv[2], "--docs") == 0;
    const pg_component_def *const *all = pg_registry_all();
    static const pg_component_kind kinds[] = {PG_KIND_RECEIVER, PG_KIND_PROCESSOR,
                                              PG_KIND_EXPORTER};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; all[i]; i++) {
            if (all[i]->kind != kinds[k])
                continue;
            if (docs) {
                printf("## %s `%s`\n\n%s\n\n", pg_component_kind_name(all[i]->kind), all[i]->type,
                       all[i]->description);
                pg_config_print_keys_markdown(all[i]->config_keys, stdout);
                printf("\n");
            } else {
                printf("%-10s %-14s %s\n", pg_component_kind_name(all[i]->kind), all[i]->type,
                       all[i]->description);
            }
        }
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    int bad;
    const char *path = config_arg(argc, argv, 1, &bad);
    if (bad) {
        usage(stderr);
        return 2;
    }
    pg_config *cfg = load_config(path, 0);
    if (!cfg)
        return 1;
    pg_log_set_level((pg_log_level)cfg->service.log_level);
    pg_service *svc = NULL;
    pg_error err;
    pg_error_clear(&err);
    int rc = pg_service_create(cfg, &svc, &err);
    if (rc == PG_OK)
        rc = pg_service_run(svc, &err);
    if (rc != PG_OK)
        pg_log(PG_LOG_ERROR, "service", "%s", err.msg);
    pg_service_free(svc);
    pg_config_free(cfg);
    return rc == PG_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "validate") == 0)
        return cmd_validate(argc, argv);
    if (argc > 1 && strcmp(argv[1], "convert") == 0)
        return pg_convert_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "components") == 0)
        return cmd_components(argc, argv);
    if (argc > 1 && (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("profgate %s\n", PG_VERSION);
        return 0;
    }
    if (argc > 1 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
                     strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    return cmd_run(argc, argv);
}
