/*
 * Building one OTLP request out of profiles taken from several requests: an
 * exporter writes one request per batch (whose profiles the batch processor
 * may have gathered from many requests), and splitting a batch keeps only
 * what each part references.
 *
 * The builder copies the chosen profiles into a new request with a new
 * dictionary: strings, functions, mappings, locations, links, stacks and
 * attributes are de-duplicated, only entries that a chosen profile references
 * are kept (so a split part carries a pruned dictionary), entry 0 of every
 * table is the zero entry, and resources/scopes that are equal are shared.
 * All memory comes from the builder's arena.
 */
#ifndef PG_MODEL_OTLP_MERGE_H
#define PG_MODEL_OTLP_MERGE_H

#include "common/arena.h"
#include "common/error.h"
#include "model/otlp.h"

typedef struct pg_otlp_builder pg_otlp_builder;

pg_otlp_builder *pg_otlp_builder_new(pg_arena *arena);
/* Copies profile (ri, si, pi) of src, with its resource and scope. src should
 * be a validated request; every index is still checked, so an unvalidated one
 * fails with PG_ERR_INVALID instead of being misread. After a failed add the
 * builder stays usable: the profile is not added, but dictionary entries (and
 * an empty resource/scope) it reached before the failure may remain. src must
 * stay alive and unchanged until finish. */
int pg_otlp_builder_add(pg_otlp_builder *b, const pg_otlp_request *src, size_t ri, size_t si,
                        size_t pi, pg_error *err);
/* The merged request (arena memory); the builder may not be used afterwards. */
pg_otlp_request *pg_otlp_builder_finish(pg_otlp_builder *b);

#endif
