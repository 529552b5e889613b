/* Rule checks, mirroring what Prometheus's relabel.Config.Validate refuses. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "processors/relabel/relabel_internal.h"

static const char *const action_names[PG_RELABEL_ACTIONS] = {
    "replace",  "keep",      "drop",      "keepequal", "dropequal", "hashmod",
    "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase",
};

int pg_relabel_action_parse(const char *s)
{
    if (!s)
        return PG_RELABEL_REPLACE;
    for (int i = 0; i < PG_RELABEL_ACTIONS; i++)
        if (strcasecmp(s, action_names[i]) == 0)
            return i;
    return -1;
}

const char *pg_relabel_action_name(pg_relabel_action a)
{
    return a >= 0 && a < PG_RELABEL_ACTIONS ? action_names[a] : "?";
}

static const char *or_default(const char *s, const char *def)
{
    return s ? s : def;
}

static int valid_name(const char *s)
{
    return s && *s && relabel_valid_utf8(s, strlen(s));
}

/* Names the key at fault and returns the error. */
#define FAIL(which, ...) (*field = (which), pg_error_set(err, PG_ERR_INVALID, __VA_ARGS__))

/* Keys that must stay at their defaults for labeldrop/labelkeep and for
 * keepequal/dropequal. */
static int check_only(const pg_relabel_rule_spec *s, pg_relabel_action act, const char **field,
                      pg_error *err)
{
    const char *name = action_names[act];
    int label_only = act == PG_RELABEL_LABELDROP || act == PG_RELABEL_LABELKEEP;
    const char *bad = NULL;
    if (label_only && s->source_labels.n)
        bad = "source_labels";
    else if (label_only && s->target_label && *s->target_label)
        bad = "target_label";
    else if (!label_only &&
             strcmp(or_default(s->regex, PG_RELABEL_DEFAULT_REGEX), PG_RELABEL_DEFAULT_REGEX) != 0)
        bad = "regex";
    else if (s->modulus)
        bad = "modulus";
    else if (strcmp(or_default(s->separator, PG_RELABEL_DEFAULT_SEPARATOR),
                    PG_RELABEL_DEFAULT_SEPARATOR) != 0)
        bad = "separator";
    else if (strcmp(or_default(s->replacement, PG_RELABEL_DEFAULT_REPLACEMENT),
                    PG_RELABEL_DEFAULT_REPLACEMENT) != 0)
        bad = "replacement";
    if (!bad)
        return PG_OK;
    if (label_only)
        return FAIL(bad, "%s action takes only 'regex'; '%s' must not be set", name, bad);
    return FAIL(bad,
                "%s action takes only 'source_labels' and 'target_label'; '%s' must not be set",
                name, bad);
}

static int check_target(const pg_relabel_rule_spec *s, pg_relabel_action act, const char **field,
                        pg_error *err)
{
    const char *name = action_names[act];
    const char *t = s->target_label;
    int needs = act == PG_RELABEL_REPLACE || act == PG_RELABEL_HASHMOD ||
                act == PG_RELABEL_LOWERCASE || act == PG_RELABEL_UPPERCASE ||
                act == PG_RELABEL_KEEPEQUAL || act == PG_RELABEL_DROPEQUAL;
    if (!needs)
        return PG_OK;
    if (!t || !*t)
        return FAIL(NULL, "%s action requires 'target_label'", name);
    if (!relabel_valid_utf8(t, strlen(t)))
        return FAIL("target_label", "%s action: 'target_label' is not valid UTF-8", name);
    /* only replace expands its target; elsewhere a '$' would be written
     * literally, which is never what a user meant */
    if (act != PG_RELABEL_REPLACE && act != PG_RELABEL_HASHMOD && relabel_has_dollar(t))
        return FAIL("target_label",
                    "%s action: 'target_label' '%s' must be a plain label name, not a template",
                    name, t);
    return PG_OK;
}

int pg_relabel_rule_check(const pg_relabel_rule_spec *s, const char **field, pg_error *err)
{
    *field = NULL;
    int act = pg_relabel_action_parse(s->action);
    if (act < 0)
        return FAIL("action",
                    "unknown action '%s' (replace, keep, drop, keepequal, dropequal, hashmod, "
                    "labelmap, labeldrop, labelkeep, lowercase, uppercase)",
                    s->action);
    for (size_t i = 0; i < s->source_labels.n; i++)
        if (!valid_name(s->source_labels.items[i]))
            return FAIL("source_labels",
                        "source label '%s' is not a valid label name (non-empty UTF-8)",
                        s->source_labels.items[i] ? s->source_labels.items[i] : "");
    pg_regex *re = NULL;
    if (pg_regex_compile(or_default(s->regex, PG_RELABEL_DEFAULT_REGEX), &re, err) != PG_OK) {
        *field = "regex";
        return err ? err->code : PG_ERR_INVALID;
    }
    pg_regex_free(re);
    if (act == PG_RELABEL_HASHMOD && s->modulus <= 0)
        return FAIL("modulus", "hashmod action requires 'modulus' > 0");
    if (s->modulus < 0)
        return FAIL("modulus", "'modulus' must not be negative");
    int rc = check_target(s, (pg_relabel_action)act, field, err);
    if (rc != PG_OK)
        return rc;
    if (act == PG_RELABEL_LABELMAP && !valid_name(or_default(s->replacement, "$1")))
        return FAIL("replacement", "labelmap action: 'replacement' '%s' is not a valid label name",
                    or_default(s->replacement, PG_RELABEL_DEFAULT_REPLACEMENT));
    if (act == PG_RELABEL_LABELDROP || act == PG_RELABEL_LABELKEEP || act == PG_RELABEL_KEEPEQUAL ||
        act == PG_RELABEL_DROPEQUAL)
        return check_only(s, (pg_relabel_action)act, field, err);
    if ((act == PG_RELABEL_LOWERCASE || act == PG_RELABEL_UPPERCASE) &&
        strcmp(or_default(s->replacement, PG_RELABEL_DEFAULT_REPLACEMENT),
               PG_RELABEL_DEFAULT_REPLACEMENT) != 0)
        return FAIL("replacement", "%s action: 'replacement' must not be set", action_names[act]);
    return PG_OK;
}
