/*
 * Harness of the file exporter's unit tests: a temporary directory, an
 * exporter component over a config the test fills, one batch run through it
 * (create, start, consume, shutdown, destroy: every file is written when it
 * returns), and the sorted list of files below a directory.
 * Include after <cmocka.h>.
 */
#ifndef PG_TEST_FILE_EXPORTER_UTIL_H
#define PG_TEST_FILE_EXPORTER_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "exporters/file/file_exporter.h"

#define FE_MAX_FILES 4096

typedef struct fe_env {
    char dir[64];
    pg_component comp;
    pg_file_exporter_config cfg;
    pg_worker worker;
} fe_env;

/* A fresh directory /tmp/<prefix>-XXXXXX and the config defaults with
 * format pprof. */
static inline fe_env *fe_env_new(const char *prefix)
{
    fe_env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/%s-XXXXXX", prefix);
    assert_non_null(mkdtemp(e->dir));
    e->cfg.format = PG_FILE_FORMAT_PPROF;
    e->cfg.max_megabytes = 100;
    e->cfg.max_backups = 5;
    e->cfg.flush_interval_ms = 1000;
    e->cfg.queue_max_items = 1024;
    e->cfg.queue_max_bytes = 64 << 20;
    e->comp.def = &pg_file_exporter_def;
    e->comp.config = &e->cfg;
    e->comp.workers = 1;
    return e;
}

/* nftw has no context argument */
static char *fe_found[FE_MAX_FILES];
static size_t fe_n_found;

static inline int fe_collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_F && fe_n_found < FE_MAX_FILES)
        fe_found[fe_n_found++] = strdup(path);
    return 0;
}

static inline int fe_by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline void fe_forget_files(void)
{
    for (size_t i = 0; i < fe_n_found; i++)
        free(fe_found[i]);
    fe_n_found = 0;
}

/* Fills fe_found with every file below root, sorted by path. */
static inline void fe_list_files(const char *root)
{
    fe_forget_files();
    assert_int_equal(nftw(root, fe_collect, 8, FTW_PHYS), 0);
    qsort(fe_found, fe_n_found, sizeof(*fe_found), fe_by_name);
}

static inline void fe_env_free(fe_env *e)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    fe_forget_files();
    free(e);
}

/* Runs one batch through the exporter configured in e and stops it. */
static inline pg_consume_result fe_export_batch(fe_env *e, pg_batch *b)
{
    pg_error err = {0};
    assert_int_equal(pg_file_exporter_def.create(&e->comp, &err), PG_OK);
    assert_int_equal(pg_file_exporter_def.start(&e->comp, &err), PG_OK);
    pg_consume_result res;
    pg_consume_result_init(&res);
    pg_file_exporter_def.consume(&e->comp, &e->worker, b, &res);
    pg_file_exporter_def.shutdown(&e->comp, pg_now_ms() + 10000);
    pg_file_exporter_def.destroy(&e->comp);
    return res;
}

#endif
