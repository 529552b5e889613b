/*
 * A worker is one thread running one libuv event loop. Receivers listen on
 * every worker (SO_REUSEPORT), and a batch that arrives on a worker travels
 * through processors and into exporters on that same thread, so the hot path
 * takes no locks. Blocking work (disk, DNS) is handed to a component's own
 * thread or to libuv's thread pool, never run on a worker loop.
 */
#ifndef PG_PIPELINE_WORKER_H
#define PG_PIPELINE_WORKER_H

#include <stdint.h>
#include <uv.h>

typedef struct pg_worker {
    int id; /* 0 .. count-1, usable as an index into per-worker state */
    uv_loop_t *loop;
    struct pg_service *service;
    /* Set before worker_stop runs: the monotonic instant (pg_now_ms()) by
     * which a draining component must have closed its handles. */
    uint64_t stop_deadline_ms;
} pg_worker;

#endif
