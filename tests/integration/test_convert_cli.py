"""`profgate convert` as a command: stdin/stdout, the default direction, the
format sniffed from content (never the name), --service/--attr in the OTLP
resource, several pprof documents into a directory, usage errors (exit 2) and
bad input (truncated, empty, garbage: exit 1 with a message)."""

import gzip
import os
import shutil

import pgtest
from pgtest import check
from test_convert_roundtrip import WORK, convert, finish, judge, pprofcheck

GO_CPU = os.path.join(pgtest.PYRO, "go-cpu.pb.gz")  # samples/count, cpu/nanoseconds


def tmp(name):
    return os.path.join(WORK, "cli-" + name)


def parse_otlp(data):
    req = pgtest.pb().svc.ExportProfilesServiceRequest()
    req.ParseFromString(data)
    return req


def resource_attrs(req, rp):
    """{key: [string values]} of one resource, keys resolved."""
    d = req.dictionary
    out = {}
    for kv in rp.resource.attributes:
        key = kv.key or d.string_table[kv.key_strindex]
        out.setdefault(key, []).append(kv.value.string_value)
    return out


def test_stdin_stdout_and_defaults():
    with open(GO_CPU, "rb") as f:
        src = f.read()
    r = convert("-", "-", stdin=src)
    check(r.returncode == 0, "pprof on stdin -> stdout: %s" % r.stderr)
    req = parse_otlp(r.stdout)
    n = sum(len(sp.profiles) for rp in req.resource_profiles for sp in rp.scope_profiles)
    check(n == 2, "default output for pprof input is OTLP: %d profiles" % n)
    r2 = convert("-", "-", stdin=r.stdout)
    check(r2.returncode == 0 and r2.stdout[:2] == b"\x1f\x8b",
          "default output for OTLP input is gzipped pprof: %s" % r2.stderr)
    back = tmp("stdin-back.pb.gz")
    with open(back, "wb") as f:
        f.write(r2.stdout)
    r3 = judge("compare", GO_CPU, back)
    check(r3.returncode == 0, "stdin/stdout round trip is lossless: %s" % r3.stdout)
    # raw (not gzipped) pprof on stdin
    r = convert("--to", "otlp-json", "-", "-", stdin=gzip.decompress(src))
    check(r.returncode == 0 and r.stdout.lstrip().startswith(b"{"), "raw pprof -> OTLP/JSON on stdout")


def test_sniffing_ignores_names():
    misnamed = tmp("profile.json")
    shutil.copy(GO_CPU, misnamed)
    out = tmp("misnamed.pb.gz")
    r = convert(misnamed, out)
    check(r.returncode == 0, "a pprof named .json converts: %s" % r.stderr)
    check(r.returncode == 0 and len(parse_otlp(open(out, "rb").read()).resource_profiles) == 1,
          "... to OTLP (chosen by content)")
    otlp_named_pprof = tmp("otlp.pb.gz")
    with open(pgtest.OTLP_V110, "rb") as f:
        with open(otlp_named_pprof, "wb") as g:
            g.write(gzip.compress(f.read()))
    out = tmp("otlp-json-out")
    r = convert("--to", "otlp-json", otlp_named_pprof, out)
    check(r.returncode == 0, "gzipped OTLP protobuf named .pb.gz converts to JSON: %s" % r.stderr)
    r = convert("--to", "otlp", out, tmp("otlp-again.pb"))
    check(r.returncode == 0, "OTLP/JSON input is recognised: %s" % r.stderr)
    if r.returncode == 0:
        again = pgtest.load_request(tmp("otlp-again.pb"))
        check(again == pgtest.load_request(), "OTLP -> JSON -> OTLP keeps the request unchanged")


