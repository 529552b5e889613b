/* Shared between the files of the relabel processor; not a public API. */
#ifndef PG_PROCESSORS_RELABEL_RELABEL_PROC_INTERNAL_H
#define PG_PROCESSORS_RELABEL_RELABEL_PROC_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "pipeline/component.h"
#include "processors/relabel/relabel_processor.h"
#include "telemetry/metrics.h"

enum {
    RELABEL_DROP_RULE,
    RELABEL_DROP_NO_LABELS,
    RELABEL_DROP_NO_SERVICE,
    RELABEL_DROP_REASONS,
};

typedef struct relabel_state {
    pg_relabel_rules *rules;
    pg_metric *dropped[RELABEL_DROP_REASONS];
    pg_metric *undecodable; /* profiles whose payload could not be read */
    pg_metric *changed;     /* profiles whose labels or sample labels changed */
    _Atomic uint64_t last_warn_ms[RELABEL_DROP_REASONS + 1];
} relabel_state;

/* Logs at most once a second per kind (kind < RELABEL_DROP_REASONS + 1). */
void relabel_warn(pg_component *self, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- sample labels ---- */

/* One label of a sample as the payload holds it: string labels take part in
 * the rules, the others (pprof numeric labels, non-string attributes) only
 * make way for a string label of the same key that a rule sets. */
typedef struct relabel_entry {
    const char *key;
    const char *value; /* string labels */
    int is_string;
} relabel_entry;

/* What the rules did to one sample's set. */
typedef struct relabel_outcome {
    int kept;
    int changed;
    uint8_t *keep_entry; /* per input entry: stays as it was */
    pg_label *added;     /* keys set to a new value, in name order */
    size_t n_added;
} relabel_outcome;

/* Runs the rules over one sample's entries (see relabel_processor.h for
 * duplicate keys and ordering). Memory from a. */
int relabel_sample_set(const pg_relabel_rules *rules, pg_arena *a, const relabel_entry *e, size_t n,
                       relabel_outcome *out);

/* Results cached by the raw label references of a sample, so that the many
 * samples that share one label set cost one rule run. */
typedef struct relabel_memo relabel_memo;
relabel_memo *relabel_memo_new(pg_arena *a);
/* The value slot for key (n int64s); *found says whether it was there.
 * NULL when out of memory. */
void **relabel_memo_slot(relabel_memo *m, const int64_t *key, size_t n, int *found);

/* Interns strings into a growing string table: the index of s, appending it
 * when new. */
typedef struct relabel_strtab relabel_strtab;
relabel_strtab *relabel_strtab_new(pg_arena *a, char **strings, size_t n);
long relabel_strtab_intern(relabel_strtab *t, const char *s);
char **relabel_strtab_items(const relabel_strtab *t, size_t *n);

/* The rewritten payload for p: *out = a new payload (one reference) when a
 * rule changed something, NULL when nothing changed. PG_ERR_INVALID when p
 * cannot be decoded (err says why), PG_ERR_NOMEM. */
int relabel_pprof_payload(const pg_relabel_rules *rules, pg_arena *tmp, const pg_payload *p,
                          pg_payload **out, pg_error *err);
int relabel_otlp_payload(const pg_relabel_rules *rules, pg_arena *tmp, const pg_payload *p,
                         pg_payload **out, pg_error *err);

/* Runs sample_labels over every kept profile of b (keep[i]), replacing the
 * payloads that changed. PG_ERR_NOMEM only; undecodable payloads are
 * counted and left alone. */
int relabel_batch_samples(pg_component *self, pg_batch *b, const uint8_t *keep, pg_arena *tmp);

#endif
