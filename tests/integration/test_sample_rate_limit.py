"""The sample processor's rate limits end to end: Pyroscope clients pushing
through profgate to the file exporter.

- action refuse (per tenant, 2 profiles/s, burst 1s): the uploads beyond the
  bucket get 429 with a Retry-After header and a message naming the tenant
  and the limit; another tenant is not affected; after Retry-After seconds
  the same client is accepted again; the refusals are counted, and only the
  acknowledged uploads reach the exporter.
- action drop (per service): every upload gets 200, the ones over the limit
  are counted as dropped and never written.
- probability: a series is written every time or never."""

import os
import time

import pgtest
import pyrotest
from pgtest import check

with open(os.path.join(pgtest.PYRO, "go-cpu.pb.gz"), "rb") as f:
    PPROF = f.read()

P_REFUSE, P_DROP, P_SAMPLE, METRICS = (pgtest.free_port() for _ in range(4))
CONFIG = f"""receivers:
  pyroscope/refuse: {{endpoint: 127.0.0.1:{P_REFUSE}}}
  pyroscope/drop: {{endpoint: 127.0.0.1:{P_DROP}}}
  pyroscope/sample: {{endpoint: 127.0.0.1:{P_SAMPLE}}}
processors:
  sample/refuse:
    rate_limit:
      action: refuse
      burst: 1s
      per_tenant: {{profiles_per_second: 2}}
  sample/drop:
    rate_limit:
      action: drop
      per_service: {{profiles_per_second: 2, bytes_per_second: 16MiB}}
  sample/half:
    probability: 0.5
    hash_seed: 3
exporters:
  file/refuse: {{path: ./out-refuse, format: pprof, labels_file: true}}
  file/drop: {{path: ./out-drop, format: pprof, labels_file: true}}
  file/sample: {{path: ./out-sample, format: pprof, labels_file: true}}
service:
  workers: 2
  telemetry:
    metrics: {{address: 127.0.0.1:{METRICS}}}
  pipelines:
    profiles/refuse: {{receivers: [pyroscope/refuse], processors: [sample/refuse], exporters: [file/refuse]}}
    profiles/drop: {{receivers: [pyroscope/drop], processors: [sample/drop], exporters: [file/drop]}}
    profiles/sample: {{receivers: [pyroscope/sample], processors: [sample/half], exporters: [file/sample]}}
"""


def upload(port, app, tenant, seq):
    target = pyrotest.ingest_target({"name": "%s{seq=%d}" % (app, seq), "format": "pprof"})
    return pyrotest.http_request(port, "POST", target,
                                 [("Content-Type", "application/octet-stream"),
                                  ("X-Scope-OrgID", tenant)], PPROF)


def metric(name, *labels):
    return pgtest.metric_sum(METRICS, name, *labels)


def scenario_refuse(pg):
    statuses, retry_after, body = [], [], b""
    for seq in range(6):
        r = upload(P_REFUSE, "ratelimited.app", "tenant-a", seq)
        statuses.append(r.status)
        if r.status == 429:
            retry_after.append(r.headers.get("retry-after"))
            body = r.body
    check(statuses[:2] == [200, 200], "refuse: the bucket's two profiles accepted (%s)" % statuses)
    n429 = statuses.count(429)
    check(n429 >= 3, "refuse: uploads beyond the bucket get 429 (%s)" % statuses)
    check(all(v is not None and v.isdigit() and 1 <= int(v) <= 1 for v in retry_after),
          "refuse: every 429 carries Retry-After: 1 (%s)" % retry_after)
    check(b'rate limit exceeded for tenant \\"tenant-a\\": 2 profiles/s' in body or
          b'rate limit exceeded for tenant "tenant-a": 2 profiles/s' in body,
          "refuse: the answer names the tenant and the limit (%r)" % body[:300])
    r = upload(P_REFUSE, "ratelimited.app", "tenant-b", 100)
    check(r.status == 200, "refuse: another tenant has its own bucket (%d)" % r.status)
    refused = metric("profgate_processor_refused_profiles_total", 'processor="sample/refuse"',
                     'reason="rate_limited"')
    check(refused == n429, "refuse: refused_profiles_total counts each refusal (%s vs %d)" % (refused, n429))
    time.sleep(1.05)
    r = upload(P_REFUSE, "ratelimited.app", "tenant-a", 200)
    check(r.status == 200, "refuse: accepted again after Retry-After (%d)" % r.status)
    accepted = statuses.count(200) + 2
    files = pyrotest.wait_files(os.path.join(pg.dir, "out-refuse"), accepted)
    check(len(files) == accepted, "refuse: exactly the acknowledged uploads written (%d of %d)" %
          (len(files), accepted))
    seqs = sorted(int(pyrotest.read_output(p).labels.get("seq", -1)) for p in files)
    want = sorted([i for i, s in enumerate(statuses) if s == 200] + [100, 200])
    check(seqs == want, "refuse: the written ones are the accepted ones (%s vs %s)" % (seqs, want))


def scenario_drop(pg):
    statuses = [upload(P_DROP, "dropper.app", "t", seq).status for seq in range(6)]
    check(statuses == [200] * 6, "drop: every upload answered 200 (%s)" % statuses)
    other = upload(P_DROP, "other.app", "t", 50).status
    check(other == 200, "drop: another service accepted")
    dropped = pgtest.wait_for(lambda: metric("profgate_processor_dropped_profiles_total",
                                             'processor="sample/drop"', 'reason="rate_limited"') >= 3, 5)
    n_dropped = metric("profgate_processor_dropped_profiles_total", 'processor="sample/drop"',
                       'reason="rate_limited"')
    check(dropped and 3 <= n_dropped <= 4, "drop: the profiles over the limit counted (%s)" % n_dropped)
    files = pyrotest.wait_files(os.path.join(pg.dir, "out-drop"), 7 - int(n_dropped))
    check(len(files) == 7 - n_dropped, "drop: only admitted profiles written (%d files, %s dropped)" %
          (len(files), n_dropped))
    apps = sorted(pyrotest.read_output(p).labels.get("service_name") for p in files)
    check(apps.count("other.app") == 1, "drop: the other service's profile written (%s)" % apps)


def scenario_probability(pg):
    series = range(40)
    for rnd in range(3):
        for s in series:
            r = upload(P_SAMPLE, "sampled.app", "t", s)
            check(r.status == 200, "probability: sampled-out uploads are still acknowledged")
    out = os.path.join(pg.dir, "out-sample")
    dropped = metric("profgate_processor_dropped_profiles_total", 'processor="sample/half"',
                     'reason="sampled_out"')
    files = pyrotest.wait_files(out, 120 - int(dropped))
    check(len(files) + dropped == 120, "probability: written + sampled out = sent (%d + %s)" %
          (len(files), dropped))
    counts = {}
    for p in files:
        seq = pyrotest.read_output(p).labels.get("seq")
        counts[seq] = counts.get(seq, 0) + 1
    check(all(c == 3 for c in counts.values()),
          "probability: a kept series is kept every time (%s)" % sorted(counts.values()))
    check(5 <= len(counts) <= 35, "probability: about half of 40 series kept (%d)" % len(counts))


def main():
    pg = pgtest.Profgate(CONFIG).start(wait_ports=(P_REFUSE, P_DROP, P_SAMPLE, METRICS))
    try:
        scenario_refuse(pg)
        scenario_drop(pg)
        scenario_probability(pg)
    finally:
        rc = pg.stop()
    check(rc == 0, "clean exit (%s)" % rc)
    if pgtest._failures:
        print(pg.read_log()[-3000:])
    pgtest.finish()


main()
