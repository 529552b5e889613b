/*
 * Reading third-party fixtures in unit tests: files below
 * $PG_SHARED_DIR/fixtures (ctest sets PG_SHARED_DIR; ../shared otherwise).
 * Include after <cmocka.h>.
 */
#ifndef PG_TEST_FIXTURE_UTIL_H
#define PG_TEST_FIXTURE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole file fixtures/<rel> (malloc'd, caller frees); fails the test
 * when it is missing. */
static inline uint8_t *pg_test_read_fixture(const char *rel, size_t *len)
{
    const char *shared = getenv("PG_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/fixtures/%s", shared ? shared : "../shared", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("missing fixture %s (set PG_SHARED_DIR)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

#endif
