"""The otlp (gRPC) and otlphttp exporters against real peers.

1. Debian's grpcio as the destination (otlp_grpc_server.py): every call
   decodes with Google's protobuf runtime, carries its tenant, the custom
   headers and the credentials; a whole OTLP payload is forwarded byte for
   byte; pprof input arrives converted; UNAVAILABLE is retried; a partial
   success is counted; gzip really shrinks what is sent (grpcio hides
   grpc-encoding from handlers, so this is read from the sent-bytes metric).
2. Chains of two profgate processes: A (otlp + pyroscope receivers, batch
   processor) -> otlp (zstd) / otlphttp proto (gzip) / otlphttp json (none)
   -> B (otlp receiver) -> file. Every B writes the same profiles (resources,
   attributes, stacks, values, times) that A's own file exporter wrote from
   what A received, and B sees each profile under its tenant."""

import base64
import collections
import os
import time

import grpc

import pgtest
import pyrotest
from otlp_grpc_server import OtlpGrpcServer, Reply
from pgtest import check

PPROF_PATH = os.path.join(pgtest.PYRO, "go-cpu.pb.gz")
with open(PPROF_PATH, "rb") as f:
    PPROF = f.read()
with open(pgtest.OTLP_V110, "rb") as f:
    FIXTURE = f.read()
RETRY = "retry_on_failure: {initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 30s}"


def send_inputs(grpc_port, pyro_port):
    """The fixture as tenant-a over gRPC, the Go CPU pprof as tenant-b over /ingest."""
    channel = grpc.insecure_channel("127.0.0.1:%d" % grpc_port)
    export = channel.unary_unary(pgtest.EXPORT_PATH, request_serializer=lambda b: b,
                                 response_deserializer=lambda b: b)
    try:
        export(FIXTURE, metadata=[("x-scope-orgid", "tenant-a")], timeout=10)
    finally:
        channel.close()
    target = pyrotest.ingest_target({"name": "shop{env=prod}", "format": "pprof"})
    r = pyrotest.http_request(pyro_port, "POST", target,
                              [("Content-Type", "application/octet-stream"), ("X-Scope-OrgID", "tenant-b")],
                              PPROF)
    check(r is not None and r.status == 200, "pprof upload accepted (%s)" % (r and r.status))


def pprof_totals():
    """{sample type: value total} of the pprof input, by Google's protobuf runtime."""
    prof = pyrotest.decode_pprof(PPROF)
    s = prof.string_table
    return {s[st.type]: sum(sm.value[i] for sm in prof.sample) for i, st in enumerate(prof.sample_type)}


def resource_service(rp, strings):
    for kv in rp.resource.attributes:
        if (kv.key or strings[kv.key_strindex]) == "service.name":
            v = kv.value
            return strings[v.string_value_strindex] if v.WhichOneof("value") == "string_value_strindex" \
                else v.string_value
    return ""


def canon(req):
    """Every profile of req as a comparable tuple, independent of dictionary
    layout: resolved attributes, scope, types, times, and samples as
    (frames, values, timestamps, attributes), sorted."""
    d = req.dictionary
    S = d.string_table

    def anyv(v):
        k = v.WhichOneof("value")
        if k == "string_value_strindex":
            return ("string_value", S[v.string_value_strindex])
        return (k, str(getattr(v, k))) if k else None

    def kvs(items):
        return tuple(sorted(((kv.key or S[kv.key_strindex]), anyv(kv.value)) for kv in items))

    def attrs(idx):
        return tuple(sorted((S[d.attribute_table[i].key_strindex], anyv(d.attribute_table[i].value)) for i in idx))

    def stack(si):
        frames = []
        for li in d.stack_table[si].location_indices:
            loc = d.location_table[li]
            m = d.mapping_table[loc.mapping_index]
            frames.append((loc.address, S[m.filename_strindex], attrs(loc.attribute_indices),
                           tuple((S[d.function_table[ln.function_index].name_strindex],
                                  S[d.function_table[ln.function_index].filename_strindex], ln.line)
                                 for ln in loc.lines)))
        return tuple(frames)

    out = []
    for rp in req.resource_profiles:
        res = kvs(rp.resource.attributes)
        for sp in rp.scope_profiles:
            scope = (sp.scope.name, sp.scope.version, kvs(sp.scope.attributes))
            for p in sp.profiles:
                samples = tuple(sorted((stack(s.stack_index), tuple(s.values), tuple(s.timestamps_unix_nano),
                                        attrs(s.attribute_indices)) for s in p.samples))
                out.append((res, scope, S[p.sample_type.type_strindex], S[p.sample_type.unit_strindex],
                            S[p.period_type.type_strindex], S[p.period_type.unit_strindex], p.period,
                            p.time_unix_nano, p.duration_nano, attrs(p.attribute_indices), samples))
    return out


