"""Receiver authentication end to end, with real clients (urllib, grpcio):
bearer tokens and basic users (from the config, the environment and files)
on the pyroscope and otlp receivers; 401 with WWW-Authenticate /
UNAUTHENTICATED without valid credentials; 403 / PERMISSION_DENIED for a
credential used with another tenant's X-Scope-OrgID, with nothing written;
the tenant processor picking the tenant (auth, header, label, default); the
refusal counters."""

import base64
import gzip
import json
import os
import urllib.error
import urllib.request

import grpc

import pgtest
import pyrotest
from pgtest import check

GO_FILES = os.path.join(pgtest.FIXTURES, "captured", "go-files")
with open(os.path.join(GO_FILES, "cpu.pb.gz"), "rb") as _f:
    CPU_GZ = _f.read()
with open(pgtest.OTLP_V110, "rb") as _f:
    OTLP_BODY = _f.read()
PUSH_PATH = "/push.v1.PusherService/Push"
ALICE_PW = "al1ce:pass word"  # a ':' and a space inside the password


def post(url, body, headers):
    """(status, email.message.Message headers, body) without raising."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def basic(user, pw):
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()


class Gate:
    def __init__(self):
        self.pg = pgtest.Profgate("")
        d = self.pg.dir
        self.out = os.path.join(d, "out")
        with open(os.path.join(d, "tokens"), "w") as f:
            f.write("# otlp tokens\notlp-tok tenant-o\n")
        with open(os.path.join(d, "bob.pw"), "w") as f:
            f.write("b0b-secret\n")
        os.environ["PG_TEST_ALICE_PW"] = ALICE_PW
        self.pyro, self.open = pgtest.free_port(), pgtest.free_port()
        self.grpc, self.http, self.metrics = pgtest.free_port(), pgtest.free_port(), pgtest.free_port()
        cfg = f"""receivers:
  pyroscope:
    endpoint: 127.0.0.1:{self.pyro}
    auth:
      bearer_tokens: {{tok-a: tenant-a, tok-b: tenant-b}}
      basic: {{alice: {{password: "${{env:PG_TEST_ALICE_PW}}", tenant: tenant-a}}}}
  pyroscope/open:
    endpoint: 127.0.0.1:{self.open}
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{self.grpc}}}
      http: {{endpoint: 127.0.0.1:{self.http}}}
    auth:
      bearer_tokens_file: {d}/tokens
      basic: {{bob: {{password_file: {d}/bob.pw, tenant: tenant-b}}}}
processors:
  tenant: {{from: [auth, header], default: anonymous}}
  tenant/hl: {{from: [header, label], from_label: team, default: fallback, to_label: org}}
exporters:
  file: {{path: {self.out}, format: pprof, labels_file: true}}
service:
  telemetry:
    metrics: {{address: 127.0.0.1:{self.metrics}}}
  pipelines:
    profiles:
      receivers: [pyroscope, otlp]
      processors: [tenant]
      exporters: [file]
    profiles/open:
      receivers: [pyroscope/open]
      processors: [tenant/hl]
      exporters: [file]
