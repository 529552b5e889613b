/*
 * Markdown reference of a key table: one row per key, nested section keys
 * under their dotted path, so docs/components.md comes from the same table
 * that parses the file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/internal.h"
#include "config/values.h"

static const char *type_name(pg_cfg_type t)
{
    static const char *const names[] = {
        [PG_CFG_BOOL] = "bool",
        [PG_CFG_INT] = "int",
        [PG_CFG_SIZE] = "size",
        [PG_CFG_DURATION] = "duration",
        [PG_CFG_STRING] = "string",
        [PG_CFG_ENDPOINT] = "endpoint",
        [PG_CFG_ENUM] = "enum",
        [PG_CFG_STRING_LIST] = "list of strings",
        [PG_CFG_STRING_MAP] = "map of strings",
        [PG_CFG_SECTION] = "section",
        [PG_CFG_FLOAT] = "float",
        [PG_CFG_LIST] = "list of maps",
        [PG_CFG_MAP_OF] = "map of names to maps",
    };
    return t > PG_CFG_END && t <= PG_CFG_MAP_OF ? names[t] : "?";
}

/* Table cells must not contain '|' or line breaks. */
static void put_cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static void bound_text(const pg_config_key *k, char *buf, size_t size)
{
    char lo[32], hi[32];
    buf[0] = '\0';
    if (k->type == PG_CFG_ENUM) {
        size_t n = 0;
        while (k->enum_values && k->enum_values[n])
            n++;
        pg_config_join(buf, size, k->enum_values, n);
        return;
    }
    if (k->type == PG_CFG_FLOAT) {
        if (k->fmin != 0 || k->fmax != 0)
            snprintf(buf, size, "%g .. %g", k->fmin, k->fmax);
        return;
    }
    if (k->min == 0 && k->max == 0)
        return;
    if (k->type == PG_CFG_INT) {
        snprintf(lo, sizeof(lo), "%" PRId64, k->min);
        snprintf(hi, sizeof(hi), "%" PRId64, k->max);
    } else if (k->type == PG_CFG_SIZE || k->type == PG_CFG_DURATION) {
        void (*fmt)(uint64_t, char *, size_t) =
            k->type == PG_CFG_SIZE ? pg_config_format_size : pg_config_format_duration;
        fmt(k->min > 0 ? (uint64_t)k->min : 0, lo, sizeof(lo));
        fmt(k->max > 0 ? (uint64_t)k->max : 0, hi, sizeof(hi));
    } else {
        return;
    }
    if (k->max < k->min)
        snprintf(buf, size, ">= %s", lo);
    else
        snprintf(buf, size, "%s .. %s", lo, hi);
}

static void print_rows(const pg_config_key *keys, const char *prefix, FILE *out)
{
    for (size_t i = 0; keys && keys[i].name; i++) {
        const pg_config_key *k = &keys[i];
        char path[256], bounds[512];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k->name);
        bound_text(k, bounds, sizeof(bounds));
        fputs("| `", out);
        put_cell(out, path);
        fprintf(out, "` | %s | ", type_name(k->type));
        if (k->default_value) {
            fputc('`', out);
            put_cell(out, k->default_value);
            fputc('`', out);
        } else if (k->required) {
            fputs("*required*", out);
        }
        fputs(" | ", out);
        put_cell(out, bounds);
        fputs(" | ", out);
        put_cell(out, k->help);
        fputs(" |\n", out);
        if (k->type == PG_CFG_SECTION) {
            print_rows(k->children, path, out);
        } else if (k->type == PG_CFG_LIST || k->type == PG_CFG_MAP_OF) {
            char elem[300];
            snprintf(elem, sizeof(elem), "%s%s", path, k->type == PG_CFG_LIST ? "[]" : ".<name>");
            print_rows(k->children, elem, out);
        }
    }
}

void pg_config_print_keys_markdown(const pg_config_key *keys, FILE *out)
{
    if (!keys || !keys[0].name) {
        fputs("This component has no settings.\n", out);
        return;
    }
    fputs("| Key | Type | Default | Bounds / values | Description |\n", out);
    fputs("| --- | --- | --- | --- | --- |\n", out);
    print_rows(keys, "", out);
}
