/*
 * The problem list of one load. Entries copy their file name and message into
 * the report's own arena because the configuration they point at is freed
 * when loading fails.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "config/internal.h"

typedef struct pg_report_entry {
    pg_config_severity sev;
    const char *file;
    int line, col;
    size_t seq; /* insertion order: keeps the sort stable */
    const char *msg;
} pg_report_entry;

struct pg_config_report {
    pg_arena *arena;
    pg_report_entry *entries;
    size_t n, cap;
    size_t errors, warnings;
    const char *file;
};

pg_config_report *pg_config_report_new(void)
{
    pg_config_report *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->arena = pg_arena_new(4096, 0);
    if (!r->arena) {
        free(r);
        return NULL;
    }
    return r;
}

void pg_config_report_free(pg_config_report *r)
{
    if (!r)
        return;
    pg_arena_free(r->arena);
    free(r->entries);
    free(r);
}

size_t pg_config_report_errors(const pg_config_report *r)
{
    return r ? r->errors : 0;
}

size_t pg_config_report_warnings(const pg_config_report *r)
{
    return r ? r->warnings : 0;
}

void pg_config_report_set_file(pg_config_report *r, const char *file)
{
    if (r)
        r->file = file ? pg_arena_strdup(r->arena, file) : NULL;
}

static pg_report_entry *report_push(pg_config_report *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        pg_report_entry *e = realloc(r->entries, cap * sizeof(*e));
        if (!e)
            return NULL;
        r->entries = e;
        r->cap = cap;
    }
    return &r->entries[r->n++];
}

void pg_config_report_vat(pg_config_report *r, pg_config_severity sev, const char *file, int line,
                          int col, const char *fmt, va_list ap)
{
    char msg[1024];
    if (!r)
        return;
    /* Counted even when memory runs out, so that a failed load never looks valid. */
    if (sev == PG_CFG_SEV_ERROR)
        r->errors++;
    else
        r->warnings++;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    pg_report_entry *e = report_push(r);
    if (!e)
        return;
    e->sev = sev;
    e->file = file ? pg_arena_strdup(r->arena, file) : r->file;
    e->line = line;
    e->col = col;
    e->seq = r->n - 1;
    e->msg = pg_arena_strdup(r->arena, msg);
}

void pg_config_report_at(pg_config_report *r, pg_config_severity sev, const char *file, int line,
                         int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pg_config_report_vat(r, sev, file, line, col, fmt, ap);
    va_end(ap);
}

static void report_node(pg_config_report *r, pg_config_severity sev, const pg_config_node *at,
                        const char *fmt, va_list ap)
{
    if (at)
        pg_config_report_vat(r, sev, at->file, at->line, at->col, fmt, ap);
    else
        pg_config_report_vat(r, sev, NULL, 0, 0, fmt, ap);
}

void pg_config_report_error(pg_config_report *r, const pg_config_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_node(r, PG_CFG_SEV_ERROR, at, fmt, ap);
    va_end(ap);
}

void pg_config_report_warning(pg_config_report *r, const pg_config_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_node(r, PG_CFG_SEV_WARNING, at, fmt, ap);
    va_end(ap);
}

static int entry_cmp(const void *pa, const void *pb)
{
    const pg_report_entry *a = pa, *b = pb;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

void pg_config_report_print(const pg_config_report *r, FILE *out)
{
    if (!r || r->n == 0)
        return;
    pg_report_entry *sorted = malloc(r->n * sizeof(*sorted));
    const pg_report_entry *list = r->entries;
    if (sorted) {
        memcpy(sorted, r->entries, r->n * sizeof(*sorted));
        qsort(sorted, r->n, sizeof(*sorted), entry_cmp);
        list = sorted;
    }
    for (size_t i = 0; i < r->n; i++) {
        const pg_report_entry *e = &list[i];
        const char *sev = e->sev == PG_CFG_SEV_ERROR ? "error" : "warning";
        const char *file = e->file ? e->file : "<config>";
        const char *msg = e->msg ? e->msg : "(out of memory)";
        if (e->line > 0)
            fprintf(out, "%s:%d:%d: %s: %s\n", file, e->line, e->col, sev, msg);
        else
            fprintf(out, "%s: %s: %s\n", file, sev, msg);
    }
    free(sorted);
}
