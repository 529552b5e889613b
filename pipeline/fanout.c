#include "pipeline/fanout.h"

#include <stdlib.h>
#include <string.h>

int pg_fanout_add(pg_fanout *f, pg_consumer c, int mutates)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        pg_fanout_target *t = realloc(f->targets, cap * sizeof(*t));
        if (!t)
            return PG_ERR_NOMEM;
        f->targets = t;
        f->cap = cap;
    }
    /* keep modifying targets at the end so that the last of them can take
     * the original batch after every reader has seen it */
    size_t pos = f->n;
    if (!mutates)
        while (pos > 0 && f->targets[pos - 1].mutates)
            pos--;
    memmove(f->targets + pos + 1, f->targets + pos, (f->n - pos) * sizeof(*f->targets));
    f->targets[pos].consumer = c;
    f->targets[pos].mutates = mutates;
    f->n++;
    return PG_OK;
}

void pg_fanout_free(pg_fanout *f)
{
    free(f->targets);
    memset(f, 0, sizeof(*f));
}

static int fanout_consume(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    pg_fanout *f = target;
    for (size_t i = 0; i < f->n; i++) {
        pg_fanout_target *t = &f->targets[i];
        pg_consume_result one;
        pg_consume_result_init(&one);
        if (t->mutates && i + 1 < f->n) {
            pg_batch *copy = pg_batch_clone(b);
            if (!copy) {
                pg_consume_fail(res, PG_CONSUME_RETRYABLE, "out of memory copying a batch");
                continue;
            }
            pg_consumer_send(&t->consumer, w, copy, &one);
            pg_batch_free(copy);
        } else {
            pg_consumer_send(&t->consumer, w, b, &one);
        }
        if (one.status != PG_CONSUME_OK)
            pg_consume_fail(res, one.status, "%s", one.msg);
        if (one.rejected > res->rejected)
            res->rejected = one.rejected;
        if (one.retry_after_ms > res->retry_after_ms)
            res->retry_after_ms = one.retry_after_ms;
    }
    return res->status;
}

pg_consumer pg_fanout_consumer(pg_fanout *f)
{
    if (f->n == 1)
        return f->targets[0].consumer;
    pg_consumer c = {.consume = fanout_consume, .target = f};
    return c;
}
