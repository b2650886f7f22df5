"""Next-token log-prob parity of gavel's CPU engine against llama.cpp (llama-cpp-python) on the
same GGUF and the SAME token ids: top-20 log-probs of llama.cpp vs gavel's log-probs for those
ids, and the same argmax. Many prompts go through one `gavel logprobs --batch-file` process.

Every test runs at each ISA level (tensor/isa.h) against llama.cpp built for that level
(llamacpp_ref.py); a level this CPU cannot run is reported as skipped, naming the CPU.
Tiny random models (tools/make_tiny_gguf.py: llama, llama-rope, llama3, qwen2, qwen3 at f32/f16/
q8_0/q4_k_m) and both real checkpoints must be bit-identical: the same logits give log-probs
equal to ~1e-12 (EXACT; one last-bit difference in a logit shows as ~1e-7), and the same argmax.
The real checkpoints are numerically ill-conditioned (llama.cpp itself moves their log-probs by
~0.5 when only its batch size changes, test_reference_self_spread), so this holds only because
gavel sums in llama.cpp's exact kernel orders (src/tensor/exact_order.h, docs/layers/engine.md).
"""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from conftest import QWEN25, SHARED, SMOLLM2, real_model, require_level
from llamacpp_ref import LEVELS, reference as llama_reference

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = pathlib.Path(os.environ.get("GAVEL_TINY", pathlib.Path.home() / ".cache/gavel/tiny"))
VARIANTS = ["llama", "llama-rope", "llama3", "qwen2", "qwen3"]
TYPES = ["f32", "f16", "q8_0", "q4_k_m"]
EXACT = 1e-9  # log-prob difference of bit-identical logits (different summation of the lse)
SUMMARY = {}


def tiny_model(variant, qtype):
    path = TINY / f"{variant}-{qtype}.gguf"
    if not path.exists():
        r = subprocess.run([sys.executable, str(ROOT / "tools/make_tiny_gguf.py"), "--variant",
                            variant, "--type", qtype, "--out", str(TINY)],
                           capture_output=True, text=True)
        if r.returncode != 0 or not path.exists():
            pytest.fail(f"cannot make {path}: {r.stderr[-2000:]}")
    return path


def prompt_texts(n_short):
    """n_short varied prompts from the shared data plus one long (>= 2,000 tokens) seed text."""
    texts = []
    for line in (SHARED / "data/bench/llmbar/pairs.jsonl").read_text().splitlines():
        d = json.loads(line)
        for v in d.values():
            if isinstance(v, str) and len(v) > 20:
                texts.append(v[:600])
        if len(texts) >= n_short:
            break
    seeds = sorted((SHARED / "seeds").glob("*"))
    long_text = "\n".join(p.read_text(errors="ignore") for p in seeds if p.is_file())
    return texts[:n_short], long_text


def reference(level, path, texts, long_text, n_ctx):
    docs = [{"text": t} for t in texts] + [{"text": long_text, "max_tokens": n_ctx - 16}]
    res = llama_reference(level, {"model": str(path), "n_ctx": n_ctx, "docs": docs})["results"]
    assert len(res[-1]["tokens"]) >= 2000, len(res[-1]["tokens"])
    reqs = [{"tokens": r["tokens"], "score_ids": r["top"]} for r in res]
    refs = [(np.array(r["lp"]), r["top"]) for r in res]
    return reqs, refs


