/*
 * Helpers for the pprof tests: finding the pprof fixtures under
 * $PG_SHARED_DIR/fixtures and building small documents by hand.
 */
#ifndef PG_TEST_PPROF_UTIL_H
#define PG_TEST_PPROF_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "convert/convert.h"

/* ---- fixtures ---- */

#define TP_MAX_FIXTURES 128

typedef struct tp_fixtures {
    char *path[TP_MAX_FIXTURES];
    size_t n;
} tp_fixtures;

static inline int tp_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* pprof files by name: *.pb.gz, *.pb, *.pprof, and the gzipped pprof bodies
 * captured from @pyroscope/nodejs 0.6.4; not the OTLP .pb files and not the
 * JFR labels snapshot. */
static inline int tp_is_pprof_name(const char *dir, const char *name)
{
    if (strncmp(name, "otlp-", 5) == 0 || strcmp(name, "java-dump2.labels.pb.gz") == 0)
        return 0;
    if (tp_ends_with(name, ".pb.gz") || tp_ends_with(name, ".pb") || tp_ends_with(name, ".pprof"))
        return 1;
    return strstr(dir, "pyroscope-nodejs-0.6.4") && tp_ends_with(name, ".body");
}

static inline int tp_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline void tp_scan(tp_fixtures *f, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
            continue;
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            tp_scan(f, path);
        else if (tp_is_pprof_name(dir, e->d_name) && f->n < TP_MAX_FIXTURES)
            f->path[f->n++] = strdup(path);
    }
    closedir(d);
}

static inline void tp_find_fixtures(tp_fixtures *f)
{
    const char *shared = getenv("PG_SHARED_DIR");
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/fixtures", shared ? shared : "../shared");
    f->n = 0;
    tp_scan(f, dir);
    qsort(f->path, f->n, sizeof(f->path[0]), tp_cmp);
}

static inline void tp_free_fixtures(tp_fixtures *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->path[i]);
    f->n = 0;
}

static inline uint8_t *tp_read_file(const char *path, size_t *len)
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

/* ---- a small hand-built document ---- */

typedef Perftools__Profiles__ValueType tp_vt;
typedef Perftools__Profiles__Mapping tp_mapping;
typedef Perftools__Profiles__Function tp_function;
typedef Perftools__Profiles__Location tp_location;
typedef Perftools__Profiles__Line tp_line;
typedef Perftools__Profiles__Sample tp_sample;
typedef Perftools__Profiles__Label tp_label;

/* Two sample types, two mappings, two functions, two locations, two samples
 * with one label each: valid as built; tests break one thing at a time. */
typedef struct tp_doc {
    pg_pprof p;
    char *strings[8];
    tp_vt st[2], *stp[2];
    tp_mapping m[2], *mp[2];
    tp_function f[2], *fp[2];
    tp_location l[2], *lp[2];
    tp_line ln[2], *lnp[2][1];
    tp_sample s[2], *sp[2];
    uint64_t locs[2][2];
    int64_t vals[2][2];
    tp_label lab[2], *labp[2][1];
} tp_doc;

static inline void tp_doc_init(tp_doc *d)
{
    static const char *const strs[8] = {"",     "samples", "count", "cpu", "nanoseconds",
                                        "main", "app",     "k"};
    memset(d, 0, sizeof(*d));
    d->p = (pg_pprof)PERFTOOLS__PROFILES__PROFILE__INIT;
    for (int i = 0; i < 8; i++)
        d->strings[i] = (char *)strs[i];
    d->p.n_string_table = 8;
    d->p.string_table = d->strings;
    for (int i = 0; i < 2; i++) {
        d->st[i] = (tp_vt)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
        d->st[i].type = 1 + 2 * i;
        d->st[i].unit = 2 + 2 * i;
        d->stp[i] = &d->st[i];
        d->m[i] = (tp_mapping)PERFTOOLS__PROFILES__MAPPING__INIT;
        d->m[i].id = (uint64_t)i + 1;
        d->m[i].filename = 6;
        d->mp[i] = &d->m[i];
        d->f[i] = (tp_function)PERFTOOLS__PROFILES__FUNCTION__INIT;
        d->f[i].id = (uint64_t)i + 1;
        d->f[i].name = 5;
        d->fp[i] = &d->f[i];
        d->ln[i] = (tp_line)PERFTOOLS__PROFILES__LINE__INIT;
        d->ln[i].function_id = (uint64_t)i + 1;
        d->lnp[i][0] = &d->ln[i];
        d->l[i] = (tp_location)PERFTOOLS__PROFILES__LOCATION__INIT;
        d->l[i].id = (uint64_t)i + 1;
        d->l[i].mapping_id = (uint64_t)i + 1;
        d->l[i].n_line = 1;
        d->l[i].line = d->lnp[i];
        d->lp[i] = &d->l[i];
        d->lab[i] = (tp_label)PERFTOOLS__PROFILES__LABEL__INIT;
        d->lab[i].key = 7;
        d->lab[i].str = 6;
        d->labp[i][0] = &d->lab[i];
        d->s[i] = (tp_sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
        d->locs[i][0] = 1;
        d->locs[i][1] = 2;
        d->s[i].n_location_id = 2;
        d->s[i].location_id = d->locs[i];
        d->vals[i][0] = i + 1;
        d->vals[i][1] = 10 * (i + 1);
        d->s[i].n_value = 2;
        d->s[i].value = d->vals[i];
        d->s[i].n_label = 1;
        d->s[i].label = d->labp[i];
        d->sp[i] = &d->s[i];
    }
    d->p.n_sample_type = 2;
    d->p.sample_type = d->stp;
    d->p.n_mapping = 2;
    d->p.mapping = d->mp;
    d->p.n_function = 2;
    d->p.function = d->fp;
    d->p.n_location = 2;
    d->p.location = d->lp;
    d->p.n_sample = 2;
    d->p.sample = d->sp;
}

#endif
