#include "app/convert_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"
#include "convert/convert.h"
#include "model/otlp.h"
#include "transport/decompress.h"

/* A command-line run may hold a whole capture in memory, but a compression
 * bomb must not take the machine down. */
#define CONVERT_MAX_INPUT ((uint64_t)1 << 30)
#define CONVERT_MAX_ATTRS 64

/* Exit statuses. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef enum { TO_DEFAULT, TO_OTLP, TO_OTLP_JSON, TO_PPROF } out_format;

typedef struct convert_args {
    out_format to;
    const char *service;
    pg_convert_attr attrs[CONVERT_MAX_ATTRS];
    size_t n_attrs;
    const char *in, *out;
} convert_args;

/* The decoded input: exactly one of pprof, pprof_bytes and otlp is set.
 * pprof_bytes is a pprof left undecoded for the direct OTLP encoder. */
typedef struct convert_input {
    pg_pprof *pprof;
    const uint8_t *pprof_bytes;
    size_t pprof_len;
    pg_otlp_request *otlp;
} convert_input;

static void usage(FILE *out)
{
    fputs("usage: profgate convert [--to otlp|otlp-json|pprof] [--service NAME]\n"
          "                        [--attr key=value]... IN OUT\n"
          "\n"
          "Converts between pprof and OTLP profiles. IN and OUT may be '-' (stdin,\n"
          "stdout). The input format is recognised from its content (gzip, OTLP\n"
          "protobuf, OTLP/JSON, pprof). Default output: OTLP for pprof input, pprof\n"
          "(gzipped) for OTLP input. When OTLP input yields several pprof documents,\n"
          "OUT is a directory receiving OUT/<index>-<sample type>.pb.gz.\n"
          "--service and --attr set resource attributes of OTLP output.\n",
          out);
}

static int usage_error(const char *fmt, const char *what)
{
    fputs("profgate convert: ", stderr);
    fprintf(stderr, fmt, what);
    fputs("\n", stderr);
    usage(stderr);
    return EXIT_USAGE;
}

/* Matches "--name VALUE" and "--name=VALUE": 1 and *val set, 0 when argv[*i]
 * is another argument, -1 when the value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

static int add_attr(convert_args *a, char *kv)
{
    char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return usage_error("--attr needs key=value, got '%s'", kv);
    *eq = '\0';
    if (strcmp(kv, "service.name") == 0) {
        a->service = eq + 1;
        return 0;
    }
    for (size_t i = 0; i < a->n_attrs; i++)
        if (strcmp(a->attrs[i].key, kv) == 0) { /* the last value given wins */
            a->attrs[i].value = eq + 1;
            return 0;
        }
    if (a->n_attrs == CONVERT_MAX_ATTRS)
        return usage_error("too many --attr options (at most %s)", "64");
    a->attrs[a->n_attrs++] = (pg_convert_attr){kv, eq + 1};
    return 0;
}

static int parse_to(convert_args *a, const char *v)
{
    if (strcmp(v, "otlp") == 0)
        a->to = TO_OTLP;
    else if (strcmp(v, "otlp-json") == 0)
        a->to = TO_OTLP_JSON;
    else if (strcmp(v, "pprof") == 0)
        a->to = TO_PPROF;
    else
        return usage_error("--to must be otlp, otlp-json or pprof, not '%s'", v);
    return 0;
}

