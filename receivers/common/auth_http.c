/* Authentication on the receivers' HTTP and gRPC requests: counting,
 * logging and the protocol answers of a refusal. */
#include <stdio.h>

#include "receivers/common/auth_internal.h"
#include "telemetry/log.h"
#include "telemetry/log_throttle.h"

/* One warn line per second per receiver: a client retrying with a wrong
 * token must not flood the log. */
static void log_refusal(pg_auth *a, const pg_http_request *req, const pg_auth_result *res)
{
    uint64_t skipped;
    if (!pg_log_throttle_allow(&a->log_throttle, &skipped))
        return;
    char more[64];
    pg_log(PG_LOG_WARN, a->scope, "refused %s %s from %s: %s%s", req->method ? req->method : "?",
           req->path ? req->path : "?", req->remote_addr ? req->remote_addr : "?", res->message,
           pg_log_throttle_note(skipped, more, sizeof(more)));
}

pg_auth_status pg_auth_check_request(pg_auth *a, const pg_http_request *req, pg_auth_result *res)
{
    pg_auth_status st = pg_auth_check(a, pg_http_request_header(req, "authorization"),
                                      pg_http_request_header(req, "x-scope-orgid"), res);
    if (st == PG_AUTH_OK)
        return st;
    pg_metric_add(st == PG_AUTH_UNAUTHENTICATED ? a->refused_unauthenticated
                                                : a->refused_permission_denied,
                  1);
    log_refusal(a, req, res);
    return st;
}

int pg_auth_http_status(pg_auth_status st)
{
    return st == PG_AUTH_OK ? 200 : st == PG_AUTH_UNAUTHENTICATED ? 401 : 403;
}

int pg_auth_grpc_status(pg_auth_status st)
{
    return st == PG_AUTH_OK                ? PG_GRPC_OK
           : st == PG_AUTH_UNAUTHENTICATED ? PG_GRPC_UNAUTHENTICATED
                                           : PG_GRPC_PERMISSION_DENIED;
}

void pg_auth_add_challenges(const pg_auth *a, pg_http_request *req, pg_http_response *resp)
{
    if (!a)
        return;
    if (a->n_tokens)
        pg_http_response_add_header(req, resp, "www-authenticate", "Bearer realm=\"profgate\"");
    if (a->n_users)
        pg_http_response_add_header(req, resp, "www-authenticate",
                                    "Basic realm=\"profgate\", charset=\"UTF-8\"");
}
