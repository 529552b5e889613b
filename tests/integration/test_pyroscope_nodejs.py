"""Real Pyroscope Node.js SDKs against profgate: @pyroscope/nodejs 0.6.4 (raw
gzipped pprof, format=pprof) and 0.4.13 (multipart form), installed from npm
with the lock file in tests/node/, each profiling tests/node/pyroscope_app.js
for a few seconds. Checked from the file exporter's output (pprof files and
their labels.json sidecars): wall and heap profiles per SDK, service_name,
user and SDK tags, pyroscope_spy, tenant, __name__, sample types, times, and
that every file is a valid pprof; the receiver's accepted counter equals the
number of files."""

import hashlib
import os
import shutil
import subprocess
import sys
import time

import pgtest
import pyrotest
from pgtest import check

NODE_SRC = os.path.join(pgtest.SOURCE_DIR, "tests", "node")
NODE_DIR = os.path.join(os.environ.get("PG_BUILD_DIR") or pgtest.tempfile.gettempdir(), "node")
RUN_SECONDS = 4.5
WALL_TYPES = [("samples", "count"), ("wall", "nanoseconds"), ("cpu", "nanoseconds")]
HEAP_TYPES = [("inuse_objects", "count"), ("inuse_space", "bytes")]
USER_TAGS = {"env": "itest", "region": "lab-1"}

# (npm alias, app name, tenant, auth mode, SDK tags expected in the name)
SDKS = [
    ("pyroscope-node-064", "node-sdk-064", "tenant-064", "bearer:tok-064", True),
    ("pyroscope-node-0413", "node-sdk-0413", "tenant-0413", "basic:user:s3cret", False),
]


