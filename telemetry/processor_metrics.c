#include "telemetry/processor_metrics.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name, *help;
} family_help[] = {
    {PG_PROCESSOR_DROPPED_PROFILES,
     "Profiles a processor took out of the stream (filtered, sampled out, unrouted) or could not "
     "hand downstream, by reason"},
    {PG_PROCESSOR_REFUSED_PROFILES,
     "Profiles a processor refused with a retryable error, asking the client to send them again"},
};

pg_metric *pg_processor_counter(const char *name, const char *help, const char *processor_id,
                                const char *reason)
{
    for (size_t i = 0; i < sizeof(family_help) / sizeof(family_help[0]); i++)
        if (strcmp(family_help[i].name, name) == 0)
            help = family_help[i].help;
    char labels[256];
    if (reason)
        snprintf(labels, sizeof(labels), "processor=\"%s\",reason=\"%s\"", processor_id, reason);
    else
        snprintf(labels, sizeof(labels), "processor=\"%s\"", processor_id);
    return pg_metric_counter(name, help, labels);
}

pg_metric *pg_processor_gauge(const char *name, const char *help, const char *processor_id)
{
    char labels[256];
    snprintf(labels, sizeof(labels), "processor=\"%s\"", processor_id);
    return pg_metric_gauge(name, help, labels);
}
