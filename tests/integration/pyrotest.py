"""Shared helpers for the Pyroscope receiver's integration tests.

Run profgate with the pyroscope receiver feeding the file exporter
(`format: pprof`, `labels_file: true`), send requests the way real clients do
(raw sockets for captured requests, multipart bodies shaped like pyroscope-go),
and read back what the exporter wrote: every `X.pb.gz` with its
`X.labels.json` sidecar.

Stable API (other test files import it; keep signatures backwards compatible):

  Pyro.start(...) -> Pyro            profgate on free ports; .port, .metrics_port,
                                     .out, .base_url, .pg (pgtest.Profgate), .stop()
  Pyro.accepted(transport)           receiver counters ("ingest" | "push" | "pprof")
  Pyro.refused(transport)
  wait_files(out, n, timeout)        the .pb.gz paths once at least n exist, in write order
  list_files(out)                    the same, without waiting
  read_output(path) -> Output        one (pb.gz, labels.json) pair, decoded
  read_outputs(out, n, timeout)      wait_files + read_output for each
  decode_pprof(data) -> Profile      gunzips when needed; perftools.profiles.Profile
  sample_types(profile)              [(type, unit), ...]
  period_type(profile)               (type, unit)
  read_http_fixture(http_path)       (request line, [(name, value)], head bytes)
  replay(port, http_path, body_path) one captured request over a raw socket -> Response
  send_raw(port, data, expect)       bytes as is on one socket -> [Response]
  parse_response(buf)                (Response, rest) when buf starts with a whole
                                     response, else None (also kept as _parse_one)
  http_request(port, method, target, headers, body) -> Response   (HTTP/1.1, one connection)
  multipart(parts, boundary)         (body, content type); parts = [(name, filename, ctype, bytes)]
  ingest_target(params, path)        "/ingest?..." with url.Values-style sorted encoding
  name_with_tags(app, tags)          "app{k=v,...}" with sorted keys
"""

import gzip
import json
import os
import re
import socket
import time
import urllib.parse

import pgtest

NODE_064 = os.path.join(pgtest.FIXTURES, "captured", "pyroscope-nodejs-0.6.4")
NODE_0413 = os.path.join(pgtest.FIXTURES, "captured", "pyroscope-nodejs-0.4.13")

_FILE_RE = re.compile(r"^(\d{8}T\d{6}Z)-(\d+)\.pb\.gz$")


class Pyro:
    """A running profgate: pyroscope receiver -> file exporter (pprof + labels sidecar)."""

    def __init__(self, pg, port, metrics_port, out):
        self.pg = pg
        self.port = port
        self.metrics_port = metrics_port
        self.out = out
        self.base_url = "http://127.0.0.1:%d" % port

    @classmethod
    def start(cls, max_request_body_size=None, pprof_service_name=None, receiver_extra="",
              workers=1, labels_file=True):
        """Starts profgate and waits for both ports.

        max_request_body_size: e.g. "1MiB" (receiver default when None).
        pprof_service_name: the receiver's pprof.service_name (for POST /v1/pprof).
        receiver_extra: more YAML lines for the receiver, indented by 4 spaces
        (e.g. "    tls: {cert_file: a, key_file: b}\\n")."""
        port, metrics_port = pgtest.free_port(), pgtest.free_port()
        lines = ["receivers:", "  pyroscope:", "    endpoint: 127.0.0.1:%d" % port]
        if max_request_body_size:
            lines.append("    max_request_body_size: %s" % max_request_body_size)
        if pprof_service_name:
            lines.append("    pprof: {service_name: %s}" % pprof_service_name)
        cfg = "\n".join(lines) + "\n" + receiver_extra
        pg = pgtest.Profgate("")
        out = os.path.join(pg.dir, "out")
        cfg += f"""exporters:
  file: {{path: {out}, format: pprof, labels_file: {'true' if labels_file else 'false'}}}
service:
  workers: {workers}
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles: {{receivers: [pyroscope], exporters: [file]}}
"""
        with open(pg.config, "w") as f:
            f.write(cfg)
        pg.start(wait_ports=(port, metrics_port))
        return cls(pg, port, metrics_port, out)

    def accepted(self, transport):
        """profgate_receiver_accepted_profiles_total for this transport (0 when absent)."""
        return self._counter("profgate_receiver_accepted_profiles_total", transport)

    def refused(self, transport):
        return self._counter("profgate_receiver_refused_profiles_total", transport)

    def _counter(self, name, transport):
        v = pgtest.metric(self.metrics_port, name,
                          'receiver="pyroscope",transport="%s"' % transport)
        if v is None:  # label order is not part of the contract
            v = pgtest.metric(self.metrics_port, name, 'transport="%s"' % transport)
        return v or 0

    def stop(self):
        """SIGTERM and wait; returns the exit code. The log stays in self.pg.log_path."""
        return self.pg.stop()


