"""End to end on a real GGUF judge (Qwen2.5-Coder-0.5B-Instruct) through EmbeddedBackend: a few
LLMBar pairs with the card protocol; each pass's A/B log-probabilities checked against llama.cpp
(llama-cpp-python, the whole prompt evaluated at once) on the very prompts gavel rendered; then
a re-run that must come entirely from the store.

The engine sums in llama.cpp's exact order (docs/layers/engine.md) and the backend reuses
prefixes only at exact split points (docs/judge.md), so the second pass of each pair, which
continues the first pass's cached prefix, must still match llama.cpp to rounding in the final
double-precision log-softmax."""
import json
import math
import re

import numpy as np
import pytest
from llama_cpp import Llama

from conftest import QWEN25, real_model
from judge_util import run_judge

N = 4
# Measured 2026-11-29 (engine at e93b8f7): max |gavel - llama.cpp| 7.1e-14 over the 8 passes x
# A/B, with 604 of 2,516 prompt tokens reused (0.28 before the engine's exact-order kernels). Splitting a prompt at a point
# that is not an exact split moved Qwen2.5-0.5B log-probs by 0.26-0.39 (docs/judge.md).
EXACT = 1e-6
TARGET = 0.02  # the project's parity target
PREF_MARGIN = 0.5


def _pairs(shared_dir):
    lines = (shared_dir / "data/bench/llmbar/pairs.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines[:N]]


def _args(model):
    return ("--model", str(model), "--threads", "2", "--ctx", "4096")


@pytest.fixture(scope="module")
def judged(gavel_bin, tmp_path_factory, shared_dir):
    """gavel's records and llama.cpp's A/B logprobs for the same rendered prompts."""
    model = real_model(QWEN25)
    tmp = tmp_path_factory.mktemp("judge_real")
    r, recs = run_judge(gavel_bin, tmp, _pairs(shared_dir), *_args(model), "--keep-prompts",
                        backend="")
    assert len(recs) == N, r.stderr
    assert "accuracy" in r.stderr, r.stderr
    reuse = re.search(r"prefix reuse: \d+ prompts, (\d+) prompt tokens: (\d+) reused", r.stderr)
    assert reuse, r.stderr
    print(f"prefix reuse: {reuse.group(2)} of {reuse.group(1)} prompt tokens")
    assert int(reuse.group(2)) > 0, "the second passes should have reused the first passes' prefix"
    llm = Llama(model_path=str(model), n_ctx=4096, n_threads=2, logits_all=True, verbose=False)
    id_a = llm.tokenize(b"A", add_bos=False)[0]
    id_b = llm.tokenize(b"B", add_bos=False)[0]
    rows = []
    for rec in recs:
        for k, name in enumerate(("pass1", "pass2")):
            p = rec[name]
            toks = llm.tokenize(p["prompt"].encode("utf-8"), add_bos=False, special=True)
            assert len(toks) == rec["prompt_tokens"][k], (rec["id"], name, "token count differs")
            llm.reset()
            llm.eval(toks)
            logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            m = logits.max()
            lse = m + math.log(np.exp(logits - m).sum())
            rows.append(dict(id=rec["id"], name=name, gavel=(p["logprob_A"], p["logprob_B"]),
                             ref=(logits[id_a] - lse, logits[id_b] - lse)))
    for x in rows:
        print(f"{x['id']} {x['name']}: gavel A {x['gavel'][0]:.4f} B {x['gavel'][1]:.4f} | "
              f"llama.cpp A {x['ref'][0]:.4f} B {x['ref'][1]:.4f} | "
              f"diff A {x['gavel'][0] - x['ref'][0]:+.2e} B {x['gavel'][1] - x['ref'][1]:+.2e}")
    return dict(model=model, tmp=tmp, recs=recs, rows=rows, stderr=r.stderr)


def _max_diff(rows):
    return max(abs(g - f) for x in rows for g, f in zip(x["gavel"], x["ref"]))


def test_ab_logprobs_match_llama_cpp(judged):
    d = _max_diff(judged["rows"])
    print(f"max |gavel - llama.cpp| over {len(judged['rows'])} passes x A/B: {d:.3g}")
    assert d <= TARGET
    assert d <= EXACT


def test_ab_preference_agrees_with_llama_cpp(judged):
    clear = [x for x in judged["rows"] if abs(x["ref"][0] - x["ref"][1]) > PREF_MARGIN]
    print(f"{len(clear)} of {len(judged['rows'])} passes with |lA - lB| > {PREF_MARGIN} in llama.cpp")
    for x in clear:
        assert (x["gavel"][0] > x["gavel"][1]) == (x["ref"][0] > x["ref"][1]), x


def test_rerun_comes_from_the_store(judged, gavel_bin, shared_dir):
    r2, recs2 = run_judge(gavel_bin, judged["tmp"], _pairs(shared_dir), *_args(judged["model"]),
                          backend="")
    assert f"0 new judgments, {N} from store" in r2.stderr, r2.stderr
    assert [x["p_text1"] for x in recs2] == [x["p_text1"] for x in judged["recs"]]