def test_service_and_attrs():
    out = tmp("svc.otlp")
    r = convert("--service", "checkout", "--attr", "env=prod", "--attr=region=eu-west",
                "--attr", "env=staging", "--attr", "k=a=b", GO_CPU, out)
    check(r.returncode == 0, "--service/--attr: %s" % r.stderr)
    if r.returncode != 0:
        return
    req = pgtest.load_request(out)
    attrs = resource_attrs(req, req.resource_profiles[0])
    check(attrs.get("service.name") == ["checkout"], "service.name from --service: %r" % attrs)
    check(attrs.get("env") == ["staging"], "a repeated --attr keeps the last value: %r" % attrs)
    check(attrs.get("region") == ["eu-west"] and attrs.get("k") == ["a=b"],
          "--attr=key=value and values containing '=': %r" % attrs)
    # OTLP -> OTLP re-encodes and sets the attributes on every resource
    out2 = tmp("svc2.otlp")
    r = convert("--to", "otlp", "--service", "ebpf", "--attr", "env=lab", pgtest.OTLP_V110, out2)
    check(r.returncode == 0, "OTLP -> OTLP with --service: %s" % r.stderr)
    if r.returncode == 0:
        req = pgtest.load_request(out2)
        orig = pgtest.load_request()
        check(len(req.resource_profiles) == len(orig.resource_profiles), "every resource kept")
        ok = all(resource_attrs(req, rp).get("service.name") == ["ebpf"] and
                 resource_attrs(req, rp).get("env") == ["lab"] for rp in req.resource_profiles)
        check(ok, "service.name and env set once on every resource")
        check(req.dictionary == orig.dictionary, "the dictionary is unchanged")


def test_several_documents():
    r = convert("--to", "pprof", pgtest.OTLP_V110, "-")
    check(r.returncode == 1 and b"directory" in r.stderr,
          "several documents cannot go to stdout: %d %r" % (r.returncode, r.stderr))
    # a single document into an existing directory lands inside it
    d = tmp("one-doc-dir")
    os.makedirs(d, exist_ok=True)
    mid = tmp("one.otlp")
    convert(GO_CPU, mid)
    r = convert(mid, d)
    files = os.listdir(d)
    check(r.returncode == 0 and files == ["0-samples.pb.gz"], "one document in a directory: %r" % files)


def test_usage_errors():
    for args in ([], [GO_CPU], [GO_CPU, "a", "b"], ["--to", "svg", GO_CPU, "x"], ["--to"],
                 ["--bogus", GO_CPU, "x"], ["--attr", "novalue", GO_CPU, "x"], ["--attr", "=v", GO_CPU, "x"],
                 ["--to", "pprof", "--service", "s", GO_CPU, "x"], ["--service"]):
        r = convert(*args)
        check(r.returncode == 2 and b"usage" in r.stderr, "usage error for %r: %d %r" % (args, r.returncode, r.stderr))
    mid = tmp("usage.otlp")
    convert(GO_CPU, mid)
    r = convert("--service", "x", mid, tmp("usage-out"))
    check(r.returncode == 2, "--service with pprof output (OTLP input, default --to) is a usage error")
    r = convert("--help")
    check(r.returncode == 0 and b"usage: profgate convert" in r.stdout, "--help prints usage")


def test_bad_input():
    with open(GO_CPU, "rb") as f:
        gz = f.read()
    raw = gzip.decompress(gz)
    with open(pgtest.OTLP_V110, "rb") as f:
        otlp = f.read()
    cases = {
        "truncated gzip": (gz[: len(gz) // 2], "gunzip"),
        "truncated pprof": (raw[: len(raw) // 2], ""),
        "truncated OTLP": (otlp[:5000], ""),
        "empty": (b"", "empty"),
        "garbage": (b"\xff\xfe\xfd not a profile at all", ""),
        "bad JSON": (b'{"resourceProfiles": [', ""),
    }
    for name, (data, word) in cases.items():
        path, out = tmp(name.replace(" ", "-")), tmp(name.replace(" ", "-") + ".out")
        with open(path, "wb") as f:
            f.write(data)
        r = convert(path, out)
        err = r.stderr.decode()
        check(r.returncode == 1, "%s: exit 1 (got %d)" % (name, r.returncode))
        check(err.startswith("profgate convert: ") and path in err and word in err,
              "%s: the message names the input and the problem: %r" % (name, err))
        check(not os.path.exists(out), "%s: no output written" % name)
    r = convert(tmp("does-not-exist"), tmp("x"))
    check(r.returncode == 1 and b"does-not-exist" in r.stderr, "missing input: %r" % r.stderr)
    r = convert(GO_CPU, os.path.join(WORK, "no", "such", "dir", "out"))
    check(r.returncode == 1 and b"cannot create" in r.stderr, "unwritable output: %r" % r.stderr)
    v18 = os.path.join(pgtest.PYRO, "otlp-v1.8-ebpf.pb")
    r = convert(v18, tmp("v18.out"))
    check(r.returncode == 1 and b"v1.8" in r.stderr, "an older OTLP layout is named: %r" % r.stderr)


if __name__ == "__main__":
    pprofcheck()
    test_stdin_stdout_and_defaults()
    test_sniffing_ignores_names()
    test_service_and_attrs()
    test_several_documents()
    test_usage_errors()
    test_bad_input()
    finish()
