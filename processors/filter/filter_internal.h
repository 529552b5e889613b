/* Shared by the files of the filter processor: sample-type specs and the
 * pprof rewrite. Exposed for the unit tests. */
#ifndef PG_PROCESSORS_FILTER_FILTER_INTERNAL_H
#define PG_PROCESSORS_FILTER_FILTER_INTERNAL_H

#include <stddef.h>

#include "common/arena.h"
#include "common/error.h"
#include "convert/convert.h"
#include "pipeline/profile.h"
#include "processors/filter/filter.h"

/* One entry of sample_types.keep / drop. */
typedef struct pg_filter_type {
    char *type;
    char *unit; /* NULL: any unit */
} pg_filter_type;

typedef struct pg_filter_types {
    pg_filter_type *keep, *drop;
    size_t n_keep, n_drop;
} pg_filter_types;

/* "alloc_space" or "alloc_space:bytes"; both parts non-empty, at most one ':'.
 * Errors say what is wrong with spec. */
int pg_filter_type_check(const char *spec, pg_error *err);
/* Builds both lists (malloc'd); specs must have passed the check. */
int pg_filter_types_init(pg_filter_types *t, const pg_str_list *keep, const pg_str_list *drop,
                         pg_error *err);
void pg_filter_types_free(pg_filter_types *t);
/* 1 when the lists select anything at all. */
int pg_filter_types_active(const pg_filter_types *t);
/* 1 when sample type (type, unit) is wanted: keep empty or naming it, and
 * drop not naming it. */
int pg_filter_type_wanted(const pg_filter_types *t, const char *type, const char *unit);
/* The same for a profile type "type:unit:period_type:period_unit" (NULL
 * reads as ""). */
int pg_filter_profile_type_wanted(const pg_filter_types *t, const char *profile_type);

/* Cuts the unwanted sample types out of a decoded document, in place (new
 * arrays from a): their value in every sample, samples whose remaining
 * values are all zero, then locations and functions no remaining sample
 * reaches. default_sample_type is cleared when it names a removed type.
 * *kept gets the number of sample types left (when 0 or when nothing was
 * unwanted, doc is untouched). PG_OK or PG_ERR_NOMEM. */
int pg_filter_pprof_doc(pg_arena *a, pg_pprof *doc, const pg_filter_types *t, size_t *kept);

typedef enum pg_filter_outcome {
    PG_FILTER_UNCHANGED = 0,  /* every type wanted: payload untouched */
    PG_FILTER_REWRITTEN = 1,  /* payload replaced by the filtered document */
    PG_FILTER_NO_TYPES = 2,   /* no type wanted: drop the profile */
    PG_FILTER_UNDECODABLE = 3 /* the payload is not a valid pprof document */
} pg_filter_outcome;

/* Filters the sample types of a pprof profile of batch b: decodes into tmp,
 * and when rewritten replaces prof's payload and updates its profile type,
 * sample count and value total. err says why for UNDECODABLE. Returns PG_OK
 * or PG_ERR_NOMEM. */
int pg_filter_pprof_profile(pg_arena *tmp, const pg_filter_types *t, pg_batch *b, pg_profile *prof,
                            pg_filter_outcome *out, pg_error *err);

#endif
