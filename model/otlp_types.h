/*
 * Short names for the generated OTLP message types (internal to the model).
 */
#ifndef PG_MODEL_OTLP_TYPES_H
#define PG_MODEL_OTLP_TYPES_H

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

/* Offset of the first byte that is not part of valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid), or n when all is
 * valid. */
size_t pg_utf8_invalid_at(const uint8_t *s, size_t n);

#define PG_ANY(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

#endif
