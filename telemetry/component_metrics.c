/*
 * The metric families components share: one table of help texts, so that
 * every exporter (or processor) filling a family describes it the same way.
 */
#include <stdio.h>
#include <string.h>

#include "telemetry/exporter_metrics.h"
#include "telemetry/processor_metrics.h"

static const struct {
    const char *name, *help;
} family_help[] = {
    {PG_EXPORTER_SENT_PROFILES, "Profiles an exporter delivered (written or accepted by the "
                                "destination)"},
    {PG_EXPORTER_SENT_BYTES, "Bytes an exporter wrote or sent"},
    {PG_EXPORTER_FAILED_PROFILES, "Profiles an exporter accepted but could not deliver"},
    {PG_EXPORTER_DROPPED_PROFILES, "Profiles accepted upstream and then dropped by an exporter"},
    {PG_PROCESSOR_DROPPED_PROFILES,
     "Profiles a processor took out of the stream (filtered, sampled out, unrouted) or could not "
     "hand downstream, by reason"},
    {PG_PROCESSOR_REFUSED_PROFILES,
     "Profiles a processor refused with a retryable error, asking the client to send them again"},
};

/* A counter labelled <id_label>="<id>" (and reason="<reason>" when set);
 * a known family gets its shared help text. */
static pg_metric *component_counter(const char *name, const char *help, const char *id_label,
                                    const char *id, const char *reason)
{
    for (size_t i = 0; i < sizeof(family_help) / sizeof(family_help[0]); i++)
        if (strcmp(family_help[i].name, name) == 0)
            help = family_help[i].help;
    char labels[256];
    if (reason)
        snprintf(labels, sizeof(labels), "%s=\"%s\",reason=\"%s\"", id_label, id, reason);
    else
        snprintf(labels, sizeof(labels), "%s=\"%s\"", id_label, id);
    return pg_metric_counter(name, help, labels);
}

pg_metric *pg_exporter_counter(const char *name, const char *help, const char *exporter_id,
                               const char *reason)
{
    return component_counter(name, help, "exporter", exporter_id, reason);
}

pg_metric *pg_processor_counter(const char *name, const char *help, const char *processor_id,
                                const char *reason)
{
    return component_counter(name, help, "processor", processor_id, reason);
}

pg_metric *pg_processor_gauge(const char *name, const char *help, const char *processor_id)
{
    char labels[256];
    snprintf(labels, sizeof(labels), "processor=\"%s\"", processor_id);
    return pg_metric_gauge(name, help, labels);
}
