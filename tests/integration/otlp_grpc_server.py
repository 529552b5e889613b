"""A real OTLP profiles gRPC destination (Debian's python3-grpcio, generic
handler, no generated stubs) for the otlp exporter's tests.

    srv = OtlpGrpcServer(script=[Reply(grpc.StatusCode.UNAVAILABLE, "busy"),
                                 Reply(rejected=2, message="2 empty")])
    srv.start(); ...; srv.stop()

Each call takes the next Reply of the script (then `default`, a plain OK).
Every call is recorded in srv.calls: its metadata (lower-case names; grpcio
hides the reserved ones such as grpc-encoding and te), the raw request bytes,
the request decoded with Google's protobuf runtime (pgtest.pb(), None when it
does not decode) and the Reply given."""

import threading
import time
from concurrent import futures

import grpc

import pgtest

SERVICE = "opentelemetry.proto.collector.profiles.v1development.ProfilesService"


class Reply:
    def __init__(self, code=grpc.StatusCode.OK, message="", rejected=0, delay=0.0):
        self.code = code
        self.message = message
        self.rejected = rejected
        self.delay = delay

    def __repr__(self):
        return "Reply(%s, rejected=%d)" % (self.code, self.rejected)


class Call:
    def __init__(self, metadata, raw, request, reply):
        self.metadata = metadata  # {name: value}
        self.raw = raw
        self.request = request
        self.reply = reply

    @property
    def tenant(self):
        return self.metadata.get("x-scope-orgid", "")


class OtlpGrpcServer:
    def __init__(self, port=0, script=(), default=None):
        self.script = list(script)
        self.default = default or Reply()
        self.calls = []
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        handler = grpc.method_handlers_generic_handler(SERVICE, {
            # no (de)serializers: the request arrives as bytes, the answer leaves as bytes
            "Export": grpc.unary_unary_rpc_method_handler(self._export),
        })
        self._server.add_generic_rpc_handlers((handler,))
        self.port = self._server.add_insecure_port("127.0.0.1:%d" % port)

    def start(self):
        self._server.start()
        return self

    def stop(self):
        self._server.stop(grace=None)

    def _next_reply(self):
        with self._lock:
            return self.script.pop(0) if self.script else self.default

    def _export(self, raw, context):
        metadata = {k.lower(): v for k, v in context.invocation_metadata()}
        try:
            request = pgtest.pb().svc.ExportProfilesServiceRequest.FromString(raw)
        except Exception:  # noqa: BLE001 - recorded as undecodable
            request = None
        reply = self._next_reply()
        with self._lock:
            self.calls.append(Call(metadata, raw, request, reply))
        if reply.delay:
            time.sleep(reply.delay)
        if reply.code != grpc.StatusCode.OK:
            context.abort(reply.code, reply.message)
        resp = pgtest.pb().svc.ExportProfilesServiceResponse()
        if reply.rejected or reply.message:
            resp.partial_success.rejected_profiles = reply.rejected
            resp.partial_success.error_message = reply.message
        return resp.SerializeToString()

    def ok_calls(self):
        """Calls answered OK (delivered), in arrival order."""
        with self._lock:
            return [c for c in self.calls if c.reply.code == grpc.StatusCode.OK]

    def wait_calls(self, n, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                if len(self.calls) >= n:
                    return True
            time.sleep(0.05)
        return False
