#!/usr/bin/env bash
# Benchmark: OTLP gRPC ingest -> batch -> file exporter, driven by h2load.
# Prints requests/s, MB/s (request bytes), CPU milliseconds per request and peak
# RSS of the profgate process. Not part of the test suite.
#
#   bench/otlp_grpc_ingest.sh [REQUESTS] [CONNECTIONS] [STREAMS_PER_CONNECTION]
#
# Needs a built ./build/profgate (cmake -S . -B build -DCMAKE_BUILD_TYPE=Release)
# and h2load (Debian nghttp2-client). The request body is the OTLP v1.10 eBPF
# fixture from ../shared/fixtures (105 KB, 82 profiles).
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-2000}
conns=${2:-2}
streams=${3:-16}
bin=${PROFGATE_BIN:-./build/profgate}
fixture=${PG_SHARED_DIR:-../shared}/fixtures/third_party/grafana-pyroscope/otlp-v1.10-ebpf-cpu-offcpu.pb
command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/config.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:$port}
processors:
  batch: {}
exporters:
  file: {path: $work/out.otlp}
service:
  workers: ${PG_WORKERS:-2}
  telemetry:
    logs: {level: warn}
    metrics: {address: 127.0.0.1:$mport}
  pipelines:
    profiles: {receivers: [otlp], processors: [batch], exporters: [file]}
YAML
# a gRPC frame: flag byte 0, 4-byte big-endian length, message
/usr/bin/python3 -c "import struct,sys; p=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(b'\0'+struct.pack('>I',len(p))+p)" "$fixture" "$work/frame.bin"
"$bin" --config "$work/config.yaml" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

cpu_ticks() { awk '{print $14+$15}' "/proc/$pid/stat"; }
t0=$(cpu_ticks)
start=$(date +%s.%N)
h2load -n "$requests" -c "$conns" -m "$streams" -d "$work/frame.bin" \
  -H 'content-type: application/grpc' -H 'te: trailers' \
  "http://127.0.0.1:$port/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export" >"$work/h2load.txt"
end=$(date +%s.%N)
t1=$(cpu_ticks)
hwm=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")
# h2load looks only at the HTTP status; count what profgate really accepted
metrics=$(curl -s "http://127.0.0.1:$mport/metrics")
accepted=$(echo "$metrics" | awk '/^profgate_receiver_accepted_profiles_total/{s+=$2} END{print s+0}')
refused=$(echo "$metrics" | awk '/^profgate_receiver_refused_profiles_total/{s+=$2} END{print s+0}')
kill -TERM "$pid"; wait "$pid" || true

grep -E "requests:|status codes:" "$work/h2load.txt"
echo "profiles accepted $accepted, refused $refused (82 per request)"
size=$(stat -c %s "$fixture")
hz=$(getconf CLK_TCK)
/usr/bin/python3 - "$requests" "$size" "$start" "$end" "$t0" "$t1" "$hz" "$hwm" <<'PY'
import sys
n, size, start, end, t0, t1, hz, hwm = sys.argv[1:]
n, size = int(n), int(size)
secs = float(end) - float(start)
cpu_ms = (int(t1) - int(t0)) * 1000.0 / int(hz)
print("requests/s        %.0f" % (n / secs))
print("MB/s (request)    %.1f" % (n * size / secs / 1e6))
print("CPU ms/request    %.3f" % (cpu_ms / n))
print("peak RSS MiB      %.1f" % (int(hwm) / 1024.0))
PY
