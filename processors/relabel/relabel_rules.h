/*
 * Relabeling rules with the semantics of Prometheus's relabel_config
 * (prometheus/model/relabel), so that rules written for Prometheus, Alloy or
 * Pyroscope work unchanged. The library knows nothing about pipelines: it
 * rewrites one sorted label set at a time.
 *
 * A rule reads the values of source_labels joined by separator (an absent
 * label reads as "") and, depending on action:
 *
 *   replace    when regex matches the value, sets expand(target_label) to
 *              expand(replacement); an empty result deletes the expanded
 *              target; a target that expands to "" or to invalid UTF-8
 *              leaves the set unchanged; no match, no change
 *   keep/drop  drops the whole set when regex does not match / matches
 *   keepequal  drops the set unless the value equals target_label's value
 *   dropequal  drops the set when the value equals target_label's value
 *   hashmod    target_label = (last 8 bytes of MD5(value), big-endian) %
 *              modulus, in decimal
 *   labelmap   for every label whose NAME matches regex, sets
 *              expand(replacement) (expanded against the name) to its value
 *   labeldrop  removes every label whose name matches regex
 *   labelkeep  removes every label whose name does not match regex
 *   lowercase  target_label = lower(value) (Unicode simple case mapping, as
 *   uppercase  Go's strings.ToLower/ToUpper; invalid UTF-8 bytes become U+FFFD)
 *
 * Regexes are fully anchored RE2 syntax (processors/common/regex.h). A match
 * that hits the regex match limit counts as no match (and is reported in
 * pg_relabel_result.limit_hits). Templates follow Go's regexp.Expand: $1,
 * ${1}, $name, ${name}, $$ for a literal '$'; a name is the longest run of
 * letters, digits and '_' (so "$1x" is the group named "1x"); a group that is
 * missing or did not take part in the match expands to "".
 *
 * Label names are any non-empty valid UTF-8 (Prometheus 3). Setting a label
 * to "" removes it: an empty value is the same as an absent label.
 */
#ifndef PG_PROCESSORS_RELABEL_RELABEL_RULES_H
#define PG_PROCESSORS_RELABEL_RELABEL_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "config/schema.h"
#include "pipeline/profile.h"

typedef enum pg_relabel_action {
    PG_RELABEL_REPLACE = 0,
    PG_RELABEL_KEEP,
    PG_RELABEL_DROP,
    PG_RELABEL_KEEPEQUAL,
    PG_RELABEL_DROPEQUAL,
    PG_RELABEL_HASHMOD,
    PG_RELABEL_LABELMAP,
    PG_RELABEL_LABELDROP,
    PG_RELABEL_LABELKEEP,
    PG_RELABEL_LOWERCASE,
    PG_RELABEL_UPPERCASE,
    PG_RELABEL_ACTIONS,
} pg_relabel_action;

/* Defaults of the optional keys (NULL in a spec means the default). */
#define PG_RELABEL_DEFAULT_SEPARATOR   ";"
#define PG_RELABEL_DEFAULT_REGEX       "(.*)"
#define PG_RELABEL_DEFAULT_REPLACEMENT "$1"
#define PG_RELABEL_DEFAULT_ACTION      "replace"

/* One rule as a user writes it. Strings may be NULL (= default); action is
 * matched case-insensitively, as Prometheus does. */
typedef struct pg_relabel_rule_spec {
    pg_str_list source_labels;
    const char *separator;
    const char *regex;
    int64_t modulus;
    const char *target_label;
    const char *replacement;
    const char *action;
} pg_relabel_rule_spec;

/* The action named s (case-insensitive); -1 when unknown. */
int pg_relabel_action_parse(const char *s);
const char *pg_relabel_action_name(pg_relabel_action a);

/* Checks one rule the way Prometheus validates a relabel_config (unknown
 * action, regex that does not compile, keys an action requires or forbids).
 * On error, *field names the key at fault ("regex", "target_label", ...) or
 * NULL for the rule as a whole, and err says what is wrong. */
int pg_relabel_rule_check(const pg_relabel_rule_spec *spec, const char **field, pg_error *err);

typedef struct pg_relabel_rules pg_relabel_rules;

/* Checks and compiles n rules (copied: specs need not outlive the result).
 * Errors are prefixed with the rule's index: "rule 2: ...". The compiled set
 * is immutable and may be applied from several threads at once. */
int pg_relabel_compile(const pg_relabel_rule_spec *specs, size_t n, pg_relabel_rules **out,
                       pg_error *err);
void pg_relabel_free(pg_relabel_rules *r);
size_t pg_relabel_count(const pg_relabel_rules *r);

typedef struct pg_relabel_result {
    /* The rewritten set, sorted by name (strcmp), names unique, no empty
     * value. Entries point to the input's strings where unchanged and to
     * arena copies otherwise. Unset when kept is 0. */
    pg_label *labels;
    size_t n_labels;
    int kept;       /* 0: a keep/drop/keepequal/dropequal rule dropped the set */
    int changed;    /* the set differs from the input (kept sets only) */
    int dropped_by; /* index of the rule that dropped the set, or -1 */
    int limit_hits; /* regex matches that hit the match limit */
} pg_relabel_result;

/* Applies the rules in order to in (sorted by name, unique; empty values are
 * treated as absent). All memory comes from a (no malloc per label). Returns
 * PG_OK or PG_ERR_NOMEM. */
int pg_relabel_apply(const pg_relabel_rules *r, pg_arena *a, const pg_label *in, size_t n,
                     pg_relabel_result *out);

#endif
