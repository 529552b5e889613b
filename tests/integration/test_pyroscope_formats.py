"""Pyroscope legacy text uploads and the OTel pprof push form, judged by an
independent decoder: /ingest (and /pyroscope/ingest) with folded, groups and
lines bodies must become pprof documents whose stacks (leaf first) and values
equal the text, with the profile kind taken from the app name's suffix and
CPU counts scaled by 1e9/sampleRate; `go tool pprof -raw` must read them.
from/until in seconds, milliseconds and nanoseconds give the same profile
time. POST /v1/pprof takes raw, gzipped and Content-Encoding-compressed
pprof with query labels, the configured service_name fallback and the
X-Scope-OrgID tenant. The same /ingest request also works over h2c (nghttp)."""

import collections
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import zlib

import pgtest
import pyrotest
from pgtest import check

GO_FILES = os.path.join(pgtest.FIXTURES, "captured", "go-files")
WORK = tempfile.mkdtemp(prefix="pg-pyro-formats-")
_BUILD = os.environ.get("PG_BUILD_DIR", tempfile.gettempdir())
GO_ENV = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOPROXY="off", GOFLAGS="",
              GOCACHE=os.environ.get("GOCACHE") or os.path.join(_BUILD, "go-cache"), PPROF_TMPDIR=WORK)
CONFIG_SERVICE = "cfg-fallback-svc"

FOLDED = b"main;work;compute 30\nmain;work;io 12\nmain;idle 5\n"
FOLDED_STACKS = {("main", "work", "compute"): 30, ("main", "work", "io"): 12, ("main", "idle"): 5}
LINES = b"main;work;compute\nmain;idle\nmain;work;compute\nmain;work;compute\n"
LINES_STACKS = {("main", "work", "compute"): 3, ("main", "idle"): 1}


def fixture(name):
    with open(os.path.join(GO_FILES, name), "rb") as f:
        return f.read()


CPU_GZ = fixture("cpu.pb.gz")
HEAP_RAW = gzip.decompress(fixture("heap.pb.gz"))


def stacks(profile):
    """{root-first tuple of function names: first value} of a decoded pprof;
    pprof stores leaf first, so the tuple is reversed here."""
    st = profile.string_table
    funcs = {f.id: st[f.name] for f in profile.function}
    locs = {loc.id: [funcs.get(ln.function_id, "?") for ln in loc.line] for loc in profile.location}
    out = collections.Counter()
    for s in profile.sample:
        leaf_first = [name for lid in s.location_id for name in locs.get(lid, ["?"])]
        out[tuple(reversed(leaf_first))] += s.value[0]
    return dict(out)


def go_raw_values(path):
    """(sample header, sorted first values) as `go tool pprof -raw` prints them, or None."""
    r = subprocess.run(["go", "tool", "pprof", "-raw", path], capture_output=True, text=True,
                       env=GO_ENV, timeout=120)
    check(r.returncode == 0, "go tool pprof -raw %s: %s" % (path, r.stderr[-500:]))
    if r.returncode != 0:
        return None
    lines = r.stdout.splitlines()
    try:
        start = lines.index("Samples:")
    except ValueError:
        check(False, "go tool pprof -raw prints samples for %s" % path)
        return None
    header = lines[start + 1].strip()
    vals = []
    for line in lines[start + 2:]:
        if not line.startswith(" "):
            break
        m = re.match(r"^\s+(-?\d+(?:\s+-?\d+)*):", line)
        if m:
            vals.append(int(m.group(1).split()[0]))
    return header, sorted(vals)


class Taker:
    """Hands each request exactly the files it caused."""

    def __init__(self, pyro):
        self.pyro = pyro
        self.seen = 0

    def take(self, n, what):
        files = pyrotest.wait_files(self.pyro.out, self.seen + n, timeout=15)
        new = [pyrotest.read_output(p) for p in files[self.seen:]]
        self.seen = len(files)
        check(len(new) == n, "%s: %d output file(s) (got %d: %r)" % (what, n, len(new), new))
        for o in new:
            check(o.profile is not None, "%s: output decodes as pprof (%s)" % (what, o.error))
            check(o.sidecar is not None, "%s: sidecar next to %s" % (what, o.path))
        return new


def post(pyro, target, body, headers=()):
    r = pyrotest.http_request(pyro.port, "POST", target, list(headers), body)
    check(r is not None, "POST %s: an answer" % target)
    return r or pyrotest.Response(0, "", {}, b"")


