/*
 * receivers/common/auth: request authentication shared by every receiver.
 *
 * A receiver embeds the `auth` section in its configuration:
 *
 *   auth:
 *     bearer_tokens: {tok-a: tenant-a}          # token -> tenant
 *     bearer_tokens_file: /etc/profgate/tokens  # lines "<token> <tenant>"
 *     basic:
 *       alice: {password: "${env:ALICE_PW}", tenant: tenant-a}
 *       bob:   {password_file: /run/secrets/bob, tenant: tenant-b}
 *
 * With credentials configured, every request must carry
 * `Authorization: Bearer <token>` or `Authorization: Basic <base64 user:pass>`
 * (gRPC: the `authorization` metadata). The credential maps to a tenant T;
 * a request that also names another tenant in X-Scope-OrgID is refused
 * (permission denied), since a credential must not write as someone else.
 * Without an `auth` section every request is accepted and the tenant is the
 * header's, as before.
 *
 * Secrets are compared as SHA-256 digests with CRYPTO_memcmp, so neither a
 * secret's content nor its length shows in the time a check takes. Files are
 * read once, by pg_auth_new on the main thread; checking is read-only and
 * safe from every worker thread at once.
 */
#ifndef PG_RECEIVERS_COMMON_AUTH_H
#define PG_RECEIVERS_COMMON_AUTH_H

#include <stddef.h>

#include "common/error.h"
#include "config/schema.h"
#include "transport/http_server.h"

/* One `basic` user; elem.key is the user name. */
typedef struct pg_auth_user {
    pg_cfg_elem elem;
    char *password;
    char *password_file;
    char *tenant;
} pg_auth_user;

typedef struct pg_auth_config {
    int present;
    pg_str_map bearer_tokens;
    char *bearer_tokens_file;
    pg_cfg_list basic; /* of pg_auth_user */
} pg_auth_config;

extern const pg_config_key pg_auth_user_keys[];

#define PG_AUTH_HELP                                                                               \
    "require credentials (bearer tokens and/or basic-auth users), each mapped to the tenant its "  \
    "requests write as; 401 / UNAUTHENTICATED without valid ones"

/* The keys of the `auth` section for a receiver whose typed config struct
 * TYPE holds a pg_auth_config at FIELD. Use as the initialiser of the
 * receiver's own `static const pg_config_key x[]`. */
#define PG_AUTH_CONFIG_KEYS(TYPE, FIELD)                                                           \
    {                                                                                              \
        {.name = "bearer_tokens",                                                                  \
         .type = PG_CFG_STRING_MAP,                                                                \
         .offset = offsetof(TYPE, FIELD.bearer_tokens),                                            \
         .help = "map of bearer token -> tenant"},                                                 \
            {.name = "bearer_tokens_file",                                                         \
             .type = PG_CFG_STRING,                                                                \
             .offset = offsetof(TYPE, FIELD.bearer_tokens_file),                                   \
             .help = "file of more tokens, one '<token> <tenant>' per line ('#' comments); read "  \
                     "once at start"},                                                             \
            {.name = "basic",                                                                      \
             .type = PG_CFG_MAP_OF,                                                                \
             .offset = offsetof(TYPE, FIELD.basic),                                                \
             .children = pg_auth_user_keys,                                                        \
             .elem_size = sizeof(pg_auth_user),                                                    \
             .help = "basic-auth users by name: {password | password_file, tenant}"},              \
            PG_CONFIG_END                                                                          \
    }

/* Cross-key checks of a receiver's `auth` section: at least one credential,
 * no empty tenant, token or password, exactly one of password and
 * password_file, no ':' in a user name. receiver_node is the receiver's map
 * (where `auth` is looked up for positions). */
void pg_auth_config_validate(const pg_auth_config *c, pg_config_report *report,
                             const pg_config_node *receiver_node);

typedef struct pg_auth pg_auth;

/* Builds the checker for c (reads the files it names). *out is NULL when c
 * configures no authentication (absent section), which pg_auth_check
 * accepts as "let everything through". receiver_id labels the metrics and
 * log lines. */
int pg_auth_new(const pg_auth_config *c, const char *receiver_id, pg_auth **out, pg_error *err);
void pg_auth_free(pg_auth *a);

typedef enum pg_auth_status {
    PG_AUTH_OK = 0,
    PG_AUTH_UNAUTHENTICATED = 1,   /* missing or invalid credentials: 401 */
    PG_AUTH_PERMISSION_DENIED = 2, /* valid credential, other tenant asked: 403 */
} pg_auth_status;

typedef struct pg_auth_result {
    pg_auth_status status;
    /* The credential's tenant ("" without auth) and X-Scope-OrgID ("" when
     * absent), for pg_profile_set_tenant_sources. Valid while a lives. */
    const char *auth_tenant;
    const char *header_tenant;
    /* Why a request was refused; never contains a secret. */
    char message[200];
} pg_auth_result;

/* Checks an Authorization header value and an X-Scope-OrgID value (each
 * NULL when absent). No side effects. */
pg_auth_status pg_auth_check(const pg_auth *a, const char *authorization, const char *org_id,
                             pg_auth_result *res);

/* pg_auth_check on a request's headers; a refusal is also counted in
 * profgate_receiver_refused_requests_total{receiver,reason} and logged (at
 * most one warn line per second per receiver). header_tenant points into
 * req's memory. */
pg_auth_status pg_auth_check_request(pg_auth *a, const pg_http_request *req, pg_auth_result *res);

/* The answers for a refusal: HTTP 401 / 403, gRPC UNAUTHENTICATED /
 * PERMISSION_DENIED. */
int pg_auth_http_status(pg_auth_status st);
int pg_auth_grpc_status(pg_auth_status st);

/* Adds the WWW-Authenticate challenges (Bearer and/or Basic,
 * realm="profgate") a 401 answer carries. */
void pg_auth_add_challenges(const pg_auth *a, pg_http_request *req, pg_http_response *resp);

#endif
