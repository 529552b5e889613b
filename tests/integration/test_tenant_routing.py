"""Tenant routing end to end, with the configuration shape of issue 6:

  Go uploaders (tests/go/pyroscopego: runtime/pprof profiles in
  pyroscope-go's /ingest shape, Bearer or Basic auth)
      -> gateway profgate: pyroscope receiver with auth (tokens and a basic
         user mapped to tenants) -> tenant {from: [auth, header]} -> relabel
         -> routing {__tenant__="tenant-a"} -> pyroscope/a, default pyroscope/b
      -> destination A and destination B (each a profgate: pyroscope
         receiver -> file exporter recording the X-Scope-OrgID it got)

Each destination must receive exactly its tenant's profiles, with the right
X-Scope-OrgID and the relabel rule's label; a series dropped by a rule goes
nowhere and is counted; a token used with another tenant's X-Scope-OrgID is
refused (403), a missing or wrong credential too (401), and neither reaches
a destination."""

import os
import shutil
import subprocess
import sys
import tempfile

import pgtest
import pyrotest
from pgtest import check

WORK = tempfile.mkdtemp(prefix="pg-tenants-")
_BUILD = os.environ.get("PG_BUILD_DIR", tempfile.gettempdir())
GO_ENV = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOPROXY="off", GOFLAGS="",
              GOCACHE=os.environ.get("GOCACHE") or os.path.join(_BUILD, "go-cache"))
KINDS = 5  # cpu, heap, goroutines, mutex, block: one upload each per run
ALICE_PW = "s3cret-alice"


def build():
    out = os.path.join(WORK, "pyroscopego")
    r = subprocess.run(["go", "build", "-o", out, "./tests/go/pyroscopego"], cwd=pgtest.SOURCE_DIR,
                       env=GO_ENV, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "building tests/go/pyroscopego:\n" + r.stderr)
    return out if r.returncode == 0 else None


def upload(binary, url, app, auth, tenant=""):
    args = [binary, "-url", url, "-app", app, "-auth", auth, "-out", os.path.join(WORK, app), "-cpu",
            "300ms", "-tags", "team=t1"]
    if tenant:
        args += ["-tenant", tenant]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def start_gateway(dest_a, dest_b):
    port, mport = pgtest.free_port(), pgtest.free_port()
    retry = "{initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 30s}"
    pg = pgtest.Profgate(f"""
receivers:
  pyroscope:
    endpoint: 127.0.0.1:{port}
    auth:
      bearer_tokens: {{tok-a: tenant-a, tok-b: tenant-b}}
      basic: {{alice: {{password: "${{env:ALICE_PW}}", tenant: tenant-a}}}}
processors:
  tenant: {{from: [auth, header], default: anonymous}}
  relabel:
    rules:
      - {{target_label: env, replacement: prod}}
      - {{source_labels: [service_name], regex: "drop-me.*", action: drop}}
  routing:
    routes:
      - {{match: '{{__tenant__="tenant-a"}}', exporters: [pyroscope/a]}}
    default_exporters: [pyroscope/b]
exporters:
  pyroscope/a: {{endpoint: "{dest_a}", retry_on_failure: {retry}}}
  pyroscope/b: {{endpoint: "{dest_b}", retry_on_failure: {retry}}}
service:
  workers: 2
  telemetry:
    metrics: {{address: 127.0.0.1:{mport}}}
  pipelines:
    profiles:
      receivers: [pyroscope]
      processors: [tenant, relabel, routing]
      exporters: [pyroscope/a, pyroscope/b]
""", name="gateway")
    os.environ["ALICE_PW"] = ALICE_PW
    pg.start(wait_ports=(port, mport))
    return pg, "http://127.0.0.1:%d" % port, mport


def sent(mport, exporter):
    return pgtest.metric_sum(mport, "profgate_exporter_sent_profiles_total", 'exporter="%s"' % exporter)