# (case, app name, format param, content type, body, sampleRate, expected)
# expected: (__name__, service_name, (type, unit), stacks, scale, period)
TEXT_CASES = [
    ("folded cpu", "app.cpu", "folded", "text/plain", FOLDED, "100",
     ("process_cpu", "app", ("cpu", "nanoseconds"), FOLDED_STACKS, 10_000_000, 10_000_000)),
    ("no format", "app.cpu", None, "text/plain", FOLDED, "100",
     ("process_cpu", "app", ("cpu", "nanoseconds"), FOLDED_STACKS, 10_000_000, 10_000_000)),
    ("groups", "app.cpu", "groups", "application/octet-stream", FOLDED, "100",
     ("process_cpu", "app", ("cpu", "nanoseconds"), FOLDED_STACKS, 10_000_000, 10_000_000)),
    ("lines", "app.cpu", "lines", "text/plain", LINES, "100",
     ("process_cpu", "app", ("cpu", "nanoseconds"), LINES_STACKS, 10_000_000, 10_000_000)),
    ("inuse_space", "app.inuse_space", "folded", "text/plain", FOLDED, "100",
     ("memory", "app", ("inuse_space", "bytes"), FOLDED_STACKS, 1, None)),
    ("goroutines", "app.goroutines", "folded", "text/plain", FOLDED, "100",
     ("goroutine", "app", ("goroutines", "count"), FOLDED_STACKS, 1, None)),
    ("no suffix", "app", "folded", "text/plain", FOLDED, "100",
     ("process_cpu", "app", ("cpu", "nanoseconds"), FOLDED_STACKS, 10_000_000, 10_000_000)),
    ("no suffix, sampleRate 0", "app", "folded", "text/plain", FOLDED, "0",
     ("process_cpu", "app", ("samples", "count"), FOLDED_STACKS, 1, None)),
    ("wall at 50 Hz", "app.wall", "folded", "text/plain", FOLDED, "50",
     ("wall", "app", ("wall", "nanoseconds"), FOLDED_STACKS, 20_000_000, 20_000_000)),
]


def check_text_output(o, case, expected):
    name, service, stype, want, scale, period = expected
    check(o.labels.get("__name__") == name, "%s: __name__ %r (got %r)" % (case, name, o.labels))
    check(o.labels.get("service_name") == service, "%s: service_name %r (got %r)" % (case, service, o.labels))
    check(o.labels.get("case") == case.replace(" ", "_").replace(",", ""),
          "%s: the name's tag became a label (got %r)" % (case, o.labels))
    if o.profile is None:
        return
    check(o.sample_types() == [stype], "%s: sample types %r (got %r)" % (case, [stype], o.sample_types()))
    got = stacks(o.profile)
    exp = {k: v * scale for k, v in want.items()}
    check(got == exp, "%s: stacks and values (leaf first in pprof) %r == %r" % (case, got, exp))
    if period is not None:
        check(o.profile.period == period, "%s: period %d (got %d)" % (case, period, o.profile.period))
        check(pyrotest.period_type(o.profile) == stype, "%s: period type %r (got %r)" % (
            case, stype, pyrotest.period_type(o.profile)))
    check(o.sidecar.get("profile_type", "").startswith("%s:%s:" % stype),
          "%s: sidecar profile_type %r" % (case, o.sidecar.get("profile_type")))
    raw = go_raw_values(o.path)
    if raw is not None:
        check(raw[0].split() == ["%s/%s" % stype], "%s: go tool pprof -raw sample header %r" % (case, raw[0]))
        check(raw[1] == sorted(exp.values()), "%s: go tool pprof -raw values %r == %r" % (
            case, raw[1], sorted(exp.values())))


def test_text_formats(pyro, taker):
    for case, app, fmt, ctype, body, rate, expected in TEXT_CASES:
        tag = case.replace(" ", "_").replace(",", "")
        params = {"name": "%s{case=%s}" % (app, tag), "from": "1700000000", "until": "1700000010",
                  "sampleRate": rate, "spyName": "gospy"}
        if fmt:
            params["format"] = fmt
        r = post(pyro, pyrotest.ingest_target(params), body, [("Content-Type", ctype)])
        check(r.status == 200 and r.body == b"", "%s: 200 with an empty body (got %d %r)" % (
            case, r.status, r.body[:200]))
        for o in taker.take(1, case):
            check_text_output(o, case, expected)
            check(o.labels.get("pyroscope_spy") == "gospy", "%s: pyroscope_spy label (%r)" % (case, o.labels))

    params = {"name": "legacy.cpu{case=pyroscope_prefix}", "format": "folded", "sampleRate": "100"}
    r = post(pyro, pyrotest.ingest_target(params, "/pyroscope/ingest"), FOLDED, [("Content-Type", "text/plain")])
    check(r.status == 200, "/pyroscope/ingest: 200 (got %d %r)" % (r.status, r.body[:200]))
    for o in taker.take(1, "/pyroscope/ingest"):
        check(o.labels.get("service_name") == "legacy" and o.labels.get("__name__") == "process_cpu",
              "/pyroscope/ingest: labels %r" % o.labels)
        check(o.profile is not None and stacks(o.profile) ==
              {k: v * 10_000_000 for k, v in FOLDED_STACKS.items()}, "/pyroscope/ingest: stacks and values")


