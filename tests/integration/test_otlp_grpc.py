"""OTLP/gRPC into a running profgate with Debian's python3-grpcio as the client:
the eBPF fixture and synthetic requests, gzip compression, many concurrent
calls on one HTTP/2 connection, a tenant in metadata; after SIGTERM the file
exporter's output must hold every profile with the same sample counts and
value totals (decoded by Google's protobuf runtime, not by profgate)."""

import collections
import os

import grpc

import pgtest
from pgtest import check

grpc_port, http_port, metrics_port = pgtest.free_port(), pgtest.free_port(), pgtest.free_port()
CONFIG = f"""
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{grpc_port}}}
      http: {{endpoint: 127.0.0.1:{http_port}}}
processors:
  batch: {{send_batch_size: 50, timeout: 100ms}}
exporters:
  file: {{path: ./out/profiles.otlp, format: otlp_proto}}
  debug: {{verbosity: basic}}
service:
  workers: 2
  telemetry:
    logs: {{level: info}}
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles:
      receivers: [otlp]
      processors: [batch]
      exporters: [file, debug]
"""


def synthetic_request(i):
    """A small valid request built with the independent protobuf runtime."""
    P = pgtest.pb().prof
    req = pgtest.pb().svc.ExportProfilesServiceRequest()
    d = req.dictionary
    d.string_table.extend(["", "cpu", "nanoseconds", "main", "work", "service.name", "svc-%d" % i,
                           "thread.name", "worker"])
    d.mapping_table.add()
    d.location_table.add()
    d.function_table.add()
    d.link_table.add()
    d.attribute_table.add()
    d.stack_table.add()
    d.function_table.add(name_strindex=3)
    d.function_table.add(name_strindex=4)
    d.location_table.add(lines=[P.Line(function_index=1, line=10)])
    d.location_table.add(lines=[P.Line(function_index=2, line=20)])
    d.stack_table.add(location_indices=[2, 1])
    d.stack_table.add(location_indices=[1])
    a = d.attribute_table.add(key_strindex=7)
    a.value.string_value = "worker"
    rp = req.resource_profiles.add()
    kv = rp.resource.attributes.add(key="service.name")
    kv.value.string_value = "svc-%d" % i
    prof = rp.scope_profiles.add().profiles.add()
    prof.sample_type.type_strindex = 1
    prof.sample_type.unit_strindex = 2
    prof.time_unix_nano = 1_700_000_000_000_000_000 + i
    prof.duration_nano = 10_000_000_000
    prof.samples.add(stack_index=1, values=[100 + i], attribute_indices=[1])
    prof.samples.add(stack_index=2, values=[7])
    return req


def main():
    pg = pgtest.Profgate(CONFIG).start(wait_ports=(grpc_port, http_port, metrics_port))
    expected = collections.Counter()
    channel = grpc.insecure_channel("127.0.0.1:%d" % grpc_port)
    export = channel.unary_unary(pgtest.EXPORT_PATH, request_serializer=lambda b: b,
                                 response_deserializer=lambda b: b)
    try:
        fixture = open(pgtest.OTLP_V110, "rb").read()
        fixture_req = pgtest.load_request()
        n_fixture_profiles = len(pgtest.profile_summaries(fixture_req))
        check(n_fixture_profiles == 82, "fixture has 82 profiles (got %d)" % n_fixture_profiles)

        # the fixture, plain and gzip-compressed, with a tenant
        resp = export(fixture, metadata=[("x-scope-orgid", "tenant-a")], timeout=10)
        resp_msg = pgtest.pb().svc.ExportProfilesServiceResponse()
        resp_msg.ParseFromString(resp)
        check(not resp_msg.HasField("partial_success"), "full success has no partial_success")
        export(fixture, compression=grpc.Compression.Gzip, timeout=10)
        expected.update(pgtest.profile_summaries(fixture_req) * 2)

        # many concurrent calls multiplexed on one channel (one HTTP/2 connection)
        futures = []
        for i in range(64):
            r = synthetic_request(i)
            futures.append(export.future(r.SerializeToString(), timeout=20))
            expected.update(pgtest.profile_summaries(r))
        ok = sum(1 for f in futures if f.exception() is None)
        check(ok == 64, "64 concurrent calls succeed (got %d)" % ok)

        # an empty request is a success
        export(b"", timeout=10)

        # a malformed request gets INVALID_ARGUMENT with a message
        try:
            export(fixture[:1000], timeout=10)
            check(False, "truncated request refused")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, "truncated: INVALID_ARGUMENT (%s)" % e.code())
            check("malformed" in (e.details() or ""), "truncated: message says malformed: %r" % e.details())

        # an older wire layout is refused, naming its version
        v18 = open(os.path.join(pgtest.PYRO, "otlp-v1.8-ebpf.pb"), "rb").read()
        try:
            export(v18, timeout=10)
            check(False, "v1.8 request refused")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, "v1.8: INVALID_ARGUMENT (%s)" % e.code())
            check("1.8" in (e.details() or ""), "v1.8: message names the version: %r" % e.details())

        accepted = pgtest.metric(metrics_port, "profgate_receiver_accepted_profiles_total", 'transport="grpc"')
        check(accepted == sum(expected.values()),
              "metrics count %s accepted profiles, expected %d" % (accepted, sum(expected.values())))
    finally:
        channel.close()
        rc = pg.stop()
    check(rc == 0, "profgate exits 0 after SIGTERM (rc=%s)" % rc)

    got = collections.Counter()
    path = os.path.join(pg.dir, "out", "profiles.otlp")
    check(os.path.exists(path), "file exporter wrote %s" % path)
    if os.path.exists(path):
        for req in pgtest.read_otlp_frames(path):
            got.update(pgtest.profile_summaries(req))
    check(got == expected, "every profile arrived with the same sample count and value total "
          "(%d expected, %d written; missing %s; extra %s)" % (
              sum(expected.values()), sum(got.values()),
              list((expected - got).items())[:3], list((got - expected).items())[:3]))
    log = pg.read_log()
    check("svc-3" in log, "debug exporter printed a line for service svc-3")
    pgtest.finish()


main()
