/*
 * Layout detection on the raw protobuf wire, before any schema is applied.
 *
 * OTLP profiles v1.3 to v1.10 reuse field numbers with other meanings, so a
 * request in an older layout decodes "successfully" under the v1.10 schema
 * into wrong values. The signals used here are the wire types that differ
 * between layouts (docs/otlp.md lists them); each profile, sample and
 * dictionary entry votes, and the request is classified by the votes.
 */
#include "model/otlp.h"
#include "model/otlp_wire.h"

#include <string.h>

typedef struct sniff_state {
    int has_dict;
    int top_v16;         /* ProfilesData v1.6 carried its tables at top level */
    size_t v13;          /* v1.3 ProfileContainer wrappers */
    size_t old_profiles; /* profiles in the v1.4-v1.7 layout */
    size_t v18_profiles; /* v1.8-only Profile fields */
    size_t dict_v17, dict_new;
    size_t sample_v18, sample_v110;
} sniff_state;

/* True when bytes parse as a message containing a length-delimited field. */
static int has_len_field(const uint8_t *p, size_t n)
{
    pg_wire w = {p, p + n};
    pg_wire_field f = {0};
    int rc, found = 0;
    while ((rc = pg_wire_next(&w, &f)) > 0) {
        if (f.wt == PG_WIRE_LEN)
            found = 1;
    }
    return rc == 0 && found;
}

static int sniff_sample(sniff_state *s, const uint8_t *p, size_t n)
{
    pg_wire w = {p, p + n};
    pg_wire_field f = {0};
    int rc, f4_varints = 0;
    size_t v18 = 0, v110 = 0;
    while ((rc = pg_wire_next(&w, &f)) > 0) {
        if (f.num == 3)
            f.wt == PG_WIRE_LEN ? v18++ : v110++;
        else if (f.num == 4 && f.wt == PG_WIRE_LEN)
            v110++;
        else if (f.num == 4 && f.wt == PG_WIRE_VARINT)
            f4_varints++;
    }
    if (rc < 0)
        return -1;
    /* several unpacked field-4 varints can only be v1.10 values */
    if (f4_varints == 1)
        v18++;
    else if (f4_varints > 1)
        v110++;
    if (v18 > v110)
        s->sample_v18++;
    else if (v110 > v18)
        s->sample_v110++;
    return 0;
}

/* Fields whose wire type differs between v1.4-v1.7 and v1.8+ Profiles. */
static void profile_votes(const pg_wire_field *f, int *old, int *new_, int *v18)
{
    switch (f->num) {
    case 3: /* <=1.7 location tables/indices (len); >=1.8 time (fixed64) */
    case 6: /* <=1.7 function_table/period_type (len); >=1.8 period (varint) */
        f->wt == PG_WIRE_LEN ? (*old)++ : (*new_)++;
        break;
    case 4: /* v1.4 location_table (len); later varints */
        if (f->wt == PG_WIRE_LEN)
            (*old)++;
        break;
    case 5: /* <=1.7 duration/location_indices; >=1.8 period_type (len) */
        f->wt == PG_WIRE_LEN ? (*new_)++ : (*old)++;
        break;
    case 7: /* <=1.7 period (varint); >=1.8 comments/profile_id (len) */
        f->wt == PG_WIRE_VARINT ? (*old)++ : (*new_)++;
        break;
    case 8: /* v1.8 profile_id (len) vs v1.9+ dropped count (varint) */
        if (f->wt == PG_WIRE_LEN)
            (*v18)++;
        break;
    case 9: /* v1.8 dropped count (varint) vs v1.9+ payload format (len) */
        if (f->wt == PG_WIRE_VARINT)
            (*v18)++;
        break;
    case 12: /* v1.8 attribute_indices; absent from v1.9+ */
        (*v18)++;
        break;
    default:
        if (f->num >= 13)
            (*old)++;
        break;
    }
}

