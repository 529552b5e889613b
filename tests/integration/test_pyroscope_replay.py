"""Replays of what real Pyroscope clients sent: every request the Node SDK
0.6.4 (raw gzipped pprof) and 0.4.13 (multipart form) sent to a capture
server, with its headers exactly as captured, over a raw socket; each
captured keep-alive connection written to one socket as it was; and the
pyroscope-go /ingest parts from Grafana Pyroscope's own test data, sent as
the Go agent sends them (with and without their sample_type_config), plus a
.NET profile with spyName=dotnetspy. The exported file must be the uploaded
pprof (byte for byte, or gzipped when it came raw) and its sidecar must hold
the labels, tenant and __name__ Pyroscope would give it."""

import glob
import gzip
import json
import os
import sys
import urllib.parse

import pgtest
import pyrotest
from pgtest import check

PYRO = pgtest.PYRO
WALL_TYPES = [("samples", "count"), ("wall", "nanoseconds"), ("cpu", "nanoseconds")]
HEAP_TYPES = [("inuse_objects", "count"), ("inuse_space", "bytes")]
NODE_TAGS = {"env": "test", "region": "local"}
SDK_TAGS_064 = {"otel.scope.name": "com.grafana.pyroscope/nodejs", "otel.scope.version": "0.6.4",
                "process.runtime.name": "nodejs", "process.runtime.version": "20.20.2"}
GO_NAMES = {"goroutine": "goroutines", "heap": "memory", "mutex": "mutex", "block": "block"}
INTERNAL_OK = {"__sample_type_config__"}


class Run:
    """The running profgate and how many files it has written so far."""

    def __init__(self):
        self.pyro = pyrotest.Pyro.start()
        self.files = 0

    def next_output(self, where):
        """The one new file written since the last call (None, and a failure, if not exactly one)."""
        files = pyrotest.wait_files(self.pyro.out, self.files + 1, timeout=10)
        new = files[self.files:]
        self.files = len(files)
        check(len(new) == 1, "%s: exactly one new file (got %d)" % (where, len(new)))
        return pyrotest.read_output(new[0]) if len(new) == 1 else None


def query_of(http_path):
    line, _, _ = pyrotest.read_http_fixture(http_path)
    target = line.split(" ")[1]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query, keep_blank_values=True))


def user_labels(o):
    return {k: v for k, v in o.labels.items() if k not in INTERNAL_OK}


def check_node_output(o, where, http_path, expect_bytes, sdk_tags):
    kind = "wall" if "-wall." in http_path else "heap"
    check(o.data == expect_bytes, "%s: file equals the uploaded pprof byte for byte" % where)
    check(o.error is None, "%s: decodes (%s)" % (where, o.error))
    check(o.sample_types() == (WALL_TYPES if kind == "wall" else HEAP_TYPES),
          "%s: sample types %r" % (where, o.sample_types()))
    want = dict(NODE_TAGS, **sdk_tags)
    want.update(service_name="capture-node-app", pyroscope_spy="nodespy",
                __name__="wall" if kind == "wall" else "memory")
    check(user_labels(o) == want, "%s: labels\n  got  %r\n  want %r" % (where, user_labels(o), want))
    check(o.tenant == "tenant-a" and o.tenant_dir == "tenant-a", "%s: tenant-a (got %r)" % (where, o.tenant))
    q = query_of(http_path)
    t = (o.sidecar or {}).get("time_unix_nano", -1)
    in_window = int(q["from"]) * 10**9 <= t <= (int(q["until"]) + 1) * 10**9
    check(o.profile is not None and (t == o.profile.time_nanos or in_window),
          "%s: time_unix_nano %d is the pprof's or within from..until" % (where, t))


def replay_node(run, version, directory, sdk_tags):
    heads = sorted(glob.glob(os.path.join(directory, "ingest-*.http")))
    check(len(heads) == 5, "%s: five captured requests (found %d)" % (version, len(heads)))
    for http_path in heads:
        stem = http_path[:-len(".http")]
        where = "%s %s" % (version, os.path.basename(stem))
        res = pyrotest.replay(run.pyro.port, http_path, stem + ".body")
        check(res is not None and res.status == 200 and res.body == b"",
              "%s: 200 with an empty body (got %r)" % (where, res))
        o = run.next_output(where)
        if o is None:
            continue
        part = stem + ".profile.pb.gz"
        with open(part if os.path.exists(part) else stem + ".body", "rb") as f:
            expect = f.read()
        check_node_output(o, where, http_path, expect, sdk_tags)


def count_requests(raw):
    """Requests in a captured connection: heads and Content-Length bodies."""
    n, off = 0, 0
    while off < len(raw):
        end = raw.find(b"\r\n\r\n", off)
        if end < 0:
            break
        head = raw[off:end].decode("latin-1").lower().split("\r\n")
        length = 0
        for line in head[1:]:
            k, _, v = line.partition(":")
            if k.strip() == "content-length":
                length = int(v)
        n += 1
        off = end + 4 + length
    return n


def replay_wire(run, version, directory):
    for path in sorted(glob.glob(os.path.join(directory, "wire-conn-*.raw"))):
        with open(path, "rb") as f:
            raw = f.read()
        n = count_requests(raw)
        where = "%s %s" % (version, os.path.basename(path))
        check(n >= 2, "%s: holds several requests (%d)" % (where, n))
        res = pyrotest.send_raw(run.pyro.port, raw, expect=n)
        check([r.status for r in res] == [200] * n, "%s: %d answers 200 (got %r)" % (where, n, [r.status for r in res]))
        files = pyrotest.wait_files(run.pyro.out, run.files + n)
        check(len(files) == run.files + n, "%s: %d new files" % (where, n))
        run.files = len(files)