def lock_digest():
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        with open(os.path.join(NODE_SRC, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def install_sdks():
    """npm ci into $PG_BUILD_DIR/node once per lock file; a failure fails the test."""
    stamp = os.path.join(NODE_DIR, ".lock-digest")
    digest = lock_digest()
    if os.path.isdir(os.path.join(NODE_DIR, "node_modules")) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == digest:
                return True
    os.makedirs(NODE_DIR, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(NODE_SRC, name), os.path.join(NODE_DIR, name))
    if shutil.which("npm") is None:
        check(False, "npm is not installed (Node 20 + npm are test dependencies)")
        return False
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        check(False, "npm ci failed (%d):\n%s\n%s" % (r.returncode, r.stdout[-2000:], r.stderr[-4000:]))
        return False
    with open(stamp, "w") as f:
        f.write(digest)
    return True


def run_app(pyro, alias, app, tenant, auth):
    """Runs the app for RUN_SECONDS; returns (exit code, output, start ns, end ns)."""
    shutil.copy(os.path.join(NODE_SRC, "pyroscope_app.js"), os.path.join(NODE_DIR, "pyroscope_app.js"))
    env = dict(os.environ, DEBUG="pyroscope*")
    start = time.time_ns()
    r = subprocess.run(["node", "pyroscope_app.js", alias, pyro.base_url, str(RUN_SECONDS), app, tenant,
                        auth], cwd=NODE_DIR, capture_output=True, text=True, timeout=60, env=env)
    return r.returncode, r.stdout + r.stderr, start, time.time_ns()


def wait_for_all(pyro, timeout=15):
    """Files once their number matches the receiver's accepted counter and is stable."""
    deadline = time.time() + timeout
    files = []
    while time.time() < deadline:
        accepted = pyro.accepted("ingest")
        files = pyrotest.list_files(pyro.out)
        if accepted and len(files) >= accepted:
            break
        time.sleep(0.1)
    time.sleep(0.3)
    return [pyrotest.read_output(p) for p in pyrotest.list_files(pyro.out)]


def node_version():
    r = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10)
    return r.stdout.strip().lstrip("v")


def check_output(o, app, tenant, sdk_tags, window):
    where = os.path.relpath(o.path, os.path.dirname(o.path) + "/../../..")
    check(o.error is None, "%s decodes as a pprof (%s)" % (where, o.error))
    check(o.sidecar is not None, "%s has a labels.json sidecar" % where)
    if o.profile is None or o.sidecar is None:
        return None
    types = o.sample_types()
    kind = "wall" if types == WALL_TYPES else "heap" if types == HEAP_TYPES else None
    check(kind is not None, "%s: sample types are the wall or heap set (got %r)" % (where, types))
    check(o.name == {"wall": "wall", "heap": "memory"}.get(kind),
          "%s: __name__ %r for %s" % (where, o.name, kind))
    check(o.tenant == tenant and o.tenant_dir == tenant,
          "%s: tenant %r / dir %r, want %r" % (where, o.tenant, o.tenant_dir, tenant))
    check(o.service_dir == app and o.labels.get("service_name") == app,
          "%s: service_name %r, want %r" % (where, o.labels.get("service_name"), app))
    check(o.type_dir == types[0][0], "%s: directory names the first sample type" % where)
    check(o.labels.get("pyroscope_spy") == "nodespy", "%s: pyroscope_spy=nodespy" % where)
    for k, v in USER_TAGS.items():
        check(o.labels.get(k) == v, "%s: tag %s=%r (got %r)" % (where, k, v, o.labels.get(k)))
    for k, v in sdk_tags.items():
        check(o.labels.get(k) == v, "%s: SDK tag %s=%r (got %r)" % (where, k, v, o.labels.get(k)))
    if not sdk_tags:
        check("otel.scope.name" not in o.labels, "%s: 0.4.13 sends no SDK tags" % where)
    extra = set(o.labels) - {"__name__", "service_name", "pyroscope_spy", "__delta__"} - set(USER_TAGS) \
        - set(sdk_tags)
    check(not extra, "%s: no unexpected labels (%r)" % (where, sorted(extra)))
    pt = o.sidecar.get("profile_type", "").split(":")
    check(len(pt) == 4 and tuple(pt[:2]) in types and tuple(pt[2:]) == pyrotest.period_type(o.profile),
          "%s: profile_type %r fits the document" % (where, o.sidecar.get("profile_type")))
    t = o.sidecar.get("time_unix_nano", 0)
    check(window[0] - 2e9 <= t <= window[1] + 2e9,
          "%s: time_unix_nano %d within the run %d..%d" % (where, t, window[0], window[1]))
    check(o.data[:2] == b"\x1f\x8b", "%s: written gzipped" % where)
    if kind == "wall":
        check("handler" in pyrotest.sample_label_keys(o.profile), "%s: samples carry the handler label" % where)
    return kind


def main():
    if not install_sdks():
        pgtest.finish()
    pyro = pyrotest.Pyro.start()
    runs = {}
    try:
        for alias, app, tenant, auth, _ in SDKS:
            rc, out, t0, t1 = run_app(pyro, alias, app, tenant, auth)
            check(rc == 0, "%s app exits 0 (got %d):\n%s" % (alias, rc, out[-3000:]))
            # the SDK only logs (DEBUG=pyroscope*) a refused or failed upload
            check("rejected data ingest" not in out and "error sending data ingest" not in out.lower(),
                  "%s: the SDK logged no refused or failed upload:\n%s" % (alias, out[-3000:]))
            runs[alias] = (t0, t1)
        outputs = wait_for_all(pyro)
        nodever = node_version()
        for alias, app, tenant, _, has_sdk_tags in SDKS:
            sdk_tags = {}
            if has_sdk_tags:
                sdk_tags = {"otel.scope.name": "com.grafana.pyroscope/nodejs", "otel.scope.version": "0.6.4",
                            "process.runtime.name": "nodejs", "process.runtime.version": nodever}
            mine = [o for o in outputs if o.service_dir == app]
            kinds = [check_output(o, app, tenant, sdk_tags, runs[alias]) for o in mine]
            print("%s: %d files (%d wall, %d heap)" % (alias, len(mine), kinds.count("wall"), kinds.count("heap")))
            check(kinds.count("wall") >= 1, "%s: at least one wall profile" % alias)
            check(kinds.count("heap") >= 1, "%s: at least one heap profile" % alias)
        accepted, refused = pyro.accepted("ingest"), pyro.refused("ingest")
        check(accepted == len(outputs), "accepted counter %s equals the %d files" % (accepted, len(outputs)))
        check(refused == 0, "nothing refused (got %s)" % refused)
        check(len(outputs) == sum(1 for o in outputs if o.service_dir in {s[1] for s in SDKS}),
              "every file belongs to one of the two apps")
    finally:
        rc = pyro.stop()
        check(rc == 0, "profgate exits 0 on SIGTERM (got %s)" % rc)
        if pgtest._failures:
            print(pyro.pg.read_log()[-4000:], file=sys.stderr)
    pgtest.finish()


if __name__ == "__main__":
    main()
