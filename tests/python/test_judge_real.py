import pytest
"""End to end on a real GGUF judge (Qwen2.5-Coder-0.5B-Instruct): 4 LLMBar pairs with the
card protocol, A/B logprobs checked against llama.cpp (llama-cpp-python) on the very prompts gavel
rendered, then a resumed re-run that must come entirely from the store."""
import json
import math

import numpy as np
from llama_cpp import Llama

from conftest import QWEN25, real_model
from judge_util import run_judge

N = 4


def _pairs(shared_dir):
    lines = (shared_dir / "data/bench/llmbar/pairs.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines[:N]]


@pytest.mark.xfail(strict=False, reason="reference side fixed (logits_all) but not re-verified; engine parity gap on real models is open")
def test_pairwise_logprob_matches_llama_cpp(gavel_bin, tmp_path, shared_dir):
    model = real_model(QWEN25)
    r, recs = run_judge(gavel_bin, tmp_path, _pairs(shared_dir), "--model", str(model),
                        "--keep-prompts", "--threads", "2", "--ctx", "4096", backend="")
    assert len(recs) == N
    assert "accuracy" in r.stderr
    llm = Llama(model_path=str(model), n_ctx=4096, n_threads=2, logits_all=True, verbose=False)
    id_a = llm.tokenize(b"A", add_bos=False)[0]
    id_b = llm.tokenize(b"B", add_bos=False)[0]
    for rec in recs[:2]:  # llama.cpp reference on a subset keeps the runtime modest
        for name in ("pass1", "pass2"):
            p = rec[name]
            toks = llm.tokenize(p["prompt"].encode("utf-8"), add_bos=False, special=True)
            llm.reset()
            llm.eval(toks)
            logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            m = logits.max()
            lse = m + math.log(np.exp(logits - m).sum())
            assert abs(p["logprob_A"] - (logits[id_a] - lse)) < 2e-2, (rec["id"], name)
            assert abs(p["logprob_B"] - (logits[id_b] - lse)) < 2e-2, (rec["id"], name)
    r2, recs2 = run_judge(gavel_bin, tmp_path, _pairs(shared_dir), "--model", str(model),
                          "--threads", "2", "--ctx", "4096", backend="")
    assert f"0 new judgments, {N} from store" in r2.stderr
    assert [x["p_text1"] for x in recs2] == [x["p_text1"] for x in recs]
