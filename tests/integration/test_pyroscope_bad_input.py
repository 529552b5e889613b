"""Bad input to the Pyroscope receiver: malformed app names, empty and broken
multipart bodies, prev_profile, unsupported formats (JFR, speedscope), bytes
that are not pprof, invalid UTF-8, bodies over max_request_body_size (64 KiB
here), gzip bombs in Content-Encoding and inside the pprof, bad from and
aggregationType. Each gets the documented status and a JSON body with `code`
and `message`; the process keeps serving, its memory stays small, nothing
refused reaches the output, the counters say what happened, and SIGTERM
ends it with exit code 0 (the ASan build checks for leaks then)."""

import errno
import gzip
import json
import os
import select
import socket
import time

import pgtest
import pyrotest
from pgtest import check

GO_FILES = os.path.join(pgtest.FIXTURES, "captured", "go-files")
LIMIT = 64 << 10
BOMB = gzip.compress(b"\0" * (60 << 20), 9)  # 60 MiB of zeros in about 60 KiB: under the wire limit


def fixture(*parts):
    with open(os.path.join(pgtest.FIXTURES, *parts), "rb") as f:
        return f.read()


CPU_GZ = fixture("captured", "go-files", "cpu.pb.gz")
JFR_GZ = fixture("third_party", "grafana-pyroscope", "java-dump2.jfr.gz")
SPEEDSCOPE = fixture("third_party", "grafana-pyroscope", "simple.speedscope.json")
INVALID_UTF8 = fixture("third_party", "grafana-pyroscope", "invalid-utf8.pb.gz")


def send_big(port, target, headers, body, timeout=20.0):
    """POSTs on a raw socket while watching for an early answer: a server that
    refuses a large body may answer and close before reading all of it, so a
    failed write is not an error here. Returns the Response or None."""
    head = ["POST %s HTTP/1.1" % target, "Host: 127.0.0.1:%d" % port, "Connection: close",
            "Content-Length: %d" % len(body)] + ["%s: %s" % h for h in headers]
    data = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setblocking(False)
    sent, buf = 0, b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            want_write = [s] if sent < len(data) else []
            r, w, _ = select.select([s], want_write, [], 0.5)
            if r:
                try:
                    chunk = s.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                buf += chunk
                parsed = pyrotest._parse_one(buf)
                if parsed:
                    return parsed[0]
            if w:
                try:
                    sent += s.send(data[sent:sent + 65536])
                except OSError as e:
                    if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.EAGAIN):
                        raise
                    if e.errno != errno.EAGAIN:
                        sent = len(data)
        parsed = pyrotest._parse_one(buf)
        return parsed[0] if parsed else None
    finally:
        s.close()


def vm_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Case:
    """One refused request and what the answer must say."""

    def __init__(self, what, target, body, headers=(), status=400, mention=None):
        self.what, self.target, self.body = what, target, body
        self.headers, self.status, self.mention = list(headers), status, mention


def ingest(params):
    return pyrotest.ingest_target(params)


def pprof_params(name="badin.cpu", **extra):
    p = {"name": name, "format": "pprof", "from": "1700000000", "until": "1700000010"}
    p.update(extra)
    return p


OCTET = [("Content-Type", "application/octet-stream")]


def name_cases():
    cases = []
    for name in ("app{a=1", "{a=1}", "app{a}", "app{bad key=1}"):
        cases.append(Case("malformed name %r" % name, ingest(pprof_params(name)), CPU_GZ, OCTET, mention="name"))
    missing = {"format": "pprof", "from": "1700000000"}
    cases.append(Case("missing name", ingest(missing), CPU_GZ, OCTET, mention="name"))
    return cases


