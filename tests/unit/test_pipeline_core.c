/* Arena, profile model (labels, clone, payload references) and fan-out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "pipeline/fanout.h"
#include "pipeline/profile.h"
#include "pprof.pb-c.h"

static void test_arena_alignment_and_limit(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(128, 4096);
    for (int i = 1; i < 40; i++) {
        void *p = pg_arena_alloc(a, (size_t)i);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
    }
    assert_false(pg_arena_limit_hit(a));
    assert_null(pg_arena_alloc(a, 8192));
    assert_true(pg_arena_limit_hit(a));
    /* a big allocation larger than the chunk size still works below the limit */
    pg_arena_reset(a);
    assert_int_equal(pg_arena_used(a), 0);
    char *big = pg_arena_alloc(a, 3000);
    assert_non_null(big);
    memset(big, 'x', 3000);
    assert_string_equal(pg_arena_sprintf(a, "%d-%s", 42, "z"), "42-z");
    pg_arena_free(a);
}

/* The inline fast path (Release) and the out-of-line one (sanitizers) must
 * agree on sizes, the limit's edge and overflow. */
static void test_arena_accounting_edges(void **state)
{
    (void)state;
#if PG_ARENA_INLINE /* sanitizer builds add a red zone to every allocation */
    pg_arena *a = pg_arena_new(256, 64);
    unsigned char *p0 = pg_arena_alloc(a, 0), *p1 = pg_arena_alloc(a, 1);
    assert_non_null(p0);
    assert_non_null(p1);
    assert_ptr_not_equal(p0, p1);
    assert_int_equal(pg_arena_used(a), 32);
    assert_non_null(pg_arena_alloc(a, 16));
    assert_non_null(pg_arena_alloc(a, 15));
    assert_int_equal(pg_arena_used(a), 64);
    assert_false(pg_arena_limit_hit(a));
    assert_null(pg_arena_alloc(a, 1)); /* one byte over the limit */
    assert_true(pg_arena_limit_hit(a));
    assert_null(pg_arena_alloc(a, SIZE_MAX));
    assert_null(pg_arena_alloc(a, SIZE_MAX - 15));
    pg_arena_reset(a);
    assert_false(pg_arena_limit_hit(a));
    assert_int_equal(pg_arena_used(a), 0);
    pg_arena_free(a);
#endif

    /* without a limit: chunks fill, then a new chunk is taken */
    pg_arena *b = pg_arena_new(64, 0);
    unsigned char *prev = NULL;
    for (int i = 0; i < 20; i++) {
        unsigned char *p = pg_arena_alloc(b, 24);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, i, 24);
        if (prev)
            assert_int_equal(prev[23], i - 1); /* no overlap with the previous one */
        prev = p;
    }
    assert_int_equal(pg_arena_used(b) % 16, 0);
    assert_true(pg_arena_used(b) >= 20 * 32);
    assert_null(pg_arena_alloc(b, SIZE_MAX));
    pg_arena_free(b);
}

static void test_arena_extend_in_place(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(1024, 0);
    unsigned char *first = pg_arena_alloc(a, 40), *last = pg_arena_alloc(a, 24);
    memset(last, 7, 24);
    assert_false(pg_arena_extend(a, first, 40, 80)); /* not the latest */
    assert_true(pg_arena_extend(a, last, 24, 200));
    for (int i = 0; i < 24; i++)
        assert_int_equal(last[i], 7);
    memset(last, 9, 200); /* the whole extent is usable (ASan checks) */
    unsigned char *after = pg_arena_alloc(a, 8);
    assert_true(after >= last + 200);                  /* later allocations come after it */
    assert_false(pg_arena_extend(a, last, 200, 300));  /* no longer the latest */
    assert_true(pg_arena_extend(a, after, 8, 8) == 0); /* not growing */
    assert_false(pg_arena_extend(a, after, 8, 4096));  /* beyond the chunk */
    assert_false(pg_arena_extend(a, NULL, 0, 8));
    pg_arena_free(a);

    /* the limit holds: what extending would exceed is refused */
    a = pg_arena_new(1024, 256);
    unsigned char *p = pg_arena_alloc(a, 16);
    assert_non_null(p);
    assert_false(pg_arena_extend(a, p, 16, 512));
    size_t used = pg_arena_used(a);
    assert_true(pg_arena_extend(a, p, 16, 100));
    assert_true(pg_arena_used(a) > used);
    pg_arena_free(a);
}

static void test_arena_protobuf_allocator(void **state)
{
    (void)state;
    /* encode a small pprof with the default allocator, decode it through the arena */
    Perftools__Profiles__Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
    char *strings[] = {"", "cpu", "nanoseconds"};
    p.string_table = strings;
    p.n_string_table = 3;
    p.time_nanos = 123;
    uint8_t buf[128];
    size_t n = perftools__profiles__profile__pack(&p, buf);
    pg_arena *a = pg_arena_new(0, 0);
    ProtobufCAllocator al = pg_arena_protobuf_allocator(a);
    Perftools__Profiles__Profile *d = perftools__profiles__profile__unpack(&al, n, buf);
    assert_non_null(d);
    assert_int_equal(d->n_string_table, 3);
    assert_string_equal(d->string_table[2], "nanoseconds");
    assert_int_equal(d->time_nanos, 123);
    assert_true(pg_arena_used(a) > 0);
    pg_arena_free(a); /* no free_unpacked: the arena owns it all */
}

