#!/usr/bin/env python3
"""Load test of `gavel serve` with wrk (Debian's): 60 s each of GET /health, POST
/v1/judge/pairwise on pairs the store holds (answered without the model), and POST
/v1/judge/pairwise on new pairs (each one runs the model). Prints wrk's latency percentiles,
requests/s, errors (socket errors and non-2xx), and the server's RSS before and after each phase,
as a markdown table for bench/RESULTS.md. Exits 1 when any phase had an error.

  bench/server_load.py [--model M.gguf] [--duration 60] [--gavel build/apps/gavel/gavel]
"""
import argparse
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODELS = pathlib.Path(os.environ.get("GAVEL_MODELS", pathlib.Path.home() / ".cache/gavel/models"))


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def wrk(url, duration, conns, threads, script=None, env=None, timeout="60s"):
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", timeout]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, env={**os.environ, **(env or {})},
                         check=True).stdout
    def lat(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = (sum(map(int, sock.groups())) if sock else 0) + (int(non2xx.group(1)) if non2xx else 0)
    return {"requests": reqs, "rps": rps, "p50_ms": lat(50), "p99_ms": lat(99), "errors": errors,
            "raw": out}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(MODELS / "smollm2-135m-instruct-q4_1.gguf"))
    ap.add_argument("--gavel", default=str(ROOT / "build/apps/gavel/gavel"))
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--pairs", type=int, default=16, help="distinct stored pairs cycled through")
    args = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="gavel-load-"))
    srv = subprocess.Popen([args.gavel, "serve", "--model", args.model, "--store", str(tmp / "s.sqlite"),
                            "--port", "0", "--quiet"], stderr=subprocess.PIPE, text=True)
    line = srv.stderr.readline()
    m = re.search(r"listening on (http://[\d.]+:\d+)", line)
    if not m:
        sys.exit(f"gavel serve did not start: {line}{srv.stderr.read()}")
    url = m.group(1)
    try:
        # The stored pairs: judged once before the clock starts.
        rows = [json.loads(x) for x in (ROOT.parent / "shared/data/bench/llmbar/pairs.jsonl").read_text().splitlines()]
        rows.sort(key=lambda r: len(r["instruction"]) + len(r["response_a"]) + len(r["response_b"]))
        bodies = [json.dumps({"instruction": r["instruction"], "A": r["response_a"], "B": r["response_b"]})
                  for r in rows[:args.pairs]]
        (tmp / "bodies.jsonl").write_text("\n".join(bodies) + "\n")
        t0 = time.time()
        for b in bodies:
            req = urllib.request.Request(url + "/v1/judge/pairwise", b.encode(), {"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=600).read()
        print(f"warm-up: {len(bodies)} pairs judged in {time.time() - t0:.1f} s", file=sys.stderr)
        phases = [
            ("GET /health", url + "/health", dict(conns=16, threads=2)),
            ("POST /v1/judge/pairwise, stored pairs", url,
             dict(conns=16, threads=2, script=ROOT / "bench/wrk/pairwise_repeat.lua",
                  env={"GAVEL_BODIES": str(tmp / "bodies.jsonl")})),
            ("POST /v1/judge/pairwise, new pairs", url,
             dict(conns=4, threads=2, script=ROOT / "bench/wrk/pairwise_new.lua",
                  env={"GAVEL_NONCE": str(os.getpid())})),
        ]
        rows_out, failed = [], False
        for name, u, kw in phases:
            before = rss_mib(srv.pid)
            r = wrk(u, args.duration, **kw)
            after = rss_mib(srv.pid)
            failed |= r["errors"] > 0
            rows_out.append((name, kw["conns"], r, before, after))
            print(r["raw"], file=sys.stderr)
        with urllib.request.urlopen(url + "/metrics") as f:
            metrics = f.read().decode()
        print("| phase | connections | requests | req/s | p50 ms | p99 ms | errors | RSS before MiB | RSS after MiB |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, c, r, b, a in rows_out:
            print(f"| {name} | {c} | {r['requests']} | {r['rps']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
                  f"| {r['errors']} | {b:.0f} | {a:.0f} |")
        for key in ("gavel_store_hits_total", "gavel_store_misses_total", "gavel_tokens_per_second"):
            print(f"\n{key}: " + re.search(rf"^{key} (\S+)$", metrics, re.M).group(1), end="")
        bad = re.findall(r'gavel_requests_total\{route="[^"]*",status="5\d\d"\} (\d+)', metrics)
        print(f"\n5xx answers counted by /metrics: {sum(map(int, bad))}")
        failed |= sum(map(int, bad)) > 0
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=120)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
