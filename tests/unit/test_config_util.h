/* Helpers shared by the test_config_*.c tests. */
#ifndef PG_TEST_CONFIG_UTIL_H
#define PG_TEST_CONFIG_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

/* The report as pg_config_report_print writes it; caller frees. */
static inline char *report_text(const pg_config_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    pg_config_report_print(r, f);
    fclose(f);
    return buf;
}

/* 1 when the printed report contains line. */
static inline int report_has(const pg_config_report *r, const char *line)
{
    char *t = report_text(r);
    int found = t && strstr(t, line) != NULL;
    if (!found)
        fprintf(stderr, "expected in report: %s\n--- report ---\n%s-------------\n", line,
                t ? t : "(null)");
    free(t);
    return found;
}

#endif
