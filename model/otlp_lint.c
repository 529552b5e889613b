/*
 * Conventions that producers break without making a request unusable:
 * entry 0 of each table should be the zero value and ids should have their
 * documented sizes. Decoding does not enforce them (the async-profiler
 * fixture puts "samples" in string_table[0]); this reports them for logs.
 */
#include "model/otlp_types.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct lint {
    int count;
    pg_error *warn;
} lint;

__attribute__((format(printf, 2, 3))) static void report(lint *l, const char *fmt, ...)
{
    if (l->count++ == 0 && l->warn) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->warn->msg, sizeof(l->warn->msg), fmt, ap);
        va_end(ap);
    }
}

static int all_zero(const ProtobufCBinaryData *b)
{
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i])
            return 0;
    }
    return 1;
}

static void lint_zero_entry(lint *l, const char *table, size_t n, void *const *entries)
{
    if (n && entries[0] && protobuf_c_message_get_packed_size(entries[0]) != 0)
        report(l, "dictionary.%s[0] should be the zero entry", table);
}

static void lint_links(lint *l, const pg_otlp_dictionary *d)
{
    for (size_t i = 0; i < d->n_link_table; i++) {
        const pg_otlp_link *k = d->link_table[i];
        char path[64];
        if (i == 0 && !(all_zero(&k->trace_id) && all_zero(&k->span_id)))
            report(l, "dictionary.link_table[0] should be the zero entry");
        snprintf(path, sizeof(path), "dictionary.link_table[%zu]", i);
        if (k->trace_id.len && k->trace_id.len != 16)
            report(l, "%s.trace_id has %zu bytes (should be 16)", path, k->trace_id.len);
        if (k->span_id.len && k->span_id.len != 8)
            report(l, "%s.span_id has %zu bytes (should be 8)", path, k->span_id.len);
    }
}

static void lint_profile_ids(lint *l, const pg_otlp_request *req)
{
    for (size_t i = 0; i < req->n_resource_profiles; i++) {
        const pg_otlp_resource_profiles *rp = req->resource_profiles[i];
        for (size_t k = 0; k < rp->n_scope_profiles; k++) {
            const pg_otlp_scope_profiles *sp = rp->scope_profiles[k];
            for (size_t j = 0; j < sp->n_profiles; j++) {
                size_t n = sp->profiles[j]->profile_id.len;
                char path[128];
                snprintf(path, sizeof(path),
                         "resource_profiles[%zu].scope_profiles[%zu]."
                         "profiles[%zu]",
                         i, k, j);
                if (n && n != 16)
                    report(l, "%s.profile_id has %zu bytes (should be 16)", path, n);
            }
        }
    }
}

int pg_otlp_lint(const pg_otlp_request *req, pg_error *warn)
{
    lint l = {0, warn};
    const pg_otlp_dictionary *d = req->dictionary;
    if (warn)
        pg_error_clear(warn);
    if (d) {
        if (d->n_string_table && d->string_table[0][0]) {
            char shown[64];
            snprintf(shown, sizeof(shown), "%.40s", d->string_table[0]);
            report(&l, "dictionary.string_table[0] should be \"\" (is \"%s\")", shown);
        }
        lint_zero_entry(&l, "mapping_table", d->n_mapping_table, (void *const *)d->mapping_table);
        lint_zero_entry(&l, "location_table", d->n_location_table,
                        (void *const *)d->location_table);
        lint_zero_entry(&l, "function_table", d->n_function_table,
                        (void *const *)d->function_table);
        lint_zero_entry(&l, "attribute_table", d->n_attribute_table,
                        (void *const *)d->attribute_table);
        lint_zero_entry(&l, "stack_table", d->n_stack_table, (void *const *)d->stack_table);
        lint_links(&l, d);
    }
    lint_profile_ids(&l, req);
    return l.count;
}