# ---------------------------------------------------------------- output files

def list_files(out):
    """Every X.pb.gz under out, in the order the exporter wrote them (its
    sequence number), skipping hidden temporary files."""
    found = []
    for root, _, files in os.walk(out):
        for f in files:
            m = _FILE_RE.match(f)
            if m:
                found.append((int(m.group(2)), os.path.join(root, f)))
    return [p for _, p in sorted(found)]


def wait_files(out, n, timeout=15.0):
    """The .pb.gz paths once at least n exist (fewer after timeout: the caller
    checks the count). Waits a little longer to catch files beyond n."""
    deadline = time.time() + timeout
    files = list_files(out)
    while len(files) < n and time.time() < deadline:
        time.sleep(0.05)
        files = list_files(out)
    time.sleep(0.2)
    return list_files(out)


class Output:
    """One exported file and its sidecar.

    path, data (the .pb.gz bytes), profile (decoded pprof or None), error (why
    not), tenant_dir, service_dir, type_dir (the three directory components),
    sidecar (parsed labels.json dict, None when missing), labels (sidecar
    "labels" or {}), tenant (sidecar "tenant" or None)."""

    def __init__(self, path):
        self.path = path
        parts = path.split(os.sep)
        self.tenant_dir, self.service_dir, self.type_dir = parts[-4], parts[-3], parts[-2]
        with open(path, "rb") as f:
            self.data = f.read()
        self.profile, self.error = None, None
        try:
            self.profile = decode_pprof(self.data)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            self.error = "%s: %s" % (type(e).__name__, e)
        side = path[: -len(".pb.gz")] + ".labels.json"
        self.sidecar = None
        if os.path.exists(side):
            with open(side, "rb") as f:
                self.sidecar = json.loads(f.read())
        self.labels = (self.sidecar or {}).get("labels", {})
        self.tenant = (self.sidecar or {}).get("tenant")

    @property
    def name(self):
        """The series' __name__ label (None when absent)."""
        return self.labels.get("__name__")

    def sample_types(self):
        return sample_types(self.profile) if self.profile is not None else []

    def __repr__(self):
        return "Output(%s, labels=%r)" % (self.path, self.labels)


def read_output(path):
    return Output(path)


def read_outputs(out, n, timeout=15.0):
    return [Output(p) for p in wait_files(out, n, timeout)]


# ---------------------------------------------------------------- pprof

def _pprof_module():
    pgtest.pb()
    import pprof_pb2  # noqa: E402  (generated by pgtest.pb() from proto/pprof.proto)
    return pprof_pb2


