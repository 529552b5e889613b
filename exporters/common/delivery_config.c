/* The shared network-exporter keys (delivery_config.h) and their cross-key checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/common/delivery_config.h"

#define OFF(field) offsetof(pg_delivery_config, field)
#define DAY_MS     (24 * 3600 * 1000LL)

const pg_config_key pg_delivery_tls_keys[] = {
    {.name = "insecure",
     .type = PG_CFG_BOOL,
     .offset = OFF(tls.insecure),
     .default_value = "false",
     .help = "plaintext even though the endpoint has no http:// scheme"},
    {.name = "ca_file",
     .type = PG_CFG_STRING,
     .offset = OFF(tls.ca_file),
     .help = "PEM bundle of the CAs to trust (default: the system's bundle)"},
    {.name = "cert_file",
     .type = PG_CFG_STRING,
     .offset = OFF(tls.cert_file),
     .help = "client certificate (PEM) for mTLS; needs key_file"},
    {.name = "key_file",
     .type = PG_CFG_STRING,
     .offset = OFF(tls.key_file),
     .help = "unencrypted PEM private key of cert_file"},
    {.name = "insecure_skip_verify",
     .type = PG_CFG_BOOL,
     .offset = OFF(tls.insecure_skip_verify),
     .default_value = "false",
     .help = "do not verify the server's certificate or name (testing only)"},
    {.name = "server_name_override",
     .type = PG_CFG_STRING,
     .offset = OFF(tls.server_name_override),
     .help = "name sent in SNI and required in the server's certificate"},
    PG_CONFIG_END,
};

const pg_config_key pg_delivery_auth_keys[] = {
    {.name = "username",
     .type = PG_CFG_STRING,
     .offset = OFF(auth.username),
     .help = "basic auth user; with password or password_file"},
    {.name = "password", .type = PG_CFG_STRING, .offset = OFF(auth.password), .help = "basic auth"},
    {.name = "password_file",
     .type = PG_CFG_STRING,
     .offset = OFF(auth.password_file),
     .help = "file holding the basic auth password (read at start, whitespace trimmed)"},
    {.name = "bearer_token",
     .type = PG_CFG_STRING,
     .offset = OFF(auth.bearer_token),
     .help = "sent as Authorization: Bearer <token>"},
    {.name = "bearer_token_file",
     .type = PG_CFG_STRING,
     .offset = OFF(auth.bearer_token_file),
     .help = "file holding the bearer token (read at start, whitespace trimmed)"},
    PG_CONFIG_END,
};

const pg_config_key pg_delivery_queue_keys[] = {
    {.name = "enabled",
     .type = PG_CFG_BOOL,
     .offset = OFF(queue.enabled),
     .default_value = "true",
     .help = "false: no waiting room, at most num_consumers requests held at once"},
    {.name = "queue_size",
     .type = PG_CFG_INT,
     .offset = OFF(queue.queue_size),
     .default_value = "1000",
     .min = 1,
     .max = 10000000,
     .help = "profiles queued, in flight or waiting for a retry, over all workers"},
    {.name = "queue_bytes",
     .type = PG_CFG_SIZE,
     .offset = OFF(queue.queue_bytes),
     .default_value = "256MiB",
     .min = 1024,
     .max = 64LL * 1024 * 1024 * 1024,
     .help = "encoded request bytes held, same scope as queue_size"},
    {.name = "num_consumers",
     .type = PG_CFG_INT,
     .offset = OFF(queue.num_consumers),
     .default_value = "10",
     .min = 1,
     .max = 10000,
     .help = "requests in flight at once over all workers (each worker gets "
             "ceil(num_consumers / workers), at least 1)"},
    {.name = "block_on_overflow",
     .type = PG_CFG_BOOL,
     .offset = OFF(queue.block_on_overflow),
     .default_value = "true",
     .help = "queue full: refuse (receivers answer 429/RESOURCE_EXHAUSTED) instead of dropping"},
    PG_CONFIG_END,
};

const pg_config_key pg_delivery_retry_keys[] = {
    {.name = "enabled",
     .type = PG_CFG_BOOL,
     .offset = OFF(retry.enabled),
     .default_value = "true",
     .help = "false: a retryable failure is given up at once"},
    {.name = "initial_interval",
     .type = PG_CFG_DURATION,
     .offset = OFF(retry.initial_interval_ms),
     .default_value = "5s",
     .min = 1,
     .max = DAY_MS,
     .help = "wait before the first retry"},
    {.name = "max_interval",
     .type = PG_CFG_DURATION,
     .offset = OFF(retry.max_interval_ms),
     .default_value = "30s",
     .min = 1,
     .max = DAY_MS,
     .help = "longest wait between two attempts (before randomization)"},
    {.name = "multiplier",
     .type = PG_CFG_FLOAT,
     .offset = OFF(retry.multiplier),
     .default_value = "1.5",
     .fmin = 1.0,
     .fmax = 100.0,
     .help = "growth of the wait after each retry"},
    {.name = "randomization_factor",
     .type = PG_CFG_FLOAT,
     .offset = OFF(retry.randomization_factor),
     .default_value = "0.5",
     .fmin = 0.0,
     .fmax = 1.0,
     .help = "each wait is spread uniformly over +-factor of itself"},
    {.name = "max_elapsed_time",
     .type = PG_CFG_DURATION,
     .offset = OFF(retry.max_elapsed_time_ms),
     .default_value = "300s",
     .min = 0,
     .max = 7 * DAY_MS,
     .help = "give up once this long has passed since the first attempt; 0s: never"},
    PG_CONFIG_END,
};

/* Where to report: the section's key node, else the component's. */
static const pg_config_node *at(const pg_config_node *node, const char *section, const char *key)
{
    const pg_config_node *s = pg_config_map_get(node, section);
    const pg_config_node *k = key ? pg_config_map_get(s, key) : NULL;
    return k ? k : s ? s : node;
}

