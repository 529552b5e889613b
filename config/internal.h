/*
 * Pieces shared by the files of config/ only; nothing outside config/ should
 * include this header.
 */
#ifndef PG_CONFIG_INTERNAL_H
#define PG_CONFIG_INTERNAL_H

#include <stdarg.h>

#include "common/arena.h"
#include "config/config.h"

typedef enum pg_config_severity {
    PG_CFG_SEV_ERROR,
    PG_CFG_SEV_WARNING,
} pg_config_severity;

/* Adds an entry at an explicit position (line 0: no position, printed as
 * "FILE: error: ..."). file may be NULL: the report's file is used. */
void pg_config_report_at(pg_config_report *r, pg_config_severity sev, const char *file, int line,
                         int col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void pg_config_report_vat(pg_config_report *r, pg_config_severity sev, const char *file, int line,
                          int col, const char *fmt, va_list ap);

/* File name used for entries reported without a node. */
void pg_config_report_set_file(pg_config_report *r, const char *file);

struct pg_config_internal {
    pg_arena *arena; /* holds the pg_config itself, the node tree and every typed struct */
    const pg_config_node *root;
};

#include "config/apply.h"

/* Parses node v as the value of key k and stores it in typed. Problems are
 * reported at v, with path naming the key; is_default marks built-in
 * defaults in messages. Returns 0 when stored. */
int pg_config_apply_value(const pg_config_apply_ctx *ctx, const pg_config_key *k, void *typed,
                          const pg_config_node *v, const char *path, int is_default);

/* Writes "a, b, c" for n items, cut to fit buf ("(none)" when n is 0). */
void pg_config_join(char *buf, size_t size, const char *const *items, size_t n);

#endif
