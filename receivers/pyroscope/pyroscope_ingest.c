/* POST /ingest and /pyroscope/ingest: Pyroscope's legacy ingestion API. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "receivers/pyroscope/attime.h"
#include "receivers/pyroscope/labelset.h"
#include "receivers/pyroscope/legacy_kind.h"
#include "receivers/pyroscope/multipart.h"
#include "receivers/pyroscope/pyroscope_internal.h"
#include "receivers/pyroscope/text_profile.h"

#define MAX_FORM_PARTS 16

typedef struct ingest_query {
    const char *name, *from, *until, *format, *sample_rate, *spy, *units, *aggregation;
} ingest_query;

typedef enum body_kind {
    BODY_PPROF, /* the whole body is one pprof document */
    BODY_FORM,  /* multipart/form-data with profile, sample_type_config, ... */
    BODY_FOLDED,
    BODY_LINES,
} body_kind;

/* An /ingest request once its query is understood. */
typedef struct ingest_call {
    pg_pyro_receiver *r;
    pg_http_request *req;
    pg_arena *scratch; /* decoded and built documents of this request */
    ingest_query q;
    body_kind kind;
    pg_pyro_labelset name;
    uint64_t from_ns, until_ns;
    int64_t sample_rate;
    const pg_auth_result *who;
    pg_pyro_outcome *o;
} ingest_call;

static const char known_params[] =
    "name, from, until, format, sampleRate, spyName, units, aggregationType";

static const char **query_slot(ingest_query *q, const char *key)
{
    static const struct {
        const char *key;
        size_t offset;
    } slots[] = {
        {"name", offsetof(ingest_query, name)},
        {"from", offsetof(ingest_query, from)},
        {"until", offsetof(ingest_query, until)},
        {"format", offsetof(ingest_query, format)},
        {"sampleRate", offsetof(ingest_query, sample_rate)},
        {"spyName", offsetof(ingest_query, spy)},
        {"units", offsetof(ingest_query, units)},
        {"aggregationType", offsetof(ingest_query, aggregation)},
    };
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
        if (strcmp(slots[i].key, key) == 0)
            return (const char **)((char *)q + slots[i].offset);
    return NULL;
}

static int read_query(ingest_call *c)
{
    pg_http_header *params = NULL;
    size_t n = 0;
    if (pg_http_request_query_params(c->req, &params, &n) != PG_OK) {
        pg_pyro_fail(c->o, 503, "out of memory reading the query");
        return -1;
    }
    memset(&c->q, 0, sizeof(c->q));
    for (size_t i = 0; i < n; i++) {
        const char **slot = query_slot(&c->q, params[i].name);
        if (!slot) {
            pg_pyro_fail(c->o, 400, "unknown query parameter '%.64s' (known: %s)", params[i].name,
                         known_params);
            return -1;
        }
        if (*slot) {
            pg_pyro_fail(c->o, 400, "query parameter '%s' is given twice", params[i].name);
            return -1;
        }
        *slot = params[i].value;
    }
    return 0;
}

static int parse_window(ingest_call *c)
{
    uint64_t now = pg_unix_nanos();
    const char *which[2] = {"from", "until"};
    const char *val[2] = {c->q.from, c->q.until};
    uint64_t *out[2] = {&c->from_ns, &c->until_ns};
    for (int i = 0; i < 2; i++) {
        pg_error err;
        pg_error_clear(&err);
        const char *v = val[i] ? val[i] : "";
        if (pg_pyro_attime_parse(v, strlen(v), now, out[i], &err) != PG_OK) {
            pg_pyro_fail(c->o, 400, "invalid '%s' parameter: %s", which[i], err.msg);
            return -1;
        }
    }
    return 0;
}

