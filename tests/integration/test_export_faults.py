"""Fault injection for the delivery chain (queue -> retry -> timeout), through
the Pyroscope exporter (api push) to a small misbehaving HTTP server
(faultserver.py).

Every scenario ends with the same bookkeeping check: each upload that the
receiver answered with success was delivered exactly once, or is counted as
failed or dropped by the exporter. A profile acknowledged upstream that
silently disappears fails the test."""

import os
import time

import faultserver
import pgtest
import pyrotest
from faultserver import Answer
from pgtest import check

FIXTURE = os.path.join(pgtest.PYRO, "go-cpu.pb.gz")
with open(FIXTURE, "rb") as f:
    PPROF = f.read()

EXP = 'exporter="pyroscope"'


class Chain:
    """profgate: pyroscope receiver -> pyroscope exporter (push) -> fault server port."""

    def __init__(self, dest_port, exporter_extra="", shutdown_timeout="5s", timeout_s=10.0):
        self.timeout_s = timeout_s  # the exporter's timeout (10s unless exporter_extra sets one)
        self.port, self.metrics_port = pgtest.free_port(), pgtest.free_port()
        self.dest_port = dest_port
        cfg = f"""receivers:
  pyroscope: {{endpoint: 127.0.0.1:{self.port}}}
exporters:
  pyroscope:
    endpoint: http://127.0.0.1:{dest_port}
    api: push
{exporter_extra}service:
  workers: 1
  shutdown_timeout: {shutdown_timeout}
  telemetry:
    metrics: {{address: 127.0.0.1:{self.metrics_port}}}
  pipelines:
    profiles: {{receivers: [pyroscope], exporters: [pyroscope]}}
"""
        self.pg = pgtest.Profgate(cfg)
        self.pg.start(wait_ports=(self.port, self.metrics_port))
        self.acked = []  # seq numbers answered with 2xx
        self.statuses = []

    def upload(self, seq):
        target = pyrotest.ingest_target({"name": "faults.app{seq=%d}" % seq, "format": "pprof"})
        r = pyrotest.http_request(self.port, "POST", target,
                                  [("Content-Type", "application/octet-stream")], PPROF)
        self.statuses.append(r.status)
        if 200 <= r.status < 300:
            self.acked.append(seq)
        return r

    def metric(self, name, labels=""):
        v = pgtest.metric(self.metrics_port, name, EXP + ("," + labels if labels else ""))
        if v is None and labels:  # label order is not part of the contract
            v = pgtest.metric(self.metrics_port, name, labels)
        return v or 0

    def wait_metric(self, name, labels, at_least, timeout=20.0):
        deadline = time.time() + timeout
        v = self.metric(name, labels)
        while v < at_least and time.time() < deadline:
            time.sleep(0.05)
            v = self.metric(name, labels)
        return v

    def accounted(self, srv, what):
        """Every acknowledged upload is delivered once, or counted failed/dropped."""
        delivered = [int(labels.get("seq", "-1")) for labels, _, _ in srv.samples(self.timeout_s)]
        failed = sum(self.metric("profgate_exporter_failed_profiles_total", 'reason="%s"' % r)
                     for r in ("permanent", "retries_exhausted", "convert", "encode", "invalid_labels"))
        dropped = sum(self.metric("profgate_exporter_dropped_profiles_total", 'reason="%s"' % r)
                      for r in ("queue_full", "shutdown"))
        check(len(delivered) == len(set(delivered)), "%s: no upload delivered twice (%s)" % (what, delivered))
        check(set(delivered) <= set(self.acked), "%s: only acknowledged uploads delivered" % what)
        check(len(set(delivered)) + failed + dropped == len(self.acked),
              "%s: acknowledged %d = delivered %d + failed %d + dropped %d" %
              (what, len(self.acked), len(set(delivered)), failed, dropped))
        return delivered

    def stop(self):
        return self.pg.stop()


RETRY_FAST = """    retry_on_failure: {initial_interval: 100ms, max_interval: 400ms, max_elapsed_time: 60s}
"""


