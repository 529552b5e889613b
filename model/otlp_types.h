/*
 * Short names for the generated OTLP message types (internal to the model).
 */
#ifndef PG_MODEL_OTLP_TYPES_H
#define PG_MODEL_OTLP_TYPES_H

#include "common/utf8.h"
#include "model/otlp.h"

typedef Opentelemetry__Proto__Profiles__V1development__ResourceProfiles pg_otlp_resource_profiles;
typedef Opentelemetry__Proto__Profiles__V1development__ScopeProfiles pg_otlp_scope_profiles;
typedef Opentelemetry__Proto__Profiles__V1development__Sample pg_otlp_sample;
typedef Opentelemetry__Proto__Profiles__V1development__ValueType pg_otlp_value_type;
typedef Opentelemetry__Proto__Profiles__V1development__Mapping pg_otlp_mapping;
typedef Opentelemetry__Proto__Profiles__V1development__Location pg_otlp_location;
typedef Opentelemetry__Proto__Profiles__V1development__Line pg_otlp_line;
typedef Opentelemetry__Proto__Profiles__V1development__Function pg_otlp_function;
typedef Opentelemetry__Proto__Profiles__V1development__Link pg_otlp_link;
typedef Opentelemetry__Proto__Profiles__V1development__Stack pg_otlp_stack;
typedef Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit pg_otlp_kvu;
typedef Opentelemetry__Proto__Common__V1__KeyValue pg_otlp_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue pg_otlp_any;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pg_otlp_scope;
typedef Opentelemetry__Proto__Resource__V1__Resource pg_otlp_resource;
typedef Opentelemetry__Proto__Common__V1__EntityRef pg_otlp_entity_ref;

/* Shared by the label views (otlp_view.c, otlp_with_labels.c). */
/* An attribute's key, inline or through key_strindex. */
const char *pg_otlp_kv_key(const pg_otlp_request *req, const pg_otlp_kv *kv);
/* Text of a scalar value as labels show it; NULL for arrays, lists, bytes and
 * empty values (such attributes give no label). */
const char *pg_otlp_any_text(pg_arena *a, const pg_otlp_request *req, const pg_otlp_any *v);
/* The label an attribute key gives ("service.name" -> "service_name"). */
const char *pg_otlp_label_name(const char *key);

#define PG_ANY(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

#endif
