"""The relabel processor with sample_labels: true in a running profgate.

pprof: a real Go CPU profile with pprof.Do labels (go-cpu-labels.pb.gz:
foo=bar, function=slow|fast, profile_id=...) pushed to /ingest goes through
relabel to the file exporter; `go tool pprof -tags` on the written file must
show the rewritten tag keys and values, not the old ones, with the same
totals. A profile whose service matches a drop rule never arrives and is
counted.

OTLP: a request built here with sample attributes (thread.name string, an
int attribute) sent over OTLP/HTTP; the file exporter's output, read with
Google's protobuf runtime, must carry the rewritten attributes, keep the int
one, and lack the samples a rule dropped."""

import os
import re
import shutil
import subprocess
import tempfile

import pgtest
import pyrotest
from pgtest import check

WORK = tempfile.mkdtemp(prefix="pg-relabel-")
_BUILD = os.environ.get("PG_BUILD_DIR", tempfile.gettempdir())
GO_ENV = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOPROXY="off", GOFLAGS="",
              GOCACHE=os.environ.get("GOCACHE") or os.path.join(_BUILD, "go-cache"),
              PPROF_TMPDIR=WORK, HOME=WORK)
FIXTURE = os.path.join(pgtest.PYRO, "go-cpu-labels.pb.gz")

pyro_port, otlp_port, metrics_port = pgtest.free_port(), pgtest.free_port(), pgtest.free_port()
CONFIG = f"""
receivers:
  pyroscope: {{endpoint: 127.0.0.1:{pyro_port}}}
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:{otlp_port}}}
processors:
  relabel:
    sample_labels: true
    rules:
      - {{source_labels: [function], regex: "(.+)", target_label: fn, replacement: "fn_$1"}}
      - {{source_labels: [thread.name], regex: "(.+)", target_label: thread, replacement: "t-$1"}}
      - {{regex: 'function|thread\\.name', action: labeldrop}}
      - {{source_labels: [foo], regex: bar, target_label: foo, replacement: baz}}
      - {{source_labels: [thread], regex: t-worker, action: drop}}
      - {{source_labels: [service_name], regex: "drop-me.*", action: drop}}
      - {{target_label: env, replacement: prod}}
exporters:
  file/pprof: {{path: ./out, format: pprof, labels_file: true}}
  file/otlp: {{path: ./out.otlp}}
service:
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles/pprof: {{receivers: [pyroscope], processors: [relabel], exporters: [file/pprof]}}
    profiles/otlp: {{receivers: [otlp], processors: [relabel], exporters: [file/otlp]}}
"""


def pprof_tags(path):
    """{tag key: (total text, {value: share text})} as `go tool pprof -tags` prints it."""
    r = subprocess.run(["go", "tool", "pprof", "-tags", path], env=GO_ENV, capture_output=True,
                       text=True, timeout=120)
    check(r.returncode == 0, "go tool pprof -tags %s: %s" % (path, r.stderr[-400:]))
    tags, key = {}, None
    for line in r.stdout.splitlines():
        m = re.match(r"^\s*(\S+): Total (\S+)$", line)
        if m:
            key = m.group(1)
            tags[key] = (m.group(2), {})
            continue
        m = re.match(r"^\s*(\S+) \(\s*([0-9.]+%)\): (.*)$", line)
        if m and key:
            tags[key][1][m.group(3)] = m.group(1)
    return tags


def check_pprof(pg):
    status, _, body = pgtest.http_post(
        "http://127.0.0.1:%d%s" % (pyro_port, pyrotest.ingest_target({"name": "myapp", "format": "pprof"})),
        open(FIXTURE, "rb").read(), {"Content-Type": "application/octet-stream"})
    check(status == 200, "/ingest myapp: 200 (got %d %r)" % (status, body[:200]))
    status, _, body = pgtest.http_post(
        "http://127.0.0.1:%d%s" % (pyro_port, pyrotest.ingest_target({"name": "drop-me-app", "format": "pprof"})),
        open(FIXTURE, "rb").read(), {"Content-Type": "application/octet-stream"})
    check(status == 200, "/ingest drop-me-app: 200 although dropped (got %d)" % status)
    files = pyrotest.wait_files(os.path.join(pg.dir, "out"), 1)
    check(len(files) == 1, "one pprof file written (the dropped one is not): %r" % files)
    check(pgtest.wait_for(lambda: pgtest.metric_sum(metrics_port, "profgate_processor_dropped_profiles_total",
                                                    'reason="dropped_by_rule"') == 1),
          "the drop-me profile is counted as dropped_by_rule")
    if not files:
        return
    out = pyrotest.read_output(files[0])
    check(out.labels.get("service_name") == "myapp" and out.labels.get("env") == "prod",
          "series labels: %r" % out.labels)
    with open(files[0], "rb") as f:
        check(f.read(2) == b"\x1f\x8b", "the rewritten pprof is gzipped like the input")
    before, after = pprof_tags(FIXTURE), pprof_tags(files[0])
    print("before:", {k: (v[0], len(v[1])) for k, v in before.items()})
    print("after:", {k: (v[0], dict(list(v[1].items())[:4])) for k, v in after.items()})
    check("function" in before and "function" not in after, "the function tag is gone")
    check(after.get("fn", ("", {}))[1].keys() == {"fn_slow", "fn_fast"}, "fn has fn_slow and fn_fast")
    check(after.get("fn", ("",))[0] == before.get("function", ("?",))[0],
          "fn's total %r equals function's %r" % (after.get("fn"), before.get("function")))
    check(after.get("fn", ("", {}))[1].get("fn_slow") == before.get("function", ("", {}))[1].get("slow"),
          "fn_slow carries what slow did")
    check(after.get("foo", ("", {}))[1].keys() == {"baz"}, "foo=bar became foo=baz: %r" % (after.get("foo"),))
    check(after.get("foo", ("",))[0] == before.get("foo", ("?",))[0], "foo's total is unchanged")
    check(after.get("profile_id", ("",))[0] == before.get("profile_id", ("?",))[0] and
          len(after["profile_id"][1]) == len(before["profile_id"][1]), "untouched profile_id tags stay")
    check(after.get("env", ("", {}))[1].keys() == {"prod"}, "env=prod is on every sample")