def scenario_503_then_200():
    srv = faultserver.FaultServer(script=[Answer.connect_error(503, "unavailable", "try later")]).start()
    c = Chain(srv.port, RETRY_FAST)
    check(c.upload(0).status == 200, "503 then 200: upload accepted")
    sent = c.wait_metric("profgate_exporter_sent_profiles_total", "", 1)
    check(sent == 1, "503 then 200: delivered once (sent %s)" % sent)
    check(srv.statuses() == [503, 200], "503 then 200: server saw 503 then 200 (%s)" % srv.statuses())
    check(c.metric("profgate_exporter_retries_total") == 1, "503 then 200: one retry counted")
    samples = srv.samples()
    check(len(samples) == 1 and samples[0][1] == PPROF, "503 then 200: the pprof arrived byte for byte")
    check(samples and samples[0][0].get("service_name") == "faults.app", "503 then 200: labels kept")
    c.accounted(srv, "503 then 200")
    c.stop()
    srv.stop()


def scenario_429_retry_after():
    srv = faultserver.FaultServer(script=[Answer.connect_error(429, "resource_exhausted", "slow down",
                                                               headers={"Retry-After": "2"})]).start()
    c = Chain(srv.port, RETRY_FAST)
    c.upload(0)
    c.wait_metric("profgate_exporter_sent_profiles_total", "", 1)
    reqs = srv.requests
    check(len(reqs) == 2, "429: two attempts (%d)" % len(reqs))
    if len(reqs) == 2:
        gap = reqs[1].when - reqs[0].when
        check(1.8 <= gap < 6, "429: the retry waited for Retry-After: 2 (%.2fs), not the 100ms backoff" % gap)
    c.accounted(srv, "429")
    c.stop()
    srv.stop()


def scenario_400_permanent():
    srv = faultserver.FaultServer(
        script=[Answer.connect_error(400, "invalid_argument", "label name is not valid")]).start()
    c = Chain(srv.port, RETRY_FAST)
    c.upload(0)
    failed = c.wait_metric("profgate_exporter_failed_profiles_total", 'reason="permanent"', 1)
    check(failed == 1, "400: counted as a permanent failure (%s)" % failed)
    time.sleep(1.0)
    check(srv.statuses() == [400], "400: not retried (%s)" % srv.statuses())
    check(c.metric("profgate_exporter_retries_total") == 0, "400: no retry counted")
    c.accounted(srv, "400")
    c.stop()
    log = c.pg.read_log()
    check("label name is not valid" in log, "400: the server's message is logged")
    srv.stop()


def scenario_refused_then_available():
    port = pgtest.free_port()
    c = Chain(port, RETRY_FAST)
    c.upload(0)
    c.upload(1)
    retries = c.wait_metric("profgate_exporter_retries_total", "", 2)
    check(retries >= 2, "refused: attempts are retried while nothing listens (%s)" % retries)
    srv = faultserver.FaultServer(port=port).start()
    sent = c.wait_metric("profgate_exporter_sent_profiles_total", "", 2)
    check(sent == 2, "refused: both delivered once the server is up (%s)" % sent)
    c.accounted(srv, "refused then available")
    c.stop()
    srv.stop()


def scenario_slow_server():
    srv = faultserver.FaultServer(script=[Answer(200, delay=2.0, content_type="application/proto")]).start()
    c = Chain(srv.port, "    timeout: 500ms\n" + RETRY_FAST, timeout_s=0.5)
    c.upload(0)
    sent = c.wait_metric("profgate_exporter_sent_profiles_total", "", 1)
    check(sent == 1, "slow: delivered after the timed-out attempt (%s)" % sent)
    check(c.metric("profgate_exporter_retries_total") >= 1, "slow: the timed-out attempt was retried")
    reqs = srv.requests
    check(len(reqs) >= 2 and reqs[1].when - reqs[0].when < 1.8,
          "slow: the retry did not wait for the slow answer (per-attempt timeout)")
    c.accounted(srv, "slow server")
    c.stop()
    srv.stop()