/* sampleRate: a non-negative integer, 100 when absent (Pyroscope's default). */
static int parse_sample_rate(ingest_call *c)
{
    c->sample_rate = 100;
    const char *s = c->q.sample_rate;
    if (!s || !*s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0 || v > 1000000000 || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
        pg_pyro_fail(c->o, 400,
                     "invalid 'sampleRate' parameter '%.32s': expected an integer 0..1e9", s);
        return -1;
    }
    c->sample_rate = v;
    return 0;
}

static int parse_name(ingest_call *c)
{
    const char *name = c->q.name;
    if (!name || !*name) {
        pg_pyro_fail(c->o, 400, "missing 'name' query parameter (expected app{key=value,...})");
        return -1;
    }
    pg_error err;
    pg_error_clear(&err);
    if (pg_pyro_labelset_parse(c->req->arena, name, strlen(name), &c->name, &err) != PG_OK) {
        if (err.code == PG_ERR_NOMEM)
            pg_pyro_fail(c->o, 503, "out of memory parsing the name");
        else
            pg_pyro_fail(c->o, 400, "invalid 'name' parameter: %s", err.msg);
        return -1;
    }
    /* a __name__ tag renames the application (Pyroscope's reserved key) */
    for (size_t i = 0; i < c->name.n_labels; i++)
        if (strcmp(c->name.labels[i].name, "__name__") == 0)
            c->name.app_name = c->name.labels[i].value;
    return 0;
}