"""
        with open(self.pg.config, "w") as f:
            f.write(cfg)
        self.pg.start(wait_ports=(self.pyro, self.open, self.grpc, self.http, self.metrics))

    def outputs(self):
        return [pyrotest.read_output(p) for p in pyrotest.list_files(self.out)]

    def by_service(self, service):
        return [o for o in self.outputs() if o.service_dir == service]

    def refused(self, receiver, reason):
        return pgtest.metric_sum(self.metrics, "profgate_receiver_refused_requests_total",
                                 'receiver="%s"' % receiver, 'reason="%s"' % reason)


def ingest(port, app, headers, body=CPU_GZ):
    url = "http://127.0.0.1:%d%s" % (port, pyrotest.ingest_target({"name": app, "format": "pprof"}))
    return post(url, body, dict(headers, **{"Content-Type": "application/octet-stream"}))


def expect_written(gate, app, tenant, what):
    ok = pgtest.wait_for(lambda: len(gate.by_service(app)) >= 1, timeout=15)
    outs = gate.by_service(app)
    check(ok and len(outs) == 1, "%s: one file for %s (%d)" % (what, app, len(outs)))
    for o in outs:
        check(o.tenant == tenant and o.tenant_dir == tenant,
              "%s: tenant %r (dir %r), want %r" % (what, o.tenant, o.tenant_dir, tenant))
    return outs


def expect_refusal(status, headers, body, want_status, code, message, what, challenges=None):
    check(status == want_status, "%s: status %d, want %d (%r)" % (what, status, want_status, body[:200]))
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    check(doc.get("code") == code, "%s: JSON code %r, want %r" % (what, doc.get("code"), code))
    check(doc.get("message") == message, "%s: message %r, want %r" % (what, doc.get("message"), message))
    if challenges is not None:
        got = sorted(headers.get_all("WWW-Authenticate") or [])
        check(got == sorted(challenges), "%s: WWW-Authenticate %r" % (what, got))


PYRO_CHALLENGES = ['Basic realm="profgate", charset="UTF-8"', 'Bearer realm="profgate"']


def test_pyroscope_ingest(g):
    st, _, body = ingest(g.pyro, "ing-bearer", {"Authorization": "Bearer tok-a"})
    check(st == 200, "ingest with tok-a: 200 (%d %r)" % (st, body[:200]))
    expect_written(g, "ing-bearer", "tenant-a", "bearer tok-a")

    st, _, body = ingest(g.pyro, "ing-basic", {"Authorization": basic("alice", ALICE_PW)})
    check(st == 200, "ingest as alice: 200 (%d %r)" % (st, body[:200]))
    expect_written(g, "ing-basic", "tenant-a", "basic alice")

    st, _, _ = ingest(g.pyro, "ing-same", {"Authorization": "bearer tok-b", "X-Scope-OrgID": "tenant-b"})
    check(st == 200, "tok-b with its own tenant in X-Scope-OrgID: 200 (%d)" % st)
    expect_written(g, "ing-same", "tenant-b", "tok-b + own header")

    st, h, body = ingest(g.pyro, "ing-none", {})
    expect_refusal(st, h, body, 401, "unauthenticated", "missing Authorization header", "no credentials",
                   PYRO_CHALLENGES)
    st, h, body = ingest(g.pyro, "ing-wrong", {"Authorization": "Bearer tok-z"})
    expect_refusal(st, h, body, 401, "unauthenticated", "unknown bearer token", "unknown token",
                   PYRO_CHALLENGES)
    st, h, body = ingest(g.pyro, "ing-wrongpw", {"Authorization": basic("alice", "guess")})
    expect_refusal(st, h, body, 401, "unauthenticated", "wrong password for user alice", "wrong password",
                   PYRO_CHALLENGES)
    check(b"guess" not in body, "the refusal does not echo the password")
    st, h, body = ingest(g.pyro, "ing-conflict", {"Authorization": "Bearer tok-a", "X-Scope-OrgID": "tenant-b"})
    expect_refusal(st, h, body, 403, "permission_denied",
                   "credential of tenant tenant-a cannot write as tenant tenant-b", "tenant conflict")
    check(h.get_all("WWW-Authenticate") is None, "403 carries no challenge")
    # POST /v1/pprof is covered too
    st, _, _ = post("http://127.0.0.1:%d/v1/pprof?service_name=pprof-none" % g.pyro, CPU_GZ, {})
    check(st == 401, "/v1/pprof without credentials: 401 (%d)" % st)
    st, _, _ = post("http://127.0.0.1:%d/v1/pprof?service_name=pprof-ok" % g.pyro, CPU_GZ,
                    {"Authorization": "Bearer tok-b"})
    check(st == 204, "/v1/pprof with tok-b: 204 (%d)" % st)
    expect_written(g, "pprof-ok", "tenant-b", "/v1/pprof")


def push_request(app):
    pgtest.pb()
    import pyroscope_push_pb2  # noqa: E402  (generated by pgtest.pb() from proto/)
    req = pyroscope_push_pb2.PushRequest()
    s = req.series.add()
    s.labels.add(name="__name__", value="process_cpu")
    s.labels.add(name="service_name", value=app)
    s.samples.add(raw_profile=CPU_GZ)
    return req.SerializeToString()


def test_pyroscope_push(g):
    url = "http://127.0.0.1:%d%s" % (g.pyro, PUSH_PATH)
    st, h, body = post(url, push_request("push-none"), {"Content-Type": "application/proto"})
    expect_refusal(st, h, body, 401, "unauthenticated", "missing Authorization header", "Connect without "
                   "credentials", PYRO_CHALLENGES)
    st, h, body = post(url, push_request("push-conflict"), {"Content-Type": "application/proto",
                                                            "Authorization": "Bearer tok-b",
                                                            "X-Scope-OrgID": "tenant-a"})
    expect_refusal(st, h, body, 403, "permission_denied",
                   "credential of tenant tenant-b cannot write as tenant tenant-a", "Connect conflict")
    st, _, _ = post(url, push_request("push-ok"), {"Content-Type": "application/proto",
                                                   "Authorization": "Bearer tok-b"})
    check(st == 200, "Connect push with tok-b: 200 (%d)" % st)
    expect_written(g, "push-ok", "tenant-b", "Connect push")

    with grpc.insecure_channel("127.0.0.1:%d" % g.pyro) as ch:
        push = ch.unary_unary(PUSH_PATH, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        for md, code, what in (((), grpc.StatusCode.UNAUTHENTICATED, "no metadata"),
                               ((("authorization", "Bearer nope"),), grpc.StatusCode.UNAUTHENTICATED, "bad token"),
                               ((("authorization", "Bearer tok-a"), ("x-scope-orgid", "tenant-b")),
                                grpc.StatusCode.PERMISSION_DENIED, "conflict")):
            try:
                push(push_request("grpc-refused"), metadata=md, timeout=10)
                check(False, "gRPC push, %s: refused" % what)
            except grpc.RpcError as e:
                check(e.code() == code, "gRPC push, %s: %s (%s)" % (what, code, e.code()))
        push(push_request("grpc-ok"), metadata=(("authorization", basic("alice", ALICE_PW)),), timeout=10)
    expect_written(g, "grpc-ok", "tenant-a", "gRPC push as alice")


def otlp_tenant_files(g, tenant):
    return [o for o in g.outputs() if o.tenant_dir == tenant]


def test_otlp(g):
    url = "http://127.0.0.1:%d/v1development/profiles" % g.http
    ct = {"Content-Type": "application/x-protobuf"}
    st, h, body = post(url, OTLP_BODY, ct)
    check(st == 401, "OTLP/HTTP without credentials: 401 (%d)" % st)
    check(sorted(h.get_all("WWW-Authenticate") or []) == PYRO_CHALLENGES,
          "OTLP/HTTP challenges %r" % h.get_all("WWW-Authenticate"))
    status = pgtest.pb().status.Status()
    status.ParseFromString(body)
    check(status.code == 16 and status.message == "missing Authorization header",
          "OTLP/HTTP 401 body is a Status (%d %r)" % (status.code, status.message))
    st, _, body = post(url, OTLP_BODY, dict(ct, Authorization=basic("bob", "b0b-secret")))
    check(st == 200, "OTLP/HTTP as bob (password file): 200 (%d %r)" % (st, body[:200]))
    check(pgtest.wait_for(lambda: otlp_tenant_files(g, "tenant-b") and
                          any(o.service_dir not in ("ing-same", "pprof-ok", "push-ok")
                              for o in otlp_tenant_files(g, "tenant-b"))),
          "OTLP/HTTP data written under tenant-b")

    with grpc.insecure_channel("127.0.0.1:%d" % g.grpc) as ch:
        export = ch.unary_unary(pgtest.EXPORT_PATH, request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)
        for md, code, what in (((), grpc.StatusCode.UNAUTHENTICATED, "no metadata"),
                               ((("authorization", "Bearer tok-a"),), grpc.StatusCode.UNAUTHENTICATED,
                                "a token of another receiver"),
                               ((("authorization", "Bearer otlp-tok"), ("x-scope-orgid", "tenant-z")),
                                grpc.StatusCode.PERMISSION_DENIED, "conflict")):
            try:
                export(OTLP_BODY, metadata=md, timeout=10)
                check(False, "OTLP/gRPC, %s: refused" % what)
            except grpc.RpcError as e:
                check(e.code() == code, "OTLP/gRPC, %s: %s (%s)" % (what, code, e.code()))
        export(OTLP_BODY, metadata=(("authorization", "Bearer otlp-tok"),), timeout=10)
    check(pgtest.wait_for(lambda: len(otlp_tenant_files(g, "tenant-o")) > 0),
          "OTLP/gRPC data written under tenant-o (tokens file)")


def test_tenant_processor(g):
    """tenant/hl: header, then the `team` label, then the default; copied to `org`."""
    cases = (("hl-header", {"X-Scope-OrgID": "hdr-t"}, "hl-label{team=lab-t}", "hdr-t"),
             ("hl-label", {}, "hl-label2{team=lab-t}", "lab-t"),
             ("hl-default", {}, "hl-default", "fallback"))
    for what, headers, name, tenant in cases:
        st, _, body = ingest(g.open, name, headers)
        check(st == 200, "%s: 200 without auth (%d %r)" % (what, st, body[:200]))
        app = name.split("{")[0]
        for o in expect_written(g, app, tenant, what):
            check(o.labels.get("org") == tenant, "%s: org label %r" % (what, o.labels.get("org")))
    st, _, _ = ingest(g.open, "hl-invalid", {"X-Scope-OrgID": "bad/tenant"})
    check(st == 200, "an invalid tenant id is dropped, not refused (%d)" % st)
    check(pgtest.wait_for(lambda: pgtest.metric_sum(g.metrics, "profgate_processor_dropped_profiles_total",
                                                    'processor="tenant/hl"', 'reason="invalid_tenant"') == 1),
          "invalid tenant counted")
    check(not g.by_service("hl-invalid"), "nothing written for an invalid tenant")


def main():
    g = Gate()
    try:
        test_pyroscope_ingest(g)
        test_pyroscope_push(g)
        test_otlp(g)
        test_tenant_processor(g)
        # refused requests wrote nothing, under any tenant
        for app in ("ing-none", "ing-wrong", "ing-wrongpw", "ing-conflict", "pprof-none", "push-none",
                    "push-conflict", "grpc-refused"):
            check(not g.by_service(app), "nothing written for refused %s" % app)
        check(not otlp_tenant_files(g, "tenant-z"), "nothing written as tenant-z")
        check(g.refused("pyroscope", "unauthenticated") == 7,
              "pyroscope unauthenticated refusals: %s" % g.refused("pyroscope", "unauthenticated"))
        check(g.refused("pyroscope", "permission_denied") == 3,
              "pyroscope permission_denied refusals: %s" % g.refused("pyroscope", "permission_denied"))
        check(g.refused("otlp", "unauthenticated") == 3 and g.refused("otlp", "permission_denied") == 1,
              "otlp refusals counted")
        log = g.pg.read_log()
        check("warn" in log and "refused POST" in log, "refusals are logged")
        for secret in (ALICE_PW, "b0b-secret", "otlp-tok", "tok-a", "guess"):
            check(secret not in log, "the log never holds the secret %r" % secret)
    finally:
        rc = g.pg.stop()
        check(rc == 0, "profgate exits cleanly (%s)" % rc)
    pgtest.finish()


main()
