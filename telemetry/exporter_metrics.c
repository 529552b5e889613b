#include "telemetry/exporter_metrics.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name, *help;
} family_help[] = {
    {PG_EXPORTER_SENT_PROFILES, "Profiles an exporter delivered (written or accepted by the "
                                "destination)"},
    {PG_EXPORTER_SENT_BYTES, "Bytes an exporter wrote or sent"},
    {PG_EXPORTER_FAILED_PROFILES, "Profiles an exporter accepted but could not deliver"},
    {PG_EXPORTER_DROPPED_PROFILES, "Profiles accepted upstream and then dropped by an exporter"},
};

pg_metric *pg_exporter_counter(const char *name, const char *help, const char *exporter_id,
                               const char *reason)
{
    for (size_t i = 0; i < sizeof(family_help) / sizeof(family_help[0]); i++)
        if (strcmp(family_help[i].name, name) == 0)
            help = family_help[i].help;
    char labels[256];
    if (reason)
        snprintf(labels, sizeof(labels), "exporter=\"%s\",reason=\"%s\"", exporter_id, reason);
    else
        snprintf(labels, sizeof(labels), "exporter=\"%s\"", exporter_id);
    return pg_metric_counter(name, help, labels);
}