def test_times(pyro, taker):
    times = {}
    for what, frm, until in (("seconds", "1700000000", "1700000010"),
                             ("milliseconds", "1700000000000", "1700000010000"),
                             ("nanoseconds", "1700000000000000000", "1700000010000000000")):
        params = {"name": "times.cpu{unit=%s}" % what, "format": "folded", "from": frm, "until": until}
        r = post(pyro, pyrotest.ingest_target(params), FOLDED, [("Content-Type", "text/plain")])
        check(r.status == 200, "from/until in %s: 200 (got %d %r)" % (what, r.status, r.body[:200]))
        for o in taker.take(1, "from/until in " + what):
            times[what] = (o.sidecar.get("time_unix_nano"), o.sidecar.get("duration_nano"))
    check(times.get("seconds") == (1_700_000_000 * 10**9, 10 * 10**9),
          "from/until in seconds: time_unix_nano 1.7e18, duration_nano 10 s (got %r)" % (times.get("seconds"),))
    check(len(set(times.values())) == 1 and len(times) == 3,
          "seconds, ms and ns give the same time and duration: %r" % times)

    # a pprof without time_nanos takes its time from `from`; one with time_nanos keeps it
    prof = pyrotest.decode_pprof(CPU_GZ)
    own_time = prof.time_nanos
    prof.time_nanos = 0
    no_time = prof.SerializeToString()
    params = {"name": "pp.cpu{env=staging,__hidden=x}", "format": "pprof", "from": "1700000100",
              "until": "1700000110", "spyName": "gospy"}
    r = post(pyro, pyrotest.ingest_target(params), no_time, [("Content-Type", "application/octet-stream")])
    check(r.status == 200, "pprof without time_nanos: 200 (got %d %r)" % (r.status, r.body[:200]))
    for o in taker.take(1, "pprof without time_nanos"):
        check(o.sidecar.get("time_unix_nano") == 1_700_000_100 * 10**9,
              "pprof without time_nanos: time from `from` (got %r)" % o.sidecar.get("time_unix_nano"))
        check(gzip.decompress(o.data) == no_time, "pprof upload: payload unchanged")
        want = {"__name__": "process_cpu", "service_name": "pp.cpu", "env": "staging", "pyroscope_spy": "gospy"}
        got = {k: v for k, v in o.labels.items() if k in want or k == "__hidden"}
        check(got == want, "pprof upload labels (app name verbatim, __ tags dropped): %r" % o.labels)
    r = post(pyro, pyrotest.ingest_target(params), CPU_GZ, [("Content-Type", "application/octet-stream")])
    check(r.status == 200, "pprof with time_nanos: 200 (got %d)" % r.status)
    for o in taker.take(1, "pprof with time_nanos"):
        check(o.sidecar.get("time_unix_nano") == own_time,
              "pprof with time_nanos keeps it: %r == %r" % (o.sidecar.get("time_unix_nano"), own_time))
        check(o.data == CPU_GZ, "gzipped pprof upload written byte for byte")


_V1_CASES = []


def v1_pprof_cases():
    if _V1_CASES:
        return _V1_CASES
    zst = subprocess.run(["zstd", "-q", "-c"], input=HEAP_RAW, capture_output=True).stdout \
        if shutil.which("zstd") else None
    cases = [
        # (what, query, body, extra headers, tenant, expected payload (raw), byte-for-byte, labels)
        ("raw pprof", "service_name=pp-svc&env=prod", HEAP_RAW, [], "tenant-pp", HEAP_RAW, False,
         {"service_name": "pp-svc", "env": "prod", "__name__": "memory"}),
        ("gzipped pprof, config service_name", "region=eu", CPU_GZ, [], None, gzip.decompress(CPU_GZ), True,
         {"service_name": CONFIG_SERVICE, "region": "eu", "__name__": "process_cpu"}),
        ("Content-Encoding gzip", "service_name=ce-gzip", gzip.compress(HEAP_RAW),
         [("Content-Encoding", "gzip")], "t-ce", HEAP_RAW, False,
         {"service_name": "ce-gzip", "__name__": "memory"}),
        ("Content-Encoding deflate", "service_name=ce-deflate", zlib.compress(HEAP_RAW),
         [("Content-Encoding", "deflate")], "t-ce", HEAP_RAW, False,
         {"service_name": "ce-deflate", "__name__": "memory"}),
    ]
    if zst:
        cases.append(("Content-Encoding zstd", "service_name=ce-zstd", zst, [("Content-Encoding", "zstd")],
                      "t-ce", HEAP_RAW, False, {"service_name": "ce-zstd", "__name__": "memory"}))
    else:
        check(False, "the zstd command is installed (apt-get install zstd)")
    _V1_CASES.extend(cases)
    return cases


