#include "processors/common/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backtracking budget per match: far above what a rule over a label value
 * needs, low enough that a catastrophic pattern fails in milliseconds. */
#define MATCH_LIMIT 1000000u

struct pg_regex {
    pcre2_code *code;
    pcre2_match_context *mctx;
    char *pattern;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *md)
{
    pcre2_match_data_free(md);
}

static void scratch_init(void)
{
    pthread_key_create(&scratch_key, scratch_free);
}

/* This thread's match data, freed when the thread ends. */
static pcre2_match_data *scratch(void)
{
    pthread_once(&scratch_once, scratch_init);
    pcre2_match_data *md = pthread_getspecific(scratch_key);
    if (!md) {
        md = pcre2_match_data_create(PG_REGEX_MAX_GROUPS, NULL);
        if (md && pthread_setspecific(scratch_key, md) != 0) {
            pcre2_match_data_free(md);
            md = NULL;
        }
    }
    return md;
}

int pg_regex_compile(const char *pattern, pg_regex **out, pg_error *err)
{
    *out = NULL;
    size_t plen = strlen(pattern);
    /* Anchored at both ends by compile options rather than by wrapping the
     * pattern in a group, which a pattern such as "a)|(b" could close.
     * ENDANCHORED also keeps '$' from matching before a trailing newline,
     * as RE2's '$' without (?m) does not. (?s): '.' matches newlines. */
    char *prefixed = malloc(plen + 8);
    pg_regex *re = calloc(1, sizeof(*re));
    if (!prefixed || !re || !(re->pattern = strdup(pattern))) {
        free(prefixed);
        free(re);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    snprintf(prefixed, plen + 8, "(?s)%s", pattern);
    int code;
    PCRE2_SIZE at;
    re->code = pcre2_compile((PCRE2_SPTR)prefixed, PCRE2_ZERO_TERMINATED,
                             PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF |
                                 PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C,
                             &code, &at, NULL);
    free(prefixed);
    if (!re->code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof(msg));
        /* offsets are reported in the user's pattern, not the prefixed one */
        size_t off = at >= 4 ? at - 4 : 0;
        if (off > plen)
            off = plen;
        pg_error_set(err, PG_ERR_INVALID, "invalid regex '%s': %s at offset %zu", pattern,
                     (const char *)msg, off);
        pg_regex_free(re);
        return PG_ERR_INVALID;
    }
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE); /* interpreter when no JIT */
    re->mctx = pcre2_match_context_create(NULL);
    if (!re->mctx) {
        pg_regex_free(re);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    pcre2_set_match_limit(re->mctx, MATCH_LIMIT);
    *out = re;
    return PG_OK;
}

void pg_regex_free(pg_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    pcre2_match_context_free(re->mctx);
    free(re->pattern);
    free(re);
}

static void fill_groups(const pg_regex *re, pcre2_match_data *md, int rc, pg_regex_groups *g)
{
    uint32_t count = pg_regex_capture_count(re) + 1;
    if (count > PG_REGEX_MAX_GROUPS)
        count = PG_REGEX_MAX_GROUPS;
    /* rc == 0: more groups than the scratch holds; all of its slots are valid */
    uint32_t set = rc == 0 ? count : (uint32_t)rc;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    for (uint32_t i = 0; i < PG_REGEX_MAX_GROUPS; i++) {
        int valid = i < set && ov[2 * i] != PCRE2_UNSET;
        g->offsets[2 * i] = valid ? (size_t)ov[2 * i] : PG_REGEX_UNSET;
        g->offsets[2 * i + 1] = valid ? (size_t)ov[2 * i + 1] : PG_REGEX_UNSET;
    }
    g->count = count;
}

int pg_regex_match(const pg_regex *re, const char *subject, size_t len, pg_regex_groups *groups)
{
    pcre2_match_data *md = scratch();
    if (!md)
        return PG_ERR_NOMEM;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)(subject ? subject : ""), len, 0, 0, md, re->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return rc == PCRE2_ERROR_NOMEMORY ? PG_ERR_NOMEM : PG_ERR_LIMIT;
    if (groups)
        fill_groups(re, md, rc, groups);
    return 1;
}

int pg_regex_group_number(const pg_regex *re, const char *name, size_t name_len)
{
    char buf[256];
    if (name_len == 0 || name_len >= sizeof(buf))
        return -1;
    memcpy(buf, name, name_len);
    buf[name_len] = '\0';
    int n = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)buf);
    return n > 0 ? n : -1;
}

uint32_t pg_regex_capture_count(const pg_regex *re)
{
    uint32_t n = 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &n);
    return n;
}

const char *pg_regex_pattern(const pg_regex *re)
{
    return re->pattern;
}
