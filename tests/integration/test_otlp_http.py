"""OTLP/HTTP into a running profgate with the curl command-line client:
protobuf, JSON, gzip, HTTP/1.1 and HTTP/2; bad input (wrong content type,
truncated protobuf, body over the limit, gzip bomb, older OTLP layouts,
invalid UTF-8) gets the documented status and message, and the process keeps
serving. The file exporter's output is then checked with Google's protobuf
runtime."""

import collections
import gzip
import json
import os
import subprocess
import tempfile

import pgtest
from pgtest import check

http_port, metrics_port = pgtest.free_port(), pgtest.free_port()
CONFIG = f"""
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:{http_port}, max_request_body_size: 2MiB}}
exporters:
  file: {{path: ./out/profiles.otlp}}
service:
  workers: 1
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles:
      receivers: [otlp]
      exporters: [file]
"""
URL = "http://127.0.0.1:%d/v1development/profiles" % http_port
TMP = tempfile.mkdtemp(prefix="pg-http-")


def curl(body, headers=(), http2=False):
    """POSTs body with curl; returns (status, content_type, response bytes)."""
    body_path = os.path.join(TMP, "body")
    out_path = os.path.join(TMP, "out")
    with open(body_path, "wb") as f:
        f.write(body)
    cmd = ["curl", "-sS", "-o", out_path, "-w", "%{http_code} %{content_type}", "--data-binary",
           "@" + body_path, "-H", "Expect:"]
    if http2:
        cmd.append("--http2-prior-knowledge")
    for h in headers:
        cmd += ["-H", h]
    cmd.append(URL)
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    status, _, ctype = res.stdout.partition(" ")
    with open(out_path, "rb") as f:
        return int(status or 0), ctype, f.read()


def status_message(body, ctype):
    if ctype.startswith("application/json"):
        return json.loads(body).get("message", "")
    st = pgtest.pb().status.Status()
    st.ParseFromString(body)
    return st.message


PROTO = "Content-Type: application/x-protobuf"
JSON = "Content-Type: application/json"


def main():
    pg = pgtest.Profgate(CONFIG).start(wait_ports=(http_port, metrics_port))
    expected = collections.Counter()
    fixture = open(pgtest.OTLP_V110, "rb").read()
    fixture_summary = pgtest.profile_summaries(pgtest.load_request())
    try:
        st, ct, body = curl(fixture, [PROTO])
        check(st == 200, "protobuf: 200 (got %d)" % st)
        check(ct == "application/x-protobuf", "protobuf answer content type (got %r)" % ct)
        resp = pgtest.pb().svc.ExportProfilesServiceResponse()
        resp.ParseFromString(body)
        check(not resp.HasField("partial_success"), "protobuf answer decodes, no partial_success")
        expected.update(fixture_summary)

        st, ct, body = curl(gzip.compress(fixture), [PROTO, "Content-Encoding: gzip"])
        check(st == 200, "gzip protobuf: 200 (got %d: %r)" % (st, body[:200]))
        expected.update(fixture_summary)

        st, ct, body = curl(fixture, [PROTO], http2=True)
        check(st == 200, "protobuf over HTTP/2: 200 (got %d)" % st)
        expected.update(fixture_summary)

        js = open(pgtest.OTLP_V110_JSON, "rb").read()
        st, ct, body = curl(js, [JSON])
        check(st == 200, "JSON: 200 (got %d: %r)" % (st, body[:300]))
        check(ct == "application/json", "JSON answer content type (got %r)" % ct)
        check(body.strip().startswith(b"{"), "JSON answer is a JSON object: %r" % body[:100])
        expected.update(fixture_summary)

        st, ct, body = curl(fixture, ["Content-Type: text/plain"])
        check(st == 415, "wrong content type: 415 (got %d)" % st)
        check(b"unsupported content type" in body, "415 names the problem: %r" % body[:200])

        st, ct, body = curl(fixture[:5000], [PROTO])
        check(st == 400, "truncated protobuf: 400 (got %d)" % st)
        check("malformed" in status_message(body, ct), "400 carries a Status naming the problem")

        st, ct, body = curl(b'{"resourceProfiles": [', [JSON])
        check(st == 400, "broken JSON: 400 (got %d)" % st)
        check(ct == "application/json" and status_message(body, ct), "broken JSON: JSON Status with a message")

        st, ct, body = curl(fixture * 30, [PROTO])  # ~3 MiB on the wire, limit 2 MiB
        check(st == 413, "body over the limit: 413 (got %d)" % st)

        bomb = gzip.compress(b"\0" * (200 << 20))  # 200 MiB of zeros, ~200 KiB compressed
        st, ct, body = curl(bomb, [PROTO, "Content-Encoding: gzip"])
        check(st == 413, "gzip bomb: 413 (got %d)" % st)

        for name, version in (("otlp-v1.8-ebpf.pb", "1.8"), ("otlp-v1.7-ebpf-unsymbolized.pb", "1.7"),
                              ("otlp-v1.5-ebpf-unsymbolized.pb", "1.4")):
            data = open(os.path.join(pgtest.PYRO, name), "rb").read()
            st, ct, body = curl(data, [PROTO])
            msg = status_message(body, ct) if st == 400 else ""
            check(st == 400 and version in msg, "%s: 400 naming v%s (got %d %r)" % (name, version, st, msg))

        # a request whose string table holds invalid UTF-8
        req = pgtest.load_request()
        raw = bytearray(req.SerializeToString())
        marker = b"service.name" if b"service.name" in raw else req.dictionary.string_table[1].encode()
        i = raw.find(marker)
        raw[i] = 0xFF
        st, ct, body = curl(bytes(raw), [PROTO])
        msg = status_message(body, ct) if st == 400 else ""
        check(st == 400 and "UTF-8" in msg, "invalid UTF-8: 400 naming it (got %d %r)" % (st, msg))

        # still serving after all of that
        st, _, _ = curl(fixture, [PROTO])
        check(st == 200 and pg.alive(), "still serving after bad input")
        expected.update(fixture_summary)
    finally:
        rc = pg.stop()
    check(rc == 0, "clean exit (rc=%s)" % rc)
    got = collections.Counter()
    path = os.path.join(pg.dir, "out", "profiles.otlp")
    if os.path.exists(path):
        for r in pgtest.read_otlp_frames(path):
            got.update(pgtest.profile_summaries(r))
    check(got == expected, "file output holds every accepted profile (%d expected, %d written)" % (
        sum(expected.values()), sum(got.values())))
    pgtest.finish()


main()
