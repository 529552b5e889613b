"""Helpers for integration tests: run the real profgate binary on free ports,
generate Python protobuf modules from proto/ with protoc, and read what the
file exporter wrote. Run with Debian's /usr/bin/python3 (python3-grpcio,
python3-protobuf)."""

import gzip
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE_DIR = os.environ.get("PG_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED_DIR = os.environ.get("PG_SHARED_DIR", os.path.join(SOURCE_DIR, "..", "shared"))
BIN = os.environ.get("PROFGATE_BIN", os.path.join(SOURCE_DIR, "build", "profgate"))
FIXTURES = os.path.join(SHARED_DIR, "fixtures")
PYRO = os.path.join(FIXTURES, "third_party", "grafana-pyroscope")
OTLP_V110 = os.path.join(PYRO, "otlp-v1.10-ebpf-cpu-offcpu.pb")
OTLP_V110_JSON = os.path.join(PYRO, "otlp-v1.10-ebpf-cpu-offcpu.protojson.json")
EXPORT_PATH = "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"

_failures = []
_passes = 0


def check(cond, what):
    """Records one assertion; the test exits non-zero at the end if any failed."""
    global _passes
    if cond:
        _passes += 1
    else:
        _failures.append(what)
        print("FAIL:", what, flush=True)


def finish():
    print("%d passed, %d failed" % (_passes, len(_failures)), flush=True)
    sys.exit(1 if _failures else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


_pb = None


def pb():
    """Python modules generated from this repo's proto/ (an independent decoder:
    Google's protobuf runtime, not our C code)."""
    global _pb
    if _pb is None:
        out = tempfile.mkdtemp(prefix="pg-pb-")
        proto_dir = os.path.join(SOURCE_DIR, "proto")
        files = [f for f in os.listdir(proto_dir) if f.endswith(".proto")]
        subprocess.check_call(["protoc", "-I", proto_dir, "--python_out", out] + files)
        sys.path.insert(0, out)
        import profiles_service_pb2  # noqa: E402
        import profiles_pb2  # noqa: E402
        import status_pb2  # noqa: E402

        class M:
            pass

        _pb = M()
        _pb.svc = profiles_service_pb2
        _pb.prof = profiles_pb2
        _pb.status = status_pb2
    return _pb


def load_request(path=OTLP_V110):
    req = pb().svc.ExportProfilesServiceRequest()
    with open(path, "rb") as f:
        req.ParseFromString(f.read())
    return req


def profile_summaries(req):
    """[(service_name, sample_type, n_samples, value_total)] in request order.
    A sample without values counts one per timestamp, as the OTLP spec says."""
    d = req.dictionary
    out = []
    for rp in req.resource_profiles:
        svc = ""
        for kv in rp.resource.attributes:
            if kv.key == "service.name":
                svc = kv.value.string_value
        for sp in rp.scope_profiles:
            for p in sp.profiles:
                st = d.string_table[p.sample_type.type_strindex] if d.string_table else ""
                total = 0
                for s in p.samples:
                    total += sum(s.values) if len(s.values) else len(s.timestamps_unix_nano)
                out.append((svc, st, len(p.samples), total))
    return out


def read_otlp_frames(path):
    """Requests written by the file exporter in otlp_proto framing."""
    reqs = []
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off + 4 <= len(data):
        (n,) = struct.unpack(">I", data[off:off + 4])
        off += 4
        r = pb().svc.ExportProfilesServiceRequest()
        r.ParseFromString(data[off:off + n])
        off += n
        reqs.append(r)
    check(off == len(data), "file %s ends on a frame boundary (%d of %d bytes)" % (path, off, len(data)))
    return reqs


class Profgate:
    """A running profgate process with a generated configuration."""

    def __init__(self, config_yaml, name="pg"):
        self.dir = tempfile.mkdtemp(prefix="pg-it-")
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(config_yaml)
        self.log_path = os.path.join(self.dir, "profgate.log")
        self.proc = None
        self.name = name

    def start(self, wait_ports=()):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BIN, "--config", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.time() + 20
        for port in wait_ports:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError("profgate exited early:\n" + self.read_log())
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError("port %d never opened:\n%s" % (port, self.read_log()))
                    time.sleep(0.05)
        return self

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            check(False, "profgate did not stop within %ds" % timeout)
        self.log.close()
        return rc


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def http_post(url, body, headers, timeout=10):
    """Returns (status, headers, body) without raising on HTTP errors."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def metric(port, name, labels_substr=""):
    """Value of the first sample of `name` whose label text contains labels_substr."""
    _, body = http_get("http://127.0.0.1:%d/metrics" % port)
    for line in body.decode().splitlines():
        if line.startswith("#"):
            continue
        if line.startswith(name + "{") or line.startswith(name + " "):
            if labels_substr in line:
                return float(line.rsplit(" ", 1)[1])
    return None


def metric_sum(port, name, *labels):
    """Sum of the samples of `name` whose label text holds every one of
    labels (label order is not part of the contract)."""
    _, body = http_get("http://127.0.0.1:%d/metrics" % port)
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name + "{") and all(x in line for x in labels):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for(fn, timeout=30.0):
    """Polls fn until it returns true or timeout passes; returns its last answer."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def gz(data):
    return gzip.compress(data)


def make_test_pki(directory, server_san="DNS:localhost,IP:127.0.0.1"):
    """A test CA "ca" (and an unrelated "otherca") made with the openssl command
    line in directory, with "server" (SAN server_san) and "client" certificates
    signed by ca. Returns a function mapping a file name to its path."""

    def sh(*cmd):
        subprocess.run(cmd, check=True, capture_output=True, cwd=directory)

    for ca in ("ca", "otherca"):
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + ca,
           "-keyout", ca + ".key", "-out", ca + ".crt")
    for name, san in (("server", server_san), ("client", "DNS:client")):
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout",
           name + ".key", "-out", name + ".csr")
        with open(os.path.join(directory, name + ".ext"), "w") as f:
            f.write("subjectAltName=" + san + "\n")
        sh("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
           "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".crt")
    return lambda n: os.path.join(directory, n)
