"""processors/filter end to end: Pyroscope /ingest -> filter -> file exporter
(pprof). Profiles are kept or dropped by label selectors; sample types are
cut out of real Go heap profiles, and google/pprof (tests/go/pprofcheck, which
parses with CheckValid) must accept the result with the kept types' totals
unchanged; a profile with only unwanted types is dropped; a profile with
nothing to remove is forwarded byte for byte. Counters say why."""

import gzip
import os
import shutil
import subprocess
import sys
import tempfile

import pgtest
import pyrotest
from pgtest import check

WORK = tempfile.mkdtemp(prefix="pg-filter-")
_BUILD = os.environ.get("PG_BUILD_DIR", tempfile.gettempdir())
GO_ENV = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOPROXY="off", GOFLAGS="",
              GOCACHE=os.environ.get("GOCACHE") or os.path.join(_BUILD, "go-cache"))

port, metrics_port = pgtest.free_port(), pgtest.free_port()
pg = pgtest.Profgate("")
OUT = os.path.join(pg.dir, "out")
CONFIG = f"""
receivers:
  pyroscope: {{endpoint: 127.0.0.1:{port}}}
processors:
  filter:
    keep: ['{{service_name=~"keep-.*"}}', '{{__tenant__="vip"}}']
    drop: ['{{env="dev"}}']
    sample_types:
      keep: [inuse_space, 'alloc_space:bytes', samples, 'cpu:nanoseconds']
exporters:
  file: {{path: {OUT}, format: pprof, labels_file: true}}
service:
  workers: 1
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles: {{receivers: [pyroscope], processors: [filter], exporters: [file]}}
"""

HEAP = os.path.join(pgtest.PYRO, "go-heap.pb.gz")
CPU = os.path.join(pgtest.PYRO, "go-cpu.pb.gz")
GOROUTINE = os.path.join(pgtest.PYRO, "ingest-go-goroutine.pb.gz")


def pprofcheck():
    if shutil.which("go") is None:
        check(False, "go is not installed (apt-get install golang-go golang-github-google-pprof-dev)")
        pgtest.finish()
    out = os.path.join(WORK, "pprofcheck")
    r = subprocess.run(["go", "build", "-o", out, "./tests/go/pprofcheck"], cwd=pgtest.SOURCE_DIR,
                       env=GO_ENV, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        check(False, "building pprofcheck failed:\n" + r.stderr)
        pgtest.finish()
    return out


def totals(judge, path):
    """{"type/unit": total} as google/pprof reads the file (it runs CheckValid)."""
    r = subprocess.run([judge, "totals", path], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "google/pprof parses %s: %s" % (path, r.stderr.strip()))
    return {k: int(v) for k, v in (line.split() for line in r.stdout.splitlines())}


def ingest(name, body, tenant=None):
    headers = [("Content-Type", "application/octet-stream")]
    if tenant:
        headers.append(("X-Scope-OrgID", tenant))
    target = pyrotest.ingest_target({"name": name, "format": "pprof"})
    r = pyrotest.http_request(port, "POST", target, headers, body)
    check(r is not None and r.status == 200, "ingest %s: 200 (%r)" % (name, r))


def dropped(reason):
    return pgtest.metric_sum(metrics_port, "profgate_processor_dropped_profiles_total",
                             'processor="filter"', 'reason="%s"' % reason)


def by_service():
    outs = [pyrotest.read_output(p) for p in pyrotest.list_files(OUT)]
    return {o.service_dir: o for o in outs}


def main():
    judge = pprofcheck()
    heap, cpu = open(HEAP, "rb").read(), open(CPU, "rb").read()
    with open(pg.config, "w") as f:
        f.write(CONFIG)
    pg.start(wait_ports=(port, metrics_port))
    try:
        ingest("keep-heap", heap)                 # rewritten: two of four types
        ingest("keep-cpu", cpu)                   # nothing to remove: byte for byte
        ingest("other-heap", heap)                # not in keep: filtered
        ingest("other-vip", cpu, tenant="vip")    # kept through __tenant__
        ingest("keep-dev{env=dev}", heap)         # drop selector: filtered
        ingest("keep-goroutine", open(GOROUTINE, "rb").read())  # no wanted type: dropped
        pgtest.wait_for(lambda: len(pyrotest.list_files(OUT)) >= 3, timeout=20)
        outs = by_service()
        check(sorted(outs) == ["keep-cpu", "keep-heap", "other-vip"],
              "only the selected profiles reach the exporter: %r" % sorted(outs))
        check(dropped("filtered") == 2, "filtered counted: %r" % dropped("filtered"))
        check(dropped("no_sample_types") == 1, "no_sample_types counted: %r" % dropped("no_sample_types"))
        rewritten = pgtest.metric_sum(metrics_port, "profgate_processor_filter_rewritten_profiles_total",
                                      'processor="filter"')
        check(rewritten == 1, "one profile rewritten: %r" % rewritten)

        if "keep-heap" in outs:
            o = outs["keep-heap"]
            check([t for t, _ in o.sample_types()] == ["alloc_space", "inuse_space"],
                  "heap keeps alloc_space and inuse_space in order: %r" % o.sample_types())
            got = totals(judge, o.path)
            want = {k: v for k, v in totals(judge, HEAP).items() if k in ("alloc_space/bytes", "inuse_space/bytes")}
            check(got == want, "kept types' totals unchanged: %r vs %r" % (got, want))
            check(len(o.data) < len(heap), "the filtered heap is smaller (%d < %d)" % (len(o.data), len(heap)))
            check(o.type_dir.startswith("alloc_space"), "exported under its new first type: %s" % o.type_dir)
        if "keep-cpu" in outs:
            check(gzip.decompress(outs["keep-cpu"].data) == gzip.decompress(cpu),
                  "a profile with nothing to remove is forwarded unchanged")
    finally:
        rc = pg.stop()
    check(rc == 0, "clean exit")
    if not pgtest._failures:
        shutil.rmtree(WORK, ignore_errors=True)
    pgtest.finish()


main()