# ---------------------------------------------------------------- 1. grpcio as the destination

def grpcio_destination():
    gz = OtlpGrpcServer(script=[Reply(grpc.StatusCode.UNAVAILABLE, "busy"),
                                Reply(rejected=1, message="one profile was empty")]).start()
    plain = OtlpGrpcServer().start()
    grpc_port, pyro_port, mport = pgtest.free_port(), pgtest.free_port(), pgtest.free_port()
    cfg = f"""receivers:
  otlp: {{protocols: {{grpc: {{endpoint: 127.0.0.1:{grpc_port}}}}}}}
  pyroscope: {{endpoint: 127.0.0.1:{pyro_port}}}
exporters:
  otlp/gz:
    endpoint: http://127.0.0.1:{gz.port}
    compression: gzip
    headers: {{X-Custom: hello}}
    auth: {{bearer_token: s3cret}}
    {RETRY}
  otlp/plain:
    endpoint: http://127.0.0.1:{plain.port}
    compression: none
    auth: {{username: user, password: pw}}
    {RETRY}
service:
  workers: 2
  telemetry:
    metrics: {{address: 127.0.0.1:{mport}}}
  pipelines:
    profiles: {{receivers: [otlp, pyroscope], exporters: [otlp/gz, otlp/plain]}}
"""
    pg = pgtest.Profgate(cfg).start(wait_ports=(grpc_port, pyro_port, mport))
    try:
        send_inputs(grpc_port, pyro_port)
        check(pgtest.wait_for(lambda: len(gz.ok_calls()) >= 2 and len(plain.ok_calls()) >= 2),
              "both destinations got two calls (gz %d, plain %d)" % (len(gz.ok_calls()), len(plain.ok_calls())))
        check(pgtest.wait_for(lambda: pgtest.metric_sum(mport, "profgate_exporter_sent_bytes_total", 'exporter="otlp/plain"') > 0
                       and pgtest.metric_sum(mport, "profgate_exporter_sent_bytes_total", 'exporter="otlp/gz"') > 0),
              "sent bytes counted")
        time.sleep(0.3)  # the last metric updates follow the answers
        retries = pgtest.metric_sum(mport, "profgate_exporter_retries_total", 'exporter="otlp/gz"')
        partial = pgtest.metric_sum(mport, "profgate_exporter_failed_profiles_total", 'exporter="otlp/gz"', 'reason="partial"')
        gz_bytes = pgtest.metric_sum(mport, "profgate_exporter_sent_bytes_total", 'exporter="otlp/gz"')
        plain_bytes = pgtest.metric_sum(mport, "profgate_exporter_sent_bytes_total", 'exporter="otlp/plain"')
    finally:
        rc = pg.stop()
        gz.stop()
        plain.stop()
    check(rc == 0, "profgate A exits 0 (rc=%s)" % rc)
    check(len(gz.calls) == 3, "gz: UNAVAILABLE once, then two deliveries (%d calls)" % len(gz.calls))
    check(len(plain.calls) == 2, "plain: exactly two calls, nothing sent twice (%d)" % len(plain.calls))
    check(retries >= 1, "gz: the retry is counted (%s)" % retries)
    check(partial >= 1, "gz: the partial success is counted (%s)" % partial)
    check(0 < gz_bytes < 0.6 * plain_bytes, "gzip shrinks what is sent (%s vs %s bytes)" % (gz_bytes, plain_bytes))

    want_totals = pprof_totals()
    for name, srv, auth in (("gz", gz, "Bearer s3cret"),
                            ("plain", plain, "Basic " + base64.b64encode(b"user:pw").decode())):
        calls = srv.ok_calls()
        check(all(c.request is not None for c in srv.calls), name + ": every request decodes")
        check(sorted(c.tenant for c in calls) == ["tenant-a", "tenant-b"],
              name + ": one call per tenant (%s)" % [c.tenant for c in calls])
        check(all(c.metadata.get("authorization") == auth for c in srv.calls),
              name + ": credentials sent (%s)" % [c.metadata.get("authorization") for c in srv.calls])
        if name == "gz":
            check(all(c.metadata.get("x-custom") == "hello" for c in srv.calls), "gz: custom header sent")
        for c in calls:
            if c.tenant == "tenant-a":
                check(c.raw == FIXTURE, name + ": the whole fixture payload is forwarded byte for byte")
            elif c.request is not None:
                req = c.request
                svcs = {resource_service(rp, req.dictionary.string_table) for rp in req.resource_profiles}
                check(svcs == {"shop"}, name + ": converted pprof carries service.name shop (%s)" % svcs)
                got = {st: total for _, st, _, total in pgtest.profile_summaries(req)}
                check(got == want_totals, name + ": converted pprof keeps every total (%s vs %s)" % (got, want_totals))


