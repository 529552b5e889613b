/*
 * Settings every network exporter shares: destination and client options
 * (endpoint, tls, auth, headers, tenant header, timeout) and the delivery
 * chain (sending_queue, retry_on_failure). A network exporter's typed config
 * starts with a pg_delivery_config member at offset 0, so that the one key
 * table below describes it in every exporter:
 *
 *     typedef struct my_exporter_config {
 *         pg_delivery_config delivery;     // must be first
 *         int api;                         // the exporter's own keys
 *     } my_exporter_config;
 *     static const pg_config_key my_keys[] = {
 *         PG_DELIVERY_CONFIG_KEYS,
 *         {.name = "api", ...},
 *         PG_CONFIG_END,
 *     };
 *     _Static_assert(offsetof(my_exporter_config, delivery) == 0, "delivery first");
 *
 * YAML shape (defaults shown):
 *
 *     endpoint: https://host:4040      # required
 *     timeout: 10s                     # per attempt
 *     headers: {X-Custom: v}
 *     tenant_header: X-Scope-OrgID     # carries each batch's tenant
 *     tls: {insecure: false, ca_file, cert_file, key_file,
 *           insecure_skip_verify: false, server_name_override}
 *     auth: {username, password | password_file}
 *        or {bearer_token | bearer_token_file}
 *     sending_queue: {enabled: true, queue_size: 1000, queue_bytes: 256MiB,
 *                     num_consumers: 10, block_on_overflow: true}
 *     retry_on_failure: {enabled: true, initial_interval: 5s, max_interval: 30s,
 *                        multiplier: 1.5, randomization_factor: 0.5,
 *                        max_elapsed_time: 300s}
 */
#ifndef PG_EXPORTERS_COMMON_DELIVERY_CONFIG_H
#define PG_EXPORTERS_COMMON_DELIVERY_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config/schema.h"

typedef struct pg_client_tls_config {
    int present;
    bool insecure;
    char *ca_file;
    char *cert_file;
    char *key_file;
    bool insecure_skip_verify;
    char *server_name_override;
} pg_client_tls_config;

typedef struct pg_client_auth_config {
    int present;
    char *username;
    char *password;
    char *password_file;
    char *bearer_token;
    char *bearer_token_file;
} pg_client_auth_config;

typedef struct pg_sending_queue_config {
    int present;
    bool enabled;           /* false: no waiting room, only num_consumers requests in flight */
    int64_t queue_size;     /* profiles waiting, in flight or backing off */
    uint64_t queue_bytes;   /* encoded request bytes, same scope */
    int64_t num_consumers;  /* requests in flight at once, over all workers */
    bool block_on_overflow; /* full: refuse (429 upstream) rather than drop */
} pg_sending_queue_config;

typedef struct pg_retry_config {
    int present;
    bool enabled;
    uint64_t initial_interval_ms;
    uint64_t max_interval_ms;
    double multiplier;
    double randomization_factor;
    uint64_t max_elapsed_time_ms; /* 0: retry until shutdown */
} pg_retry_config;

typedef struct pg_delivery_config {
    char *endpoint;
    uint64_t timeout_ms;
    pg_str_map headers;
    char *tenant_header;
    pg_client_tls_config tls;
    pg_client_auth_config auth;
    pg_sending_queue_config queue;
    pg_retry_config retry;
} pg_delivery_config;

/* The sections' children; the top-level entries are PG_DELIVERY_CONFIG_KEYS. */
extern const pg_config_key pg_delivery_tls_keys[];
extern const pg_config_key pg_delivery_auth_keys[];
extern const pg_config_key pg_delivery_queue_keys[];
extern const pg_config_key pg_delivery_retry_keys[];

#define PG_DELIVERY_OFFSET(field) offsetof(pg_delivery_config, field)

/* Top-level keys, to be listed first in a network exporter's key table. */
#define PG_DELIVERY_CONFIG_KEYS                                                                    \
    {.name = "endpoint",                                                                           \
     .type = PG_CFG_STRING,                                                                        \
     .offset = PG_DELIVERY_OFFSET(endpoint),                                                       \
     .required = true,                                                                             \
     .help = "base URL: http://host:port (plaintext), https://host:port or host:port (TLS)"},      \
        {.name = "timeout",                                                                        \
         .type = PG_CFG_DURATION,                                                                  \
         .offset = PG_DELIVERY_OFFSET(timeout_ms),                                                 \
         .default_value = "10s",                                                                   \
         .min = 1,                                                                                 \
         .max = 3600000,                                                                           \
         .help = "limit for one attempt (connect, send, response), however long the data "         \
                 "waited before"},                                                                 \
        {.name = "headers",                                                                        \
         .type = PG_CFG_STRING_MAP,                                                                \
         .offset = PG_DELIVERY_OFFSET(headers),                                                    \
         .help = "extra headers sent with every request"},                                         \
        {.name = "tenant_header",                                                                  \
         .type = PG_CFG_STRING,                                                                    \
         .offset = PG_DELIVERY_OFFSET(tenant_header),                                              \
         .default_value = "X-Scope-OrgID",                                                         \
         .help = "header carrying the batch's tenant (omitted for profiles without one)"},         \
        {.name = "tls",                                                                            \
         .type = PG_CFG_SECTION,                                                                   \
         .offset = PG_DELIVERY_OFFSET(tls.present),                                                \
         .children = pg_delivery_tls_keys,                                                         \
         .help = "client side of TLS"},                                                            \
        {.name = "auth",                                                                           \
         .type = PG_CFG_SECTION,                                                                   \
         .offset = PG_DELIVERY_OFFSET(auth.present),                                               \
         .children = pg_delivery_auth_keys,                                                        \
         .help = "credentials: basic (username, password) or a bearer token"},                     \
        {.name = "sending_queue",                                                                  \
         .type = PG_CFG_SECTION,                                                                   \
         .offset = PG_DELIVERY_OFFSET(queue.present),                                              \
         .children = pg_delivery_queue_keys,                                                       \
         .help = "bounded queue between the pipeline and the network"},                            \
    {                                                                                              \
        .name = "retry_on_failure", .type = PG_CFG_SECTION,                                        \
        .offset = PG_DELIVERY_OFFSET(retry.present), .children = pg_delivery_retry_keys,           \
        .help = "exponential backoff for retryable failures"                                       \
    }

/* Cross-key checks (auth: basic xor bearer, password xor password_file;
 * tls.cert_file with key_file; endpoint syntax; tls options with a
 * plaintext endpoint). */
void pg_delivery_config_validate(const pg_delivery_config *c, pg_config_report *report,
                                 const pg_config_node *node);

#endif
