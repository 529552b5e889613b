#!/usr/bin/env bash
# Benchmark: Pyroscope ingestion -> file exporter (pprof tree), driven by h2load.
# One run measures, on the same profgate process,
#   ingest  POST /ingest?format=pprof over HTTP/1.1 (h2load --h1), the Node SDK
#           0.6.4 wall upload from ../shared/fixtures (3 KB gzipped pprof)
#   push    POST /push.v1.PusherService/Push over gRPC (h2c), one series with
#           the same profile as its one sample
# and prints requests/s, CPU milliseconds per request and peak RSS, plus the
# push/ingest CPU ratio. Not part of the test suite.
#
#   bench/pyroscope_ingest.sh [REQUESTS] [CONNECTIONS]
#
# Needs a built ./build/profgate (Release) and h2load (Debian nghttp2-client).
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-5000}
conns=${2:-4}
bin=${PROFGATE_BIN:-./build/profgate}
body=${PG_SHARED_DIR:-../shared}/fixtures/captured/pyroscope-nodejs-0.6.4/ingest-001-wall.body
command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; cp "$work/log" /tmp/bench-pyro.log 2>/dev/null; rm -rf "$work"' EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
mport=$(free_port)
cat >"$work/config.yaml" <<YAML
receivers:
  pyroscope: {endpoint: 127.0.0.1:$port}
exporters:
  # a queue deep enough that the writer thread does not refuse the burst
  file: {path: $work/out, format: pprof, queue_max_items: 100000, queue_max_bytes: 1GiB}
service:
  workers: ${PG_WORKERS:-2}
  telemetry:
    logs: {level: ${PG_LOG_LEVEL:-warn}}
    metrics: {address: 127.0.0.1:$mport}
  pipelines:
    profiles: {receivers: [pyroscope], exporters: [file]}
YAML
# a gRPC frame of a PushRequest {series {labels __name__=wall, service_name=bench; samples {raw_profile}}}
/usr/bin/python3 - "$body" "$work/push.bin" <<'PY'
import struct, sys
def field(n, wt, payload):
    key = bytes([n << 3 | wt])
    ln, out = len(payload), b""
    while True:
        b = ln & 0x7f
        ln >>= 7
        out += bytes([b | (0x80 if ln else 0)])
        if not ln:
            break
    return key + out + payload
def label(k, v):
    return field(1, 2, field(1, 2, k.encode()) + field(2, 2, v.encode()))
raw = open(sys.argv[1], "rb").read()
series = label("__name__", "wall") + label("service_name", "bench") + field(2, 2, field(1, 2, raw))
msg = field(1, 2, series)
open(sys.argv[2], "wb").write(b"\0" + struct.pack(">I", len(msg)) + msg)
PY
"$bin" --config "$work/config.yaml" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

cpu_ticks() { awk '{print $14+$15}' "/proc/$pid/stat"; }
measure() { # name, h2load args...
  local name=$1; shift
  local t0 start end t1
  t0=$(cpu_ticks); start=$(date +%s.%N)
  h2load -n "$requests" -c "$conns" "$@" >"$work/$name.txt"
  end=$(date +%s.%N); t1=$(cpu_ticks)
  grep -E "status codes:" "$work/$name.txt" | sed "s/^/$name: /"
  echo "$name $start $end $t0 $t1" >>"$work/times"
}
measure ingest --h1 -d "$body" -H 'content-type: application/octet-stream' \
  "http://127.0.0.1:$port/ingest?format=pprof&name=bench%7Benv%3Db%7D&from=1795547189&until=1795547192&spyName=nodespy"
measure push -m 8 -d "$work/push.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
  "http://127.0.0.1:$port/push.v1.PusherService/Push"
hwm=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")
# h2load ignores grpc-status: count what profgate really accepted
metrics=$(curl -s "http://127.0.0.1:$mport/metrics")
kill -TERM "$pid"; wait "$pid" || true
for t in ingest push; do
  a=$(echo "$metrics" | awk -v t="transport=\"$t\"" '/^profgate_receiver_accepted_profiles_total/ && index($0, t) {s+=$2} END{print s+0}')
  r=$(echo "$metrics" | awk -v t="transport=\"$t\"" '/^profgate_receiver_refused_profiles_total/ && index($0, t) {s+=$2} END{print s+0}')
  echo "$t: profiles accepted $a, refused $r"
done
written=$(find "$work/out" -name '*.pb.gz' | wc -l)
echo "files written $written (every accepted profile)"
/usr/bin/python3 - "$requests" "$(getconf CLK_TCK)" "$hwm" "$work/times" <<'PY'
import sys
n, hz, hwm, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cpu = {}
for line in open(path):
    name, start, end, t0, t1 = line.split()
    secs = float(end) - float(start)
    cpu[name] = (int(t1) - int(t0)) * 1000.0 / hz / n
    print("%-7s requests/s %7.0f   CPU ms/request %.3f" % (name, n / secs, cpu[name]))
print("push/ingest CPU ratio %.2f" % (cpu["push"] / cpu["ingest"]))
print("peak RSS MiB %.1f" % (hwm / 1024.0))
PY