def go_upload(run, kind, with_config=True, spy="gospy", data_path=None, config_path=None):
    """Sends one fixture the way pyroscope-go does; returns (response, bytes sent, from, until)."""
    data_path = data_path or os.path.join(PYRO, "ingest-go-%s.pb.gz" % kind)
    config_path = config_path or os.path.join(PYRO, "ingest-go-%s.sample_type_config.json" % kind)
    with open(data_path, "rb") as f:
        data = f.read()
    parts = [("profile", "profile.pprof", "application/octet-stream", data)]
    if with_config:
        with open(config_path, "rb") as f:
            parts.append(("sample_type_config", "sample_type_config.json", "application/octet-stream", f.read()))
    body, ctype = pyrotest.multipart(parts)
    t0 = 1795000000 * 10**9
    name = pyrotest.name_with_tags("replay-go", {"__session_id__": "00112233aabbccdd", "env": "fixture",
                                                 "process.runtime.name": "go"})
    q = {"aggregationType": "", "from": str(t0), "name": name, "sampleRate": "0", "spyName": spy, "units": "",
         "until": str(t0 + 10 * 10**9)}
    res = pyrotest.http_request(run.pyro.port, "POST", pyrotest.ingest_target(q),
                                [("Content-Type", ctype), ("X-Scope-OrgID", "tenant-go")], body)
    return res, data, t0, t0 + 10 * 10**9


def check_go_output(o, where, data, name, spy, t0, t1):
    if data[:2] == b"\x1f\x8b":
        check(o.data == data, "%s: file equals the uploaded part byte for byte" % where)
    else:
        check(gzip.decompress(o.data) == data, "%s: file is the uploaded raw pprof, gzipped" % where)
    check(o.error is None, "%s: decodes (%s)" % (where, o.error))
    want = {"__name__": name, "service_name": "replay-go", "__session_id__": "00112233aabbccdd", "env": "fixture",
            "process.runtime.name": "go", "pyroscope_spy": spy}
    check(user_labels(o) == want, "%s: labels\n  got  %r\n  want %r" % (where, user_labels(o), want))
    check(o.tenant == "tenant-go" and o.tenant_dir == "tenant-go", "%s: tenant-go" % where)
    t = (o.sidecar or {}).get("time_unix_nano", -1)
    check(o.profile is not None and (t == o.profile.time_nanos or t0 <= t <= t1),
          "%s: time_unix_nano %d is the pprof's or within from..until" % (where, t))


def replay_go(run):
    for kind, name in GO_NAMES.items():
        res, data, t0, t1 = go_upload(run, kind)
        where = "go %s" % kind
        check(res is not None and res.status == 200, "%s: 200 (got %r)" % (where, res))
        o = run.next_output(where)
        if o is not None:
            check_go_output(o, where, data, name, "gospy", t0, t1)
    # Without its config a Go block profile (contentions/delay) reads as mutex, as in Pyroscope.
    res, data, t0, t1 = go_upload(run, "block", with_config=False)
    check(res is not None and res.status == 200, "go block without config: 200 (got %r)" % res)
    o = run.next_output("go block without config")
    if o is not None:
        check_go_output(o, "go block without config", data, "mutex", "gospy", t0, t1)
        check("__sample_type_config__" not in o.labels, "go block without config: no config label")


def dotnet_name(config_path, profile):
    """__name__ by Pyroscope's rule: any wall => wall; else the first sample
    type (replaced by its display-name) that matches a rule."""
    with open(config_path) as f:
        cfg = json.load(f)
    names = [cfg.get(t, {}).get("display-name", t) for t, _ in pyrotest.sample_types(profile)]
    if "wall" in [t for t, _ in pyrotest.sample_types(profile)]:
        return "wall"
    for n in names:
        if "cpu" in n:
            return "process_cpu"
        if "alloc_" in n or "inuse_" in n or n in ("space", "objects"):
            return "memory"
        if "mutex_" in n:
            return "mutex"
        if "block_" in n:
            return "block"
        if "goroutines" in n:
            return "goroutines"
    return names[0]


def replay_dotnet(run):
    data_path = os.path.join(PYRO, "dotnet-multi.pb")
    config_path = os.path.join(PYRO, "dotnet-multi.sample_type_config.json")
    with open(data_path, "rb") as f:
        want = dotnet_name(config_path, pyrotest.decode_pprof(f.read()))
    check(want == "process_cpu", "the rules give .NET's cpu-first profile process_cpu (got %r)" % want)
    res, data, t0, t1 = go_upload(run, "dotnet", spy="dotnetspy", data_path=data_path, config_path=config_path)
    check(res is not None and res.status == 200, "dotnet: 200 (got %r)" % res)
    o = run.next_output("dotnet")
    if o is not None:
        check_go_output(o, "dotnet", data, want, "dotnetspy", t0, t1)


def main():
    run = Run()
    try:
        replay_node(run, "0.6.4", pyrotest.NODE_064, SDK_TAGS_064)
        replay_node(run, "0.4.13", pyrotest.NODE_0413, {})
        replay_wire(run, "0.6.4", pyrotest.NODE_064)
        replay_wire(run, "0.4.13", pyrotest.NODE_0413)
        replay_go(run)
        replay_dotnet(run)
        accepted = run.pyro.accepted("ingest")
        check(accepted == run.files, "accepted counter %s equals the %d files" % (accepted, run.files))
        check(run.pyro.refused("ingest") == 0, "nothing refused")
    finally:
        rc = run.pyro.stop()
        check(rc == 0, "profgate exits 0 on SIGTERM (got %s)" % rc)
        if pgtest._failures:
            print(run.pyro.pg.read_log()[-4000:], file=sys.stderr)
    pgtest.finish()


if __name__ == "__main__":
    main()
