"""The exporters' client side of TLS, against a profgate receiver with a test
CA (made by the openssl command line):

  * Pyroscope push over HTTPS trusting the test CA: delivered;
  * OTLP gRPC over TLS (ALPN h2) trusting the test CA: delivered;
  * mutual TLS: the receiver requires client certificates; the exporter with
    cert_file/key_file delivers, the one without cannot and says so;
  * an exporter trusting another CA fails the handshake with a clear error
    and delivers nothing (the profile stays queued and retried).
"""

import os
import tempfile
import time

import pgtest
import pyrotest
from pgtest import check

D = tempfile.mkdtemp(prefix="pg-export-tls-")
p = pgtest.make_test_pki(D, server_san="DNS:localhost")
with open(os.path.join(pgtest.PYRO, "go-cpu.pb.gz"), "rb") as f:
    PPROF = f.read()


def destination(client_ca=False):
    """profgate B: pyroscope (HTTPS) and otlp gRPC (TLS) receivers -> pprof files."""
    pyro_port, grpc_port, mport = pgtest.free_port(), pgtest.free_port(), pgtest.free_port()
    tls = "{cert_file: %s, key_file: %s%s}" % (p("server.crt"), p("server.key"),
                                                ", client_ca_file: %s" % p("ca.crt") if client_ca else "")
    cfg = f"""receivers:
  pyroscope:
    endpoint: 127.0.0.1:{pyro_port}
    tls: {tls}
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc_port}
        tls: {tls}
exporters:
  file: {{path: ./out, format: pprof, labels_file: true}}
service:
  workers: 1
  telemetry:
    metrics: {{address: 127.0.0.1:{mport}}}
  pipelines:
    profiles: {{receivers: [pyroscope, otlp], exporters: [file]}}
"""
    pg = pgtest.Profgate(cfg, name="B").start(wait_ports=(pyro_port, grpc_port))
    return pg, pyro_port, grpc_port


def source(exporter_type, endpoint, tls_yaml):
    """profgate A: pyroscope receiver -> one exporter with the given tls section."""
    port, mport = pgtest.free_port(), pgtest.free_port()
    cfg = f"""receivers:
  pyroscope: {{endpoint: 127.0.0.1:{port}}}
exporters:
  {exporter_type}:
    endpoint: {endpoint}
    tls: {tls_yaml}
    retry_on_failure: {{initial_interval: 100ms, max_interval: 300ms}}
service:
  workers: 1
  telemetry:
    metrics: {{address: 127.0.0.1:{mport}}}
  pipelines:
    profiles: {{receivers: [pyroscope], exporters: [{exporter_type}]}}
"""
    pg = pgtest.Profgate(cfg, name="A").start(wait_ports=(port, mport))
    target = pyrotest.ingest_target({"name": "tls.app{case=%s}" % exporter_type, "format": "pprof"})
    r = pyrotest.http_request(port, "POST", target, [("Content-Type", "application/octet-stream")], PPROF)
    check(r.status == 200, "A accepted the upload (%d)" % r.status)
    return pg, mport


def wait_sent(mport, exporter, n=1, timeout=15):
    deadline = time.time() + timeout
    v = 0
    while time.time() < deadline:
        v = pgtest.metric(mport, "profgate_exporter_sent_profiles_total", 'exporter="%s"' % exporter) or 0
        if v >= n:
            break
        time.sleep(0.05)
    return v


def files(pg):
    return pyrotest.list_files(os.path.join(pg.dir, "out"))


def delivered(what, exporter, endpoint, tls_yaml, b, before):
    a, mport = source(exporter, endpoint, tls_yaml)
    sent = wait_sent(mport, exporter)
    check(sent == 1, "%s: delivered (sent %s)" % (what, sent))
    got = pyrotest.wait_files(os.path.join(b.dir, "out"), before + 1, timeout=10)
    check(len(got) == before + 1, "%s: B wrote the profile (%d files)" % (what, len(got)))
    a.stop()
    return len(got)


def refused(what, exporter, endpoint, tls_yaml, words):
    a, mport = source(exporter, endpoint, tls_yaml)
    deadline = time.time() + 10
    retries = 0
    while time.time() < deadline and retries < 2:
        retries = pgtest.metric(mport, "profgate_exporter_retries_total", 'exporter="%s"' % exporter) or 0
        time.sleep(0.05)
    sent = pgtest.metric(mport, "profgate_exporter_sent_profiles_total", 'exporter="%s"' % exporter) or 0
    check(sent == 0 and retries >= 2, "%s: nothing delivered, attempts retried (%s)" % (what, retries))
    a.stop()
    log = a.read_log().lower()
    check(any(w in log for w in words), "%s: the log names the TLS problem (%s)" % (what, words))


def main():
    b, pyro_port, grpc_port = destination()
    n = 0
    try:
        n = delivered("push over HTTPS", "pyroscope", "https://localhost:%d" % pyro_port,
                      "{ca_file: %s}" % p("ca.crt"), b, n)
        n = delivered("OTLP gRPC over TLS", "otlp", "https://localhost:%d" % grpc_port,
                      "{ca_file: %s}" % p("ca.crt"), b, n)
        n = delivered("server_name_override", "pyroscope", "https://127.0.0.1:%d" % pyro_port,
                      "{ca_file: %s, server_name_override: localhost}" % p("ca.crt"), b, n)
        refused("another CA", "pyroscope", "https://localhost:%d" % pyro_port,
                "{ca_file: %s}" % p("otherca.crt"), ("certificate", "tls", "ssl"))
        check(len(files(b)) == n, "nothing reached B from the client trusting another CA")
    finally:
        b.stop()

    b, pyro_port, grpc_port = destination(client_ca=True)
    try:
        delivered("mTLS with a client certificate", "pyroscope", "https://localhost:%d" % pyro_port,
                  "{ca_file: %s, cert_file: %s, key_file: %s}" % (p("ca.crt"), p("client.crt"), p("client.key")),
                  b, 0)
        delivered("mTLS gRPC with a client certificate", "otlp", "https://localhost:%d" % grpc_port,
                  "{ca_file: %s, cert_file: %s, key_file: %s}" % (p("ca.crt"), p("client.crt"), p("client.key")),
                  b, 1)
        refused("mTLS without a client certificate", "pyroscope", "https://localhost:%d" % pyro_port,
                "{ca_file: %s}" % p("ca.crt"), ("certificate", "tls", "ssl", "alert", "reset", "connection"))
    finally:
        b.stop()


main()
pgtest.finish()
