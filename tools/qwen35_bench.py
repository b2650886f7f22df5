#!/usr/bin/env python3
"""llama.cpp (llama-cpp-python) prefill speed on a qwen35 GGUF, for the figure beside gavel's
bench_qwen35 BM_Qwen35Prefill: the same 512 token ids, next-token logits only, n_threads 2."""
import argparse
import time

import llama_cpp

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--tokens", type=int, default=512)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=1)
args = ap.parse_args()
toks = [1000 + (i * 7919) % 100000 for i in range(args.tokens)]  # as bench_qwen35.cpp
llm = llama_cpp.Llama(model_path=args.model, n_ctx=4096, n_batch=512, n_threads=args.threads,
                      n_threads_batch=args.threads, verbose=False)
llm.eval(toks[:8])  # warm the mapping
for _ in range(args.reps):
    llm.reset()
    llm._ctx.kv_cache_clear()
    t0 = time.perf_counter()
    llm.eval(toks)
    dt = time.perf_counter() - t0
    print(f"llama.cpp prefill {args.tokens} tokens: {dt:.2f} s = {args.tokens / dt:.1f} tok/s")
