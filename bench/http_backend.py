#!/usr/bin/env python3
"""Judge throughput through llama.cpp's llama-server vs the embedded engine, on the same model,
pairs and threads, in one run (bench/RESULTS.md, "HTTP backends"):

  embedded        gavel judge --model M --threads T
  1 server        gavel judge --backend URL       (llama-server -t T -np 1, prompt cache off)
  1 server+cache  gavel judge --backend URL --server-prefix-cache
  2 servers       two llama-server processes, -t T/2 each (same cores in total)
  2 servers x T   two llama-server processes, -t T each (oversubscribed on T cores)

Each configuration gets a fresh store; pairs/s = pairs / wall seconds of the judge command.
gavel's own cost per HTTP query is reported two ways: its process CPU time (user + sys, from
wait4) divided by the queries, and the backend's "time not spent waiting on a server".

  python bench/http_backend.py --gavel build/apps/gavel/gavel --pairs 8
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests/python"))
from http_util import llama_server, shortest_pairs  # noqa: E402


def run_judge(gavel, tmp, name, inp, *args):
    out = tmp / f"{name}.jsonl"
    cmd = [gavel, "judge", "--input", str(inp), "--out", str(out), "--store", str(tmp / f"{name}.sqlite"),
           "--no-progress", *map(str, args)]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd} failed:\n{err}")
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    q = re.search(r"(\d+) queries in (\d+) HTTP requests", err)
    own = re.search(r"gavel's own time per query: ([\d.]+) ms", err)
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "recs": recs,
            "queries": int(q.group(1)) if q else None, "http": int(q.group(2)) if q else None,
            "own_ms": float(own.group(1)) if own else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gavel", required=True)
    ap.add_argument("--model", default=str(pathlib.Path.home() / ".cache/gavel/models/qwen2.5-coder-0.5b-instruct.gguf"))
    ap.add_argument("--shared", default=str(pathlib.Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="gavel-http-bench-"))
    rows = shortest_pairs(pathlib.Path(a.shared), 40)[-a.pairs:]  # short, but not trivially so
    inp = tmp / "pairs.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    T = a.threads
    results = {}
    results["embedded"] = run_judge(a.gavel, tmp, "embedded", inp, "--model", a.model, "--threads", T)
    with llama_server(a.model, threads=T) as (url, _):
        results["1 server"] = run_judge(a.gavel, tmp, "one", inp, "--backend", url, "--model", a.model)
        results["1 server, --server-prefix-cache"] = run_judge(a.gavel, tmp, "one_cache", inp, "--backend", url,
                                                               "--model", a.model, "--server-prefix-cache")
    half = max(1, T // 2)
    with llama_server(a.model, threads=half) as (u1, _), llama_server(a.model, threads=half) as (u2, _):
        results[f"2 servers, -t {half} each"] = run_judge(a.gavel, tmp, "two", inp, "--backend", u1, "--backend", u2,
                                                          "--model", a.model, "--concurrency", 1)
    with llama_server(a.model, threads=T) as (u1, _), llama_server(a.model, threads=T) as (u2, _):
        results[f"2 servers, -t {T} each"] = run_judge(a.gavel, tmp, "two_full", inp, "--backend", u1, "--backend", u2,
                                                       "--model", a.model, "--concurrency", 1)
    base = results["embedded"]
    print(f"{a.pairs} pairs (2 passes each), threads {T}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    print("| configuration | wall s | pairs/s | vs embedded | max abs diff P(text1) vs embedded | gavel CPU s | CPU ms per query | own ms per query |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        diff = max(abs(x["p_text1"] - y["p_text1"]) for x, y in zip(r["recs"], base["recs"]))
        per_q = f"{1e3 * r['cpu'] / r['queries']:.2f}" if r["queries"] else "-"
        own = f"{r['own_ms']:.2f}" if r["own_ms"] is not None else "-"
        print(f"| {name} | {r['wall']:.1f} | {a.pairs / r['wall']:.3f} | {base['wall'] / r['wall']:.2f}x | "
              f"{diff:.2e} | {r['cpu']:.2f} | {per_q} | {own} |")


if __name__ == "__main__":
    main()
