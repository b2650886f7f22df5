#!/usr/bin/env python3
"""Judge workloads: gavel's embedded engine vs llama.cpp (llama-cpp-python), same GGUF, same
prompts, same threads.

Three workloads (bench/RESULTS.md, "Judge workload"); the first two run the card's
pairwise-logprob protocol, llama.cpp with server-style prefix reuse:
  tournament   CW v3 traffic: on each of --prompts prompts, every pair of --writers writers,
               grouped as a tournament's matches are (each writer is A in several matches of a
               prompt, the instruction is shared by every match on it); responses cut to
               --response-chars characters
  independent  the --pairs LLMBar pairs with the shortest texts (both orders, as the protocol
               runs every pair)
  critique     Selene's critique protocol (pairwise mode) on --critiques LLMBar pairs, greedy,
               --max-tokens tokens at most: gavel decodes --decode-batch critiques together
               (one weight pass per step for all; all items in one batch, so a finished
               critique's place goes to the next) and, as the reference, one at a time;
               llama.cpp evaluates each prompt gavel rendered whole and decodes greedily, one
               sequence at a time as llama-server's slot does. Reports generated tokens/s of
               the decoding loops (prefill excluded), the speed-ups, and whether every critique
               is the same text in all three runs (gavel's batched decoding keeps each
               sequence's bits, and both engines compute the same logits)

gavel runs `gavel judge --keep-prompts` on a fresh store; llama.cpp then evaluates the very
prompts gavel rendered, in the same order, reusing the longest common token prefix with the
sequence in its cache as llama-server's prompt cache does (only the rest is evaluated), and
reads log P(A), log P(B) from the last position's logits. Both wall times include loading the
model. Prints pairs/s, prompt tokens/s, the ratio, each engine's prefix reuse, and the largest
difference in P(text1) between the engines (bit-identical numbers are expected only without
prefix reuse on the llama.cpp side: its cached KV changes the batch shapes it computes in).

  ~/.cache/gavel/venv/bin/python bench/judge_vs_llamacpp.py --gavel build/apps/gavel/gavel \\
      [--model M.gguf] [--workload tournament independent critique] [--threads 2]
"""
import argparse
import itertools
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests/python"))
from http_util import shortest_pairs  # noqa: E402
from llamacpp_ref import check_system_info, level_env  # noqa: E402
from peak_rss import PeakRss  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def tournament_items(writers, prompts, chars):
    rows = [json.loads(x) for x in open(SHARED / "data/eqbench/creative-writing-v3/"
                                        "creative_writing_bench_v3_samples.jsonl")]
    names = sorted({r["writer_model"] for r in rows})[:writers]
    pids = sorted({r["prompt_id"] for r in rows}, key=int)[:prompts]
    text = {(r["writer_model"], r["prompt_id"]): r for r in rows if r["iteration"] == "1"}
    items = []
    for pid in pids:
        for a, b in itertools.combinations(names, 2):  # grouped by prompt, then by writer A
            ra, rb = text.get((a, pid)), text.get((b, pid))
            if ra and rb:
                items.append({"id": f"{pid}:{a}:{b}", "instruction": ra["writing_prompt"],
                              "response_a": ra["response"][:chars],
                              "response_b": rb["response"][:chars]})
    return items


def independent_items(n):
    rows = shortest_pairs(SHARED, 40 + n)[40:]  # short, but not trivially so
    return [{"id": str(i), "instruction": r["instruction"], "response_a": r["response_a"],
             "response_b": r["response_b"]} for i, r in enumerate(rows)]


