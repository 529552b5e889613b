/*
 * Tree mode of the file writer (see file_writer.h): one file per record
 * under a directory. Runs on the writer thread.
 */
#ifndef PG_EXPORTERS_FILE_FILE_TREE_H
#define PG_EXPORTERS_FILE_FILE_TREE_H

#include <stdint.h>

#include "common/error.h"
#include "exporters/file/file_writer.h"

/* mkdir -p of path itself. */
int pg_file_tree_mkdirs(const char *path, pg_error *err);

/* Writes one record (not its siblings) as <root>/<r->dir>/<time>-<seq>.pb.gz
 * (and, when r->sidecar is set, <time>-<seq>.labels.json, linked first);
 * *seq is the writer's counter, advanced past every name used or taken. */
int pg_file_tree_write(const char *root, const pg_file_record *r, uint64_t *seq, pg_error *err);

/* Replaces every byte outside [A-Za-z0-9._-] with '_' in place; "", "." and
 * ".." become fallback (which must fit in s's buffer of cap bytes). */
void pg_file_tree_sanitize(char *s, size_t cap, const char *fallback);

#endif
