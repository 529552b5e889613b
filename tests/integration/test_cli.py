"""The command line: version, components, validate (every problem at once as
FILE:LINE:COL), the shipped default configuration, /metrics and /healthz, and
a graceful SIGTERM that flushes what a batch processor still held."""

import os
import re
import subprocess
import tempfile

import pgtest
from pgtest import check


def run(*args):
    return subprocess.run([pgtest.BIN] + list(args), capture_output=True, text=True, timeout=30)


def test_version_and_components():
    r = run("version")
    check(r.returncode == 0 and re.match(r"profgate \d+\.\d+\.\d+", r.stdout), "version: %r" % r.stdout)
    r = run("components")
    check(r.returncode == 0, "components exits 0")
    for kind, typ in (("receiver", "otlp"), ("processor", "batch"), ("exporter", "file"), ("exporter", "debug")):
        check(re.search(r"^%s\s+%s\s" % (kind, typ), r.stdout, re.M) is not None,
              "components lists %s %s" % (kind, typ))


def test_validate():
    r = run("validate", "--config", os.path.join(pgtest.SOURCE_DIR, "config", "default.yaml"))
    check(r.returncode == 0, "the shipped default.yaml is valid: %s" % r.stderr)
    bad = """receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:notaport
    colour: blue
processors:
  batch:
    timeout: soon
exporters:
  file:
    path: ./x
  nosuch: {}
service:
  pipelines:
    profiles:
      receivers: [otlp]
      processors: [batch]
      exporters: [file, missing]
"""
    d = tempfile.mkdtemp()
    path = os.path.join(d, "bad.yaml")
    with open(path, "w") as f:
        f.write(bad)
    r = run("validate", "--config", path)
    check(r.returncode != 0, "invalid config exits non-zero")
    err = r.stderr
    # every problem, each with its position
    for line, what in ((5, "notaport"), (6, "colour"), (9, "soon"), (13, "nosuch"), (19, "missing")):
        check(re.search(r"%s:%d:\d+: error: .*" % (re.escape(path), line), err) is not None and what in err,
              "validate reports %r at line %d:\n%s" % (what, line, err))


def test_telemetry_and_graceful_stop():
    http_port, metrics_port = pgtest.free_port(), pgtest.free_port()
    cfg = f"""
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:{http_port}}}
processors:
  batch: {{send_batch_size: 100000, timeout: 1h}}
exporters:
  file: {{path: ./out/p.otlp}}
service:
  shutdown_timeout: 5s
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles: {{receivers: [otlp], processors: [batch], exporters: [file]}}
"""
    pg = pgtest.Profgate(cfg).start(wait_ports=(http_port, metrics_port))
    st, body = pgtest.http_get("http://127.0.0.1:%d/healthz" % metrics_port)
    check(st == 200, "/healthz answers 200")
    data = open(pgtest.OTLP_V110, "rb").read()
    st, _, _ = pgtest.http_post("http://127.0.0.1:%d/v1development/profiles" % http_port, data,
                                {"Content-Type": "application/x-protobuf"})
    check(st == 200, "accepted (got %d)" % st)
    st, body = pgtest.http_get("http://127.0.0.1:%d/metrics" % metrics_port)
    text = body.decode()
    check("# TYPE profgate_receiver_accepted_profiles_total counter" in text, "/metrics in Prometheus format")
    check(re.search(r"^process_resident_memory_bytes \d+", text, re.M) is not None, "/metrics has RSS")
    # the batch processor holds the profiles (timeout 1h); SIGTERM must flush them
    rc = pg.stop()
    check(rc == 0, "graceful stop exits 0 (rc=%s)" % rc)
    path = os.path.join(pg.dir, "out", "p.otlp")
    n = sum(len(pgtest.profile_summaries(r)) for r in pgtest.read_otlp_frames(path)) if os.path.exists(path) else 0
    check(n == 82, "SIGTERM flushed the 82 batched profiles to the file (got %d)" % n)


test_version_and_components()
test_validate()
test_telemetry_and_graceful_stop()
pgtest.finish()
