#include "receivers/pyroscope/text_profile.h"

#include <string.h>

#include "common/hash.h"
#include "common/utf8.h"

#define MSG_LEN(n) ((int)((n) > 64 ? 64 : (n)))

/* Interned strings (string_table order) and distinct stacks, both found
 * through open-addressing tables of 1-based indices, so that every line costs
 * time proportional to its length. */
typedef struct text_builder {
    pg_arena *a;
    uint64_t seed;
    /* strings: string_table[i], its length and hash; func_of[i] = function id
     * of the frame named string i (0: not a frame name yet) */
    char **strs;
    size_t *str_len;
    uint64_t *str_hash, *func_of;
    size_t n_str, cap_str;
    uint32_t *str_slots;
    size_t str_slot_cap;
    /* functions: name_of[id - 1] = string index */
    uint64_t *name_of;
    size_t n_func, cap_func;
    /* stacks: location ids leaf first */
    uint64_t **stack, *stack_hash;
    size_t *depth;
    int64_t *value;
    size_t n_stack, cap_stack;
    uint32_t *stack_slots;
    size_t stack_slot_cap;
    /* the frames of the current line, root first */
    uint64_t *scratch;
    size_t cap_scratch;
} text_builder;

/* Makes room for one more element in each of the k parallel arrays (element
 * sizes in sz), doubling them in the arena. */
static int grow(pg_arena *a, size_t n, size_t *cap, void **arrays[], const size_t sz[], int k)
{
    if (n < *cap)
        return PG_OK;
    size_t ncap = *cap ? *cap * 2 : 16;
    for (int i = 0; i < k; i++) {
        void *p = pg_arena_alloc(a, ncap * sz[i]);
        if (!p)
            return PG_ERR_NOMEM;
        if (n)
            memcpy(p, *arrays[i], n * sz[i]);
        *arrays[i] = p;
    }
    *cap = ncap;
    return PG_OK;
}

/* Rebuilds an index table at twice the size when it is half full. */
static int rehash(pg_arena *a, uint32_t **slots, size_t *cap, size_t n, const uint64_t *hashes)
{
    if ((n + 1) * 2 <= *cap)
        return PG_OK;
    size_t ncap = *cap ? *cap * 2 : 64;
    uint32_t *s = pg_arena_calloc(a, ncap, sizeof(*s));
    if (!s)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t j = hashes[i] & (ncap - 1);
        while (s[j])
            j = (j + 1) & (ncap - 1);
        s[j] = (uint32_t)(i + 1);
    }
    *slots = s;
    *cap = ncap;
    return PG_OK;
}

/* String index of p[0..n), added when new; -1 when out of memory. */
static int64_t intern(text_builder *b, const char *p, size_t n)
{
    uint64_t h = pg_hash_bytes(p, n, b->seed);
    size_t mask = b->str_slot_cap - 1, j = h & mask;
    for (; b->str_slot_cap && b->str_slots[j]; j = (j + 1) & mask) {
        size_t i = b->str_slots[j] - 1;
        if (b->str_hash[i] == h && b->str_len[i] == n && memcmp(b->strs[i], p, n) == 0)
            return (int64_t)i;
    }
    void **arrays[] = {(void **)&b->strs, (void **)&b->str_len, (void **)&b->str_hash,
                       (void **)&b->func_of};
    const size_t sz[] = {sizeof(char *), sizeof(size_t), sizeof(uint64_t), sizeof(uint64_t)};
    size_t i = b->n_str;
    if (grow(b->a, i, &b->cap_str, arrays, sz, 4) != PG_OK ||
        !(b->strs[i] = pg_arena_strndup(b->a, p, n)))
        return -1;
    b->str_len[i] = n;
    b->str_hash[i] = h;
    b->func_of[i] = 0;
    b->n_str++;
    if (rehash(b->a, &b->str_slots, &b->str_slot_cap, b->n_str, b->str_hash) != PG_OK)
        return -1;
    mask = b->str_slot_cap - 1;
    for (j = h & mask; b->str_slots[j]; j = (j + 1) & mask)
        ;
    b->str_slots[j] = (uint32_t)(i + 1);
    return (int64_t)i;
}

