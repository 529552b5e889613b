/*
 * pg_otlp_to_pprof: checks the selection, plans the documents
 * (otlp_to_pprof_plan.c) and builds each one (otlp_to_pprof_doc.c).
 */
#include "convert/otlp_to_pprof_internal.h"

#include <string.h>

static int check_refs(const pg_otlp_request *req, const pg_otlp_ref *refs, size_t n, pg_error *err)
{
    for (size_t i = 0; i < n; i++) {
        pg_otlp_ref r = refs[i];
        const pg_otlp_resource_profiles *rp = r.resource_index < req->n_resource_profiles
                                                  ? req->resource_profiles[r.resource_index]
                                                  : NULL;
        const pg_otlp_scope_profiles *sp =
            rp && r.scope_index < rp->n_scope_profiles ? rp->scope_profiles[r.scope_index] : NULL;
        if (!sp || r.profile_index >= sp->n_profiles)
            return pg_error_set(err, PG_ERR_INVALID,
                                "refs[%zu] (resource %u, scope %u, profile %u) names no profile", i,
                                r.resource_index, r.scope_index, r.profile_index);
    }
    if (n && !req->dictionary)
        return pg_error_set(err, PG_ERR_INVALID, "request has profiles but no dictionary");
    return 0;
}

/* Every profile of the request, in order. */
static pg_otlp_ref *all_refs(pg_arena *a, const pg_otlp_request *req, size_t *n)
{
    size_t total = pg_otlp_profile_count(req), k = 0;
    pg_otlp_ref *refs = pg_arena_alloc(a, (total ? total : 1) * sizeof(*refs));
    if (!refs)
        return NULL;
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++) {
        const pg_otlp_resource_profiles *rp = req->resource_profiles[ri];
        for (size_t si = 0; si < rp->n_scope_profiles; si++) {
            for (size_t pi = 0; pi < rp->scope_profiles[si]->n_profiles; pi++)
                refs[k++] = (pg_otlp_ref){(uint32_t)ri, (uint32_t)si, (uint32_t)pi};
        }
    }
    *n = k;
    return refs;
}

static const pg_otlp_profile *profile_at(const pg_otlp_request *req, pg_otlp_ref r)
{
    return req->resource_profiles[r.resource_index]
        ->scope_profiles[r.scope_index]
        ->profiles[r.profile_index];
}

static int build_all(o2p_ctx *c, const o2p_plan_doc *plan, size_t n, pg_pprof_doc *out)
{
    /* one document with as many profiles as the request: each profile once,
     * since a profile selected twice would repeat its type and split */
    int whole = n == 1 && plan[0].n == pg_otlp_profile_count(c->req);
    size_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = plan[i].n > max ? plan[i].n : max;
    const pg_otlp_profile **profiles = pg_arena_alloc(c->a, (max ? max : 1) * sizeof(*profiles));
    if (!profiles)
        return o2p_nomem(c);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < plan[i].n; k++)
            profiles[k] = profile_at(c->req, plan[i].refs[k]);
        memset(&out[i], 0, sizeof(out[i]));
        out[i].sources = plan[i].refs;
        out[i].n_sources = plan[i].n;
        int rc = o2p_build_doc(c, profiles, plan[i].n, plan[i].default_type, whole, &out[i]);
        if (rc < 0)
            return c->rc ? c->rc : rc;
    }
    return 0;
}

int pg_otlp_to_pprof(pg_arena *a, const pg_otlp_request *req, const pg_otlp_ref *refs,
                     size_t n_refs, pg_pprof_doc **docs, size_t *n_docs, pg_error *err)
{
    *docs = NULL;
    *n_docs = 0;
    if (!refs && !(refs = all_refs(a, req, &n_refs)))
        return pg_error_set(err, pg_arena_limit_hit(a) ? PG_ERR_LIMIT : PG_ERR_NOMEM,
                            "pprof conversion: out of memory");
    int rc = check_refs(req, refs, n_refs, err);
    if (rc < 0 || n_refs == 0)
        return rc;
    o2p_plan_doc *plan;
    size_t n_plan;
    rc = o2p_plan(a, req, refs, n_refs, &plan, &n_plan, err);
    if (rc < 0)
        return rc;
    o2p_ctx c;
    pg_pprof_doc *out = pg_arena_alloc(a, n_plan * sizeof(*out));
    if (!out)
        return pg_error_set(err, pg_arena_limit_hit(a) ? PG_ERR_LIMIT : PG_ERR_NOMEM,
                            "pprof conversion: out of memory");
    rc = o2p_ctx_init(&c, a, req, err);
    if (rc == 0)
        rc = build_all(&c, plan, n_plan, out);
    if (rc < 0)
        return rc;
    *docs = out;
    *n_docs = n_plan;
    return PG_OK;
}
