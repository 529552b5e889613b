/* pg_delivery_request: one tenant's request, built by an exporter on the worker thread. */
#include <stdlib.h>
#include <string.h>

#include "exporters/common/delivery_internal.h"

pg_delivery_request *pg_delivery_request_new(const char *path, const char *content_type,
                                             const char *tenant, uint32_t profiles)
{
    pg_delivery_request *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->arena = pg_arena_new(1024, 0);
    if (!r->arena) {
        free(r);
        return NULL;
    }
    r->path = pg_arena_strdup(r->arena, path ? path : "");
    r->content_type = content_type ? pg_arena_strdup(r->arena, content_type) : NULL;
    r->tenant = pg_arena_strdup(r->arena, tenant ? tenant : "");
    if (!r->path || !r->tenant || (content_type && !r->content_type)) {
        pg_delivery_request_free(r);
        return NULL;
    }
    r->profiles = profiles;
    return r;
}

int pg_delivery_request_add_header(pg_delivery_request *r, const char *name, const char *value)
{
    if (r->n_headers == r->cap_headers) {
        size_t cap = r->cap_headers ? 2 * r->cap_headers : 4;
        pg_http_header *grown = pg_arena_alloc(r->arena, cap * sizeof(*grown));
        if (!grown)
            return PG_ERR_NOMEM;
        if (r->n_headers)
            memcpy(grown, r->headers, r->n_headers * sizeof(*grown));
        r->headers = grown;
        r->cap_headers = cap;
    }
    const char *n = pg_arena_strdup(r->arena, name);
    const char *v = pg_arena_strdup(r->arena, value ? value : "");
    if (!n || !v)
        return PG_ERR_NOMEM;
    r->headers[r->n_headers++] = (pg_http_header){n, v};
    return PG_OK;
}

pg_delivery_request *pg_delivery_request_build(const char *path, const char *content_type,
                                               const char *tenant, uint32_t profiles,
                                               const pg_http_header *headers, size_t n_headers,
                                               uint8_t *body, size_t len, pg_error *err)
{
    pg_delivery_request *r = pg_delivery_request_new(path, content_type, tenant, profiles);
    for (size_t i = 0; r && i < n_headers; i++)
        if (pg_delivery_request_add_header(r, headers[i].name, headers[i].value) != PG_OK) {
            pg_delivery_request_free(r);
            r = NULL;
        }
    if (!r) {
        free(body);
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pg_delivery_request_set_body(r, body, len);
    return r;
}

void pg_delivery_request_set_body(pg_delivery_request *r, uint8_t *body, size_t len)
{
    free(r->body);
    r->body = body;
    r->body_len = len;
}

void pg_delivery_request_free(pg_delivery_request *r)
{
    if (!r)
        return;
    free(r->body);
    pg_arena_free(r->arena);
    free(r);
}

uint32_t pg_delivery_request_profiles(const pg_delivery_request *r)
{
    return r->profiles;
}

const char *pg_delivery_request_tenant(const pg_delivery_request *r)
{
    return r->tenant;
}