/* Function (= location) id of a frame name, assigned on first sight; 0 when
 * out of memory. */
static uint64_t frame_id(text_builder *b, const char *p, size_t n)
{
    int64_t s = intern(b, p, n);
    if (s < 0)
        return 0;
    if (b->func_of[s])
        return b->func_of[s];
    void **arrays[] = {(void **)&b->name_of};
    const size_t sz[] = {sizeof(uint64_t)};
    if (grow(b->a, b->n_func, &b->cap_func, arrays, sz, 1) != PG_OK)
        return 0;
    b->name_of[b->n_func++] = (uint64_t)s;
    return b->func_of[s] = b->n_func;
}

/* Adds value to the stack ids[0..depth) (leaf first), creating it when new. */
static int add_stack(text_builder *b, const uint64_t *ids, size_t depth, int64_t value, size_t line,
                     size_t max, pg_error *err)
{
    uint64_t h = pg_hash_bytes(ids, depth * sizeof(*ids), b->seed);
    size_t mask = b->stack_slot_cap - 1, j = h & mask;
    for (; b->stack_slot_cap && b->stack_slots[j]; j = (j + 1) & mask) {
        size_t i = b->stack_slots[j] - 1;
        if (b->stack_hash[i] == h && b->depth[i] == depth &&
            memcmp(b->stack[i], ids, depth * sizeof(*ids)) == 0) {
            if (__builtin_add_overflow(b->value[i], value, &b->value[i]))
                return pg_error_set(err, PG_ERR_INVALID, "line %zu: sum of values overflows", line);
            return PG_OK;
        }
    }
    if (b->n_stack == max)
        return pg_error_set(err, PG_ERR_LIMIT, "line %zu: more than %zu distinct stacks", line,
                            max);
    void **arrays[] = {(void **)&b->stack, (void **)&b->stack_hash, (void **)&b->depth,
                       (void **)&b->value};
    const size_t sz[] = {sizeof(uint64_t *), sizeof(uint64_t), sizeof(size_t), sizeof(int64_t)};
    size_t i = b->n_stack;
    if (grow(b->a, i, &b->cap_stack, arrays, sz, 4) != PG_OK ||
        !(b->stack[i] = pg_arena_memdup(b->a, ids, depth * sizeof(*ids))))
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory building the profile");
    b->stack_hash[i] = h;
    b->depth[i] = depth;
    b->value[i] = value;
    b->n_stack++;
    if (rehash(b->a, &b->stack_slots, &b->stack_slot_cap, b->n_stack, b->stack_hash) != PG_OK)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory building the profile");
    mask = b->stack_slot_cap - 1;
    for (j = h & mask; b->stack_slots[j]; j = (j + 1) & mask)
        ;
    b->stack_slots[j] = (uint32_t)(i + 1);
    return PG_OK;
}

/* Splits a stack at `;` into b->scratch (root first); *depth gets the count. */
static int split_frames(text_builder *b, const char *s, size_t n, size_t line, size_t *depth,
                        pg_error *err)
{
    *depth = 0;
    for (size_t i = 0;;) {
        const char *semi = memchr(s + i, ';', n - i);
        size_t end = semi ? (size_t)(semi - s) : n;
        if (end == i)
            return pg_error_set(err, PG_ERR_INVALID, "line %zu: empty frame name", line);
        void **arrays[] = {(void **)&b->scratch};
        const size_t sz[] = {sizeof(uint64_t)};
        uint64_t id = frame_id(b, s + i, end - i);
        if (!id || grow(b->a, *depth, &b->cap_scratch, arrays, sz, 1) != PG_OK)
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory building the profile");
        b->scratch[(*depth)++] = id;
        if (!semi)
            return PG_OK;
        i = end + 1;
    }
}

/* The count after the last space of a FOLDED line; *stack_len gets the
 * length of what precedes it. */
