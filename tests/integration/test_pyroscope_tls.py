"""TLS on the Pyroscope receiver with a test CA made by the openssl command
line: /ingest over HTTPS with curl (HTTP/1.1 and HTTP/2 through ALPN), the
push API over gRPC with TLS (grpcio), and a client that trusts another CA
fails the handshake. Every accepted upload reaches the file exporter."""

import glob
import os
import subprocess
import tempfile

import grpc

import pgtest
from pgtest import check

D = tempfile.mkdtemp(prefix="pg-pyro-tls-")
p = pgtest.make_test_pki(D)
NODE = os.path.join(pgtest.FIXTURES, "captured", "pyroscope-nodejs-0.6.4")
BODY = os.path.join(NODE, "ingest-001-wall.body")
PUSH = "/push.v1.PusherService/Push"

port = pgtest.free_port()
CONFIG = f"""
receivers:
  pyroscope:
    endpoint: 127.0.0.1:{port}
    tls: {{cert_file: {p('server.crt')}, key_file: {p('server.key')}}}
exporters:
  file: {{path: ./out, format: pprof}}
service:
  pipelines:
    profiles: {{receivers: [pyroscope], exporters: [file]}}
"""


def curl(*extra):
    url = ("https://127.0.0.1:%d/ingest?format=pprof&name=tls-app%%7Benv%%3Dt%%7D&from=1795547189"
           "&until=1795547192&spyName=nodespy" % port)
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "--data-binary",
           "@" + BODY, "-H", "Content-Type: application/octet-stream", "-H", "X-Scope-OrgID: t-tls",
           url] + list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return r.stdout.strip(), r.stderr.strip()


def main():
    pg = pgtest.Profgate(CONFIG).start(wait_ports=(port,))
    sent = 0
    try:
        out, err = curl("--cacert", p("ca.crt"), "--http1.1")
        check(out == "200 1.1", "HTTPS HTTP/1.1 /ingest: %r %r" % (out, err))
        sent += out.startswith("200")
        out, err = curl("--cacert", p("ca.crt"), "--http2")
        check(out == "200 2", "HTTPS HTTP/2 /ingest via ALPN: %r %r" % (out, err))
        sent += out.startswith("200")
        out, err = curl("--cacert", p("otherca.crt"))
        check(out.startswith("000") and "certificate" in err.lower(),
              "a client trusting another CA fails the handshake: %r %r" % (out, err))

        pgtest.pb()
        import pyroscope_push_pb2 as pp
        req = pp.PushRequest()
        s = req.series.add()
        for k, v in (("__name__", "wall"), ("service_name", "tls-push")):
            lab = s.labels.add()
            lab.name, lab.value = k, v
        s.samples.add().raw_profile = open(BODY, "rb").read()
        creds = grpc.ssl_channel_credentials(root_certificates=open(p("ca.crt"), "rb").read())
        ch = grpc.secure_channel("127.0.0.1:%d" % port, creds)
        push = ch.unary_unary(PUSH, request_serializer=lambda m: m.SerializeToString(),
                              response_deserializer=lambda b: b)
        push(req, timeout=10, metadata=[("x-scope-orgid", "t-tls")])
        sent += 1
        check(True, "push over gRPC with TLS")
        ch.close()
        check(pg.alive(), "still serving")
    finally:
        rc = pg.stop()
    check(rc == 0, "clean exit (rc=%s)" % rc)
    files = glob.glob(os.path.join(pg.dir, "out", "t-tls", "*", "*", "*.pb.gz"))
    check(len(files) == sent == 3, "every accepted upload reached the file (%d files, %d sent)" % (len(files), sent))
    body = open(BODY, "rb").read()
    check(all(open(f, "rb").read() == body for f in files), "payloads forwarded byte for byte")
    services = sorted(os.path.basename(os.path.dirname(os.path.dirname(f))) for f in files)
    check(services == ["tls-app", "tls-app", "tls-push"], "service names from name and series: %r" % services)
    pgtest.finish()


main()