static int has_port(const char *hostport)
{
    const char *end = hostport + strcspn(hostport, "/?#");
    const char *colon = NULL;
    for (const char *p = hostport; p < end; p++)
        if (*p == ':')
            colon = p;
    if (!colon || colon == hostport || colon + 1 == end)
        return 0;
    if (hostport[0] == '[' && colon[-1] != ']')
        return 0;
    for (const char *p = colon + 1; p < end; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

static void validate_endpoint(const pg_delivery_config *c, pg_config_report *report,
                              const pg_config_node *node)
{
    const char *ep = c->endpoint;
    const pg_config_node *n = at(node, "endpoint", NULL);
    if (!ep)
        return; /* required: already reported */
    const char *rest = NULL;
    if (strncmp(ep, "http://", 7) == 0)
        rest = ep + 7;
    else if (strncmp(ep, "https://", 8) == 0)
        rest = ep + 8;
    if (rest) {
        if (!*rest || *rest == '/' || *rest == ':')
            pg_config_report_error(report, n, "endpoint '%s' has no host", ep);
    } else if (strstr(ep, "://")) {
        pg_config_report_error(report, n, "endpoint '%s': the scheme must be http:// or https://",
                               ep);
    } else if (!has_port(ep)) {
        pg_config_report_error(report, n,
                               "endpoint '%s': expected http://..., https://... or host:port", ep);
    }
    if (rest == ep + 7 &&
        (c->tls.ca_file || c->tls.cert_file || c->tls.key_file || c->tls.server_name_override))
        pg_config_report_error(report, at(node, "tls", NULL),
                               "tls options need an https endpoint (endpoint is '%s')", ep);
}

static void validate_auth(const pg_client_auth_config *a, pg_config_report *report,
                          const pg_config_node *node)
{
    int basic = a->username || a->password || a->password_file;
    int bearer = a->bearer_token || a->bearer_token_file;
    if (basic && bearer)
        pg_config_report_error(report, at(node, "auth", NULL),
                               "auth: use either username/password or a bearer token, not both");
    if (basic && !a->username)
        pg_config_report_error(report, at(node, "auth", NULL), "auth: password needs a username");
    if (a->username && !a->password == !a->password_file)
        pg_config_report_error(report, at(node, "auth", "username"),
                               "auth: username needs exactly one of password and password_file");
    if (a->bearer_token && a->bearer_token_file)
        pg_config_report_error(report, at(node, "auth", "bearer_token"),
                               "auth: set bearer_token or bearer_token_file, not both");
    if (a->bearer_token && !*a->bearer_token)
        pg_config_report_error(report, at(node, "auth", "bearer_token"),
                               "auth: bearer_token is empty");
}

void pg_delivery_config_validate(const pg_delivery_config *c, pg_config_report *report,
                                 const pg_config_node *node)
{
    validate_endpoint(c, report, node);
    validate_auth(&c->auth, report, node);
    if (!c->tls.cert_file != !c->tls.key_file)
        pg_config_report_error(report, at(node, "tls", c->tls.cert_file ? "cert_file" : "key_file"),
                               "tls: cert_file and key_file go together");
    if (c->retry.max_interval_ms < c->retry.initial_interval_ms)
        pg_config_report_error(report, at(node, "retry_on_failure", "max_interval"),
                               "retry_on_failure: max_interval is shorter than initial_interval");
    if (c->tenant_header && !*c->tenant_header)
        pg_config_report_warning(report, at(node, "tenant_header", NULL),
                                 "tenant_header is empty: tenants are not sent");
}
