"""The memory limiter under a load that exceeds it.

profgate: pyroscope receiver -> memory_limiter -> pyroscope exporter (push)
to a destination that takes requests and does not answer, with a 1 GiB
sending queue, so every accepted ~1.5 MiB profile stays in memory. Four
client threads push as fast as they can.

Expected: clients start getting 429 (retryable, with Retry-After) once the
resident memory passes the soft limit; the peak RSS (VmHWM) stays under
limit_mib + MARGIN_MIB; once the destination answers again the queue
drains, memory goes back under the soft limit and uploads are accepted
again.

The limit is set relative to the RSS of the idle process (measured first
with the same configuration and a limit that never triggers), so the test
means the same under ASan, whose baseline is much larger; ASan's quarantine
is kept small so freed memory really leaves the process."""

import http.server
import os
import socketserver
import threading
import time

import pgtest
import pyrotest
from pgtest import check

HEADROOM_MIB = 64  # limit_mib = idle RSS + this
SPIKE_MIB = 16     # soft limit = idle RSS + 48 MiB
CLIENTS = 4
# What RSS may exceed limit_mib by, and why:
#  - requests in flight: up to 4 bodies of 1.5 MiB being read, and on each
#    of the 2 workers one body being validated (its inflated copy, ~1.6 MiB,
#    and the decoded string table): about 15 MiB;
#  - what is accepted between two checks (100 ms) before the limiter flips:
#    a few profiles, each held twice (payload + encoded push request);
#  - allocator slack (arenas per thread, ASan's small quarantine).
# In practice the peak stays near the soft limit; 32 MiB covers the worst
# case above with room to spare.
MARGIN_MIB = 32
ASAN_OPTIONS = ("quarantine_size_mb=4:thread_local_quarantine_size_kb=256:"
                "allocator_release_to_os_interval_ms=100:detect_leaks=0")


def big_pprof():
    """A valid pprof of about 1.5 MiB gzipped: random (incompressible) names."""
    pp = pyrotest._pprof_module()
    p = pp.Profile()
    p.string_table.extend(["", "samples", "count", "main"])
    rnd = os.urandom(24000 * 48)
    import base64
    blob = base64.b64encode(rnd).decode()
    p.string_table.extend(blob[i * 64:(i + 1) * 64] for i in range(24000))
    p.sample_type.add(type=1, unit=2)
    fn = p.function.add(id=1, name=3, system_name=3, filename=4)
    loc = p.location.add(id=1)
    loc.line.add(function_id=fn.id, line=1)
    p.sample.add(location_id=[1], value=[1])
    return pgtest.gz(p.SerializeToString())


class StallServer:
    """Reads each request and answers only once released (200, empty proto)."""

    def __init__(self):
        self.released = threading.Event()
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(n)
                owner.requests += 1
                owner.released.wait(120)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/proto")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def proc_status_mib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def start_profgate(dest_port, limit_mib):
    port, metrics_port = pgtest.free_port(), pgtest.free_port()
    cfg = f"""receivers:
  pyroscope: {{endpoint: 127.0.0.1:{port}}}
processors:
  memory_limiter: {{limit_mib: {limit_mib}, spike_limit_mib: {SPIKE_MIB}, check_interval: 100ms}}
exporters:
  pyroscope:
    endpoint: http://127.0.0.1:{dest_port}
    api: push
    timeout: 2s
    sending_queue: {{queue_size: 100000, queue_bytes: 1GiB, num_consumers: 4}}
    retry_on_failure: {{initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0s}}
service:
  workers: 2
  shutdown_timeout: 2s
  telemetry:
    metrics: {{address: 127.0.0.1:{metrics_port}}}
  pipelines:
    profiles: {{receivers: [pyroscope], processors: [memory_limiter], exporters: [pyroscope]}}
"""
    env_before = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = ASAN_OPTIONS + (":" + env_before if env_before else "")
    try:
        pg = pgtest.Profgate(cfg).start(wait_ports=(port, metrics_port))
    finally:
        if env_before is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = env_before
    return pg, port, metrics_port


def idle_rss_mib(dest_port):
    pg, _, _ = start_profgate(dest_port, 1 << 20)
    time.sleep(0.5)
    rss = proc_status_mib(pg.proc.pid, "VmRSS")
    pg.stop()
    return rss


