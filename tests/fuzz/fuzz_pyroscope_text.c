/*
 * libFuzzer target: folded and lines text bodies to pprof. Whatever converts
 * must validate and encode.
 */
#include <stdint.h>
#include <stdlib.h>

#include "receivers/pyroscope/text_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const pg_pyro_text_options o = {.sample_type = "cpu",
                                    .sample_unit = "nanoseconds",
                                    .period_type = "cpu",
                                    .period_unit = "nanoseconds",
                                    .period = 10000000,
                                    .value_multiplier = 10000000,
                                    .max_samples = 1000};
    for (int f = PG_PYRO_TEXT_FOLDED; f <= PG_PYRO_TEXT_LINES; f++) {
        pg_arena *a = pg_arena_new(0, 64u << 20);
        pg_pprof *p;
        pg_error err;
        if (pg_pyro_text_to_pprof(a, (pg_pyro_text_format)f, data, size, &o, &p, &err) == PG_OK) {
            if (pg_pprof_validate(p, &err) != PG_OK)
                abort();
            pg_buf out;
            pg_buf_init(&out);
            if (pg_pprof_encode(p, 0, &out, &err) != PG_OK)
                abort();
            pg_buf_free(&out);
        }
        pg_arena_free(a);
    }
    return 0;
}
