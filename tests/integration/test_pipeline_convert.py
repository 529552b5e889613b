"""The convert processor and the file exporter's pprof format in a running
profgate: OTLP over HTTP -> convert(to: pprof) -> file(format: pprof), and the
same without the processor (the exporter converts by itself). The directory
must hold gzipped pprof files laid out as <tenant>/<service>/<sample
type>/<time>-<seq>.pb.gz that `go tool pprof -raw` reads and whose per-type
totals (read by google/pprof, tests/go/pprofcheck) match the OTLP request's."""

import os
import re

import pgtest
from pgtest import check
from test_convert_roundtrip import go_pprof_raw, otlp_totals, pprofcheck, totals

http_port, metrics_port = pgtest.free_port(), pgtest.free_port()
CONFIG = f"""
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:{http_port}}}
processors:
  convert: {{to: pprof}}
exporters:
  file/converted: {{path: ./converted, format: pprof}}
  file/direct: {{path: ./direct, format: pprof}}
  file/otlp: {{path: ./back.otlp}}
service:
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles/convert:
      receivers: [otlp]
      processors: [convert]
      exporters: [file/converted, file/otlp]
    profiles/direct:
      receivers: [otlp]
      exporters: [file/direct]
"""

NAME = re.compile(r"^(?P<tenant>[A-Za-z0-9._-]+)/(?P<svc>[A-Za-z0-9._-]+)/(?P<type>[A-Za-z0-9._-]+)/"
                  r"\d{8}T\d{6}Z-\d{6}\.pb\.gz$")


def walk(root):
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def check_tree(root, label, want, services, raw_checks):
    files = walk(root)
    check(len(files) > 0, "%s: files were written" % label)
    got = {}
    for rel in files:
        m = NAME.match(rel)
        check(m is not None, "%s: %s follows the layout" % (label, rel))
        if not m:
            continue
        check(m.group("tenant") == "team-a", "%s: %s is under the tenant" % (label, rel))
        check(m.group("svc") in services, "%s: %s is under a known service %r" % (label, rel, services))
        path = os.path.join(root, rel)
        with open(path, "rb") as f:
            check(f.read(2) == b"\x1f\x8b", "%s: %s is gzipped" % (label, rel))
        if raw_checks > 0:
            raw_checks -= 1
            r = go_pprof_raw(path)
            check(r.returncode == 0 and "Samples:" in r.stdout,
                  "%s: go tool pprof -raw reads %s: %s" % (label, rel, r.stderr[-300:]))
        per_file = totals(path)
        first_type = next(iter(per_file), "").split("/")[0]
        check(m.group("type") == first_type, "%s: %s is named after its first sample type %s" %
              (label, rel, first_type))
        for k, v in per_file.items():
            got[k] = got.get(k, 0) + v
    check(got == want, "%s: per-type totals %r == %r" % (label, got, want))
    print("%s: %d pprof files, totals %r" % (label, len(files), got), flush=True)


def main():
    pprofcheck()
    pg = pgtest.Profgate(CONFIG).start(wait_ports=(http_port, metrics_port))
    try:
        data = open(pgtest.OTLP_V110, "rb").read()
        st, _, body = pgtest.http_post("http://127.0.0.1:%d/v1development/profiles" % http_port, data,
                                       {"Content-Type": "application/x-protobuf",
                                        "X-Scope-OrgID": "team-a"})
        check(st == 200, "OTLP request accepted (got %d %r)" % (st, body[:200]))
    finally:
        rc = pg.stop()
    check(rc == 0, "clean exit:\n" + pg.read_log()[-2000:])
    req = pgtest.load_request()
    want = otlp_totals(req)
    services = {s or "_unknown" for s, _, _, _ in pgtest.profile_summaries(req)}
    services = {re.sub(r"[^A-Za-z0-9._-]", "_", s) for s in services}
    check_tree(os.path.join(pg.dir, "converted"), "convert processor", want, services, 8)
    check_tree(os.path.join(pg.dir, "direct"), "file exporter alone", want, services, 2)
    # the otlp exporter after the processor receives pprof payloads and
    # converts them back: nothing is lost on the way
    back = pgtest.read_otlp_frames(os.path.join(pg.dir, "back.otlp"))
    got = {}
    for r in back:
        for k, v in otlp_totals(r).items():
            got[k] = got.get(k, 0) + v
    check(got == want, "pprof payloads written as OTLP keep the totals %r == %r" % (got, want))
    log = pg.read_log()
    check("dropped" not in log and "refused" not in log, "nothing dropped:\n" + log[-2000:])
    pgtest.finish()


main()
