/*
 * processors/relabel: Prometheus relabel_config rules (relabel_rules.h) over
 * each profile's labels, and optionally over the labels of every sample
 * inside the payload.
 *
 *   rules          list of rules: source_labels, separator, regex, modulus,
 *                  target_label, replacement, action (Prometheus's keys and
 *                  defaults)
 *   sample_labels  false (default); true: the same rules also rewrite pprof
 *                  sample labels and OTLP sample attributes
 *
 * Series labels: the payload is not decoded. The profile's tenant takes part
 * as the label `__tenant__` (setting it sets the tenant, deleting it clears
 * it). A profile that a rule drops, that is left with no labels, or that is
 * left without `service_name` is removed from the batch, counted in
 * profgate_processor_dropped_profiles_total{reason="dropped_by_rule" |
 * "no_labels" | "no_service_name"} and logged (at most once a second per
 * reason); the processor still answers OK for it. labels_changed is set on
 * profiles whose labels (not only the tenant) changed.
 *
 * Sample labels (sample_labels: true), per payload and call:
 *   pprof  each sample's string labels are its set (numeric labels are not
 *          seen by the rules and are kept); when one key occurs several times
 *          on a sample the rules see its last value, and all its values are
 *          kept unless the rules change or remove that key (then the one new
 *          value replaces them all)
 *   OTLP   each sample's attributes with string values are its set (other
 *          attributes are kept, unless a rule sets a string label of the same
 *          key, which then replaces them)
 *   A sample whose set a rule drops is removed from the profile. Rewritten
 *   and untouched keys keep their order; new keys follow in name order. The
 *   payload is rebuilt only when a rule changed something (pprof keeps its
 *   gzip-ness; OTLP gets a new request with its decoded form attached,
 *   shared by every profile of the batch that referenced the old one);
 *   otherwise it is forwarded byte for byte. A payload that cannot be decoded
 *   is forwarded unchanged and its profiles are counted in
 *   profgate_processor_relabel_sample_labels_skipped_total{reason=
 *   "sample_labels_undecodable"}.
 */
#ifndef PG_PROCESSORS_RELABEL_RELABEL_PROCESSOR_H
#define PG_PROCESSORS_RELABEL_RELABEL_PROCESSOR_H

#include <stdbool.h>

#include "config/schema.h"
#include "pipeline/component.h"
#include "processors/relabel/relabel_rules.h"

typedef struct pg_relabel_rule_config {
    pg_cfg_elem elem;
    pg_relabel_rule_spec spec;
} pg_relabel_rule_config;

typedef struct pg_relabel_processor_config {
    pg_cfg_list rules; /* of pg_relabel_rule_config */
    bool sample_labels;
} pg_relabel_processor_config;

extern const pg_component_def pg_relabel_processor_def;

#endif
