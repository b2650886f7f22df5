#!/usr/bin/env python3
"""Prefill throughput (pp512 and pp2048, 2 threads, warm, median of repeats) of gavel vs
llama.cpp (llama-cpp-python) on the Qwen3-0.6B-shaped random models from tools/make_tiny_gguf.py
--shape qwen3-0.6b, plus peak RSS of each (each engine runs in its own process).

usage: bench/prefill_vs_llamacpp.py [--gavel BIN] [--reps 3] [--types q8_0 q4_k_m q4_1 f16]
                                    [--tokens 512 2048] [--level avx512|avx2]

--level avx2 runs gavel with GAVEL_ISA=avx2 against llama.cpp built for AVX2 (scripts/setup.sh's
second llama-cpp-python), both on this CPU: the AVX2 level's ratio without an AVX2-only machine.
"""
import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests/python"))
from llamacpp_ref import check_system_info, level_env  # noqa: E402
from peak_rss import PeakRss  # noqa: E402

TINY = pathlib.Path.home() / ".cache/gavel/tiny"


def llama_child(path, reps, N):
    import llama_cpp
    from llama_cpp import Llama
    llm = Llama(model_path=path, n_ctx=N + 16, n_batch=N, n_ubatch=min(N, 512), n_threads=2,
                n_threads_batch=2, logits_all=False, verbose=False)
    ids = [(i * 7919) % 150000 + 10 for i in range(N)]
    times = []
    for _ in range(reps + 1):  # first run warms up
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tps": N / statistics.median(times[1:]), "rss_mib": rss,
                      "system_info": llama_cpp.llama_print_system_info().decode()}))


def gavel_run(gavel, path, reps, tmp, N, env):
    ids = [(i * 7919) % 150000 + 10 for i in range(N)]
    req = tmp / "bench_req.jsonl"
    req.write_text("\n".join(json.dumps({"tokens": ids}) for _ in range(reps + 1)) + "\n")
    t0 = time.perf_counter()
    p = subprocess.Popen([gavel, "logprobs", path, "--batch-file", str(req), "--threads", "2",
                          "--ctx", str(N + 16), "--top-k", "1"], stdout=subprocess.PIPE, text=True,
                         env=env)
    peak = PeakRss(p.pid)
    stamps = []
    for _ in p.stdout:
        stamps.append(time.perf_counter())
    p.wait()
    times = [b - a for a, b in zip(stamps, stamps[1:])]
    return {"tps": N / statistics.median(times), "rss_mib": peak.bytes() / 2**20}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gavel", default="build/apps/gavel/gavel")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--types", nargs="+", default=["q8_0", "q4_k_m", "q4_1", "f16"])
    ap.add_argument("--tokens", nargs="+", type=int, default=[512, 2048])
    ap.add_argument("--level", choices=["avx512", "avx2"], default=None,
                    help="ISA level of both engines (default: each engine's best for this CPU)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return llama_child(a.child, a.reps, a.tokens[0])
    tmp = pathlib.Path("/tmp")
    genv, lenv = dict(os.environ), dict(os.environ)
    if a.level:
        genv["GAVEL_ISA"] = a.level
        lenv = level_env(a.level)
    print(f"level: {a.level or 'best for this CPU'}", flush=True)
    for n in a.tokens:
        for t in a.types:
            path = TINY / f"qwen3-0.6b-shape-{t}.gguf"
            if not path.exists():
                sys.exit(f"missing {path}: run tools/make_tiny_gguf.py --shape qwen3-0.6b")
            g = gavel_run(a.gavel, str(path), a.reps, tmp, n, genv)
            out = subprocess.run([sys.executable, __file__, "--child", str(path), "--reps",
                                  str(a.reps), "--tokens", str(n)], capture_output=True,
                                 text=True, check=True, env=lenv)
            l = json.loads(out.stdout.strip().splitlines()[-1])
            if a.level:
                check_system_info(a.level, l["system_info"])
            print(f"pp{n} {t}: gavel {g['tps']:.1f} tok/s (peak RSS {g['rss_mib']:.0f} MiB), "
                  f"llama.cpp {l['tps']:.1f} tok/s (peak RSS {l['rss_mib']:.0f} MiB), ratio "
                  f"{g['tps'] / l['tps']:.2f}x", flush=True)

if __name__ == "__main__":
    main()
