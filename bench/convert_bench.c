/*
 * convert_bench: pprof <-> OTLP conversion throughput, single thread, set
 * beside the cost of the work any consumer of the same bytes must do anyway,
 * all measured in one run:
 *
 *   a  gunzip only
 *   b  gunzip + plain protobuf-c unpack of perftools.profiles.Profile (arena
 *      allocator, no validation, no conversion)
 *   c  pprof -> OTLP as the product does it: pg_pprof_to_otlp_encoded (pprof
 *      bytes straight to an encoded request)
 *   r  the same conversion through message structs, for reference:
 *      pg_pprof_decode + pg_pprof_to_otlp + pg_otlp_encode (same bytes out)
 *   d  OTLP -> pprof: pg_otlp_decode of c's output + pg_otlp_to_pprof +
 *      pg_pprof_encode (gzip) of every document
 *
 * Each stage repeats for at least STAGE_SECONDS. MB/s counts the stage's
 * input bytes (the pprof file for a-c, the encoded OTLP request for d);
 * c/b is the cost of a full conversion relative to the plain decode. Stage a
 * shows "-" for inputs that are not gzipped.
 *
 *   convert_bench [FILE...]    default: every pprof under $PG_SHARED_DIR
 *                              (../shared)/fixtures
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "common/buf.h"
#include "convert/convert.h"
#include "model/otlp.h"
#include "transport/decompress.h"

#define STAGE_SECONDS 0.5
#define MAX_INFLATE   ((uint64_t)1 << 30)
#define MAX_FIXTURES  256
#define N_STAGES      5
#define STAGE_D       4

typedef struct input {
    const char *name;
    uint8_t *bytes;
    size_t len;
    pg_buf otlp; /* the converted request, input of stage d */
} input;

typedef struct stage_result {
    double seconds; /* per iteration */
    size_t in_bytes;
} stage_result;

typedef int (*stage_fn)(pg_arena *a, const input *in);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int gunzip(pg_arena *a, const input *in, const uint8_t **raw, size_t *raw_len)
{
    if (!pg_is_gzip(in->bytes, in->len)) {
        *raw = in->bytes;
        *raw_len = in->len;
        return PG_OK;
    }
    pg_error err;
    return pg_decompress(a, "gzip", in->bytes, in->len, MAX_INFLATE, raw, raw_len, &err);
}

static int stage_gunzip(pg_arena *a, const input *in)
{
    const uint8_t *raw;
    size_t len;
    return gunzip(a, in, &raw, &len);
}

static int stage_unpack(pg_arena *a, const input *in)
{
    const uint8_t *raw;
    size_t len;
    int rc = gunzip(a, in, &raw, &len);
    if (rc != PG_OK)
        return rc;
    ProtobufCAllocator al = pg_arena_protobuf_allocator(a);
    return perftools__profiles__profile__unpack(&al, len, raw) ? PG_OK : PG_ERR_INVALID;
}

/* pprof -> OTLP through message structs; appends the encoding to out. */
static int to_otlp(pg_arena *a, const input *in, pg_buf *out)
{
    pg_error err;
    pg_pprof *p = NULL;
    pg_otlp_request *req = NULL;
    int rc = pg_pprof_decode(a, in->bytes, in->len, MAX_INFLATE, &p, &err);
    if (rc == PG_OK)
        rc = pg_pprof_to_otlp(a, p, NULL, &req, &err);
    if (rc == PG_OK)
        rc = pg_otlp_encode(req, out);
    if (rc != PG_OK)
        fprintf(stderr, "%s: %s\n", in->name, err.msg);
    return rc;
}

static pg_buf scratch; /* reused output buffer: no malloc in the timed loops */

static int stage_to_otlp(pg_arena *a, const input *in)
{
    pg_error err;
    scratch.len = 0;
    int rc = pg_pprof_to_otlp_encoded(a, in->bytes, in->len, MAX_INFLATE, NULL, &scratch, &err);
    if (rc != PG_OK)
        fprintf(stderr, "%s: %s\n", in->name, err.msg);
    return rc;
}

static int stage_to_otlp_structs(pg_arena *a, const input *in)
{
    scratch.len = 0;
    return to_otlp(a, in, &scratch);
}

static int stage_to_pprof(pg_arena *a, const input *in)
{
    pg_error err;
    pg_otlp_request *req = NULL;
    pg_pprof_doc *docs = NULL;
    size_t n = 0;
    int rc = pg_otlp_decode(a, in->otlp.data, in->otlp.len, &req, &err);
    if (rc == PG_OK)
        rc = pg_otlp_to_pprof(a, req, NULL, 0, &docs, &n, &err);
    scratch.len = 0;
    for (size_t i = 0; rc == PG_OK && i < n; i++)
        rc = pg_pprof_encode(docs[i].profile, 1, &scratch, &err);
    return rc;
}

static int run_stage(stage_fn fn, const input *in, size_t in_bytes, stage_result *r)
{
    pg_arena *a = pg_arena_new(1 << 20, 0);
    if (!a)
        return PG_ERR_NOMEM;
    long iters = 0;
    double start = now_s(), elapsed = 0;
    int rc = PG_OK;
    while (rc == PG_OK && (elapsed < STAGE_SECONDS || iters == 0)) {
        pg_arena_reset(a);
        rc = fn(a, in);
        iters++;
        elapsed = now_s() - start;
    }
    pg_arena_free(a);
    r->seconds = elapsed / (double)iters;
    r->in_bytes = in_bytes;
    return rc;
}