static int is_multipart(const char *ct)
{
    return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

static int select_body(ingest_call *c)
{
    const char *ct = pg_http_request_header(c->req, "content-type");
    const char *f = c->q.format;
    if (f && *f) {
        if (strcmp(f, "pprof") == 0) {
            /* Pyroscope reads the body as one pprof; a form is read as a form */
            c->kind = is_multipart(ct) ? BODY_FORM : BODY_PPROF;
        } else if (strcmp(f, "folded") == 0 || strcmp(f, "groups") == 0) {
            c->kind = BODY_FOLDED;
        } else if (strcmp(f, "lines") == 0) {
            c->kind = BODY_LINES;
        } else {
            pg_pyro_fail(
                c->o, 415,
                "format '%.32s' is not supported (supported: pprof, folded, groups, lines)", f);
            return -1;
        }
        return 0;
    }
    if (ct && (strncasecmp(ct, "binary/octet-stream+trie", 24) == 0 ||
               strncasecmp(ct, "binary/octet-stream+tree", 24) == 0)) {
        pg_pyro_fail(c->o, 415,
                     "content type '%.40s' (trie/tree format) is not supported (supported: pprof, "
                     "folded, groups, lines)",
                     ct);
        return -1;
    }
    c->kind = is_multipart(ct) ? BODY_FORM : BODY_FOLDED;
    return 0;
}

static int check_aggregation(ingest_call *c)
{
    const char *a = c->q.aggregation;
    if (!a || !*a || strcmp(a, "sum") == 0 || strcmp(a, "average") == 0)
        return 0;
    pg_pyro_fail(c->o, 400, "invalid 'aggregationType' parameter '%.32s': expected sum or average",
                 a);
    return -1;
}

static int label_pprof(ingest_call *c, pg_batch *b, pg_profile *p, const pg_pprof *doc,
                       const pg_pyro_stconfig_entry *cfg, size_t n_cfg)
{
    pg_pyro_series s = {
        .app_name = c->name.app_name,
        .tags = c->name.labels,
        .n_tags = c->name.n_labels,
        .spy = c->q.spy,
        .profile_name = pg_pyro_name_for(doc, cfg, n_cfg),
    };
    if (pg_pyro_set_series_labels(b, p, &s) != PG_OK ||
        pg_pyro_set_stconfig_label(b, p, doc, cfg, n_cfg) != PG_OK) {
        pg_pyro_fail(c->o, 503, "out of memory setting labels");
        return -1;
    }
    return 0;
}

static pg_pyro_pprof_meta meta_of(const ingest_call *c)
{
    pg_pyro_pprof_meta m = {
        .who = c->who,
        .from_ns = c->from_ns,
        .until_ns = c->until_ns,
    };
    return m;
}

static int add_pprof(ingest_call *c, pg_batch *b, const uint8_t *bytes, size_t len,
                     const pg_pyro_stconfig_entry *cfg, size_t n_cfg)
{
    pg_pyro_pprof_meta m = meta_of(c);
    m.stconfig = cfg;
    m.n_stconfig = n_cfg;
    const pg_pprof *doc = NULL;
    pg_profile *p = pg_pyro_add_pprof(c->r, b, c->scratch, bytes, len, &m, &doc, c->o);
    if (!p)
        return -1;
    return label_pprof(c, b, p, doc, cfg, n_cfg);
}

/* The pprof form: file parts profile (required), prev_profile (must be
 * empty), sample_type_config (optional). */
static int add_form(ingest_call *c, pg_batch *b)
{
    pg_arena *a = c->req->arena;
    const char *boundary = NULL;
    pg_multipart_part *parts = NULL;
    size_t n = 0;
    pg_error err;
    pg_error_clear(&err);
    if (pg_multipart_boundary(a, pg_http_request_header(c->req, "content-type"), &boundary, &err) !=
            PG_OK ||
        pg_multipart_parse(a, c->req->body, c->req->body_len, boundary, MAX_FORM_PARTS, &parts, &n,
                           &err) != PG_OK) {
        pg_pyro_fail_error(c->o, &err, "invalid multipart body");
        return -1;
    }
    const pg_multipart_part *profile = NULL, *prev = NULL, *config = NULL;
    for (size_t i = 0; i < n; i++) {
        const pg_multipart_part **slot = strcmp(parts[i].name, "profile") == 0        ? &profile
                                         : strcmp(parts[i].name, "prev_profile") == 0 ? &prev
                                         : strcmp(parts[i].name, "sample_type_config") == 0
                                             ? &config
                                             : NULL;
        if (!slot) {
            pg_pyro_fail(c->o, 400,
                         "multipart part '%.64s' is not supported (expected profile, "
                         "prev_profile, sample_type_config)",
                         parts[i].name);
            return -1;
        }
        if (*slot) {
            pg_pyro_fail(c->o, 400, "multipart part '%s' appears twice", parts[i].name);
            return -1;
        }
        *slot = &parts[i];
    }
    if (prev && prev->len) {
        /* cumulative uploads with a previous profile are what Pyroscope refuses
         * as an unsupported client version */
        pg_pyro_fail(c->o, 422,
                     "a non-empty 'prev_profile' part is not supported (unsupported client "
                     "version: send delta profiles)");
        return -1;
    }
    if (!profile || !profile->len) {
        pg_pyro_fail(c->o, 400, "multipart body has no (or an empty) 'profile' part");
        return -1;
    }
    pg_pyro_stconfig_entry *cfg = NULL;
    size_t n_cfg = 0;
    if (config && config->len &&
        pg_pyro_stconfig_parse(a, config->data, config->len, &cfg, &n_cfg, &err) != PG_OK) {
        pg_pyro_fail_error(c->o, &err, "invalid 'sample_type_config' part");
        return -1;
    }
    return add_pprof(c, b, profile->data, profile->len, cfg, n_cfg);
}

/* Folded and lines text: the app name's suffix says what the counts are. */
static int add_text(ingest_call *c, pg_batch *b)
{
    size_t service_len = 0;
    const pg_pyro_legacy_kind *k = pg_pyro_legacy_kind_of(c->name.app_name, &service_len);
    if (!k) {
        pg_pyro_fail(c->o, 400,
                     "unknown profile type in name '%.100s': text formats take the kind from the "
                     "last dot-separated part (cpu, wall, inuse_space, goroutines, ...)",
                     c->name.app_name);
        return -1;
    }
    pg_pyro_text_options opt = {
        .sample_type = k->sample_type,
        .sample_unit = k->sample_unit,
        .value_multiplier = 1,
        .time_nanos = (int64_t)c->from_ns,
        .duration_nanos = c->until_ns > c->from_ns ? (int64_t)(c->until_ns - c->from_ns) : 0,
        .max_samples = (size_t)(c->r->cfg->max_body_size / 2 + 1),
    };
    if (k->sampled_type && c->sample_rate > 0) {
        opt.sample_type = opt.period_type = k->sampled_type;
        opt.sample_unit = opt.period_unit = "nanoseconds";
        opt.period = opt.value_multiplier = 1000000000 / c->sample_rate;
    }
    pg_pprof *doc = NULL;
    pg_error err;
    pg_error_clear(&err);
    pg_pyro_text_format f = c->kind == BODY_LINES ? PG_PYRO_TEXT_LINES : PG_PYRO_TEXT_FOLDED;
    if (pg_pyro_text_to_pprof(c->scratch, f, c->req->body, c->req->body_len, &opt, &doc, &err) !=
        PG_OK) {
        if (err.code == PG_ERR_NOMEM && pg_arena_limit_hit(c->scratch))
            pg_error_set(&err, PG_ERR_LIMIT,
                         "the profile built from the text would exceed %llu "
                         "bytes of memory",
                         (unsigned long long)c->r->cfg->max_body_size * 8);
        pg_pyro_fail_error(c->o, &err,
                           c->kind == BODY_LINES ? "invalid lines body" : "invalid folded body");
        return -1;
    }
    pg_pyro_pprof_meta m = meta_of(c);
    pg_profile *p = pg_pyro_add_built_pprof(b, doc, &m, c->o);
    if (!p)
        return -1;
    char *service = pg_arena_strndup(c->req->arena, c->name.app_name, service_len);
    pg_pyro_series s = {
        .app_name = service,
        .tags = c->name.labels,
        .n_tags = c->name.n_labels,
        .spy = c->q.spy,
        .profile_name = k->profile,
    };
    if (!service || pg_pyro_set_series_labels(b, p, &s) != PG_OK) {
        pg_pyro_fail(c->o, 503, "out of memory setting labels");
        return -1;
    }
    return 0;
}

static int prepare(ingest_call *c)
{
    if (read_query(c) || parse_name(c) || select_body(c) || parse_window(c) ||
        parse_sample_rate(c) || check_aggregation(c))
        return -1;
    if (c->req->body_len == 0) {
        pg_pyro_fail(c->o, 400, "empty body: expected a profile");
        return -1;
    }
    return 0;
}

void pg_pyro_ingest_handler(void *ctx, pg_http_request *req, pg_http_response *resp)
{
    pg_pyro_receiver *r = ctx;
    pg_pyro_outcome o;
    pg_pyro_outcome_ok(&o);
    pg_auth_result who;
    if (pg_pyro_authorize(r, &r->ingest, req, &who, &o) != 0) {
        pg_pyro_reply_error(r, req, resp, &o);
        return;
    }
    ingest_call c = {.r = r, .req = req, .o = &o, .who = &who};
    pg_batch *b = NULL;
    int rc = prepare(&c);
    if (rc == 0 && (!(b = pg_batch_new()) || !(c.scratch = pg_pyro_scratch_new(r)))) {
        pg_pyro_fail(&o, 503, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        switch (c.kind) {
        case BODY_PPROF:
            rc = add_pprof(&c, b, req->body, req->body_len, NULL, 0);
            break;
        case BODY_FORM:
            rc = add_form(&c, b);
            break;
        case BODY_FOLDED:
        case BODY_LINES:
            rc = add_text(&c, b);
            break;
        }
    }
    if (rc == 0)
        pg_pyro_submit(r, &r->ingest, req->worker, b, req->body_len, &o);
    else
        pg_pyro_count_refused(r, &r->ingest, 1, req->body_len, &o);
    pg_batch_free(b);
    pg_arena_free(c.scratch);
    if (o.http_status != 200) {
        pg_pyro_reply_error(r, req, resp, &o);
        return;
    }
    resp->status = 200;
}
