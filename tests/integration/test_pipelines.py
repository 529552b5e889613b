"""Graph wiring: one receiver feeding two pipelines, one exporter shared by
two pipelines, and a receiver that no pipeline uses (a warning, and it does
not listen). Every pipeline's exporters see every accepted profile."""

import os
import re
import socket
import subprocess

import pgtest
from pgtest import check

http_port, unused_port, metrics_port = pgtest.free_port(), pgtest.free_port(), pgtest.free_port()
CONFIG = f"""
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:{http_port}}}
  otlp/unused:
    protocols:
      http: {{endpoint: 127.0.0.1:{unused_port}}}
processors:
  batch: {{timeout: 50ms}}
exporters:
  file/a: {{path: ./a.otlp}}
  file/b: {{path: ./b.otlp, format: otlp_json}}
  file/shared: {{path: ./shared.otlp}}
service:
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles/a:
      receivers: [otlp]
      exporters: [file/a, file/shared]
    profiles/b:
      receivers: [otlp]
      processors: [batch]
      exporters: [file/b, file/shared]
"""


def count_json_lines(path):
    import json
    n = 0
    with open(path) as f:
        for line in f:
            req = json.loads(line)
            for rp in req.get("resourceProfiles", []):
                for sp in rp.get("scopeProfiles", []):
                    n += len(sp.get("profiles", []))
    return n


def main():
    pg = pgtest.Profgate(CONFIG).start(wait_ports=(http_port, metrics_port))
    try:
        data = open(pgtest.OTLP_V110, "rb").read()
        for _ in range(3):
            st, _, _ = pgtest.http_post("http://127.0.0.1:%d/v1development/profiles" % http_port, data,
                                        {"Content-Type": "application/x-protobuf"})
            check(st == 200, "accepted (got %d)" % st)
        try:
            socket.create_connection(("127.0.0.1", unused_port), timeout=0.5).close()
            check(False, "a receiver no pipeline uses does not listen")
        except OSError:
            check(True, "unused receiver not started")
    finally:
        rc = pg.stop()
    check(rc == 0, "clean exit")
    r = subprocess.run([pgtest.BIN, "validate", "--config", pg.config], capture_output=True, text=True)
    check(r.returncode == 0 and re.search(r":\d+:\d+: warning: .*otlp/unused", r.stderr) is not None,
          "validate warns about the unused receiver: %r" % r.stderr)
    d = pg.dir

    def n_proto(name):
        p = os.path.join(d, name)
        return sum(len(pgtest.profile_summaries(r)) for r in pgtest.read_otlp_frames(p)) if os.path.exists(p) else 0

    check(n_proto("a.otlp") == 3 * 82, "pipeline a's exporter got every profile (%d)" % n_proto("a.otlp"))
    nb = count_json_lines(os.path.join(d, "b.otlp")) if os.path.exists(os.path.join(d, "b.otlp")) else 0
    check(nb == 3 * 82, "pipeline b's JSON exporter got every profile (%d)" % nb)
    check(n_proto("shared.otlp") == 2 * 3 * 82,
          "an exporter in two pipelines gets each profile once per pipeline (%d)" % n_proto("shared.otlp"))
    pgtest.finish()


main()
