#include "pipeline/component.h"

const char *pg_component_kind_name(pg_component_kind k)
{
    switch (k) {
    case PG_KIND_RECEIVER:
        return "receiver";
    case PG_KIND_PROCESSOR:
        return "processor";
    case PG_KIND_EXPORTER:
        return "exporter";
    }
    return "component";
}

int pg_consumer_send(const pg_consumer *c, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    if (!c->consume) {
        pg_consume_fail(res, PG_CONSUME_PERMANENT, "no downstream consumer");
        return res->status;
    }
    c->consume(c->target, w, b, res);
    return res->status;
}
