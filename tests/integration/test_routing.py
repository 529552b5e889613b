"""processors/routing end to end: one profgate, one pipeline, Pyroscope
/ingest requests with and without X-Scope-OrgID, routed by tenant and by
label to three file exporters (and a fourth that no route names). Each
exporter's tree must hold exactly the profiles its routes select; the
configuration check refuses routes to exporters outside the pipeline and a
routing processor that is not last."""

import os
import subprocess

import pgtest
import pyrotest
from pgtest import check

port, metrics_port = pgtest.free_port(), pgtest.free_port()
pg = pgtest.Profgate("")
OUT = os.path.join(pg.dir, "out")
CONFIG = f"""
receivers:
  pyroscope: {{endpoint: 127.0.0.1:{port}}}
processors:
  routing:
    routes:
      - {{match: '{{__tenant__="tenant-a"}}', exporters: [file/a]}}
      - {{tenants: [tenant-b, tenant-x], exporters: [file/b]}}
      - {{match: '{{service_name=~"shared-.*", env="prod"}}', exporters: [file/a, file/b]}}
    default_exporters: [file/c]
exporters:
  file/a: {{path: {OUT}/a, format: pprof, labels_file: true}}
  file/b: {{path: {OUT}/b, format: pprof, labels_file: true}}
  file/c: {{path: {OUT}/c, format: pprof, labels_file: true}}
  file/unused: {{path: {OUT}/unused, format: pprof, labels_file: true}}
service:
  workers: 2
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles:
      receivers: [pyroscope]
      processors: [routing]
      exporters: [file/a, file/b, file/c, file/unused]
"""

CPU_GZ = open(os.path.join(pgtest.PYRO, "go-cpu.pb.gz"), "rb").read()

# (tenant header or None, app name with tags, trees it must reach)
SENDS = [
    ("tenant-a", "a-only", {"a"}),
    ("tenant-b", "b-only", {"b"}),
    ("tenant-x", "b-too", {"b"}),
    ("tenant-a", "shared-first{env=prod}", {"a"}),  # the first matching route wins
    (None, "shared-both{env=prod}", {"a", "b"}),     # by label, to two exporters
    (None, "shared-dev{env=dev}", {"c"}),           # default
    ("tenant-c", "c-tenant", {"c"}),                # default
]


def ingest(tenant, name):
    headers = [("Content-Type", "application/octet-stream")]
    if tenant:
        headers.append(("X-Scope-OrgID", tenant))
    target = pyrotest.ingest_target({"name": name, "format": "pprof"})
    return pyrotest.http_request(port, "POST", target, headers, CPU_GZ)


def tree(name):
    """[(tenant dir, service dir, sidecar tenant)] written below OUT/name."""
    return sorted((o.tenant_dir, o.service_dir, o.tenant)
                  for o in (pyrotest.read_output(p) for p in pyrotest.list_files(os.path.join(OUT, name))))


def expected(name):
    want = []
    for tenant, app, trees in SENDS:
        if name in trees:
            want.append((tenant or "_default", app.split("{")[0], tenant or ""))
    return sorted(want)


def config_errors():
    """The configuration check on a routing processor that names an exporter
    outside its pipeline and is not the last processor."""
    bad = CONFIG.replace("exporters: [file/a, file/b, file/c, file/unused]", "exporters: [file/a, file/c]")
    bad = bad.replace("processors: [routing]", "processors: [routing, batch]")
    bad = bad.replace("processors:\n  routing:", "processors:\n  batch: {}\n  routing:")
    path = os.path.join(pg.dir, "bad.yaml")
    with open(path, "w") as f:
        f.write(bad)
    r = subprocess.run([pgtest.BIN, "validate", "--config", path], capture_output=True, text=True)
    check(r.returncode != 0, "validate refuses the bad routing config")
    check("sends to exporter 'file/b', which is not one of the exporters of pipeline 'profiles'" in r.stderr,
          "exporter outside the pipeline reported: %r" % r.stderr)
    check("must be the last processor" in r.stderr, "routing not last reported: %r" % r.stderr)


def main():
    with open(pg.config, "w") as f:
        f.write(CONFIG)
    pg.start(wait_ports=(port, metrics_port))
    try:
        for tenant, app, _ in SENDS:
            r = ingest(tenant, app)
            check(r is not None and r.status == 200, "ingest %s as %s: 200 (%r)" % (app, tenant, r))
        total = sum(len(t) for _, _, t in SENDS)
        pgtest.wait_for(lambda: sum(len(tree(n)) for n in "abc") >= total, timeout=20)
        for name in "abc":
            got, want = tree(name), expected(name)
            check(got == want, "file/%s got exactly its profiles:\n  got  %r\n  want %r" % (name, got, want))
        check(tree("unused") == [], "an exporter no route names gets nothing: %r" % tree("unused"))

        def routed(exporter):
            return pgtest.metric_sum(metrics_port, "profgate_processor_routed_profiles_total",
                                     'processor="routing"', 'exporter="%s"' % exporter)
        check(routed("file/a") == 3 and routed("file/b") == 3 and routed("file/c") == 2,
              "routed counters a=3 b=3 c=2: %r" % [routed(x) for x in ("file/a", "file/b", "file/c")])
    finally:
        rc = pg.stop()
    check(rc == 0, "clean exit")
    config_errors()
    pgtest.finish()


main()
