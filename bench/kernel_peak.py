#!/usr/bin/env python3
"""Each matmul kernel's fraction of this core's peak, at every ISA level the CPU runs.

Runs bench_kernels (bench/bench_kernels.cpp): the peak loops once, then the matmuls once per
level (GAVEL_ISA=avx2, and avx512 where /proc/cpuinfo has what gavel's AVX-512 level needs),
and prints a markdown table. F16 computes in fp32 FMAs, so it is compared with the fp32 FMA
peak of its level's vector width; the quantized types with the int8 MAC peak of their level
(vpmaddubsw at avx2, 512-bit vpdpbusd at avx512). Rates are per CPU second, single thread.

  python3 bench/kernel_peak.py [--binary build/bench/bench_kernels] [--min-time 0.5]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BINARY = os.path.join(HERE, "..", "build", "bench", "bench_kernels")

# The peak each level's kernels are compared with: (fp32 peak, int8 peak) benchmark names.
LEVEL_PEAKS = {
    "avx2": ("peak/fp32_fma_avx2", "peak/int8_maddubs_avx2"),
    "avx512": ("peak/fp32_fma_avx512", "peak/int8_vnni_avx512"),
}
# /proc/cpuinfo flags gavel's levels need (src/tensor/isa.h).
LEVEL_FLAGS = {
    "avx2": {"avx2", "fma", "f16c"},
    "avx512": {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"},
}


def cpuinfo():
    model, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and model == "unknown":
                model = value.strip()
            elif key == "flags" and not flags:
                flags = set(value.split())
    return model, flags


def run(binary, isa, pattern, args):
    """{name: run} for the benchmarks matching pattern; the fastest repetition of each."""
    cmd = [binary, f"--benchmark_filter={pattern}", "--benchmark_format=json",
           f"--benchmark_min_time={args.min_time}",
           f"--benchmark_repetitions={args.repetitions}"]
    env = dict(os.environ, GAVEL_ISA=isa)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} (GAVEL_ISA={isa}) failed:\n{out.stderr}")
    best = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration":
            continue  # the mean/median/stddev rows of --benchmark_repetitions
        name = b.get("run_name", b["name"])
        rate = b.get("FLOP", b.get("MAC", 0.0))
        if name not in best or rate > best[name]["rate"]:
            best[name] = dict(b, rate=rate)
    return best


def header(model, label):
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{label}: {now}, CPU: {model}, load average (1/5/15 min): {load}")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=DEFAULT_BINARY)
    p.add_argument("--min-time", default="0.5",
                   help="--benchmark_min_time (seconds; newer Google Benchmark also takes '0.5s')")
    p.add_argument("--repetitions", type=int, default=1,
                   help="runs per benchmark; the fastest is kept (a loaded machine only slows)")
    p.add_argument("--filter", default=".",
                   help="regex on the matmul names, e.g. 'Q4_K|Q8_0' or '/1$'")
    args = p.parse_args()

    model, flags = cpuinfo()
    levels = [lv for lv in ("avx2", "avx512") if LEVEL_FLAGS[lv] <= flags]
    if not levels:
        sys.exit("this CPU has no AVX2+FMA+F16C: gavel's kernels cannot run")
    header(model, "start")

    peaks = run(args.binary, levels[-1], "^peak/", args)
    print("\n| peak loop | instructions | measured |\n|---|---|---|")
    for name, b in peaks.items():
        if b.get("error_occurred"):
            print(f"| {name} | skipped: {b.get('error_message', '')} | |")
            continue
        unit = "GFLOP/s" if "FLOP" in b else "GMAC/s"
        print(f"| {name} | {b.get('label', '')} | {b['rate'] / 1e9:.1f} {unit} |")

    print("\n| level | kernel | measured | peak | fraction |\n|---|---|---|---|---|")
    for level in levels:
        fp32_peak, int8_peak = (peaks[n]["rate"] for n in LEVEL_PEAKS[level])
        for name, b in run(args.binary, level, f"^matmul/.*({args.filter})", args).items():
            _, type_, shape, n_tok = name.split("/")
            kernel = f"{type_} {shape} n_tok={n_tok}"
            if b.get("label", "").endswith("q4k-repacked"):
                kernel += " (repacked)"
            if type_ == "F16":  # fp32 FMAs: 2 flops per multiply-accumulate
                measured, peak, unit = 2 * b["rate"], fp32_peak, "GFLOP/s"
            else:
                measured, peak, unit = b["rate"], int8_peak, "GMAC/s"
            print(f"| {level} | {kernel} | {measured / 1e9:.1f} {unit} | {peak / 1e9:.1f} {unit}"
                  f" | {measured / peak:.1%} |")
    print()
    header(model, "end")


if __name__ == "__main__":
    main()