def otlp_request():
    """Four samples: thread.name main/worker/main/none, values 1/2/4/8; thread.id int 7 on all."""
    m = pgtest.pb()
    req = m.svc.ExportProfilesServiceRequest()
    d = req.dictionary
    d.string_table.extend(["", "thread.name", "main", "worker", "cpu", "nanoseconds", "thread.id"])
    d.attribute_table.add()
    for v in (2, 3):
        a = d.attribute_table.add()
        a.key_strindex = 1
        a.value.string_value_strindex = v  # a reference, resolved by the processor
    a = d.attribute_table.add()
    a.key_strindex = 6
    a.value.int_value = 7
    d.mapping_table.add()
    d.location_table.add()
    d.function_table.add()
    d.link_table.add()
    d.stack_table.add()
    rp = req.resource_profiles.add()
    kv = rp.resource.attributes.add()
    kv.key = "service.name"
    kv.value.string_value = "otlp-svc"
    p = rp.scope_profiles.add().profiles.add()
    p.sample_type.type_strindex, p.sample_type.unit_strindex = 4, 5
    p.time_unix_nano = 1700000000000000000
    for attrs, value in (([1, 3], 1), ([2, 3], 2), ([1, 3], 4), ([3], 8)):
        s = p.samples.add()
        s.attribute_indices.extend(attrs)
        s.values.append(value)
    return req


def sample_attrs(req, s):
    d, out = req.dictionary, {}
    for i in s.attribute_indices:
        kv = d.attribute_table[i]
        key = d.string_table[kv.key_strindex]
        which = kv.value.WhichOneof("value")
        if which == "string_value_strindex":
            out[key] = d.string_table[kv.value.string_value_strindex]
        else:
            out[key] = getattr(kv.value, which) if which else None
    return out


def check_otlp(pg):
    body = otlp_request().SerializeToString()
    status, _, resp = pgtest.http_post("http://127.0.0.1:%d/v1development/profiles" % otlp_port, body,
                                       {"Content-Type": "application/x-protobuf"})
    check(status == 200, "OTLP/HTTP export: 200 (got %d %r)" % (status, resp[:200]))
    path = os.path.join(pg.dir, "out.otlp")
    check(pgtest.wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0), "OTLP file written")
    if not os.path.exists(path):
        return
    pgtest.wait_for(lambda: False, timeout=0.3)
    reqs = pgtest.read_otlp_frames(path)
    samples = [(r, s) for r in reqs for rp in r.resource_profiles for sp in rp.scope_profiles
               for p in sp.profiles for s in p.samples]
    got = sorted((tuple(sorted(sample_attrs(r, s).items())), sum(s.values)) for r, s in samples)
    want = sorted([
        ((("env", "prod"), ("thread", "t-main"), ("thread.id", 7)), 1),
        ((("env", "prod"), ("thread", "t-main"), ("thread.id", 7)), 4),
        ((("env", "prod"), ("thread.id", 7)), 8),
    ])
    check(got == want, "OTLP samples after relabel:\n  got  %r\n  want %r" % (got, want))


def main():
    if shutil.which("go") is None:
        check(False, "go is not installed (apt-get install golang-go)")
        pgtest.finish()
    pg = pgtest.Profgate(CONFIG).start(wait_ports=(pyro_port, otlp_port, metrics_port))
    try:
        check_pprof(pg)
        check_otlp(pg)
    finally:
        rc = pg.stop()
        check(rc == 0, "profgate exited cleanly (rc %r)" % rc)
    if pgtest._failures:
        print(pg.read_log()[-3000:])
    else:
        shutil.rmtree(WORK, ignore_errors=True)
    pgtest.finish()


main()