def test_v1_pprof(pyro, taker):
    for what, query, body, extra, tenant, payload, exact, labels in v1_pprof_cases():
        headers = [("Content-Type", "application/octet-stream")] + extra
        if tenant:
            headers.append(("X-Scope-OrgID", tenant))
        r = post(pyro, "/v1/pprof?" + query, body, headers)
        check(r.status == 204 and r.body == b"", "/v1/pprof %s: 204, no body (got %d %r)" % (
            what, r.status, r.body[:200]))
        for o in taker.take(1, "/v1/pprof " + what):
            check(o.labels == labels, "/v1/pprof %s: labels %r == %r" % (what, o.labels, labels))
            check(o.tenant == (tenant or ""), "/v1/pprof %s: tenant %r" % (what, o.tenant))
            check(o.tenant_dir == (tenant or "_default") and o.service_dir == labels["service_name"],
                  "/v1/pprof %s: directories %s/%s" % (what, o.tenant_dir, o.service_dir))
            check(gzip.decompress(o.data) == payload, "/v1/pprof %s: payload is the pprof" % what)
            if exact:
                check(o.data == body, "/v1/pprof %s: written byte for byte" % what)


def test_h2c(pyro, taker):
    if shutil.which("nghttp") is None:
        check(False, "nghttp is installed (apt-get install nghttp2-client)")
        return
    path = os.path.join(WORK, "folded.txt")
    with open(path, "wb") as f:
        f.write(FOLDED)
    params = {"name": "h2.cpu{case=h2c}", "format": "folded", "sampleRate": "100"}
    url = "http://127.0.0.1:%d%s" % (pyro.port, pyrotest.ingest_target(params))
    r = subprocess.run(["nghttp", "-v", "--no-dep", "-H", ":method: POST", "-H", "content-type: text/plain",
                        "-d", path, url], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "nghttp exit code 0 (%s)" % r.stderr[-300:])
    check(re.search(r":status: 200\b", r.stdout) is not None, "h2c /ingest: :status 200 in %r" % r.stdout[-600:])
    check("recv SETTINGS frame" in r.stdout, "nghttp spoke HTTP/2 (h2c prior knowledge)")
    for o in taker.take(1, "h2c /ingest"):
        check(o.labels.get("service_name") == "h2" and o.labels.get("case") == "h2c", "h2c: labels %r" % o.labels)
        check(o.profile is not None and stacks(o.profile) ==
              {k: v * 10_000_000 for k, v in FOLDED_STACKS.items()}, "h2c: stacks and values")


def main():
    pyro = pyrotest.Pyro.start(pprof_service_name=CONFIG_SERVICE)
    taker = Taker(pyro)
    try:
        test_text_formats(pyro, taker)
        test_times(pyro, taker)
        test_v1_pprof(pyro, taker)
        test_h2c(pyro, taker)
        ingest = len(TEXT_CASES) + 1 + 3 + 2 + 1
        check(pyro.accepted("ingest") == ingest, "accepted_profiles_total{transport=ingest} == %d (got %s)" % (
            ingest, pyro.accepted("ingest")))
        n_pprof = len(v1_pprof_cases())
        check(pyro.accepted("pprof") == n_pprof, "accepted_profiles_total{transport=pprof} == %d (got %s)" % (
            n_pprof, pyro.accepted("pprof")))
    finally:
        rc = pyro.stop()
    check(rc == 0, "clean exit after SIGTERM (rc=%s)" % rc)
    log = pyro.pg.read_log()
    check("runtime error" not in log and "Sanitizer" not in log, "no sanitizer report in the log")
    if pgtest._failures:
        print("profgate log:\n" + pyro.pg.read_log()[-4000:])
        print("outputs kept in", pyro.out, "and", WORK)
    else:
        shutil.rmtree(WORK, ignore_errors=True)
    pgtest.finish()


if __name__ == "__main__":
    main()