def run_gavel(gavel, model, threads, items, tmp, name, env, extra=()):
    inp, out = tmp / f"{name}.jsonl", tmp / f"{name}.out.jsonl"
    inp.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    cmd = [gavel, "judge", "--model", model, "--threads", str(threads), "--input", str(inp),
           "--out", str(out), "--store", str(tmp / f"{name}.sqlite"), "--keep-prompts",
           "--no-progress", *extra]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, text=True, env=env)
        peak = PeakRss(proc.pid)
        proc.wait()
        err.seek(0)
        r = subprocess.CompletedProcess(cmd, proc.returncode, "", err.read())
    wall = time.perf_counter() - t0
    run_gavel.peak_rss = peak.bytes()
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} -> {r.returncode}\n{r.stderr[-2000:]}")
    reuse = re.search(r"prefix reuse: .*", r.stderr)
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    if extra:  # the critique workload: the decoding figures
        d = re.search(r"decoding: (\d+) tokens in (\d+) steps .*?, ([\d.]+) s", r.stderr)
        if not d:
            sys.exit(f"no decoding figures in gavel's report:\n{r.stderr[-2000:]}")
        return wall, recs, (int(d.group(1)), int(d.group(2)), float(d.group(3)))
    return wall, recs, reuse.group(0) if reuse else ""


def run_llama_child(req, env, level):
    """llama.cpp's side of a workload, in its own process (llama_child)."""
    r = subprocess.run([sys.executable, __file__, "--child"], input=json.dumps(req),
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"llama.cpp child failed:\n{r.stderr[-2000:]}")
    ll = json.loads(r.stdout.strip().splitlines()[-1])
    if level:
        check_system_info(level, ll["system_info"])
    return ll


def kv_bytes_per_token(model):
    """Bytes of f16 K and V per token for all layers, from the GGUF's metadata."""
    import gguf
    r = gguf.GGUFReader(model)
    arch = bytes(r.fields["general.architecture"].parts[-1]).decode()

    def num(key):
        f = r.fields[f"{arch}.{key}"]
        return int(f.parts[f.data[0]][0])
    n_head, n_embd = num("attention.head_count"), num("embedding_length")
    n_kv = num("attention.head_count_kv") if f"{arch}.attention.head_count_kv" in r.fields \
        else n_head
    head_dim = num("attention.key_length") if f"{arch}.attention.key_length" in r.fields \
        else n_embd // n_head
    return num("block_count") * 2 * n_kv * head_dim * 2


def memory_line(model, tokens, sequences):
    """Peak RSS of the last gavel run against weights (file size) + KV of `sequences`
    sequences of `tokens` tokens: the issue's budget is that sum + 10%."""
    weights = os.path.getsize(model)
    kv = kv_bytes_per_token(model) * tokens * sequences
    budget = (weights + kv) * 1.10
    rss = run_gavel.peak_rss
    mib = 1 << 20
    return (f"  gavel peak RSS {rss / mib:.0f} MiB; weights {weights / mib:.0f} MiB + KV of "
            f"{sequences} x {tokens} tokens {kv / mib:.0f} MiB, +10% = {budget / mib:.0f} MiB: "
            f"{'within' if rss <= budget else 'OVER'} budget")