static int folded_count(const char *s, size_t n, size_t line, size_t *stack_len, int64_t *count,
                        pg_error *err)
{
    const char *sp = memrchr(s, ' ', n);
    if (!sp)
        return pg_error_set(err, PG_ERR_INVALID, "line %zu: no count in '%.*s'", line, MSG_LEN(n),
                            s);
    const char *digits = sp + 1;
    size_t k = n - (size_t)(digits - s);
    int64_t v = 0;
    for (size_t i = 0; i < k; i++) {
        if (digits[i] < '0' || digits[i] > '9' || __builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, digits[i] - '0', &v))
            k = 0;
    }
    if (k == 0)
        return pg_error_set(err, PG_ERR_INVALID, "line %zu: invalid count '%.*s'", line,
                            MSG_LEN(n - (size_t)(digits - s)), digits);
    *stack_len = (size_t)(sp - s);
    *count = v;
    return PG_OK;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    }
    return 1;
}

static int add_line(text_builder *b, pg_pyro_text_format f, const char *s, size_t n, size_t line,
                    const pg_pyro_text_options *o, pg_error *err)
{
    if (is_blank(s, n))
        return PG_OK;
    if (memchr(s, '\0', n) || pg_utf8_invalid_at((const uint8_t *)s, n) != n)
        return pg_error_set(err, PG_ERR_INVALID, "line %zu is not valid UTF-8 text", line);
    size_t stack_len = n, depth;
    int64_t count = 1;
    int rc = f == PG_PYRO_TEXT_FOLDED ? folded_count(s, n, line, &stack_len, &count, err) : PG_OK;
    if (rc == PG_OK && __builtin_mul_overflow(count, o->value_multiplier, &count))
        rc = pg_error_set(err, PG_ERR_INVALID, "line %zu: value overflows", line);
    if (rc == PG_OK)
        rc = split_frames(b, s, stack_len, line, &depth, err);
    if (rc != PG_OK)
        return rc;
    for (size_t i = 0; i < depth / 2; i++) {
        uint64_t t = b->scratch[i];
        b->scratch[i] = b->scratch[depth - 1 - i];
        b->scratch[depth - 1 - i] = t;
    }
    return add_stack(b, b->scratch, depth, count, line, o->max_samples, err);
}

typedef Perftools__Profiles__ValueType pp_value_type;
typedef Perftools__Profiles__Function pp_function;
typedef Perftools__Profiles__Location pp_location;
typedef Perftools__Profiles__Line pp_line;
typedef Perftools__Profiles__Sample pp_sample;

static pp_value_type *value_type(pg_arena *a, int64_t type, int64_t unit)
{
    pp_value_type *v = pg_arena_alloc(a, sizeof(*v));
    if (v) {
        *v = (pp_value_type)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
        v->type = type;
        v->unit = unit;
    }
    return v;
}

static int build_tables(const text_builder *b, pg_pprof *p)
{
    size_t nf = b->n_func;
    pp_function *fn = pg_arena_alloc(b->a, nf * sizeof(*fn));
    pp_location *loc = pg_arena_alloc(b->a, nf * sizeof(*loc));
    pp_line *ln = pg_arena_alloc(b->a, nf * sizeof(*ln));
    pp_line **lnp = pg_arena_alloc(b->a, nf * sizeof(*lnp));
    p->function = pg_arena_alloc(b->a, nf * sizeof(*p->function));
    p->location = pg_arena_alloc(b->a, nf * sizeof(*p->location));
    if (!fn || !loc || !ln || !lnp || !p->function || !p->location)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < nf; i++) {
        fn[i] = (pp_function)PERFTOOLS__PROFILES__FUNCTION__INIT;
        fn[i].id = i + 1;
        fn[i].name = (int64_t)b->name_of[i];
        ln[i] = (pp_line)PERFTOOLS__PROFILES__LINE__INIT;
        ln[i].function_id = i + 1;
        lnp[i] = &ln[i];
        loc[i] = (pp_location)PERFTOOLS__PROFILES__LOCATION__INIT;
        loc[i].id = i + 1;
        loc[i].n_line = 1;
        loc[i].line = &lnp[i];
        p->function[i] = &fn[i];
        p->location[i] = &loc[i];
    }
    p->n_function = p->n_location = nf;
    return PG_OK;
}

