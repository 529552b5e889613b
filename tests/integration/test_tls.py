"""TLS on the OTLP receiver with a test CA made by the openssl command line:
OTLP/HTTP over HTTPS with curl (HTTP/1.1 and HTTP/2 through ALPN), OTLP/gRPC
over TLS with grpcio, mutual TLS (a client without a certificate is refused,
one signed by the CA is accepted), and a client that trusts another CA fails
the handshake."""

import os
import subprocess
import tempfile

import grpc

import pgtest
from pgtest import check

D = tempfile.mkdtemp(prefix="pg-tls-")
p = pgtest.make_test_pki(D)

grpc_port, http_port, mtls_port, metrics_port = (pgtest.free_port() for _ in range(4))
CONFIG = f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc_port}
        tls: {{cert_file: {p('server.crt')}, key_file: {p('server.key')}}}
      http:
        endpoint: 127.0.0.1:{http_port}
        tls: {{cert_file: {p('server.crt')}, key_file: {p('server.key')}}}
  otlp/mtls:
    protocols:
      http:
        endpoint: 127.0.0.1:{mtls_port}
        tls: {{cert_file: {p('server.crt')}, key_file: {p('server.key')}, client_ca_file: {p('ca.crt')}}}
exporters:
  file: {{path: ./out/p.otlp}}
service:
  workers: 2
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles: {{receivers: [otlp, otlp/mtls], exporters: [file]}}
"""


def curl(port, *extra):
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "--data-binary",
           "@" + pgtest.OTLP_V110, "-H", "Content-Type: application/x-protobuf",
           "https://127.0.0.1:%d/v1development/profiles" % port] + list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return r.stdout.strip(), r.stderr.strip()


def main():
    pg = pgtest.Profgate(CONFIG).start(wait_ports=(grpc_port, http_port, mtls_port))
    sent = 0
    try:
        out, err = curl(http_port, "--cacert", p("ca.crt"), "--http1.1")
        check(out == "200 1.1", "HTTPS HTTP/1.1: %r %r" % (out, err))
        sent += out.startswith("200")
        out, err = curl(http_port, "--cacert", p("ca.crt"), "--http2")
        check(out == "200 2", "HTTPS HTTP/2 via ALPN: %r %r" % (out, err))
        sent += out.startswith("200")
        out, err = curl(http_port, "--cacert", p("otherca.crt"))
        check(out.startswith("000") and "certificate" in err.lower(),
              "a client trusting another CA fails the handshake: %r %r" % (out, err))

        out, err = curl(mtls_port, "--cacert", p("ca.crt"))
        check(not out.startswith("200"), "mTLS without a client certificate is refused: %r" % out)
        out, err = curl(mtls_port, "--cacert", p("ca.crt"), "--cert", p("client.crt"), "--key", p("client.key"))
        check(out.startswith("200"), "mTLS with a CA-signed client certificate: %r %r" % (out, err))
        sent += out.startswith("200")

        creds = grpc.ssl_channel_credentials(root_certificates=open(p("ca.crt"), "rb").read())
        ch = grpc.secure_channel("127.0.0.1:%d" % grpc_port, creds)
        export = ch.unary_unary(pgtest.EXPORT_PATH, request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)
        export(open(pgtest.OTLP_V110, "rb").read(), timeout=10)
        sent += 1
        check(True, "gRPC over TLS")
        ch.close()
        check(pg.alive(), "still serving")
    finally:
        rc = pg.stop()
    check(rc == 0, "clean exit (rc=%s)" % rc)
    path = os.path.join(pg.dir, "out", "p.otlp")
    n = sum(len(pgtest.profile_summaries(r)) for r in pgtest.read_otlp_frames(path)) if os.path.exists(path) else 0
    check(n == 82 * sent, "every accepted request reached the file (%d profiles, expected %d)" % (n, 82 * sent))
    pgtest.finish()


main()