def critique_child(req):
    """Runs in its own process: each prompt evaluated whole, then greedy decoding."""
    import llama_cpp
    import numpy as np
    from llama_cpp import Llama
    llm = Llama(model_path=req["model"], n_ctx=req["n_ctx"], n_batch=512, n_ubatch=512,
                n_threads=req["threads"], n_threads_batch=req["threads"], logits_all=False,
                verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
    texts, evaluated, decode_s = [], 0, 0.0
    for prompt in req["prompts"]:
        toks = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        llm.n_tokens = 0
        llm.eval(toks)
        gen = []
        t0 = time.perf_counter()
        while True:  # as gavel's generate: the last token (end or max) is not evaluated
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
            t = int(np.argmax(logits))
            if llama_cpp.llama_vocab_is_eog(vocab, t):
                break
            gen.append(t)
            if len(gen) >= req["max_tokens"]:
                break
            llm.eval([t])
            evaluated += 1
        decode_s += time.perf_counter() - t0
        texts.append(llm.detokenize(gen, special=True).decode("utf-8", errors="replace"))
    print(json.dumps({"texts": texts, "evaluated": evaluated, "decode_s": decode_s,
                      "system_info": llama_cpp.llama_print_system_info().decode()}))


def critique_workload(a, tmp, genv, lenv):
    items = independent_items(a.critiques)
    base = ["--protocol", "critique", "--mode", "pairwise", "--max-tokens", str(a.max_tokens),
            "--var", "rubric_objective=Which response follows the instruction more precisely "
            "and helpfully?",
            "--batch", str(a.critiques)]  # one generate call: continuous batching
    runs = {}
    for db in (1, a.decode_batch):
        runs[db] = run_gavel(a.gavel, a.model, a.threads, items, tmp, f"critique-db{db}", genv,
                             base + ["--decode-batch", str(db)])
    prompts = [r["passes"][0]["prompt"] for r in runs[1][1]]
    req = {"model": a.model, "n_ctx": 8192, "threads": a.threads, "prompts": prompts,
           "max_tokens": a.max_tokens, "critique": True}
    ll = run_llama_child(req, lenv, a.level)
    one, many = runs[1], runs[a.decode_batch]
    crit = lambda recs: [x["passes"][0]["critique"] for x in recs]  # noqa: E731
    same_gavel = sum(x == y for x, y in zip(crit(one[1]), crit(many[1])))
    same_llama = sum(x == y for x, y in zip(crit(one[1]), ll["texts"]))
    rate = lambda tok, sec: tok / sec if sec else 0.0  # noqa: E731
    g1 = rate(one[2][0], one[2][2])
    gn = rate(many[2][0], many[2][2])
    l1 = rate(ll["evaluated"], ll["decode_s"])
    print(f"critique: {len(items)} critiques, --max-tokens {a.max_tokens}, "
          f"{many[2][0]} generated tokens evaluated")
    print(f"  gavel, one at a time        {g1:7.2f} tok/s  ({one[2][0]} tokens in "
          f"{one[2][2]:.1f} s; whole run {one[0]:.1f} s)")
    print(f"  gavel, --decode-batch {a.decode_batch:<5} {gn:7.2f} tok/s  ({many[2][0]} tokens, "
          f"{many[2][0] / many[2][1]:.2f} per step, {many[2][2]:.1f} s; whole run {many[0]:.1f} s)")
    print(f"  llama.cpp, one at a time    {l1:7.2f} tok/s  ({ll['evaluated']} tokens in "
          f"{ll['decode_s']:.1f} s)")
    print(f"  batched vs one at a time {gn / g1:.2f}x; vs llama.cpp {gn / l1:.2f}x; gavel one at "
          f"a time vs llama.cpp {g1 / l1:.2f}x")
    print(f"  identical critiques: batched vs one at a time {same_gavel}/{len(items)}, gavel vs "
          f"llama.cpp {same_llama}/{len(items)}")
    # The batched run (the last gavel run) holds the prefix cache's 4 sequences and the
    # decode batch's: each at most the longest prompt + max_tokens.
    longest = max(x["passes"][0]["prompt_tokens"] for x in many[1]) + a.max_tokens
    print(memory_line(a.model, longest, 4 + a.decode_batch), flush=True)


def llama_child(args):
    """Runs in its own process: evaluates the prompts in order with prefix reuse."""
    import numpy as np
    from llama_cpp import Llama
    req = json.loads(sys.stdin.read())
    if req.get("critique"):
        return critique_child(req)
    t0 = time.perf_counter()
    llm = Llama(model_path=req["model"], n_ctx=req["n_ctx"], n_batch=512, n_ubatch=512,
                n_threads=req["threads"], n_threads_batch=req["threads"], logits_all=False,
                verbose=False)
    tok_a = llm.tokenize(b"A", add_bos=False, special=False)
    tok_b = llm.tokenize(b"B", add_bos=False, special=False)
    assert len(tok_a) == 1 and len(tok_b) == 1, (tok_a, tok_b)
    out, total, evaluated, longest = [], 0, 0, 0
    for prompt in req["prompts"]:
        toks = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        cached = llm.input_ids[:llm.n_tokens].tolist()
        lcp = 0
        while lcp < min(len(cached), len(toks)) and cached[lcp] == toks[lcp]:
            lcp += 1
        lcp = min(lcp, len(toks) - 1)  # the last token is evaluated for its logits
        llm.n_tokens = lcp
        llm.eval(toks[lcp:])
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
        logits = logits.astype(np.float64)
        m = logits.max()
        lse = m + math.log(np.exp(logits - m).sum())
        out.append([float(logits[tok_a[0]] - lse), float(logits[tok_b[0]] - lse)])
        total += len(toks)
        longest = max(longest, len(toks))
        evaluated += len(toks) - lcp
    import llama_cpp
    print(json.dumps({"wall": time.perf_counter() - t0, "lp": out, "total": total,
                      "evaluated": evaluated, "longest": longest,
                      "system_info": llama_cpp.llama_print_system_info().decode()}))


def p_text1(lp1, lp2):
    pa1 = math.exp(lp1[0]) / (math.exp(lp1[0]) + math.exp(lp1[1]))
    pb2 = math.exp(lp2[1]) / (math.exp(lp2[0]) + math.exp(lp2[1]))
    return (pa1 + pb2) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gavel", default=str(ROOT / "build/apps/gavel/gavel"))
    ap.add_argument("--model", default=str(pathlib.Path.home() / ".cache/gavel/models/"
                                           "qwen2.5-coder-0.5b-instruct.gguf"))
    ap.add_argument("--workload", nargs="+", default=["tournament", "independent"],
                    choices=["tournament", "independent", "critique"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--writers", type=int, default=5)
    ap.add_argument("--prompts", type=int, default=2)
    ap.add_argument("--response-chars", type=int, default=600)
    ap.add_argument("--pairs", type=int, default=12)
    ap.add_argument("--critiques", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--decode-batch", type=int, default=8)
    ap.add_argument("--level", choices=["avx512", "avx2"], default=None,
                    help="ISA level of both engines (default: each engine's best for this CPU)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return llama_child(a)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="gavel-judge-bench-"))
    genv, lenv = dict(os.environ), dict(os.environ)
    if a.level:
        genv["GAVEL_ISA"] = a.level
        lenv = level_env(a.level)
    print(f"model {a.model}; {a.threads} threads; level: {a.level or 'best for this CPU'}",
          flush=True)
    for wl in a.workload:
        if wl == "critique":
            critique_workload(a, tmp, genv, lenv)
            continue
        items = (tournament_items(a.writers, a.prompts, a.response_chars) if wl == "tournament"
                 else independent_items(a.pairs))
        g_wall, recs, g_reuse = run_gavel(a.gavel, a.model, a.threads, items, tmp, wl, genv)
        prompts = [p for r in recs for p in (r["pass1"]["prompt"], r["pass2"]["prompt"])]
        req = {"model": a.model, "n_ctx": 8192, "threads": a.threads, "prompts": prompts}
        ll = run_llama_child(req, lenv, a.level)
        diff = max(abs(rec["p_text1"] - p_text1(ll["lp"][2 * i], ll["lp"][2 * i + 1]))
                   for i, rec in enumerate(recs))
        n, tok = len(recs), ll["total"]
        print(f"{wl}: {n} pairs, {tok} prompt tokens ({ll['evaluated']} evaluated by llama.cpp "
              f"after prefix reuse; gavel: {g_reuse})")
        print(f"  gavel      {g_wall:7.1f} s  {n / g_wall:6.3f} pairs/s  {tok / g_wall:7.1f} "
              f"prompt tok/s")
        print(f"  llama.cpp  {ll['wall']:7.1f} s  {n / ll['wall']:6.3f} pairs/s  "
              f"{tok / ll['wall']:7.1f} prompt tok/s")
        print(f"  ratio {ll['wall'] / g_wall:.2f}x; max |P(text1) gavel - llama.cpp| {diff:.2e}")
        # gavel keeps 4 sequences (--prefix-cache 4), each at most the longest prompt.
        print(memory_line(a.model, ll["longest"], 4), flush=True)


if __name__ == "__main__":
    main()