/* 0 when the arguments are usable, EXIT_USAGE otherwise, -1 for --help. */
static int parse_args(int argc, char **argv, convert_args *a)
{
    const char *pos[2];
    int n_pos = 0;
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return -1;
        if ((m = opt_value(argc, argv, &i, "--to", &v)) != 0) {
            if (m < 0 || parse_to(a, v) != 0)
                return m < 0 ? usage_error("%s needs a value", "--to") : EXIT_USAGE;
        } else if ((m = opt_value(argc, argv, &i, "--service", &v)) != 0) {
            if (m < 0)
                return usage_error("%s needs a value", "--service");
            a->service = v;
        } else if ((m = opt_value(argc, argv, &i, "--attr", &v)) != 0) {
            if (m < 0 || add_attr(a, (char *)v) != 0)
                return m < 0 ? usage_error("%s needs a value", "--attr") : EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage_error("unknown option '%s'", argv[i]);
        } else if (n_pos == 2) {
            return usage_error("unexpected argument '%s'", argv[i]);
        } else {
            pos[n_pos++] = argv[i];
        }
    }
    if (n_pos != 2)
        return usage_error("%s", "needs an input and an output (use - for stdin/stdout)");
    a->in = pos[0];
    a->out = pos[1];
    if (a->to == TO_PPROF && (a->service || a->n_attrs))
        return usage_error("%s", "--service and --attr apply to OTLP output only");
    return 0;
}

static int read_input(const char *path, pg_buf *buf, pg_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return pg_error_set(err, PG_ERR_IO, "cannot open: %s", strerror(errno));
    int rc = PG_OK;
    for (;;) {
        if (pg_buf_reserve(buf, 1 << 16) != PG_OK) {
            rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
            break;
        }
        size_t n = fread(buf->data + buf->len, 1, buf->cap - buf->len, f);
        buf->len += n;
        if (buf->len > CONVERT_MAX_INPUT) {
            rc = pg_error_set(err, PG_ERR_LIMIT, "larger than %llu bytes",
                              (unsigned long long)CONVERT_MAX_INPUT);
            break;
        }
        if (n == 0) {
            if (ferror(f))
                rc = pg_error_set(err, PG_ERR_IO, "read error: %s", strerror(errno));
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    return rc;
}

static int write_output(const char *path, const uint8_t *data, size_t len, pg_error *err)
{
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "wb");
    if (!f)
        return pg_error_set(err, PG_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
    ok = (to_stdout ? fflush(f) : fclose(f)) == 0 && ok;
    if (!ok) {
        int e = errno;
        if (!to_stdout)
            remove(path);
        return pg_error_set(err, PG_ERR_IO, "%s: write error: %s", to_stdout ? "stdout" : path,
                            strerror(e));
    }
    return PG_OK;
}

/* Reads one varint; 0 when it runs past end. */
static size_t read_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            return i + 1;
    }
    return 0;
}

/* True when the bytes are a well-formed protobuf message whose field 6 is
 * length-delimited and starts with an empty entry: pprof's string table.
 * An OTLP request has no top-level field 6, so this settles the cases where
 * a pprof would also decode as some OTLP request (or the other way round). */
static int has_pprof_string_table(const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    int seen = 0, first_empty = 0;
    while (p < end) {
        uint64_t key, v;
        size_t n = read_varint(p, end, &key);
        if (n == 0 || key >> 3 == 0)
            return 0;
        p += n;
        switch (key & 7) {
        case 0:
            if ((n = read_varint(p, end, &v)) == 0)
                return 0;
            p += n;
            break;
        case 1:
        case 5:
            if ((size_t)(end - p) < ((key & 7) == 1 ? 8u : 4u))
                return 0;
            p += (key & 7) == 1 ? 8 : 4;
            break;
        case 2:
            if ((n = read_varint(p, end, &v)) == 0 || v > (uint64_t)(end - p - n))
                return 0;
            if (key >> 3 == 6 && !seen++)
                first_empty = v == 0;
            p += n + v;
            break;
        default:
            return 0;
        }
    }
    return seen && first_empty;
}

static int is_json(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < len && p[i] == '{';
}

/* OTLP protobuf first (when the layout is v1.10 and the request is not
 * empty), then pprof; the error names both attempts. */