# ---------------------------------------------------------------- 2. profgate -> profgate

class Downstream:
    """B: otlp receiver (grpc + http) -> file (otlp_proto) + debug."""

    def __init__(self, name):
        self.name = name
        self.grpc, self.http, self.metrics = pgtest.free_port(), pgtest.free_port(), pgtest.free_port()
        cfg = f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{self.grpc}}}
      http: {{endpoint: 127.0.0.1:{self.http}}}
exporters:
  file: {{path: ./out/profiles.otlp, format: otlp_proto}}
  debug: {{verbosity: basic}}
service:
  workers: 2
  telemetry:
    logs: {{level: info}}
    metrics: {{address: 127.0.0.1:{self.metrics}}}
  pipelines:
    profiles: {{receivers: [otlp], exporters: [file, debug]}}
"""
        self.pg = pgtest.Profgate(cfg, name=name).start(wait_ports=(self.grpc, self.http, self.metrics))

    def accepted(self):
        return sum(pgtest.metric_sum(self.metrics, "profgate_receiver_accepted_profiles_total", 'transport="%s"' % t)
                   for t in ("grpc", "http"))

    def profiles(self):
        path = os.path.join(self.pg.dir, "out", "profiles.otlp")
        out = collections.Counter()
        if os.path.exists(path):
            for req in pgtest.read_otlp_frames(path):
                out.update(canon(req))
        return out

    def debug_tenants(self):
        """{(service, tenant): lines} from the debug exporter's log."""
        seen = collections.Counter()
        for line in self.pg.read_log().splitlines():
            if "profile service=" not in line:
                continue
            svc = line.split('service="', 1)[1].split('"', 1)[0]
            tenant = line.split('tenant="', 1)[1].split('"', 1)[0]
            seen[(svc, tenant)] += 1
        return seen