def decode_pprof(data):
    """perftools.profiles.Profile from gzipped or raw bytes (Google's protobuf
    runtime). Raises on anything that is not a pprof; also checks that
    string_table[0] is "" and every string index is in range."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    p = _pprof_module().Profile()
    p.ParseFromString(data)
    n = len(p.string_table)
    if n == 0 or p.string_table[0] != "":
        raise ValueError("string_table[0] is not empty")
    for vt in list(p.sample_type) + [p.period_type]:
        if not (0 <= vt.type < n and 0 <= vt.unit < n):
            raise ValueError("sample/period type index out of range")
    for s in p.sample:
        if len(s.value) != len(p.sample_type):
            raise ValueError("sample with %d values for %d types" % (len(s.value), len(p.sample_type)))
    return p


def sample_types(profile):
    """[(type, unit)] of a decoded pprof, in order."""
    st = profile.string_table
    return [(st[v.type], st[v.unit]) for v in profile.sample_type]


def period_type(profile):
    st = profile.string_table
    return (st[profile.period_type.type], st[profile.period_type.unit])


def profile_type(profile):
    """"<type>:<unit>:<period type>:<period unit>" of the first sample type."""
    t = sample_types(profile)
    pt = period_type(profile)
    first = t[0] if t else ("", "")
    return "%s:%s:%s:%s" % (first[0], first[1], pt[0], pt[1])


def sample_label_keys(profile):
    """The set of string label keys used by any sample."""
    st = profile.string_table
    return {st[lb.key] for s in profile.sample for lb in s.label if lb.str}


# ---------------------------------------------------------------- HTTP over raw sockets

class Response:
    """status (int), reason, headers ({lowercase name: value}), body (bytes)."""

    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def json(self):
        return json.loads(self.body) if self.body else None

    def __repr__(self):
        return "Response(%d, %r, %r)" % (self.status, self.headers, self.body[:200])


def _parse_one(buf):
    """(Response, rest) when buf starts with a complete response, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    rest = buf[end + 4:]
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, off = b"", 0
        while True:
            eol = rest.find(b"\r\n", off)
            if eol < 0:
                return None
            size = int(rest[off:eol].split(b";")[0], 16)
            if len(rest) < eol + 2 + size + 2:
                return None
            body += rest[eol + 2:eol + 2 + size]
            off = eol + 2 + size + 2
            if size == 0:
                return Response(status, reason, headers, body), rest[off:]
    n = int(headers.get("content-length", "0"))
    if len(rest) < n:
        return None
    return Response(status, reason, headers, rest[:n]), rest[n:]


parse_response = _parse_one


def send_raw(port, data, expect=1, timeout=10.0):
    """Writes data to one new connection as is, then reads until `expect`
    responses arrived, the peer closed, or timeout. Returns the responses."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        buf, out = b"", []
        deadline = time.time() + timeout
        while len(out) < expect and time.time() < deadline:
            s.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
            while True:
                r = _parse_one(buf)
                if r is None:
                    break
                out.append(r[0])
                buf = r[1]
        return out
    finally:
        s.close()


def read_http_fixture(http_path):
    """A captured request head: (request line, [(name, value)] in order, raw bytes)."""
    with open(http_path, "rb") as f:
        raw = f.read()
    lines = raw.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if not line:
            break
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    return lines[0], headers, raw


def replay(port, http_path, body_path=None, timeout=10.0):
    """Sends a captured request (.http head exactly as captured + .body) on a
    new connection; returns its Response (None when nothing came back)."""
    _, _, head = read_http_fixture(http_path)
    body = b""
    if body_path:
        with open(body_path, "rb") as f:
            body = f.read()
    res = send_raw(port, head + body, 1, timeout)
    return res[0] if res else None


def http_request(port, method, target, headers=(), body=b"", timeout=10.0):
    """One HTTP/1.1 request on a new connection (Content-Length and Host added
    unless given, Connection: close). Returns the Response or None."""
    names = {k.lower() for k, _ in headers}
    lines = ["%s %s HTTP/1.1" % (method, target)]
    if "host" not in names:
        lines.append("Host: 127.0.0.1:%d" % port)
    lines += ["%s: %s" % (k, v) for k, v in headers]
    if "content-length" not in names and "transfer-encoding" not in names:
        lines.append("Content-Length: %d" % len(body))
    if "connection" not in names:
        lines.append("Connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    res = send_raw(port, data, 1, timeout)
    return res[0] if res else None


# ---------------------------------------------------------------- request shapes

def multipart(parts, boundary="pyrotest-boundary-7d3f9a"):
    """multipart/form-data body as Go's mime/multipart writes it.
    parts: [(name, filename or None, content type or None, bytes)].
    Returns (body, content_type_header_value)."""
    out = b""
    for name, filename, ctype, data in parts:
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += b"--" + boundary.encode() + b"\r\n"
        out += b"Content-Disposition: " + disp.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


def name_with_tags(app, tags):
    """"app{k=v,...}" with keys sorted (pyroscope-go's form)."""
    if not tags:
        return app
    return app + "{" + ",".join("%s=%s" % (k, tags[k]) for k in sorted(tags)) + "}"


def ingest_target(params, path="/ingest"):
    """path + "?" + params encoded like Go's url.Values.Encode (sorted keys,
    '+' for spaces, everything else percent-encoded)."""
    return path + "?" + urllib.parse.urlencode(sorted(params.items()))