/* ---- fixture discovery ---- */

static input inputs[MAX_FIXTURES];
static size_t n_inputs;

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Keeps path when it is a valid pprof document that converts. */
static void add_input(const char *path, int verbose)
{
    if (n_inputs == MAX_FIXTURES)
        return;
    input *in = &inputs[n_inputs];
    memset(in, 0, sizeof(*in));
    in->bytes = read_file(path, &in->len);
    pg_arena *a = pg_arena_new(0, 0);
    pg_pprof *p = NULL;
    pg_error err;
    pg_buf_init(&in->otlp);
    int ok = in->bytes && a && pg_pprof_decode(a, in->bytes, in->len, MAX_INFLATE, &p, &err) == 0;
    in->name = path;
    ok = ok && to_otlp(a, in, &in->otlp) == PG_OK;
    pg_arena_free(a);
    if (!ok) {
        if (verbose)
            fprintf(stderr, "skipping %s: not a pprof document that converts\n", path);
        free(in->bytes);
        pg_buf_free(&in->otlp);
        return;
    }
    in->name = strdup(path);
    n_inputs++;
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    const char *base = path + ftw->base;
    /* OTLP fixtures share pprof's field numbers; keep them out by name */
    if (flag == FTW_F && !strstr(base, "otlp") && !strstr(base, ".json") && !strstr(base, ".jfr") &&
        !strstr(base, ".md"))
        add_input(path, 0);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const input *)a)->name, ((const input *)b)->name);
}

/* ---- report ---- */

static const char *short_name(const char *path)
{
    const char *s = strstr(path, "fixtures/");
    return s ? s + strlen("fixtures/") : path;
}

static void print_cell(const stage_result *r, int applies)
{
    if (!applies) {
        printf(" %10s %8s", "-", "-");
        return;
    }
    printf(" %10.0f %8.1f", 1.0 / r->seconds, (double)r->in_bytes / r->seconds / 1e6);
}

static void print_header(void)
{
    printf("%-60s %9s", "fixture", "bytes");
    const char *names[] = {"a gunzip", "b +unpack", "c ->OTLP", "r ->OTLP structs", "d ->pprof"};
    for (int i = 0; i < N_STAGES; i++)
        printf(" %19s", names[i]);
    printf(" %6s %6s\n%-60s %9s", "c/b", "r/b", "", "");
    for (int i = 0; i < N_STAGES; i++)
        printf(" %10s %8s", "prof/s", "MB/s");
    printf("\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        add_input(argv[i], 1);
    if (argc == 1) {
        const char *shared = getenv("PG_SHARED_DIR");
        char root[4096];
        snprintf(root, sizeof(root), "%s/fixtures", shared ? shared : "../shared");
        nftw(root, visit, 16, FTW_PHYS);
        qsort(inputs, n_inputs, sizeof(*inputs), by_name);
    }
    if (!n_inputs) {
        fprintf(stderr, "no pprof input (give files, or set PG_SHARED_DIR)\n");
        return 2;
    }
    pg_buf_init(&scratch);
    stage_fn fns[N_STAGES] = {stage_gunzip, stage_unpack, stage_to_otlp, stage_to_otlp_structs,
                              stage_to_pprof};
    stage_result total[N_STAGES] = {{0}};
    print_header();
    for (size_t i = 0; i < n_inputs; i++) {
        const input *in = &inputs[i];
        stage_result r[N_STAGES];
        for (int s = 0; s < N_STAGES; s++) {
            size_t bytes = s == STAGE_D ? in->otlp.len : in->len;
            if (run_stage(fns[s], in, bytes, &r[s]) != PG_OK) {
                fprintf(stderr, "%s: stage %c failed\n", in->name, "abcrd"[s]);
                return 1;
            }
            total[s].seconds += r[s].seconds;
            total[s].in_bytes += bytes;
        }
        printf("%-60.60s %9zu", short_name(in->name), in->len);
        for (int s = 0; s < N_STAGES; s++)
            print_cell(&r[s], s > 0 || pg_is_gzip(in->bytes, in->len));
        printf(" %6.2f %6.2f\n", r[2].seconds / r[1].seconds, r[3].seconds / r[1].seconds);
    }
    /* aggregate: one pass over every fixture counts as n_inputs profiles */
    size_t all = 0;
    for (size_t i = 0; i < n_inputs; i++)
        all += inputs[i].len;
    printf("%-60s %9zu", "ALL (one pass over every fixture; a: raw inputs cost 0)", all);
    for (int s = 0; s < N_STAGES; s++)
        printf(" %10.0f %8.1f", (double)n_inputs / total[s].seconds,
               (double)total[s].in_bytes / total[s].seconds / 1e6);
    printf(" %6.2f %6.2f\n", total[2].seconds / total[1].seconds,
           total[3].seconds / total[1].seconds);
    pg_buf_free(&scratch);
    return 0;
}
