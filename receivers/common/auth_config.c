/* The `auth` section's per-user keys and the checks that span several keys. */
#include <stddef.h>
#include <string.h>

#include "receivers/common/auth.h"

#define USER(field) offsetof(pg_auth_user, field)

const pg_config_key pg_auth_user_keys[] = {
    {.name = "password",
     .type = PG_CFG_STRING,
     .offset = USER(password),
     .help = "the user's password (use ${env:VAR} to keep it out of the file)"},
    {.name = "password_file",
     .type = PG_CFG_STRING,
     .offset = USER(password_file),
     .help = "file holding the password (leading and trailing whitespace trimmed, as the "
             "exporters do); read once at start"},
    {.name = "tenant",
     .type = PG_CFG_STRING,
     .offset = USER(tenant),
     .required = true,
     .help = "tenant the user's requests write as"},
    PG_CONFIG_END,
};

/* A token is sent as one HTTP header word: whitespace or control characters
 * could never match. */
static int token_sendable(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

static const pg_config_node *or_node(const pg_config_node *n, const pg_config_node *fallback)
{
    return n ? n : fallback;
}

static void validate_tokens(const pg_auth_config *c, pg_config_report *report,
                            const pg_config_node *auth_node)
{
    const pg_config_node *map = or_node(pg_config_map_get(auth_node, "bearer_tokens"), auth_node);
    for (size_t i = 0; i < c->bearer_tokens.n; i++) {
        const char *tok = c->bearer_tokens.keys[i], *tenant = c->bearer_tokens.values[i];
        const pg_config_node *at = or_node(pg_config_map_get(map, tok), map);
        if (!*tok)
            pg_config_report_error(report, at, "auth.bearer_tokens: empty token");
        else if (!token_sendable(tok))
            pg_config_report_error(report, at,
                                   "auth.bearer_tokens: token #%zu contains whitespace or control "
                                   "characters; no client could send it",
                                   i + 1);
        if (!tenant || !*tenant)
            pg_config_report_error(report, at,
                                   "auth.bearer_tokens: token #%zu maps to an empty "
                                   "tenant",
                                   i + 1);
    }
    if (c->bearer_tokens_file && !*c->bearer_tokens_file)
        pg_config_report_error(
            report, or_node(pg_config_map_get(auth_node, "bearer_tokens_file"), auth_node),
            "auth.bearer_tokens_file: empty path");
}

static void validate_user(const pg_auth_user *u, pg_config_report *report,
                          const pg_config_node *fallback)
{
    const pg_config_node *at = or_node(u->elem.node, fallback);
    const char *name = u->elem.key ? u->elem.key : "";
    if (!*name)
        pg_config_report_error(report, at, "auth.basic: empty user name");
    else if (strchr(name, ':'))
        pg_config_report_error(report, at,
                               "auth.basic.%s: a user name cannot contain ':' (basic auth "
                               "separates user and password with it)",
                               name);
    if (!!u->password == !!u->password_file)
        pg_config_report_error(report, at,
                               "auth.basic.%s: set exactly one of password and "
                               "password_file",
                               name);
    else if (u->password && !*u->password)
        pg_config_report_error(
            report, at, "auth.basic.%s: empty password (is the environment variable set?)", name);
    else if (u->password_file && !*u->password_file)
        pg_config_report_error(report, at, "auth.basic.%s: empty password_file path", name);
    if (u->tenant && !*u->tenant)
        pg_config_report_error(report, at, "auth.basic.%s: empty tenant", name);
}

void pg_auth_config_validate(const pg_auth_config *c, pg_config_report *report,
                             const pg_config_node *receiver_node)
{
    if (!c->present)
        return;
    const pg_config_node *auth_node =
        or_node(pg_config_map_get(receiver_node, "auth"), receiver_node);
    if (c->bearer_tokens.n == 0 && !c->bearer_tokens_file && c->basic.n == 0) {
        pg_config_report_error(report, auth_node,
                               "auth needs at least one credential: bearer_tokens, "
                               "bearer_tokens_file or basic (remove the section to accept "
                               "requests without credentials)");
        return;
    }
    validate_tokens(c, report, auth_node);
    for (size_t i = 0; i < c->basic.n; i++)
        validate_user(PG_CFG_LIST_AT(c->basic, pg_auth_user, i), report, auth_node);
}
