/* Authorization and X-Scope-OrgID header values as a client may send them:
 * the check never crashes, accepts only a configured credential, and its
 * messages hold printable ASCII only (client bytes are quoted safely). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "receivers/common/auth.h"

static pg_auth *checker(void)
{
    static pg_auth *a;
    if (a)
        return a;
    static char *keys[] = {"tok-a", "dG9r"}, *values[] = {"tenant-a", "tenant-b"};
    static pg_auth_user users[] = {
        {.elem.key = "alice", .password = "pw", .tenant = "tenant-a"},
        {.elem.key = "b", .password = "x:y", .tenant = "tenant-c"},
    };
    static pg_auth_config c = {
        .present = 1, .bearer_tokens = {keys, values, 2}, .basic = {users, 2}};
    pg_error err;
    if (pg_auth_new(&c, "fuzz", &a, &err) != PG_OK)
        abort();
    return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* "<authorization>\n<org id>"; no newline: no X-Scope-OrgID */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *org = strchr(s, '\n');
    if (org)
        *org++ = '\0';
    pg_auth_result r;
    pg_auth_status st = pg_auth_check(checker(), s, org, &r);
    if (st == PG_AUTH_OK && strcmp(r.auth_tenant, "tenant-a") != 0 &&
        strcmp(r.auth_tenant, "tenant-b") != 0 && strcmp(r.auth_tenant, "tenant-c") != 0)
        abort();
    if (st == PG_AUTH_OK && org && *org && strcmp(org, r.auth_tenant) != 0)
        abort();
    for (const char *p = r.message; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            abort();
    free(s);
    return 0;
}