def run_gavel(gavel_bin, env, path, reqs, tmp_path, n_ctx):
    batch = tmp_path / "reqs.jsonl"
    batch.write_text("\n".join(json.dumps(r) for r in reqs) + "\n")
    r = subprocess.run([str(gavel_bin), "logprobs", str(path), "--batch-file", str(batch),
                        "--threads", "2", "--ctx", str(n_ctx), "--top-k", "1"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.splitlines()]


def compare(gavel_bin, level, env, path, tmp_path, n_short):
    n_ctx = 3072
    texts, long_text = prompt_texts(n_short)
    reqs, refs = reference(level, path, texts, long_text, n_ctx)
    outs = run_gavel(gavel_bin, env, path, reqs, tmp_path, n_ctx)
    assert len(outs) == len(refs)
    diffs, same_argmax = [], 0
    for out, req, (lp, top) in zip(outs, reqs, refs):
        assert out["n_prompt_tokens"] == len(req["tokens"])
        g = np.array(out["score_logprobs"])
        diffs.append(float(np.abs(g - lp).max()))
        same_argmax += int(out["top"][0]["id"] == int(top[0]))
    return diffs, same_argmax, len(refs)


def report(key, diffs, same, n):
    SUMMARY[key] = (max(diffs), sum(d > EXACT for d in diffs), same, n)
    print(f"\nparity {key}: max|dlogprob| top-20 = {max(diffs):.3g}, "
          f"{sum(d > EXACT for d in diffs)}/{n} prompts not bit-identical, argmax agree {same}/{n}")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("variant,qtype", [(v, t) for v in VARIANTS for t in TYPES])
def test_tiny_parity(gavel_bin, system_info, tmp_path, level, variant, qtype):
    env = require_level(system_info, level)
    path = tiny_model(variant, qtype)
    diffs, same, n = compare(gavel_bin, level, env, path, tmp_path, 50)
    report(f"{level} {variant}-{qtype}", diffs, same, n)
    assert max(diffs) <= EXACT
    assert same == n


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", [SMOLLM2, QWEN25])
def test_real_model_parity(gavel_bin, system_info, tmp_path, level, name):
    env = require_level(system_info, level)
    diffs, same, n = compare(gavel_bin, level, env, real_model(name), tmp_path, 50)
    report(f"{level} {name}", diffs, same, n)
    assert max(diffs) <= EXACT
    assert same == n


def test_reference_self_spread():
    """llama.cpp's own log-probs move when only its batch size changes: the real models are
    ill-conditioned, which bounds how close any other engine can get without copying ggml's
    exact kernels."""
    from llama_cpp import Llama
    res = {}
    for nb in (512, 1):
        llm = Llama(model_path=str(real_model(QWEN25)), n_ctx=256, n_threads=2, n_batch=nb,
                    n_ubatch=nb, logits_all=False, verbose=False)
        ids = llm.tokenize(b"Once upon a time, in a land far away, there lived a", add_bos=True)
        llm.eval(ids)
        lg = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)
        res[nb] = lg - (lg.max() + np.log(np.exp(lg - lg.max()).sum()))
        del llm
    spread = float(np.abs(res[512] - res[1]).max())
    print(f"\nllama.cpp ubatch 512 vs 1 on {QWEN25}: max|dlogprob| = {spread:.4f}")
    assert spread > 0.02


def teardown_module(module):
    for k, (d, inexact, s, n) in sorted(SUMMARY.items()):
        print(f"PARITY {k}: max_abs_diff={d:.3g} inexact={inexact}/{n} argmax={s}/{n}")


def decode_compare(gavel_bin, level, env, path, tmp_path, n_prompts=8, n_decode=6):
    """Prefill all but the last n_decode tokens as one batch, then feed those one at a time
    (the generation path: single-token kernels) in both engines; compare the final position."""
    texts, _ = prompt_texts(40)
    res = llama_reference(level, {"model": str(path), "n_ctx": 1024, "n_decode": n_decode,
                                  "min_tokens": n_decode + 8, "limit": n_prompts,
                                  "docs": [{"text": t} for t in texts]})["results"]
    reqs = [{"tokens": r["tokens"], "prefill": len(r["tokens"]) - n_decode,
             "score_ids": r["top"]} for r in res]
    outs = run_gavel(gavel_bin, env, path, reqs, tmp_path, 1024)
    diffs = [float(np.abs(np.array(o["score_logprobs"]) - np.array(r["lp"])).max())
             for o, r in zip(outs, res)]
    same = sum(int(o["top"][0]["id"] == r["top"][0]) for o, r in zip(outs, res))
    return diffs, same, len(res)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ["llama-q4_k_m", "qwen2-q8_0", "llama3-f16", SMOLLM2, QWEN25])
def test_decode_parity(gavel_bin, system_info, tmp_path, level, name):
    env = require_level(system_info, level)
    path = real_model(name) if name.endswith(".gguf") else tiny_model(*name.split("-", 1))
    diffs, same, n = decode_compare(gavel_bin, level, env, path, tmp_path)
    report(f"{level} decode {name}", diffs, same, n)
    assert n >= 5
    assert max(diffs) <= EXACT
    assert same == n


def test_bad_prefill_is_a_clear_error(gavel_bin, tmp_path):
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"tokens": [1, 2], "prefill": 5}\n')
    r = subprocess.run([str(gavel_bin), "logprobs", str(tiny_model("llama", "f32")),
                        "--batch-file", str(batch)], capture_output=True, text=True)
    assert r.returncode != 0
    assert f"{batch}:1: prefill 5 must be within 1..2" in r.stderr
