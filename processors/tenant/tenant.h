/*
 * processors/tenant: decides each profile's tenant from, in a configured
 * order, the authenticated identity (receiver `auth`), the X-Scope-OrgID
 * header, a label, and a default.
 *
 *   from              sources in order; any of auth, header, label, no
 *                     duplicates (default [auth, header])
 *   from_label        the label `label` reads (required when label is in from)
 *   default           tenant when no source gives one; "" (the default) leaves
 *                     the profile without a tenant
 *   to_label          also write the resulting tenant into this label
 *   check_tenant_ids  refuse ids Pyroscope/Cortex would refuse (default true)
 *
 * The first source with a non-empty value wins. When check_tenant_ids is
 * on and that value is not a valid tenant id (1..150 characters of
 * A-Z a-z 0-9 ! - _ . * ' ( ), not "." or ".."), the profile is dropped and
 * counted (reason="invalid_tenant"), never moved to another tenant: falling
 * through to a later source would write one client's data where it did
 * not ask it to go. The default itself is checked at start-up.
 *
 * Only labels and the tenant change; payloads are untouched.
 */
#ifndef PG_PROCESSORS_TENANT_TENANT_H
#define PG_PROCESSORS_TENANT_TENANT_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/component.h"

#define PG_TENANT_ID_MAX 150

typedef enum pg_tenant_source {
    PG_TENANT_FROM_AUTH = 0,
    PG_TENANT_FROM_HEADER = 1,
    PG_TENANT_FROM_LABEL = 2,
} pg_tenant_source;

typedef struct pg_tenant_processor_config {
    pg_str_list from;
    char *from_label;
    char *default_tenant;
    char *to_label;
    bool check_tenant_ids;
} pg_tenant_processor_config;

/* 1 when id is a tenant id Pyroscope and Cortex accept for writes. */
int pg_tenant_id_valid(const char *id);

extern const pg_component_def pg_tenant_processor_def;

#endif