def check_destination(dest, want_tenant, want_apps, n):
    outputs = [pyrotest.read_output(p) for p in pyrotest.wait_files(dest.out, n)]
    check(len(outputs) == n, "%s: %d files, want %d" % (want_tenant, len(outputs), n))
    for o in outputs:
        where = "%s: %s" % (want_tenant, o.path)
        check(o.tenant == want_tenant, "%s: X-Scope-OrgID %r" % (where, o.tenant))
        check(o.labels.get("service_name") in want_apps, "%s: service_name %r" % (where, o.labels))
        check(o.labels.get("env") == "prod", "%s: the relabel rule's env=prod (%r)" % (where, o.labels))
        check(o.labels.get("team") == "t1", "%s: the client's tag kept (%r)" % (where, o.labels))
        check("__tenant__" not in o.labels, "%s: __tenant__ is never exported" % where)
    for app in want_apps:
        got = sum(1 for o in outputs if o.labels.get("service_name") == app)
        check(got == KINDS, "%s: %d profiles of %s, want %d" % (want_tenant, got, app, KINDS))


def main():
    binary = build()
    if not binary:
        pgtest.finish()
    dest_a, dest_b = pyrotest.Pyro.start(), pyrotest.Pyro.start()
    gw, url, mport = start_gateway(dest_a.base_url, dest_b.base_url)
    try:
        runs = [("svc-a", "bearer:tok-a", ""), ("svc-alice", "basic:alice:" + ALICE_PW, ""),
                ("svc-b", "bearer:tok-b", "tenant-b"), ("drop-me-app", "bearer:tok-b", "")]
        for app, auth, tenant in runs:
            r = upload(binary, url, app, auth, tenant)
            check(r.returncode == 0, "%s: every upload answered 200 (exit %d):\n%s" % (app, r.returncode,
                                                                                     r.stderr[-2000:]))
        # refused before anything is accepted: the uploader stops at its first upload
        for app, auth, tenant, status in (("svc-spoof", "bearer:tok-a", "tenant-b", 403),
                                          ("svc-anon", "none", "", 401),
                                          ("svc-badtoken", "bearer:nope", "", 401),
                                          ("svc-badpw", "basic:alice:wrong", "", 401)):
            r = upload(binary, url, app, auth, tenant)
            check(r.returncode != 0 and ("HTTP %d" % status) in r.stderr,
                  "%s: refused with %d (exit %d): %s" % (app, status, r.returncode, r.stderr[-500:]))

        check(pgtest.wait_for(lambda: sent(mport, "pyroscope/a") >= 2 * KINDS and
                              sent(mport, "pyroscope/b") >= KINDS),
              "the gateway delivered 10 profiles to A and 5 to B (A %s, B %s)" %
              (sent(mport, "pyroscope/a"), sent(mport, "pyroscope/b")))
        check_destination(dest_a, "tenant-a", ["svc-a", "svc-alice"], 2 * KINDS)
        check_destination(dest_b, "tenant-b", ["svc-b"], KINDS)
        dropped = pgtest.metric_sum(mport, "profgate_processor_dropped_profiles_total", 'processor="relabel"')
        check(dropped == KINDS, "the relabel drop rule dropped drop-me-app's %d profiles (%s)" % (KINDS, dropped))
        check(sent(mport, "pyroscope/a") == 2 * KINDS and sent(mport, "pyroscope/b") == KINDS,
              "nothing else was sent")
    finally:
        for name, pg in (("gateway", gw), ("A", dest_a.pg), ("B", dest_b.pg)):
            rc = pg.stop()
            check(rc == 0, "%s exits 0 on SIGTERM (got %s)" % (name, rc))
            if pgtest._failures:
                print("---- %s log ----\n%s" % (name, pg.read_log()[-3000:]), file=sys.stderr)
        if not pgtest._failures:
            shutil.rmtree(WORK, ignore_errors=True)
    pgtest.finish()


if __name__ == "__main__":
    main()