def upload(port, body, seq):
    target = pyrotest.ingest_target({"name": "memload.app{seq=%d}" % seq, "format": "pprof"})
    return pyrotest.http_request(port, "POST", target, [("Content-Type", "application/octet-stream")],
                                 body, timeout=20)


def push_load(port, body, stop_after_429_s=3.0, max_s=25.0):
    """Runs CLIENTS threads uploading until refusals have gone on for
    stop_after_429_s (or max_s passed). Returns (statuses, retry_after values)."""
    statuses, retry_after, lock = [], [], threading.Lock()
    first_429 = [None]
    t0 = time.time()

    def done():
        now = time.time()
        return now - t0 > max_s or (first_429[0] is not None and now - first_429[0] > stop_after_429_s)

    def client(k):
        seq = k * 100000
        while not done():
            seq += 1
            r = upload(port, body, seq)
            with lock:
                statuses.append(r.status if r else 0)
                if r and r.status == 429:
                    retry_after.append(r.headers.get("retry-after"))
                    if first_429[0] is None:
                        first_429[0] = time.time()
            if r and r.status == 429:
                time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses, retry_after


def main():
    body = big_pprof()
    print("profile: %.2f MiB gzipped" % (len(body) / 1048576.0))
    dest = StallServer()
    base = idle_rss_mib(dest.port)
    limit = int(base) + HEADROOM_MIB
    print("idle RSS %.1f MiB -> limit_mib %d, soft limit %d MiB" % (base, limit, limit - SPIKE_MIB))
    pg, port, metrics_port = start_profgate(dest.port, limit)
    try:
        t0 = time.time()
        statuses, retry_after = push_load(port, body)
        print("load: %.1fs, %d uploads, %d accepted, %d refused" %
              (time.time() - t0, len(statuses), statuses.count(200), statuses.count(429)))
        n200, n429 = statuses.count(200), statuses.count(429)
        check(n200 > 0, "some uploads accepted before the limit (%d)" % n200)
        check(n429 > 0, "clients get 429 once over the limit (%d)" % n429)
        check(set(statuses) <= {200, 429}, "only 200 and 429 answers (%s)" % sorted(set(statuses)))
        check(all(v and v.isdigit() and int(v) >= 1 for v in retry_after),
              "every 429 carries a Retry-After (%s)" % sorted(set(retry_after)))
        peak = proc_status_mib(pg.proc.pid, "VmHWM")
        print("peak RSS (VmHWM) %.1f MiB; limit %d MiB + margin %d MiB" % (peak, limit, MARGIN_MIB))
        check(peak < limit + MARGIN_MIB, "peak RSS %.1f MiB < limit %d + %d MiB" % (peak, limit, MARGIN_MIB))
        refused = pgtest.metric_sum(metrics_port, "profgate_processor_refused_profiles_total",
                                    'reason="memory_limit"')
        check(refused == n429, "refused_profiles_total{reason=memory_limit} = 429s (%s vs %d)" %
              (refused, n429))
        check(pgtest.metric_sum(metrics_port, "profgate_processor_memory_refusing") == 1,
              "the refusing gauge is 1 while the queue is full")
        rss_gauge = pgtest.metric_sum(metrics_port, "profgate_processor_memory_rss_bytes")
        check(rss_gauge > (limit - SPIKE_MIB) * 1048576, "the RSS gauge shows memory above the soft limit")

        # the destination answers again: the queue drains and the limiter lets data in
        dest.released.set()
        sent = pgtest.wait_for(lambda: pgtest.metric_sum(
            metrics_port, "profgate_exporter_sent_profiles_total") >= n200, 30)
        check(sent, "the queue drained to the destination")
        accepting = pgtest.wait_for(lambda: pgtest.metric_sum(
            metrics_port, "profgate_processor_memory_refusing") == 0, 15)
        check(accepting, "the limiter accepts again once memory is released (RSS now %.1f MiB)" %
              proc_status_mib(pg.proc.pid, "VmRSS"))
        r = upload(port, body, 1)
        check(r is not None and r.status == 200, "an upload after the load is accepted (%s)" %
              (r.status if r else None))
    finally:
        rc = pg.stop()
        dest.stop()
    check(rc == 0, "clean exit (%s)" % rc)
    if pgtest._failures:
        print(pg.read_log()[-4000:])
    pgtest.finish()


main()
