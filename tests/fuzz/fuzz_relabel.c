/*
 * libFuzzer target: relabel rules and label sets built from the input. The
 * input is split at NUL bytes: the first field's first byte gives the number
 * of rules (1..4); each rule takes 7 fields (action, comma-separated source
 * labels, separator, regex, modulus, target_label, replacement); the rest
 * are label name/value pairs. Whatever the rules, the result must be sorted,
 * unique, without empty names or values, equal to the input when unchanged,
 * and the same when applied twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "processors/relabel/relabel_rules.h"

#define MAX_FIELDS 64
#define MAX_RULES  4

static const char *const actions[] = {"replace",   "keep",      "drop",     "keepequal",
                                      "dropequal", "hashmod",   "labelmap", "labeldrop",
                                      "labelkeep", "lowercase", "uppercase"};

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const pg_label *)a)->name, ((const pg_label *)b)->name);
}

/* Splits source labels at commas (in place). */
static size_t split_sources(char *s, char **out, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        out[n++] = s;
        char *c = strchr(s, ',');
        if (!c)
            break;
        *c = '\0';
        s = c + 1;
    }
    return n;
}

static void check_result(const pg_relabel_result *r, const pg_label *in, size_t n)
{
    if (!r->kept) {
        if (r->dropped_by < 0)
            abort();
        return;
    }
    for (size_t i = 0; i < r->n_labels; i++) {
        if (!r->labels[i].name[0] || !r->labels[i].value[0])
            abort();
        if (i && strcmp(r->labels[i - 1].name, r->labels[i].name) >= 0)
            abort();
    }
    if (r->changed)
        return;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].value[0])
            continue;
        if (j >= r->n_labels || strcmp(in[i].name, r->labels[j].name) ||
            strcmp(in[i].value, r->labels[j].value))
            abort();
        j++;
    }
    if (j != r->n_labels)
        abort();
}

static void same_result(const pg_relabel_result *a, const pg_relabel_result *b)
{
    if (a->kept != b->kept || a->changed != b->changed || a->n_labels != b->n_labels)
        abort();
    for (size_t i = 0; a->kept && i < a->n_labels; i++)
        if (strcmp(a->labels[i].name, b->labels[i].name) ||
            strcmp(a->labels[i].value, b->labels[i].value))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *f[MAX_FIELDS];
    size_t nf = 0;
    for (char *p = buf; nf < MAX_FIELDS && p <= buf + size; p += strlen(p) + 1)
        f[nf++] = p;
    size_t n_rules = nf ? (size_t)((unsigned char)f[0][0] % MAX_RULES) + 1 : 1;
    if (nf < 1 + 7 * n_rules) {
        free(buf);
        return 0;
    }
    pg_relabel_rule_spec specs[MAX_RULES];
    char *sources[MAX_RULES][8];
    memset(specs, 0, sizeof(specs));
    for (size_t r = 0; r < n_rules; r++) {
        char **x = &f[1 + 7 * r];
        pg_relabel_rule_spec *s = &specs[r];
        s->action = actions[(unsigned char)x[0][0] % (sizeof(actions) / sizeof(actions[0]))];
        s->source_labels.items = sources[r];
        s->source_labels.n = split_sources(x[1], sources[r], 8);
        s->separator = x[2][0] ? x[2] : NULL;
        s->regex = x[3][0] ? x[3] : NULL;
        s->modulus = (unsigned char)x[4][0];
        s->target_label = x[5][0] ? x[5] : NULL;
        s->replacement = x[6][0] == 1 ? NULL : x[6];
    }
    pg_label in[MAX_FIELDS / 2];
    size_t n = 0;
    for (size_t i = 1 + 7 * n_rules; i + 1 < nf; i += 2)
        if (f[i][0])
            in[n++] = (pg_label){f[i], f[i + 1]};
    qsort(in, n, sizeof(*in), cmp_label);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || strcmp(in[u - 1].name, in[i].name) != 0)
            in[u++] = in[i];
    n = u;

    pg_relabel_rules *rules = NULL;
    pg_error err;
    int all_ok = 1;
    for (size_t r = 0; r < n_rules; r++) {
        const char *field;
        all_ok &= pg_relabel_rule_check(&specs[r], &field, &err) == PG_OK;
    }
    int rc = pg_relabel_compile(specs, n_rules, &rules, &err);
    if ((rc == PG_OK) != all_ok)
        abort(); /* compile refuses exactly what the check refuses */
    if (rc == PG_OK) {
        pg_arena *a = pg_arena_new(0, 64u << 20);
        pg_relabel_result r1, r2;
        if (pg_relabel_apply(rules, a, in, n, &r1) == PG_OK) {
            check_result(&r1, in, n);
            if (pg_relabel_apply(rules, a, in, n, &r2) == PG_OK)
                same_result(&r1, &r2);
        }
        pg_arena_free(a);
        pg_relabel_free(rules);
    }
    free(buf);
    return 0;
}