static int decode_binary(pg_arena *a, const uint8_t *p, size_t len, convert_input *in,
                         pg_error *err)
{
    const char *ver = pg_otlp_sniff_version(p, len);
    pg_error otlp_err;
    pg_error_clear(&otlp_err);
    int rc = PG_ERR_INVALID;
    if (strcmp(ver, "unknown") != 0) {
        rc = pg_otlp_decode(a, p, len, &in->otlp, &otlp_err);
        if (rc == PG_OK && (in->otlp->n_resource_profiles > 0 || in->otlp->dictionary))
            return PG_OK;
        if (rc == PG_OK)
            pg_error_set(&otlp_err, PG_ERR_INVALID, "the request is empty");
        in->otlp = NULL;
    }
    if (pg_pprof_decode(a, p, len, CONVERT_MAX_INPUT, &in->pprof, err) == PG_OK)
        return PG_OK;
    in->pprof = NULL;
    if (strcmp(ver, "v1.10") != 0 && strcmp(ver, "unknown") != 0 && rc != PG_OK)
        return pg_error_set(err, otlp_err.code, "%s", otlp_err.msg);
    if (strcmp(ver, "unknown") == 0)
        snprintf(otlp_err.msg, sizeof(otlp_err.msg), "not a protobuf message");
    char pprof_msg[PG_ERROR_MSG_MAX];
    snprintf(pprof_msg, sizeof(pprof_msg), "%s", err->msg);
    return pg_error_set(err, PG_ERR_INVALID,
                        "neither a pprof profile (%s) nor an OTLP request (%s)", pprof_msg,
                        otlp_err.msg);
}

static int decode_input(pg_arena *a, const uint8_t *p, size_t len, int lazy_pprof,
                        convert_input *in, pg_error *err)
{
    memset(in, 0, sizeof(*in));
    if (pg_is_gzip(p, len)) {
        if (pg_decompress(a, "gzip", p, len, CONVERT_MAX_INPUT, &p, &len, err) != PG_OK) {
            pg_error_prefix(err, "gunzip: ");
            return err->code;
        }
    }
    if (len == 0)
        return pg_error_set(err, PG_ERR_INVALID, "the input is empty");
    if (is_json(p, len))
        return pg_otlp_json_decode(a, (const char *)p, len, &in->otlp, err);
    if (has_pprof_string_table(p, len)) {
        if (!lazy_pprof)
            return pg_pprof_decode(a, p, len, CONVERT_MAX_INPUT, &in->pprof, err);
        in->pprof_bytes = p;
        in->pprof_len = len;
        return PG_OK;
    }
    return decode_binary(a, p, len, in, err);
}

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;

/* Sets (replacing any attribute with that key) one string attribute of an
 * OTLP resource; keys given by reference are resolved to compare them. */
static int set_resource_attr(pg_arena *a, const pg_otlp_request *req,
                             Opentelemetry__Proto__Resource__V1__Resource *res, const char *key,
                             const char *value)
{
    any_t *v = pg_arena_alloc(a, sizeof(*v));
    kv_t *kv = NULL;
    if (!v)
        return PG_ERR_NOMEM;
    opentelemetry__proto__common__v1__any_value__init(v);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = (char *)value;
    for (size_t i = 0; i < res->n_attributes && !kv; i++) {
        kv_t *cur = res->attributes[i];
        const char *k = cur->key && cur->key[0] ? cur->key : pg_otlp_string(req, cur->key_strindex);
        if (strcmp(k, key) == 0)
            kv = cur;
    }
    if (!kv) {
        kv_t **list = pg_arena_alloc(a, (res->n_attributes + 1) * sizeof(*list));
        if (!list || !(kv = pg_arena_alloc(a, sizeof(*kv))))
            return PG_ERR_NOMEM;
        opentelemetry__proto__common__v1__key_value__init(kv);
        if (res->n_attributes)
            memcpy(list, res->attributes, res->n_attributes * sizeof(*list));
        list[res->n_attributes++] = kv;
        res->attributes = list;
    }
    kv->key = (char *)key;
    kv->key_strindex = 0;
    kv->value = v;
    return PG_OK;
}