def multipart_cases():
    mp_target = ingest({"name": "badin.cpu", "from": "1700000000"})
    good, ctype = pyrotest.multipart([("profile", "profile", "application/octet-stream", CPU_GZ)])
    no_profile, ctype2 = pyrotest.multipart([("sample_type_config", "sample_type_config.json",
                                              "application/json", b'{"samples":{"units":"samples"}}')])
    prev, ctype3 = pyrotest.multipart([("profile", "profile", None, CPU_GZ),
                                       ("prev_profile", "profile", None, CPU_GZ)])
    boundary_only = ctype.replace("boundary=", "boundary=other-")
    return [
        Case("empty body, format=pprof", ingest(pprof_params()), b"", OCTET, mention="empty"),
        Case("empty multipart body", mp_target, b"", [("Content-Type", ctype)], mention="empty"),
        Case("multipart without a profile part", mp_target, no_profile, [("Content-Type", ctype2)],
             mention="profile"),
        Case("truncated multipart", mp_target, good[:len(good) // 2], [("Content-Type", ctype)]),
        Case("multipart with a foreign boundary", mp_target, good, [("Content-Type", boundary_only)]),
        Case("multipart without a boundary", mp_target, good, [("Content-Type", "multipart/form-data")]),
        Case("non-empty prev_profile", mp_target, prev, [("Content-Type", ctype3)], status=422),
    ]


def format_cases():
    jfr_target = ingest({"name": "badin.java", "format": "jfr", "from": "1700000000"})
    return [
        # the first 32 KiB of the gzipped JFR: the whole fixture is over this test's 64 KiB limit
        Case("format=jfr", jfr_target, JFR_GZ[:32 << 10], OCTET, status=415, mention="jfr"),
        Case("format=speedscope", ingest({"name": "badin", "format": "speedscope"}), SPEEDSCOPE,
             [("Content-Type", "application/json")], status=415, mention="speedscope"),
        Case("undecodable pprof", ingest(pprof_params()), b"\xff\xfe this is no protobuf", OCTET,
             mention="pprof"),
        Case("gzipped non-pprof", ingest(pprof_params()), gzip.compress(b"\xff\xfe not protobuf" * 50), OCTET,
             mention="pprof"),
        Case("truncated gzipped pprof", ingest(pprof_params()), CPU_GZ[:len(CPU_GZ) // 2], OCTET),
        Case("pprof with invalid UTF-8", ingest(pprof_params()), INVALID_UTF8, OCTET),
        Case("bad from", ingest(pprof_params(**{"from": "yesterday at noon"})), CPU_GZ, OCTET),
        Case("bad until", ingest(pprof_params(until="12:30")), CPU_GZ, OCTET),
        Case("bad aggregationType", ingest(pprof_params(aggregationType="median")), CPU_GZ, OCTET),
        Case("/v1/pprof not pprof", "/v1/pprof?service_name=badin", b"\xff\xfe no protobuf", OCTET,
             mention="pprof"),
        Case("/v1/pprof empty", "/v1/pprof?service_name=badin", b"", OCTET, mention="empty"),
    ]


def limit_cases():
    big = os.urandom(LIMIT + (100 << 10))
    return [
        Case("body over the limit", ingest(pprof_params()), big, OCTET, status=413),
        Case("/v1/pprof body over the limit", "/v1/pprof?service_name=badin", big, OCTET, status=413),
        Case("folded body over the limit", ingest({"name": "badin.cpu", "format": "folded"}),
             b"main;f 1\n" * (LIMIT // 8), [("Content-Type", "text/plain")], status=413),
    ]


def bomb_cases():
    return [
        Case("gzip bomb as Content-Encoding", ingest(pprof_params()), BOMB,
             OCTET + [("Content-Encoding", "gzip")], status=413),
        Case("gzip bomb as Content-Encoding, /v1/pprof", "/v1/pprof?service_name=badin", BOMB,
             OCTET + [("Content-Encoding", "gzip")], status=413),
        Case("gzip bomb as the gzipped pprof", ingest(pprof_params()), BOMB, OCTET, status=413),
        Case("gzip bomb as the gzipped pprof, /v1/pprof", "/v1/pprof?service_name=badin", BOMB, OCTET,
             status=413),
        Case("gzip bomb in a multipart profile part", ingest({"name": "badin.cpu"}),
             *_multipart_bomb(), status=413),
    ]


def _multipart_bomb():
    body, ctype = pyrotest.multipart([("profile", "profile", None, BOMB)])
    return body, [("Content-Type", ctype)]


def push_bomb(pyro):
    """A Connect push whose raw_profile is a gzip bomb."""
    pgtest.pb()
    import pyroscope_push_pb2  # noqa: E402  (generated by pgtest.pb())
    req = pyroscope_push_pb2.PushRequest()
    s = req.series.add()
    s.labels.add(name="__name__", value="process_cpu")
    s.labels.add(name="service_name", value="badin")
    s.samples.add(raw_profile=BOMB)
    return send_big(pyro.port, "/push.v1.PusherService/Push",
                    [("Content-Type", "application/proto"), ("Connect-Protocol-Version", "1")],
                    req.SerializeToString())


def check_error(r, case):
    what = case.what
    if r is None:
        check(False, "%s: no answer" % what)
        return
    check(r.status == case.status, "%s: HTTP %d (got %d %r)" % (what, case.status, r.status, r.body[:200]))
    try:
        doc = json.loads(r.body)
    except ValueError:
        doc = None
    ok = isinstance(doc, dict) and isinstance(doc.get("code"), str) and doc["code"] != "" \
        and isinstance(doc.get("message"), str) and doc["message"] != ""
    check(ok, "%s: JSON body with code and message (got %r)" % (what, r.body[:200]))
    if ok and case.status == 400:
        check(doc["code"] == "invalid_argument", "%s: code invalid_argument (got %r)" % (what, doc["code"]))
    if ok and case.mention:
        check(case.mention in doc["message"].lower(), "%s: message mentions %r (got %r)" % (
            what, case.mention, doc["message"]))


def run(pyro, cases):
    for case in cases:
        r = send_big(pyro.port, case.target, case.headers, case.body)
        check_error(r, case)
        check(pyro.pg.alive(), "%s: profgate still running" % case.what)


def good_upload(pyro, what):
    r = pyrotest.http_request(pyro.port, "POST", ingest(pprof_params("good.cpu{step=%s}" % what)), OCTET, CPU_GZ)
    check(r is not None and r.status == 200, "%s: good upload answered 200 (got %r)" % (what, r))


def test_bombs(pyro):
    pid = pyro.pg.proc.pid
    rss0, hwm0 = vm_kib(pid, "VmRSS"), vm_kib(pid, "VmHWM")
    run(pyro, bomb_cases())
    r = push_bomb(pyro)
    check(r is not None and r.status == 413, "Connect push with a gzip bomb sample: 413 (got %r)" % r)
    rss1, hwm1 = vm_kib(pid, "VmRSS"), vm_kib(pid, "VmHWM")
    # each bomb inflates to 60 MiB; a receiver that stops at the 64 KiB limit
    # stays far below that even with the sanitizers' overhead
    check(rss1 - rss0 < 32 << 10, "RSS after the bombs: %d KiB -> %d KiB" % (rss0, rss1))
    check(hwm1 - hwm0 < 40 << 10, "peak RSS during the bombs: %d KiB -> %d KiB" % (hwm0, hwm1))


def main():
    pyro = pyrotest.Pyro.start(max_request_body_size="64KiB")
    try:
        good_upload(pyro, "first")
        pyrotest.wait_files(pyro.out, 1)
        receiver_errors = name_cases() + multipart_cases() + format_cases()
        run(pyro, receiver_errors)
        run(pyro, limit_cases())
        test_bombs(pyro)
        good_upload(pyro, "last")
        files = pyrotest.wait_files(pyro.out, 2)
        outs = [pyrotest.read_output(p) for p in files]
        check([o.labels.get("step") for o in outs] == ["first", "last"],
              "only the two good uploads reach the output: %r" % outs)
        check(pyro.accepted("ingest") == 2, "accepted_profiles_total{transport=ingest} == 2 (got %s)" % (
            pyro.accepted("ingest")))
        n_ingest = sum(1 for c in receiver_errors if not c.target.startswith("/v1/pprof"))
        failed = pgtest.metric(pyro.metrics_port, "profgate_receiver_failed_requests_total",
                               'receiver="pyroscope",transport="ingest"')
        check(failed is not None and failed >= n_ingest,
              "failed_requests_total{transport=ingest} counts the %d refused requests (got %r)" % (n_ingest, failed))
        failed = pgtest.metric(pyro.metrics_port, "profgate_receiver_failed_requests_total",
                               'receiver="pyroscope",transport="pprof"')
        check(failed is not None and failed >= 2,
              "failed_requests_total{transport=pprof} counts the refused requests (got %r)" % failed)
        check(pyro.pg.alive(), "profgate alive after all bad input")
    finally:
        rc = pyro.stop()
    check(rc == 0, "exit code 0 after SIGTERM (rc=%s)" % rc)
    log = pyro.pg.read_log()
    check("runtime error" not in log and "Sanitizer" not in log, "no sanitizer report in the log")
    check(len(pyrotest.list_files(pyro.out)) == 2, "no output from refused requests after shutdown")
    if pgtest._failures:
        print("profgate log:\n" + pyro.pg.read_log()[-4000:])
    pgtest.finish()


if __name__ == "__main__":
    main()
