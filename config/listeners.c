/*
 * Two listeners on one address would make the second bind fail at start;
 * catching it here reports it with positions, together with every other
 * problem. Only receivers used by a pipeline are started, so only they count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/load_state.h"
#include "config/values.h"

void pg_load_add_listener(pg_load *l, const char *value, const char *owner,
                          const pg_config_node *at, size_t receiver)
{
    if (l->n_listeners == l->cap_listeners) {
        size_t cap = l->cap_listeners ? l->cap_listeners * 2 : 8;
        pg_listener *n = pg_arena_calloc(l->arena, cap, sizeof(*n));
        if (!n)
            return;
        if (l->n_listeners)
            memcpy(n, l->listeners, l->n_listeners * sizeof(*n));
        l->listeners = n;
        l->cap_listeners = cap;
    }
    l->listeners[l->n_listeners++] = (pg_listener){value, owner, at, receiver};
}

static int pos_cmp(const void *pa, const void *pb)
{
    const pg_listener *a = pa, *b = pb;
    int la = a->at ? a->at->line : 0, lb = b->at ? b->at->line : 0;
    int ca = a->at ? a->at->col : 0, cb = b->at ? b->at->col : 0;
    if (la != lb)
        return la < lb ? -1 : 1;
    return ca < cb ? -1 : (ca > cb);
}

static int active(const pg_load *l, const pg_listener *x)
{
    return x->receiver == SIZE_MAX || (l->used[0] && l->used[0][x->receiver]);
}

void pg_load_check_listeners(pg_load *l)
{
    if (l->n_listeners < 2)
        return;
    /* Sorted by position so that the error lands on the later one in the file. */
    qsort(l->listeners, l->n_listeners, sizeof(*l->listeners), pos_cmp);
    for (size_t i = 1; i < l->n_listeners; i++) {
        const pg_listener *b = &l->listeners[i];
        if (!active(l, b))
            continue;
        for (size_t j = 0; j < i; j++) {
            const pg_listener *a = &l->listeners[j];
            if (!active(l, a) || !pg_config_endpoints_overlap(a->value, b->value))
                continue;
            pg_config_report_error(l->report, b->at,
                                   "%s listens on '%s', which overlaps '%s' of %s (line %d)",
                                   b->owner, b->value, a->value, a->owner, a->at ? a->at->line : 0);
            break;
        }
    }
}
