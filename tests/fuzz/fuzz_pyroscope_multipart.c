/*
 * libFuzzer target: multipart/form-data splitting. The first line of the
 * input is the boundary, the rest the body; every part found must lie inside
 * the body, and each is also fed to the sample_type_config parser, as the
 * receiver does with the part of that name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "receivers/pyroscope/multipart.h"
#include "receivers/pyroscope/profile_name.h"
#include "receivers/pyroscope/sample_type_config.h"

static void check_parts(pg_arena *a, const uint8_t *body, size_t len, const pg_multipart_part *p,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!p[i].name || p[i].data < body || p[i].len > len || p[i].data + p[i].len > body + len)
            abort();
        pg_pyro_stconfig_entry *cfg;
        size_t n_cfg;
        pg_error err;
        if (pg_pyro_stconfig_parse(a, p[i].data, p[i].len, &cfg, &n_cfg, &err) == PG_OK) {
            const char *types[] = {"samples", "cpu", "goroutine", "contentions", "delay"};
            (void)pg_pyro_profile_name(types, 5, cfg, n_cfg);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    size_t blen = (size_t)(nl - data);
    char *boundary = malloc(blen + 1);
    memcpy(boundary, data, blen);
    boundary[blen] = '\0';
    pg_arena *a = pg_arena_new(0, 64u << 20);
    pg_error err;

    char *ct = malloc(blen + 64);
    snprintf(ct, blen + 64, "multipart/form-data; boundary=%s", boundary);
    const char *parsed_boundary;
    (void)pg_multipart_boundary(a, ct, &parsed_boundary, &err);
    free(ct);

    const uint8_t *body = nl + 1;
    size_t len = size - blen - 1;
    pg_multipart_part *parts;
    size_t n;
    if (pg_multipart_parse(a, body, len, boundary, 32, &parts, &n, &err) == PG_OK)
        check_parts(a, body, len, parts, n);
    pg_arena_free(a);
    free(boundary);
    return 0;
}
