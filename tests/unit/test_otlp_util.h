/*
 * Helpers for the OTLP model tests: fixture loading and building small
 * requests by hand.
 */
#ifndef PG_TEST_OTLP_UTIL_H
#define PG_TEST_OTLP_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "model/otlp.h"

#define OT_DIR       "fixtures/third_party/grafana-pyroscope/"
#define OT_V110      OT_DIR "otlp-v1.10-ebpf-cpu-offcpu.pb"
#define OT_V110_JSON OT_DIR "otlp-v1.10-ebpf-cpu-offcpu.protojson.json"

/* Reads $PG_SHARED_DIR/rel; NULL when missing. */
static inline uint8_t *ot_read(const char *rel, size_t *len)
{
    const char *dir = getenv("PG_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p)
        p[n] = 0;
    *len = (size_t)n;
    return p;
}

/* Packs any message into a malloc'd buffer. */
static inline uint8_t *ot_pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(*len ? *len : 1);
    protobuf_c_message_pack(m, p);
    return p;
}

/* Small request touching every table and index field. */
static inline const char *ot_synth_json(void)
{
    return "{\"resourceProfiles\":[{\"resource\":{\"attributes\":["
           "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}},"
           "{\"keyStrindex\":5,\"value\":{\"stringValueStrindex\":6}},"
           "{\"key\":\"nested\",\"value\":{\"kvlistValue\":{\"values\":[{\"keyStrindex\":5,"
           "\"value\":"
           "{\"arrayValue\":{\"values\":[{\"stringValueStrindex\":6},{\"intValue\":\"1\"}]}}}]}}}]}"
           ","
           "\"scopeProfiles\":[{\"scope\":{\"name\":\"ebpf\",\"version\":\"1\",\"attributes\":"
           "[{\"key\":\"scope.attr\",\"value\":{\"boolValue\":true}}]},\"profiles\":[{"
           "\"sampleType\":{\"typeStrindex\":1,\"unitStrindex\":2},"
           "\"periodType\":{\"typeStrindex\":3,\"unitStrindex\":4},\"period\":\"10000000\","
           "\"timeUnixNano\":\"1000\",\"durationNano\":\"500\",\"attributeIndices\":[2],"
           "\"samples\":["
           "{\"stackIndex\":1,\"attributeIndices\":[1],\"linkIndex\":1,\"values\":[\"3\",\"4\"],"
           "\"timestampsUnixNano\":[\"1001\",\"1002\"]},"
           "{\"stackIndex\":2,\"timestampsUnixNano\":[\"1003\",\"1004\",\"1005\"]},"
           "{\"stackIndex\":2,\"values\":[\"10\"]}]}]}]}],"
           "\"dictionary\":{"
           "\"mappingTable\":[{},{\"memoryStart\":\"4096\",\"memoryLimit\":\"8192\","
           "\"filenameStrindex\":7,\"attributeIndices\":[3]}],"
           "\"locationTable\":[{},{\"mappingIndex\":1,\"address\":\"4100\",\"lines\":[{"
           "\"functionIndex\":"
           "1,\"line\":\"12\"}]},{\"mappingIndex\":1,\"address\":\"4200\",\"lines\":[{"
           "\"functionIndex\":"
           "2}]}],"
           "\"functionTable\":[{},{\"nameStrindex\":8,\"filenameStrindex\":9},{\"nameStrindex\":10,"
           "\"systemNameStrindex\":10}],"
           "\"linkTable\":[{},{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":"
           "\"0102030405060708\"}],"
           "\"stringTable\":[\"\",\"samples\",\"count\",\"cpu\",\"nanoseconds\",\"host.name\","
           "\"node-1\",\"/bin/app\",\"main\",\"main.c\",\"work\",\"thread.name\",\"profile.kind\","
           "\"process.executable.build_id.gnu\"],"
           "\"attributeTable\":[{},{\"keyStrindex\":11,\"value\":{\"stringValue\":\"worker\"}},"
           "{\"keyStrindex\":12,\"value\":{\"stringValue\":\"cpu\"}},{\"keyStrindex\":13,\"value\":"
           "{\"stringValue\":\"abcd\"},\"unitStrindex\":0}],"
           "\"stackTable\":[{},{\"locationIndices\":[1,2]},{\"locationIndices\":[2]}]}}";
}

#endif
