/* Compiling rule specs into the immutable form the engine applies. */
#include <stdlib.h>
#include <string.h>

#include "processors/relabel/relabel_internal.h"

static const char *or_default(const char *s, const char *def)
{
    return s ? s : def;
}

static int compile_one(pg_arena *a, const pg_relabel_rule_spec *s, relabel_rule *r, pg_error *err)
{
    r->action = (pg_relabel_action)pg_relabel_action_parse(s->action);
    r->n_source_labels = s->source_labels.n;
    if (s->source_labels.n) {
        r->source_labels = pg_arena_calloc(a, s->source_labels.n, sizeof(char *));
        if (!r->source_labels)
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < s->source_labels.n; i++)
            if (!(r->source_labels[i] = pg_arena_strdup(a, s->source_labels.items[i])))
                return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    r->separator = pg_arena_strdup(a, or_default(s->separator, PG_RELABEL_DEFAULT_SEPARATOR));
    r->target_label = pg_arena_strdup(a, s->target_label ? s->target_label : "");
    const char *repl =
        pg_arena_strdup(a, or_default(s->replacement, PG_RELABEL_DEFAULT_REPLACEMENT));
    if (!r->separator || !r->target_label || !repl)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    r->separator_len = strlen(r->separator);
    r->modulus = (uint64_t)s->modulus;
    int rc = pg_regex_compile(or_default(s->regex, PG_RELABEL_DEFAULT_REGEX), &r->re, err);
    if (rc != PG_OK)
        return rc;
    if (relabel_template_parse(a, r->re, r->target_label, &r->target) != PG_OK ||
        relabel_template_parse(a, r->re, repl, &r->replacement) != PG_OK)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    return PG_OK;
}

int pg_relabel_compile(const pg_relabel_rule_spec *specs, size_t n, pg_relabel_rules **out,
                       pg_error *err)
{
    *out = NULL;
    pg_relabel_rules *r = calloc(1, sizeof(*r));
    if (!r || !(r->arena = pg_arena_new(4096, 0)) ||
        (n && !(r->rules = pg_arena_calloc(r->arena, n, sizeof(*r->rules))))) {
        pg_relabel_free(r);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const char *field = NULL;
        int rc = pg_relabel_rule_check(&specs[i], &field, err);
        if (rc == PG_OK)
            rc = compile_one(r->arena, &specs[i], &r->rules[i], err);
        r->n = i + 1; /* so that free releases this rule's regex too */
        if (rc != PG_OK) {
            pg_error_prefix(err, "rule %zu: ", i);
            pg_relabel_free(r);
            return rc;
        }
    }
    *out = r;
    return PG_OK;
}

void pg_relabel_free(pg_relabel_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        pg_regex_free(r->rules[i].re);
    pg_arena_free(r->arena);
    free(r);
}

size_t pg_relabel_count(const pg_relabel_rules *r)
{
    return r ? r->n : 0;
}