static int build_samples(const text_builder *b, pg_pprof *p)
{
    size_t ns = b->n_stack;
    pp_sample *s = pg_arena_alloc(b->a, ns * sizeof(*s));
    p->sample = pg_arena_alloc(b->a, ns * sizeof(*p->sample));
    if (!s || !p->sample)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < ns; i++) {
        s[i] = (pp_sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
        s[i].n_location_id = b->depth[i];
        s[i].location_id = b->stack[i];
        s[i].n_value = 1;
        s[i].value = &b->value[i];
        p->sample[i] = &s[i];
    }
    p->n_sample = ns;
    return PG_OK;
}

/* The header strings go first so that the string table starts with them. */
static int intern_header(text_builder *b, const pg_pyro_text_options *o, int64_t idx[4])
{
    const char *s[4] = {o->sample_type, o->sample_unit, o->period_type,
                        o->period_type && o->period_unit ? o->period_unit : ""};
    if (intern(b, "", 0) < 0)
        return PG_ERR_NOMEM;
    for (int i = 0; i < 4; i++) {
        idx[i] = s[i] ? intern(b, s[i], strlen(s[i])) : 0;
        if (idx[i] < 0)
            return PG_ERR_NOMEM;
    }
    return PG_OK;
}

static int build_pprof(const text_builder *b, const pg_pyro_text_options *o, const int64_t idx[4],
                       pg_pprof **out)
{
    pg_pprof *p = pg_arena_alloc(b->a, sizeof(*p));
    if (!p)
        return PG_ERR_NOMEM;
    *p = (pg_pprof)PERFTOOLS__PROFILES__PROFILE__INIT;
    p->sample_type = pg_arena_alloc(b->a, sizeof(*p->sample_type));
    if (!p->sample_type || !(p->sample_type[0] = value_type(b->a, idx[0], idx[1])))
        return PG_ERR_NOMEM;
    p->n_sample_type = 1;
    if (o->period_type && !(p->period_type = value_type(b->a, idx[2], idx[3])))
        return PG_ERR_NOMEM;
    p->period = o->period;
    p->time_nanos = o->time_nanos;
    p->duration_nanos = o->duration_nanos;
    p->string_table = b->strs;
    p->n_string_table = b->n_str;
    if (build_tables(b, p) != PG_OK || build_samples(b, p) != PG_OK)
        return PG_ERR_NOMEM;
    *out = p;
    return PG_OK;
}

int pg_pyro_text_to_pprof(pg_arena *a, pg_pyro_text_format f, const uint8_t *body, size_t len,
                          const pg_pyro_text_options *o, pg_pprof **out, pg_error *err)
{
    *out = NULL;
    if (!o->sample_type || !o->sample_unit || o->value_multiplier < 1)
        return pg_error_set(
            err, PG_ERR_INVALID,
            "text profile options need a sample type, a unit and a multiplier >= 1");
    text_builder b = {.a = a, .seed = (uint64_t)(uintptr_t)a};
    int64_t idx[4];
    if (intern_header(&b, o, idx) != PG_OK)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory building the profile");
    size_t pos = 0, line = 1;
    for (; pos < len; line++) {
        const uint8_t *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len, stop = end;
        if (stop > pos && body[stop - 1] == '\r')
            stop--;
        int rc = add_line(&b, f, (const char *)body + pos, stop - pos, line, o, err);
        if (rc != PG_OK)
            return rc;
        pos = end + 1;
    }
    if (b.n_stack == 0)
        return pg_error_set(err, PG_ERR_INVALID, "no samples");
    if (build_pprof(&b, o, idx, out) != PG_OK)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory building the profile");
    return PG_OK;
}
