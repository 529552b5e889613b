#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/debug/debug_exporter.h"
#include "model/otlp.h"

#define TOP_STACKS 5
#define MAX_FRAMES 64 /* frames printed per stack; deeper stacks end in "..." */

int pg_debug_format_basic(const pg_profile *p, pg_buf *out)
{
    const char *svc = pg_profile_label(p, "service_name");
    return pg_buf_printf(out,
                         "profile service=\"%s\" type=%s samples=%" PRIu64 " value_total=%" PRId64
                         " tenant=\"%s\" labels=%u",
                         svc ? svc : "",
                         p->profile_type && *p->profile_type ? p->profile_type : "-",
                         p->sample_count, p->value_total, p->tenant ? p->tenant : "", p->n_labels);
}

typedef struct stack_total {
    int32_t stack;
    int64_t value;
} stack_total;

static int by_value_desc(const void *a, const void *b)
{
    const stack_total *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* Sums values per stack index; a timestamps-only sample counts 1 per
 * timestamp. Returns the number of distinct stacks in totals. */
static size_t sum_stacks(const pg_otlp_profile *prof, stack_total *totals, int32_t *slot_of,
                         size_t n_stacks)
{
    size_t n = 0;
    for (size_t i = 0; i < prof->n_samples; i++) {
        const Opentelemetry__Proto__Profiles__V1development__Sample *s = prof->samples[i];
        if (s->stack_index < 0 || (size_t)s->stack_index >= n_stacks)
            continue;
        int64_t v = 0;
        for (size_t k = 0; k < s->n_values; k++)
            v += s->values[k];
        if (!s->n_values)
            v = (int64_t)s->n_timestamps_unix_nano;
        int32_t *slot = &slot_of[s->stack_index];
        if (*slot < 0) {
            *slot = (int32_t)n;
            totals[n].stack = s->stack_index;
            totals[n++].value = 0;
        }
        totals[*slot].value += v;
    }
    return n;
}

static void print_stack(const pg_otlp_request *req, int32_t si, pg_buf *out)
{
    const pg_otlp_dictionary *d = req->dictionary;
    const Opentelemetry__Proto__Profiles__V1development__Stack *st = d->stack_table[si];
    size_t printed = 0;
    for (size_t i = 0; i < st->n_location_indices; i++) {
        const Opentelemetry__Proto__Profiles__V1development__Location *l =
            d->location_table[st->location_indices[i]];
        /* lines[0] is the innermost inlined function: leaf first throughout */
        for (size_t k = 0; k < l->n_lines || (k == 0 && l->n_lines == 0); k++) {
            if (printed++ == MAX_FRAMES) {
                pg_buf_append_str(out, ";...");
                return;
            }
            if (printed > 1)
                pg_buf_append_str(out, ";");
            const char *name = "";
            if (l->n_lines)
                name = pg_otlp_string(
                    req, d->function_table[l->lines[k]->function_index]->name_strindex);
            if (*name)
                pg_buf_append_str(out, name);
            else
                pg_buf_printf(out, "0x%" PRIx64, l->address);
        }
    }
    if (!printed)
        pg_buf_append_str(out, "(empty stack)");
}

static void print_value_type(const pg_otlp_request *req, const char *what,
                             const Opentelemetry__Proto__Profiles__V1development__ValueType *vt,
                             pg_buf *out)
{
    if (!vt || (!vt->type_strindex && !vt->unit_strindex)) {
        pg_buf_printf(out, " %s=-", what);
        return;
    }
    pg_buf_printf(out, " %s=%s/%s", what, pg_otlp_string(req, vt->type_strindex),
                  pg_otlp_string(req, vt->unit_strindex));
}

static int print_top_stacks(const pg_otlp_request *req, const pg_otlp_profile *prof, pg_buf *out)
{
    size_t n_stacks = req->dictionary ? req->dictionary->n_stack_table : 0;
    stack_total *totals = calloc(prof->n_samples + 1, sizeof(*totals));
    int32_t *slot_of = malloc((n_stacks + 1) * sizeof(*slot_of));
    if (!totals || !slot_of) {
        free(totals);
        free(slot_of);
        return PG_ERR_NOMEM;
    }
    memset(slot_of, 0xff, (n_stacks + 1) * sizeof(*slot_of));
    size_t n = sum_stacks(prof, totals, slot_of, n_stacks);
    qsort(totals, n, sizeof(*totals), by_value_desc);
    for (size_t i = 0; i < n && i < TOP_STACKS; i++) {
        pg_buf_printf(out, "  top %zu: value=%" PRId64 " stack=", i + 1, totals[i].value);
        print_stack(req, totals[i].stack, out);
        pg_buf_append_str(out, "\n");
    }
    free(totals);
    free(slot_of);
    return PG_OK;
}

int pg_debug_format_details(const pg_profile *p, pg_buf *out)
{
    if (p->payload->format == PG_PAYLOAD_PPROF)
        return pg_debug_format_pprof_details(p, out);
    pg_arena *tmp = NULL;
    const pg_otlp_request *req = p->payload->decoded;
    pg_error err;
    if (!req) {
        pg_otlp_request *decoded = NULL;
        tmp = pg_arena_new(0, 0);
        if (!tmp || pg_otlp_decode(tmp, p->payload->bytes, p->payload->len, &decoded, &err) != 0) {
            pg_buf_printf(out, "  (payload does not decode: %s)\n", tmp ? err.msg : "no memory");
            pg_arena_free(tmp);
            return PG_OK;
        }
        req = decoded;
    }
    int rc = PG_OK;
    if (p->resource_index >= req->n_resource_profiles ||
        p->scope_index >= req->resource_profiles[p->resource_index]->n_scope_profiles ||
        p->profile_index >=
            req->resource_profiles[p->resource_index]->scope_profiles[p->scope_index]->n_profiles) {
        pg_buf_append_str(out, "  (profile position not in payload)\n");
    } else {
        const pg_otlp_profile *prof = req->resource_profiles[p->resource_index]
                                          ->scope_profiles[p->scope_index]
                                          ->profiles[p->profile_index];
        pg_buf_append_str(out, " ");
        print_value_type(req, "sample_type", prof->sample_type, out);
        print_value_type(req, "period_type", prof->period_type, out);
        pg_buf_printf(out, " period=%" PRId64 "\n", prof->period);
        rc = print_top_stacks(req, prof, out);
    }
    pg_arena_free(tmp);
    return rc;
}
