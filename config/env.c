#include "config/env.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"

static int name_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Parses the body of "${...}" (between the braces) and appends its value.
 * Returns 0, PG_ERR_INVALID (msg filled) or PG_ERR_NOMEM. */
static int expand_one(pg_buf *b, const char *body, size_t len, char *msg, size_t msg_size)
{
    static const char prefix[] = "env:";
    size_t i = sizeof(prefix) - 1, name_len;
    if (len < i || memcmp(body, prefix, i) != 0) {
        const char *colon = memchr(body, ':', len);
        if (!colon)
            snprintf(msg, msg_size, "unsupported expansion '${%.*s}': write ${env:%.*s}", (int)len,
                     body, (int)len, body);
        else
            snprintf(msg, msg_size,
                     "unsupported provider '%.*s' in '${%.*s}': only env is supported",
                     (int)(colon - body), body, (int)len, body);
        return PG_ERR_INVALID;
    }
    const char *name = body + i;
    if (i >= len || !name_start(body[i])) {
        snprintf(msg, msg_size, "invalid environment variable name in '${%.*s}'", (int)len, body);
        return PG_ERR_INVALID;
    }
    while (i < len && name_char(body[i]))
        i++;
    name_len = (size_t)(body + i - name);
    const char *def = NULL;
    size_t def_len = 0;
    if (i < len) {
        if (len - i < 2 || body[i] != ':' || body[i + 1] != '-') {
            snprintf(msg, msg_size,
                     "invalid expansion '${%.*s}': expected ${env:NAME} or ${env:NAME:-default}",
                     (int)len, body);
            return PG_ERR_INVALID;
        }
        def = body + i + 2;
        def_len = len - i - 2;
    }
    char namebuf[256];
    if (name_len >= sizeof(namebuf)) {
        snprintf(msg, msg_size, "environment variable name too long");
        return PG_ERR_INVALID;
    }
    memcpy(namebuf, name, name_len);
    namebuf[name_len] = '\0';
    const char *val = getenv(namebuf);
    if ((!val || !*val) && def)
        return pg_buf_append(b, def, def_len);
    return val ? pg_buf_append_str(b, val) : 0;
}

int pg_config_expand_env(pg_arena *a, const char *s, size_t len, char **out, int *expanded,
                         size_t *err_off, char *msg, size_t msg_size)
{
    pg_buf b;
    int rc = 0;
    size_t i = 0;
    pg_buf_init(&b);
    *expanded = 0;
    while (i < len && rc == 0) {
        if (s[i] != '$' || i + 1 >= len || (s[i + 1] != '$' && s[i + 1] != '{')) {
            rc = pg_buf_append(&b, &s[i++], 1);
            continue;
        }
        *expanded = 1;
        if (s[i + 1] == '$') {
            rc = pg_buf_append(&b, "$", 1);
            i += 2;
            continue;
        }
        const char *close = memchr(s + i + 2, '}', len - i - 2);
        if (!close) {
            snprintf(msg, msg_size, "unterminated '${' (missing '}')");
            rc = PG_ERR_INVALID;
        } else {
            rc = expand_one(&b, s + i + 2, (size_t)(close - (s + i + 2)), msg, msg_size);
        }
        if (rc == PG_ERR_INVALID)
            *err_off = i;
        else if (close)
            i = (size_t)(close - s) + 1;
    }
    if (rc == 0) {
        *out = pg_arena_strndup(a, b.len ? (const char *)b.data : "", b.len);
        if (!*out)
            rc = PG_ERR_NOMEM;
    }
    pg_buf_free(&b);
    return rc;
}
