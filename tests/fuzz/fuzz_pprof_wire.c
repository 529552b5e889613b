/*
 * libFuzzer target, differential: the fast pprof reader (pg_pprof_wire_read +
 * pg_pprof_wire_sample for every sample) must accept exactly what
 * pg_pprof_decode accepts, read the same values, and refuse with the same
 * error (see pgw_compare_errors for where the two may differ). Inputs where
 * either side runs into its memory limit are skipped: the two use memory
 * differently.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/pprof_wire_compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_arena *a_pb = pg_arena_new(0, 64u << 20), *a_wire = pg_arena_new(0, 64u << 20);
    pg_pprof *p = NULL;
    pg_pprof_wire w;
    pg_error e_pb = {0}, e_wire = {0};
    int rc_pb = pg_pprof_decode(a_pb, data, size, 16u << 20, &p, &e_pb);
    int rc_wire = pgw_read_all(a_wire, data, size, 16u << 20, &w, &e_wire);
    if (rc_pb != PG_ERR_LIMIT && rc_wire != PG_ERR_LIMIT) {
        if ((rc_pb == PG_OK) != (rc_wire == PG_OK)) {
            fprintf(stderr, "accept/reject differ: protobuf-c %d (%s), wire %d (%s)\n", rc_pb,
                    e_pb.msg, rc_wire, e_wire.msg);
            abort();
        }
        char why[256];
        if (rc_pb == PG_OK && pgw_compare(a_wire, p, &w, why, sizeof(why)) != 0) {
            fprintf(stderr, "values differ: %s\n", why);
            abort();
        }
        if (rc_pb != PG_OK &&
            pgw_compare_errors(rc_pb, &e_pb, rc_wire, &e_wire, why, sizeof(why)) != 0) {
            fprintf(stderr, "%s\n", why);
            abort();
        }
    }
    pg_arena_free(a_pb);
    pg_arena_free(a_wire);
    return 0;
}