static int set_resource_attrs(pg_arena *a, pg_otlp_request *req, const convert_args *args)
{
    for (size_t r = 0; r < req->n_resource_profiles; r++) {
        Opentelemetry__Proto__Profiles__V1development__ResourceProfiles *rp =
            req->resource_profiles[r];
        if (!rp->resource) {
            rp->resource = pg_arena_alloc(a, sizeof(*rp->resource));
            if (!rp->resource)
                return PG_ERR_NOMEM;
            opentelemetry__proto__resource__v1__resource__init(rp->resource);
        }
        int rc = args->service && args->service[0]
                     ? set_resource_attr(a, req, rp->resource, "service.name", args->service)
                     : PG_OK;
        for (size_t i = 0; rc == PG_OK && i < args->n_attrs; i++)
            rc = set_resource_attr(a, req, rp->resource, args->attrs[i].key, args->attrs[i].value);
        if (rc != PG_OK)
            return rc;
    }
    return PG_OK;
}

static const char *input_name(const convert_args *args)
{
    return strcmp(args->in, "-") == 0 ? "stdin" : args->in;
}

/* pprof -> OTLP protobuf straight from the bytes (pg_pprof_to_otlp_encoded). */
static int write_pprof_bytes_as_otlp(pg_arena *a, const convert_input *in,
                                     const pg_pprof_to_otlp_options *opt, const convert_args *args,
                                     pg_error *err)
{
    pg_buf out;
    pg_buf_init(&out);
    int rc = pg_pprof_to_otlp_encoded(a, in->pprof_bytes, in->pprof_len, CONVERT_MAX_INPUT, opt,
                                      &out, err);
    if (rc == PG_OK)
        rc = write_output(args->out, out.data, out.len, err);
    else
        pg_error_prefix(err, "%s: ", input_name(args));
    pg_buf_free(&out);
    return rc;
}

