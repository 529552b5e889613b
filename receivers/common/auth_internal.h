/* The checker's tables, shared by the files of receivers/common/auth. */
#ifndef PG_RECEIVERS_COMMON_AUTH_INTERNAL_H
#define PG_RECEIVERS_COMMON_AUTH_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/arena.h"
#include "receivers/common/auth.h"
#include "telemetry/log_throttle.h"
#include "telemetry/metrics.h"

#define PG_AUTH_DIGEST_LEN 32 /* SHA-256 */

typedef struct pg_auth_token {
    uint8_t digest[PG_AUTH_DIGEST_LEN];
    const char *tenant;
} pg_auth_token;

typedef struct pg_auth_basic_user {
    const char *name;
    uint8_t digest[PG_AUTH_DIGEST_LEN]; /* of the password */
    const char *tenant;
} pg_auth_basic_user;

struct pg_auth {
    pg_arena *arena; /* tables and the strings read from files */
    pg_auth_token *tokens;
    size_t n_tokens;
    pg_auth_basic_user *users;
    size_t n_users;
    char scope[160]; /* "receiver/<id>" for log lines */
    pg_metric *refused_unauthenticated, *refused_permission_denied;
    pg_log_throttle log_throttle;
};

/* SHA-256 of len bytes. */
void pg_auth_digest(const void *data, size_t len, uint8_t out[PG_AUTH_DIGEST_LEN]);

#endif
