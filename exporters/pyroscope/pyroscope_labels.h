/*
 * The series labels a profile is sent to Pyroscope with, and the rules they
 * must pass (those of Pyroscope's distributor and Alloy's pyroscope.write):
 *
 *   1. the profile's labels, minus internal ones: a name starting with "__"
 *      is dropped except __name__ and __delta__ (__profile_id__ and
 *      __sample_type_config__ are read out separately);
 *   2. external_labels set over them (an external label wins);
 *   3. a label with an empty value is no label (Prometheus' rule), dropped;
 *   4. __name__ when still missing (profiles that came in over OTLP): from
 *      the document's sample types as the Pyroscope receiver names an upload
 *      (receivers/pyroscope/profile_name.h, with the display names of
 *      __sample_type_config__ or else Pyroscope's defaults), falling back to
 *      the first sample type's name;
 *   5. sorted by name, then checked: names [A-Za-z_][A-Za-z0-9_.]* of at most
 *      1024 bytes, values valid UTF-8 of at most 2048 bytes, at most 30
 *      labels, no name twice.
 * service_name is not invented: a series without one is Pyroscope's to
 * handle (it files it as unknown_service).
 */
#ifndef PG_EXPORTERS_PYROSCOPE_PYROSCOPE_LABELS_H
#define PG_EXPORTERS_PYROSCOPE_PYROSCOPE_LABELS_H

#include <stddef.h>

#include "common/arena.h"
#include "common/error.h"
#include "config/schema.h"
#include "convert/convert.h"
#include "pipeline/profile.h"

#define PG_PYROEXP_MAX_LABELS    30
#define PG_PYROEXP_MAX_NAME_LEN  1024
#define PG_PYROEXP_MAX_VALUE_LEN 2048

typedef struct pg_pyroexp_labels {
    pg_label *labels; /* sorted by name (arena) */
    size_t n;
    const char *profile_id; /* __profile_id__, NULL when absent */
    const char *stconfig;   /* __sample_type_config__ (JSON), NULL when absent */
} pg_pyroexp_labels;

/* PG_OK when name is a valid label name; else PG_ERR_INVALID with a message
 * naming the label and the rule. */
int pg_pyroexp_label_name_check(const char *name, pg_error *err);

/* The final labels of src. doc is the profile's document, needed only when
 * __name__ must be derived: with doc NULL that case answers PG_ERR_NOTFOUND
 * (decode the document and call again). PG_ERR_INVALID (err names the label
 * and the rule) when a rule fails; PG_ERR_NOMEM. */
int pg_pyroexp_labels_build(pg_arena *a, const pg_profile *src, const pg_str_map *external,
                            const pg_pprof *doc, pg_pyroexp_labels *out, pg_error *err);

/* The value of name among the final labels, NULL when absent. */
const char *pg_pyroexp_labels_get(const pg_pyroexp_labels *l, const char *name);

/* 1 when both hold the same labels (names and values). */
int pg_pyroexp_labels_equal(const pg_pyroexp_labels *a, const pg_pyroexp_labels *b);

#endif