def scenario_queue_full(block):
    what = "full queue (block_on_overflow: %s)" % ("true" if block else "false")
    srv = faultserver.FaultServer(script=[Answer(200, delay=2.0, content_type="application/proto")]).start()
    c = Chain(srv.port, "    sending_queue: {queue_size: 1, block_on_overflow: %s}\n" %
              ("true" if block else "false") + RETRY_FAST)
    check(c.upload(0).status == 200, what + ": first upload accepted")
    deadline = time.time() + 5
    while not srv.requests and time.time() < deadline:
        time.sleep(0.02)
    r = c.upload(1)
    if block:
        check(r.status == 429, what + ": receiver answers 429 (%d)" % r.status)
        check(c.metric("profgate_exporter_refused_profiles_total") == 1, what + ": refusal counted")
    else:
        check(r.status == 200, what + ": receiver answers 200 (%d)" % r.status)
        check(c.wait_metric("profgate_exporter_dropped_profiles_total", 'reason="queue_full"', 1) == 1,
              what + ": the dropped profile is counted")
    c.wait_metric("profgate_exporter_sent_profiles_total", "", 1)
    time.sleep(0.3)
    check(c.metric("profgate_exporter_sent_profiles_total") == 1, what + ": the first one delivered")
    c.accounted(srv, what)
    c.stop()
    if not block:
        check("queue full" in c.pg.read_log() and "dropped 1 profile" in c.pg.read_log(),
              what + ": the drop is logged")
    srv.stop()


def scenario_retries_exhausted():
    srv = faultserver.FaultServer(default=Answer.connect_error(503, "unavailable", "down for good")).start()
    c = Chain(srv.port, "    retry_on_failure: {initial_interval: 100ms, max_interval: 200ms, "
                        "max_elapsed_time: 1s}\n")
    c.upload(0)
    failed = c.wait_metric("profgate_exporter_failed_profiles_total", 'reason="retries_exhausted"', 1)
    check(failed == 1, "exhausted: counted once max_elapsed_time passed (%s)" % failed)
    n = len(srv.requests)
    check(3 <= n <= 12, "exhausted: retried with backoff within 1s (%d attempts)" % n)
    c.accounted(srv, "retries exhausted")
    c.stop()
    check("down for good" in c.pg.read_log(), "exhausted: the last server message is logged")
    srv.stop()


def scenario_drain_on_shutdown():
    srv = faultserver.FaultServer(script=[Answer(200, delay=1.0, content_type="application/proto")]).start()
    c = Chain(srv.port, RETRY_FAST, shutdown_timeout="10s")
    for i in range(3):
        c.upload(i)
    rc = c.stop()
    check(rc == 0, "drain: clean exit (%s)" % rc)
    got = sorted(int(labels["seq"]) for labels, _, _ in srv.samples(c.timeout_s))
    check(got == [0, 1, 2], "drain: everything queued at SIGTERM was delivered before exit (%s)" % got)
    srv.stop()


def scenario_drain_deadline():
    srv = faultserver.FaultServer(default=Answer.connect_error(503, "unavailable", "still down")).start()
    c = Chain(srv.port, RETRY_FAST, shutdown_timeout="1s")
    c.upload(0)
    c.upload(1)
    c.wait_metric("profgate_exporter_retries_total", "", 1)
    t0 = time.time()
    rc = c.stop()
    took = time.time() - t0
    check(rc == 0 and took < 5, "deadline: exits within the shutdown timeout (%.1fs, rc %s)" % (took, rc))
    log = c.pg.read_log()
    check("shutdown" in log and "2 profile" in log,
          "deadline: the 2 undelivered profiles are logged as dropped at shutdown")
    srv.stop()


scenario_503_then_200()
scenario_429_retry_after()
scenario_400_permanent()
scenario_refused_then_available()
scenario_slow_server()
scenario_queue_full(True)
scenario_queue_full(False)
scenario_retries_exhausted()
scenario_drain_on_shutdown()
scenario_drain_deadline()
pgtest.finish()
