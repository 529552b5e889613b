/*
 * libFuzzer target: label selectors. Any input either parses or fails with a
 * message naming the selector; a parsed selector is matched against a few
 * label sets, and must give the same answer twice and through both entry
 * points. "{}" alone must match everything.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "processors/common/selector.h"

static const char *const sets[][8] = {
    {"service_name", "api-1", "env", "prod", NULL},
    {"__name__", "goroutine", "a", "", "b", "x\ny", NULL},
    {"service.namespace", "caf\xc3\xa9", "env", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", NULL},
    {NULL},
};

static const char *lookup(void *ud, const char *name)
{
    const char *const *kv = ud;
    if (strcmp(name, "__tenant__") == 0)
        return "tenant-a";
    for (size_t i = 0; kv[i]; i += 2)
        if (strcmp(kv[i], name) == 0)
            return kv[i + 1];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    pg_selector *s = NULL;
    pg_error err;
    pg_error_clear(&err);
    if (pg_selector_parse(text, &s, &err) != PG_OK) {
        if (s || !err.msg[0])
            abort();
        free(text);
        return 0;
    }
    if (strcmp(pg_selector_text(s), text) != 0)
        abort();
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        int a = pg_selector_match_fn(s, lookup, (void *)sets[i]);
        if ((a != 0 && a != 1) || a != pg_selector_match_fn(s, lookup, (void *)sets[i]))
            abort();
    }
    pg_batch *b = pg_batch_new();
    pg_payload *p = pg_payload_new(PG_PAYLOAD_PPROF, malloc(1), 1);
    pg_profile *prof = b && p ? pg_batch_add(b, p) : NULL;
    if (prof && pg_profile_set_tenant(b, prof, "tenant-a") == PG_OK &&
        pg_profile_set_label(b, prof, "service_name", "api-1") == PG_OK &&
        pg_profile_set_label(b, prof, "env", "prod") == PG_OK &&
        pg_selector_match(s, prof) != pg_selector_match_fn(s, lookup, (void *)sets[0]))
        abort();
    pg_batch_free(b);
    pg_payload_unref(p);
    pg_selector_free(s);
    free(text);
    return 0;
}
