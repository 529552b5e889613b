"""A Go program that profiles itself with runtime/pprof and uploads CPU, heap,
goroutine, mutex and block profiles in pyroscope-go's /ingest request shape
(tests/go/pyroscopego: sorted url.Values query with every parameter,
nanosecond from/until, multipart `profile` + `sample_type_config` parts),
with Bearer auth, Basic auth and none, with and without a tenant. Each
upload must land as one file whose bytes are the uploaded ones, with the
labels Pyroscope would give it (__name__ from the sample types and their
display names, service_name, tags, __session_id__, pyroscope_spy=gospy) and
its tenant; a refused upload makes the program exit non-zero."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pgtest
import pyrotest
from pgtest import check

WORK = tempfile.mkdtemp(prefix="pg-pyrogo-")
_BUILD = os.environ.get("PG_BUILD_DIR", tempfile.gettempdir())
GO_ENV = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOPROXY="off", GOFLAGS="",
              GOCACHE=os.environ.get("GOCACHE") or os.path.join(_BUILD, "go-cache"))

NAMES = {"cpu": "process_cpu", "heap": "memory", "goroutines": "goroutines", "mutex": "mutex",
         "block": "block"}
SCOPES = {"cpu": "com.grafana.pyroscope/go", "goroutines": "com.grafana.pyroscope/go",
          "heap": "com.grafana.pyroscope/godeltaprof", "mutex": "com.grafana.pyroscope/godeltaprof",
          "block": "com.grafana.pyroscope/godeltaprof"}
QUERY_KEYS = ["aggregationType", "from", "name", "sampleRate", "spyName", "units", "until"]
# Internal labels the receiver may add beside the series labels (checked below when present).
INTERNAL_OK = {"__sample_type_config__"}

# (app, tenant, auth, tags)
RUNS = [
    ("go-bearer", "tenant-go-a", "bearer:tok-go", {"env": "ci", "team": "profiling"}),
    ("go-basic", "tenant-go-b", "basic:gouser:gopass", {"env": "ci", "region": "eu-1"}),
    ("go-anon", "", "none", {"zone": "z1"}),
]


def build():
    if shutil.which("go") is None:
        check(False, "go is not installed (apt-get install golang-go)")
        return None
    out = os.path.join(WORK, "pyroscopego")
    r = subprocess.run(["go", "build", "-o", out, "./tests/go/pyroscopego"], cwd=pgtest.SOURCE_DIR,
                       env=GO_ENV, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        check(False, "building tests/go/pyroscopego failed:\n" + r.stderr)
        return None
    return out


def run(binary, url, app, tenant, auth, tags, out, cpu="1200ms"):
    args = [binary, "-url", url, "-app", app, "-auth", auth, "-out", out, "-cpu", cpu,
            "-tags", ",".join("%s=%s" % kv for kv in sorted(tags.items()))]
    if tenant:
        args += ["-tenant", tenant]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def uploads(out):
    with open(os.path.join(out, "uploads.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def check_query(u):
    """The request shape itself: every parameter present, sorted, ns times."""
    keys = [kv.split("=", 1)[0] for kv in u["query"].split("&")]
    check(keys == QUERY_KEYS, "%s: query keys sorted and complete (%r)" % (u["kind"], keys))
    check(len(str(u["from"])) == 19 and len(str(u["until"])) == 19 and u["from"] <= u["until"],
          "%s: from/until are Unix nanoseconds" % u["kind"])


def check_upload(u, o, app, tenant, tags, out, gover):
    kind, where = u["kind"], "%s/%s" % (app, u["kind"])
    with open(os.path.join(out, u["file"]), "rb") as f:
        sent = f.read()
    check(o.data == sent, "%s: file bytes equal the uploaded profile (%d vs %d)" % (where, len(o.data), len(sent)))
    check(o.error is None, "%s: decodes as pprof (%s)" % (where, o.error))
    check(o.sidecar is not None, "%s: has a sidecar" % where)
    session = u["name"].split("__session_id__=", 1)[1].split(",", 1)[0].rstrip("}")
    want = dict(tags, __name__=NAMES[kind], service_name=app, __session_id__=session, pyroscope_spy="gospy")
    want["otel.scope.name"] = SCOPES[kind]
    want["process.runtime.name"] = "go"
    want["process.runtime.version"] = gover
    got = {k: v for k, v in o.labels.items() if k not in INTERNAL_OK}
    check(got == want, "%s: labels\n  got  %r\n  want %r" % (where, got, want))
    if "__sample_type_config__" in o.labels:
        check(u.get("config") and json.loads(o.labels["__sample_type_config__"]) == json.loads(u["config"]),
              "%s: __sample_type_config__ is the uploaded config" % where)
    check(o.tenant == tenant, "%s: sidecar tenant %r, want %r" % (where, o.tenant, tenant))
    check(o.tenant_dir == (tenant or "_default"), "%s: tenant directory %r" % (where, o.tenant_dir))
    check(o.service_dir == app, "%s: service directory %r" % (where, o.service_dir))
    if o.profile is None or o.sidecar is None:
        return
    t = o.sidecar.get("time_unix_nano")
    check(u["from"] <= t <= u["until"] or t == o.profile.time_nanos,
          "%s: time_unix_nano %s within %d..%d or the pprof's %d" % (where, t, u["from"], u["until"],
                                                                      o.profile.time_nanos))
    check(o.type_dir == o.sample_types()[0][0], "%s: directory names the first sample type" % where)


def main():
    binary = build()
    if not binary:
        pgtest.finish()
    pyro = pyrotest.Pyro.start()
    gover = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, env=GO_ENV).stdout.strip()
    try:
        done = []
        for app, tenant, auth, tags in RUNS:
            out = os.path.join(WORK, app)
            r = run(binary, pyro.base_url, app, tenant, auth, tags, out)
            check(r.returncode == 0, "%s: every upload answered 200 (exit %d):\n%s%s" % (app, r.returncode,
                                                                                     r.stdout, r.stderr))
            done.append((app, tenant, tags, out))
        total = 5 * len(RUNS)
        outputs = [pyrotest.read_output(p) for p in pyrotest.wait_files(pyro.out, total)]
        check(len(outputs) == total, "%d files for %d uploads" % (len(outputs), total))
        for app, tenant, tags, out in done:
            ups = uploads(out)
            check([u["kind"] for u in ups] == list(NAMES), "%s: five uploads in order" % app)
            mine = {o.name: o for o in outputs if o.service_dir == app}
            check(len(mine) == 5, "%s: five files with distinct __name__ (%r)" % (app, sorted(mine)))
            for u in ups:
                check_query(u)
                o = mine.get(NAMES[u["kind"]])
                check(o is not None, "%s/%s: a file with __name__=%s" % (app, u["kind"], NAMES[u["kind"]]))
                if o is not None:
                    check_upload(u, o, app, tenant, tags, out, gover)
        check(pyro.accepted("ingest") == total, "accepted counter %s == %d" % (pyro.accepted("ingest"), total))
        check(pyro.refused("ingest") == 0, "nothing refused")

        # A non-200 answer makes the program fail: /nope/ingest is not a route.
        r = run(binary, pyro.base_url + "/nope", "go-404", "", "none", {}, os.path.join(WORK, "404"), cpu="100ms")
        check(r.returncode == 1 and "HTTP 404" in r.stderr,
              "an upload answered 404 makes the program exit 1 (exit %d):\n%s" % (r.returncode, r.stderr))
    finally:
        rc = pyro.stop()
        check(rc == 0, "profgate exits 0 on SIGTERM (got %s)" % rc)
        if pgtest._failures:
            print(pyro.pg.read_log()[-4000:], file=sys.stderr)
            print("outputs kept in", WORK, pyro.out)
        else:
            shutil.rmtree(WORK, ignore_errors=True)
    pgtest.finish()


if __name__ == "__main__":
    main()
