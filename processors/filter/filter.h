/*
 * processors/filter: keeps or drops whole profiles by label selectors
 * (processors/common/selector.h) and keeps or drops sample types inside
 * profiles.
 *
 *   filter:
 *     keep: ['{service_name=~"api-.*"}']   # non-empty: a profile must match one
 *     drop: ['{__name__="goroutine"}']      # a profile matching any is dropped
 *     sample_types:
 *       keep: [alloc_space, inuse_space]    # "type" or "type:unit"
 *       drop: [alloc_objects]
 *       undecodable: drop                   # drop | forward
 *
 * Profile selection reads labels and the tenant (__tenant__) only; no
 * payload is decoded. Sample types: a type is wanted when `keep` is empty or
 * names it, and `drop` does not. An OTLP profile holds one sample type
 * (prof->profile_type), so it is kept or dropped whole. A pprof document
 * holds several: the unwanted ones are cut out of the document (their value
 * column in every sample, samples left all zero, locations and functions no
 * sample uses any more), and the document is re-encoded (gzip when the input
 * was); a document whose types are all wanted is forwarded byte for byte; one
 * with none wanted is dropped. A pprof payload that does not decode cannot be
 * filtered: `undecodable` says whether it is dropped (default) or forwarded
 * unfiltered; either way it is counted.
 *
 * Dropped profiles are counted in profgate_processor_dropped_profiles_total
 * with reason filtered | no_sample_types | undecodable.
 */
#ifndef PG_PROCESSORS_FILTER_FILTER_H
#define PG_PROCESSORS_FILTER_FILTER_H

#include "config/schema.h"
#include "pipeline/component.h"

typedef enum pg_filter_undecodable {
    PG_FILTER_UNDECODABLE_DROP = 0,
    PG_FILTER_UNDECODABLE_FORWARD = 1,
} pg_filter_undecodable;

typedef struct pg_filter_processor_config {
    pg_str_list keep; /* selectors */
    pg_str_list drop; /* selectors */
    int sample_types_present;
    pg_str_list types_keep; /* "type" or "type:unit" */
    pg_str_list types_drop;
    int undecodable; /* pg_filter_undecodable */
} pg_filter_processor_config;

extern const pg_component_def pg_filter_processor_def;

#endif