static int sniff_profile(sniff_state *s, const uint8_t *p, size_t n)
{
    pg_wire w = {p, p + n};
    pg_wire_field f = {0};
    int rc, old = 0, new_ = 0, v18 = 0, has_samples = 0, container = 0;
    while ((rc = pg_wire_next(&w, &f)) > 0) {
        if (f.num == 2)
            f.wt == PG_WIRE_LEN ? (void)(has_samples = 1) : (void)(container = 1);
        else if (f.num == 8 && f.wt == PG_WIRE_LEN && has_len_field(f.data, f.len))
            container = 2; /* maybe a wrapped pprof-like Profile (v1.3) */
        profile_votes(&f, &old, &new_, &v18);
    }
    if (rc < 0)
        return -1;
    if (container == 1 || (container == 2 && !has_samples)) {
        s->v13++;
        return 0;
    }
    if (old > new_) {
        s->old_profiles++;
        return 0;
    }
    if (v18)
        s->v18_profiles++;
    /* Sample layouts are only comparable between v1.8 and v1.10. */
    w = (pg_wire){p, p + n};
    while (pg_wire_next(&w, &f) > 0) {
        if (f.num == 2 && f.wt == PG_WIRE_LEN && sniff_sample(s, f.data, f.len) < 0)
            return -1;
    }
    return 0;
}

/* Walks a message and calls fn on every length-delimited field `num`. */
static int each_len(sniff_state *s, const uint8_t *p, size_t n, uint32_t num,
                    int (*fn)(sniff_state *, const uint8_t *, size_t))
{
    pg_wire w = {p, p + n};
    pg_wire_field f = {0};
    int rc;
    while ((rc = pg_wire_next(&w, &f)) > 0) {
        if (f.num == num && f.wt == PG_WIRE_LEN && fn(s, f.data, f.len) < 0)
            return -1;
    }
    return rc;
}

static int sniff_scope(sniff_state *s, const uint8_t *p, size_t n)
{
    return each_len(s, p, n, 2, sniff_profile);
}

static int sniff_resource(sniff_state *s, const uint8_t *p, size_t n)
{
    return each_len(s, p, n, 2, sniff_scope);
}

/* Dictionary entry shapes: v1.7 attribute_table holds KeyValue (key = string),
 * v1.8+ KeyValueAndUnit (key_strindex = varint); field 7 held v1.7
 * AttributeUnit{varint, varint} and holds v1.8+ Stack{packed indices}. */
static int sniff_dict(sniff_state *s, const uint8_t *p, size_t n)
{
    pg_wire w = {p, p + n};
    pg_wire_field f = {0}, g = {0};
    int rc;
    while ((rc = pg_wire_next(&w, &f)) > 0) {
        if ((f.num != 6 && f.num != 7) || f.wt != PG_WIRE_LEN)
            continue;
        pg_wire e = {f.data, f.data + f.len};
        int f1 = -1, f2 = 0;
        while (pg_wire_next(&e, &g) > 0) {
            if (g.num == 1)
                f1 = g.wt;
            else if (g.num == 2)
                f2 = 1;
        }
        if (f.num == 6 && f1 >= 0)
            f1 == PG_WIRE_LEN ? s->dict_v17++ : s->dict_new++;
        else if (f.num == 7 && f1 == PG_WIRE_VARINT && f2)
            s->dict_v17++;
        else if (f.num == 7 && f1 == PG_WIRE_LEN)
            s->dict_new++;
    }
    return rc;
}

static const char *sniff_decide(const sniff_state *s)
{
    if (s->top_v16)
        return "v1.6";
    if (s->v13)
        return "v1.3";
    if (s->old_profiles)
        return s->has_dict ? "v1.7" : "v1.4";
    if (s->dict_v17 > s->dict_new)
        return "v1.7";
    if (s->v18_profiles || s->sample_v18 > s->sample_v110)
        return "v1.8";
    return "v1.10";
}

const char *pg_otlp_sniff_version(const uint8_t *buf, size_t len)
{
    sniff_state s;
    memset(&s, 0, sizeof(s));
    pg_wire w = {buf, buf + len};
    pg_wire_field f = {0};
    int rc;
    if (len == 0)
        return "v1.10";
    while ((rc = pg_wire_next(&w, &f)) > 0) {
        if ((f.num == 1 || f.num == 2) && f.wt != PG_WIRE_LEN)
            return "unknown";
        if (f.num == 1 && sniff_resource(&s, f.data, f.len) < 0)
            return "unknown";
        if (f.num == 2) {
            s.has_dict = 1;
            if (sniff_dict(&s, f.data, f.len) < 0)
                return "unknown";
        }
        if (f.num >= 3 && f.num <= 8 && f.wt == PG_WIRE_LEN)
            s.top_v16 = 1;
    }
    if (rc < 0)
        return "unknown";
    return sniff_decide(&s);
}
