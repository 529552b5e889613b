/*
 * The labels sidecar of format pprof (`labels_file: true`): next to every
 * X.pb.gz the file exporter writes X.labels.json, because a pprof document
 * has no room for the series labels and tenant the pipeline carried:
 *
 *   {"tenant": "<tenant, \"\" when none>",
 *    "labels": {"<name>": "<value>", ...},      every series label, sorted
 *    "profile_type": "<type>:<unit>:<period type>:<period unit>",
 *    "time_unix_nano": N, "duration_nano": N}
 *
 * The labels and tenant are those of the profile the file was made from (for
 * an OTLP payload converted to pprof: the document's first source profile).
 * profile_type, time and duration are the profile's when the pipeline set
 * them, else the document's (first sample type, time_nanos, duration_nanos).
 * Bytes that are not valid UTF-8 become '?' so the JSON stays valid.
 */
#ifndef PG_EXPORTERS_FILE_FILE_LABELS_H
#define PG_EXPORTERS_FILE_FILE_LABELS_H

#include <stddef.h>

#include "convert/convert.h"
#include "pipeline/profile.h"

/* *out: malloc'd JSON text ending in '\n' (not NUL-counted in *len).
 * PG_ERR_NOMEM is the only failure. */
int pg_file_labels_json(const pg_profile *src, const pg_pprof *doc, char **out, size_t *len);

#endif