def profgate_chains():
    b_grpc, b_proto, b_json = Downstream("b-grpc"), Downstream("b-proto"), Downstream("b-json")
    grpc_port, pyro_port, mport = pgtest.free_port(), pgtest.free_port(), pgtest.free_port()
    cfg = f"""receivers:
  otlp: {{protocols: {{grpc: {{endpoint: 127.0.0.1:{grpc_port}}}}}}}
  pyroscope: {{endpoint: 127.0.0.1:{pyro_port}}}
processors:
  batch: {{send_batch_size: 50, timeout: 200ms}}
exporters:
  file: {{path: ./out/received.otlp, format: otlp_proto}}
  otlp:
    endpoint: http://127.0.0.1:{b_grpc.grpc}
    compression: zstd
    {RETRY}
  otlphttp/proto:
    endpoint: http://127.0.0.1:{b_proto.http}
    encoding: proto
    compression: gzip
    {RETRY}
  otlphttp/json:
    endpoint: http://127.0.0.1:{b_json.http}
    profiles_endpoint: http://127.0.0.1:{b_json.http}/v1development/profiles
    encoding: json
    compression: none
    {RETRY}
service:
  workers: 2
  telemetry:
    metrics: {{address: 127.0.0.1:{mport}}}
  pipelines:
    profiles:
      receivers: [otlp, pyroscope]
      processors: [batch]
      exporters: [file, otlp, otlphttp/proto, otlphttp/json]
"""
    a = pgtest.Profgate(cfg, name="a").start(wait_ports=(grpc_port, pyro_port, mport))
    downs = (b_grpc, b_proto, b_json)
    n_expected = 82 + len(pprof_totals())  # the pprof becomes one OTLP profile per sample type
    try:
        send_inputs(grpc_port, pyro_port)
        for b in downs:
            check(pgtest.wait_for(lambda: b.accepted() >= n_expected),
                  "%s accepted %s of %d profiles" % (b.name, b.accepted(), n_expected))
        for exp in ("otlp", "otlphttp/proto", "otlphttp/json"):
            failed = sum(pgtest.metric_sum(mport, "profgate_exporter_failed_profiles_total",
                                'exporter="%s"' % exp, 'reason="%s"' % r)
                         for r in ("permanent", "retries_exhausted", "convert", "encode", "partial"))
            check(failed == 0, "%s: nothing failed (%s)" % (exp, failed))
    finally:
        rc_a = a.stop()
        rcs = [b.pg.stop() for b in downs]
    check(rc_a == 0 and rcs == [0, 0, 0], "every process exits 0 (%s, %s)" % (rc_a, rcs))

    received = collections.Counter()
    for req in pgtest.read_otlp_frames(os.path.join(a.dir, "out", "received.otlp")):
        received.update(canon(req))
    check(sum(received.values()) == n_expected, "A wrote %d profiles (%d)" % (n_expected, sum(received.values())))
    fixture = collections.Counter(canon(pgtest.load_request()))
    check(not (fixture - received), "A's record holds every fixture profile unchanged")
    services_a = {pgtest.profile_summaries(pgtest.load_request())[i][0] for i in range(82)}
    for b in downs:
        got = b.profiles()
        check(got == received, "%s wrote exactly what A received (%d vs %d profiles; %d differ)" % (
            b.name, sum(got.values()), sum(received.values()), sum(((got - received) + (received - got)).values())))
        tenants = b.debug_tenants()
        check(sum(tenants.values()) == n_expected, "%s: debug saw %d profiles (%d)" % (
            b.name, n_expected, sum(tenants.values())))
        wrong = [k for k in tenants if (k[1] != "tenant-b") if k[0] == "shop"] + \
                [k for k in tenants if k[0] != "shop" and k[1] != "tenant-a"]
        check(not wrong, "%s: every profile kept its tenant (wrong: %s)" % (b.name, wrong[:3]))
        check({k[0] for k in tenants} - {"shop"} <= services_a, "%s: the fixture's services" % b.name)


def main():
    grpcio_destination()
    profgate_chains()
    pgtest.finish()


main()