static pg_payload *payload_of(const char *s)
{
    return pg_payload_new(PG_PAYLOAD_PPROF, (uint8_t *)strdup(s), strlen(s));
}

static void test_labels_sorted_and_unique(void **state)
{
    (void)state;
    pg_payload *pl = payload_of("x");
    pg_batch *b = pg_batch_new();
    pg_profile *p = pg_batch_add(b, pl);
    pg_payload_unref(pl); /* the batch holds its own reference */
    assert_int_equal(pg_profile_set_label(b, p, "service_name", "api"), PG_OK);
    assert_int_equal(pg_profile_set_label(b, p, "env", "prod"), PG_OK);
    assert_int_equal(pg_profile_set_label(b, p, "zone", "a"), PG_OK);
    assert_int_equal(pg_profile_set_label(b, p, "env", "dev"), PG_OK);
    assert_int_equal(p->n_labels, 3);
    assert_string_equal(p->labels[0].name, "env");
    assert_string_equal(p->labels[0].value, "dev");
    assert_string_equal(p->labels[1].name, "service_name");
    assert_string_equal(p->labels[2].name, "zone");
    assert_string_equal(pg_profile_label(p, "service_name"), "api");
    assert_null(pg_profile_label(p, "nope"));
    assert_int_equal(pg_profile_remove_label(p, "service_name"), PG_OK);
    assert_int_equal(pg_profile_remove_label(p, "service_name"), PG_ERR_NOTFOUND);
    assert_int_equal(p->n_labels, 2);
    assert_string_equal(p->labels[1].name, "zone");
    assert_int_equal(atomic_load(&p->payload->refs), 1);
    pg_batch_free(b);
}

static void test_clone_shares_payload_copies_labels(void **state)
{
    (void)state;
    pg_payload *pl = payload_of("abc");
    pg_batch *b = pg_batch_new();
    for (int i = 0; i < 100; i++) {
        pg_profile *p = pg_batch_add(b, pl);
        assert_non_null(p);
        pg_profile_set_label(b, p, "i", i % 2 ? "odd" : "even");
        pg_profile_set_tenant(b, p, "t1");
    }
    assert_int_equal(atomic_load(&pl->refs), 101);
    pg_batch *c = pg_batch_clone(b);
    assert_int_equal(c->count, 100);
    assert_int_equal(atomic_load(&pl->refs), 201);
    pg_profile_set_label(c, &c->profiles[0], "i", "changed");
    assert_string_equal(pg_profile_label(&b->profiles[0], "i"), "even");
    assert_string_equal(c->profiles[3].tenant, "t1");
    pg_batch_free(b);
    assert_string_equal(pg_profile_label(&c->profiles[1], "i"), "odd");
    pg_batch_free(c);
    assert_int_equal(atomic_load(&pl->refs), 1);
    pg_payload_unref(pl);
}

typedef struct seen {
    pg_batch *batches[4];
    int n;
    pg_consume_status answer;
} seen;

static int record(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    (void)w;
    seen *s = target;
    s->batches[s->n++] = b;
    if (s->answer != PG_CONSUME_OK)
        pg_consume_fail(res, s->answer, "answer %d", (int)s->answer);
    return res->status;
}

static void test_fanout_copies_only_for_modifiers(void **state)
{
    (void)state;
    seen r1 = {0}, r2 = {0}, m1 = {0}, m2 = {0};
    pg_fanout f = {0};
    pg_fanout_add(&f, (pg_consumer){record, &m1}, 1);
    pg_fanout_add(&f, (pg_consumer){record, &r1}, 0);
    pg_fanout_add(&f, (pg_consumer){record, &m2}, 1);
    pg_fanout_add(&f, (pg_consumer){record, &r2}, 0);
    pg_consumer c = pg_fanout_consumer(&f);
    pg_batch *b = pg_batch_new();
    pg_consume_result res;
    pg_consume_result_init(&res);
    m1.answer = PG_CONSUME_PERMANENT;
    r2.answer = PG_CONSUME_RETRYABLE;
    pg_consumer_send(&c, NULL, b, &res);
    /* readers see the original; the first modifier a copy; the last modifier the original */
    assert_ptr_equal(r1.batches[0], b);
    assert_ptr_equal(r2.batches[0], b);
    assert_ptr_not_equal(m1.batches[0], b);
    assert_ptr_equal(m2.batches[0], b);
    /* retryable outranks permanent: the client must try again */
    assert_int_equal(res.status, PG_CONSUME_RETRYABLE);
    pg_batch_free(b);
    pg_fanout_free(&f);
}

static void test_single_target_fanout_is_direct(void **state)
{
    (void)state;
    seen r = {0};
    pg_fanout f = {0};
    pg_fanout_add(&f, (pg_consumer){record, &r}, 1);
    pg_consumer c = pg_fanout_consumer(&f);
    assert_ptr_equal(c.target, &r);
    pg_fanout_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alignment_and_limit),
        cmocka_unit_test(test_arena_accounting_edges),
        cmocka_unit_test(test_arena_extend_in_place),
        cmocka_unit_test(test_arena_protobuf_allocator),
        cmocka_unit_test(test_labels_sorted_and_unique),
        cmocka_unit_test(test_clone_shares_payload_copies_labels),
        cmocka_unit_test(test_fanout_copies_only_for_modifiers),
        cmocka_unit_test(test_single_target_fanout_is_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