static int write_otlp(pg_arena *a, convert_input *in, const convert_args *args, pg_error *err)
{
    pg_otlp_request *req = in->otlp;
    int rc = PG_OK;
    pg_pprof_to_otlp_options opt = {.service_name = args->service,
                                    .resource_attrs = args->attrs,
                                    .n_resource_attrs = args->n_attrs};
    if (in->pprof_bytes)
        return write_pprof_bytes_as_otlp(a, in, &opt, args, err);
    if (in->pprof) {
        rc = pg_pprof_to_otlp(a, in->pprof, &opt, &req, err);
    } else if ((args->service || args->n_attrs) && set_resource_attrs(a, req, args) != PG_OK) {
        rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    if (rc != PG_OK)
        return rc;
    pg_buf out;
    pg_buf_init(&out);
    if (args->to == TO_OTLP_JSON) {
        rc = pg_otlp_json_encode(req, &out, err);
        if (rc == PG_OK && pg_buf_append_str(&out, "\n") != PG_OK)
            rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    } else if (pg_otlp_encode(req, &out) != PG_OK) {
        rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory while encoding OTLP");
    }
    if (rc == PG_OK)
        rc = write_output(args->out, out.data, out.len, err);
    pg_buf_free(&out);
    return rc;
}

static int write_pprof(const pg_pprof *p, const char *path, pg_error *err)
{
    pg_buf out;
    pg_buf_init(&out);
    int rc = pg_pprof_encode(p, 1, &out, err);
    if (rc == PG_OK)
        rc = write_output(path, out.data, out.len, err);
    pg_buf_free(&out);
    return rc;
}

/* OUT/<index>-<first sample type>.pb.gz, the type reduced to characters
 * that are safe in a file name; the index is zero-padded so that names sort
 * in document order. */
static char *doc_path(pg_arena *a, const char *dir, size_t i, size_t n, const pg_pprof *p)
{
    const char *type = "none";
    if (p->n_sample_type > 0 && p->sample_type[0]->type > 0 &&
        (size_t)p->sample_type[0]->type < p->n_string_table)
        type = p->string_table[p->sample_type[0]->type];
    char *safe = pg_arena_strdup(a, type);
    if (!safe)
        return NULL;
    for (char *c = safe; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            *c = '_';
    int width = 1;
    for (size_t m = n - 1; m >= 10; m /= 10)
        width++;
    return pg_arena_sprintf(a, "%s/%0*zu-%s.pb.gz", dir, width, i, safe);
}

static int write_doc_dir(pg_arena *a, const pg_pprof_doc *docs, size_t n, const char *dir,
                         pg_error *err)
{
    if (strcmp(dir, "-") == 0)
        return pg_error_set(err, PG_ERR_INVALID,
                            "the input yields %zu pprof documents: OUT must be a directory, not -",
                            n);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return pg_error_set(err, PG_ERR_IO, "%s: cannot create directory: %s", dir,
                            strerror(errno));
    for (size_t i = 0; i < n; i++) {
        char *path = doc_path(a, dir, i, n, docs[i].profile);
        if (!path)
            return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        int rc = write_pprof(docs[i].profile, path, err);
        if (rc != PG_OK)
            return rc;
        fprintf(stderr, "%s\n", path);
    }
    return PG_OK;
}

static int convert_to_pprof(pg_arena *a, convert_input *in, const char *out, pg_error *err)
{
    if (in->pprof)
        return write_pprof(in->pprof, out, err);
    pg_pprof_doc *docs = NULL;
    size_t n = 0;
    int rc = pg_otlp_to_pprof(a, in->otlp, NULL, 0, &docs, &n, err);
    if (rc != PG_OK)
        return rc;
    if (n == 0)
        return pg_error_set(err, PG_ERR_INVALID, "the input holds no profiles");
    size_t skipped = 0;
    for (size_t i = 0; i < n; i++)
        skipped += docs[i].skipped_attributes;
    if (skipped)
        fprintf(stderr,
                "profgate convert: warning: %zu attribute value(s) that pprof labels cannot "
                "hold were left out\n",
                skipped);
    struct stat st;
    int is_dir = strcmp(out, "-") != 0 && stat(out, &st) == 0 && S_ISDIR(st.st_mode);
    if (n == 1 && !is_dir)
        return write_pprof(docs[0].profile, out, err);
    return write_doc_dir(a, docs, n, out, err);
}

static int run(pg_arena *a, convert_args *args, pg_error *err)
{
    pg_buf raw;
    pg_buf_init(&raw);
    convert_input in;
    int rc = read_input(args->in, &raw, err);
    if (rc == PG_OK)
        rc = decode_input(a, raw.data, raw.len, args->to == TO_OTLP || args->to == TO_DEFAULT, &in,
                          err);
    if (rc != PG_OK) {
        pg_error_prefix(err, "%s: ", input_name(args));
        pg_buf_free(&raw);
        return EXIT_FAIL;
    }
    if (args->to == TO_DEFAULT)
        args->to = in.pprof || in.pprof_bytes ? TO_OTLP : TO_PPROF;
    if (args->to == TO_PPROF && (args->service || args->n_attrs)) {
        pg_buf_free(&raw);
        return usage_error("%s", "--service and --attr apply to OTLP output only (add --to otlp)");
    }
    rc = args->to == TO_PPROF ? convert_to_pprof(a, &in, args->out, err)
                              : write_otlp(a, &in, args, err);
    pg_buf_free(&raw);
    return rc == PG_OK ? EXIT_OK : EXIT_FAIL;
}

int pg_convert_main(int argc, char **argv)
{
    convert_args args;
    int rc = parse_args(argc, argv, &args);
    if (rc < 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (rc != 0)
        return EXIT_USAGE;
    pg_arena *a = pg_arena_new(1 << 20, 0);
    if (!a) {
        fputs("profgate convert: out of memory\n", stderr);
        return EXIT_FAIL;
    }
    pg_error err;
    pg_error_clear(&err);
    rc = run(a, &args, &err);
    if (rc == EXIT_FAIL)
        fprintf(stderr, "profgate convert: %s\n", err.msg[0] ? err.msg : pg_strerror(err.code));
    pg_arena_free(a);
    return rc;
}
