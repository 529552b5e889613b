/*
 * Configuration tables. Every component declares its keys once, as an array
 * of pg_config_key ending with PG_CONFIG_END. The same table drives parsing
 * into the component's typed struct, defaults, bounds checks, unknown-key
 * errors and the reference in docs/components.md (`profgate components --docs`).
 *
 * Storage per type (the field at `offset` in the typed struct):
 *   PG_CFG_BOOL        bool
 *   PG_CFG_INT         int64_t         bounds: min..max
 *   PG_CFG_SIZE        uint64_t bytes  "4MiB", "512KiB", "64MB", plain numbers = bytes
 *   PG_CFG_DURATION    uint64_t ms     "200ms", "5s", "1m", "1h"; plain numbers are rejected
 *   PG_CFG_FLOAT       double          decimal number; bounds: fmin..fmax (both 0: none)
 *   PG_CFG_STRING      char *          NULL when unset and no default
 *   PG_CFG_ENDPOINT    char *          "host:port"; checked, and collected so that two
 *                                      listeners on one address are reported
 *   PG_CFG_ENUM        int             index into enum_values
 *   PG_CFG_STRING_LIST pg_str_list
 *   PG_CFG_STRING_MAP  pg_str_map      a mapping of string to string (e.g. headers)
 *   PG_CFG_SECTION     int present-flag at `offset` (1 when the key appears, even
 *                      with a null value); `children` describes the nested keys,
 *                      whose offsets are into the same typed struct
 *   PG_CFG_LIST        pg_cfg_list     a list of maps (relabel rules, routes); each
 *                                      element is a struct of `elem_size` bytes that
 *                                      begins with a pg_cfg_elem, filled from
 *                                      `children` (offsets into the element struct)
 *   PG_CFG_MAP_OF      pg_cfg_list     a map of name -> map (users by name); like
 *                                      LIST, with each element's name in elem.key
 * LIST and MAP_OF take no default_value (absent = no elements); their
 * children's defaults and required flags apply to every element.
 * All strings belong to the loaded configuration and live until it is freed.
 */
#ifndef PG_CONFIG_SCHEMA_H
#define PG_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum pg_cfg_type {
    PG_CFG_END = 0,
    PG_CFG_BOOL,
    PG_CFG_INT,
    PG_CFG_SIZE,
    PG_CFG_DURATION,
    PG_CFG_STRING,
    PG_CFG_ENDPOINT,
    PG_CFG_ENUM,
    PG_CFG_STRING_LIST,
    PG_CFG_STRING_MAP,
    PG_CFG_SECTION,
    PG_CFG_FLOAT,
    PG_CFG_LIST,
    PG_CFG_MAP_OF,
} pg_cfg_type;

typedef struct pg_str_list {
    char **items;
    size_t n;
} pg_str_list;

typedef struct pg_str_map {
    char **keys;
    char **values;
    size_t n;
} pg_str_map;

typedef struct pg_config_node pg_config_node;

/* First member of every LIST / MAP_OF element struct. */
typedef struct pg_cfg_elem {
    const char *key;            /* MAP_OF: the element's name; LIST: NULL */
    const pg_config_node *node; /* the element's map, for messages from validate() */
} pg_cfg_elem;

/* LIST / MAP_OF storage: n elements of the key's elem_size bytes each. */
typedef struct pg_cfg_list {
    void *items;
    size_t n;
} pg_cfg_list;

/* Element i of a LIST / MAP_OF of element type T. */
#define PG_CFG_LIST_AT(list, T, i) (&((T *)(list).items)[(i)])

typedef struct pg_config_key {
    const char *name;
    pg_cfg_type type;
    size_t offset;
    const char *default_value; /* textual, parsed like user input; NULL = none */
    int64_t min, max;          /* INT, SIZE, DURATION(ms); min == max == 0: unbounded */
    double fmin, fmax;         /* FLOAT; fmin == fmax == 0: unbounded */
    const char *help;
    const char *const *enum_values;       /* ENUM: NULL-terminated */
    const struct pg_config_key *children; /* SECTION, LIST, MAP_OF */
    size_t elem_size;                     /* LIST, MAP_OF: sizeof the element struct */
    bool required;
} pg_config_key;

#define PG_CONFIG_END                                                                              \
    {                                                                                              \
        .name = NULL, .type = PG_CFG_END                                                           \
    }

/* A node of the loaded YAML document, with its position. */
typedef enum pg_node_kind {
    PG_NODE_NULL,
    PG_NODE_SCALAR,
    PG_NODE_MAP,
    PG_NODE_SEQ,
} pg_node_kind;

struct pg_config_node {
    pg_node_kind kind;
    const char *file;
    int line, col;      /* 1-based */
    const char *scalar; /* SCALAR: value after ${env:...} expansion */
    int quoted;         /* SCALAR: written with quotes (so "true" is a string) */
    /* MAP: keys[i] (a SCALAR node) -> values[i]; SEQ: values[i] */
    pg_config_node **keys;
    pg_config_node **values;
    size_t n;
};

/* Looks up a key in a MAP node; NULL when absent or node is not a map. */
const pg_config_node *pg_config_map_get(const pg_config_node *map, const char *key);

/* Collects every problem found while loading and validating. */
typedef struct pg_config_report pg_config_report;

void pg_config_report_error(pg_config_report *r, const pg_config_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pg_config_report_warning(pg_config_report *r, const pg_config_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
