/* The configuration profgate runs with when no --config is given: the bytes
 * of config/default.yaml, embedded at build time (see CMakeLists.txt). */
#ifndef PG_APP_DEFAULT_CONFIG_H
#define PG_APP_DEFAULT_CONFIG_H

extern const char pg_default_config_yaml[];

#endif
