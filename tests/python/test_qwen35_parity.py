"""Qwen3.5 (arch qwen35) parity: gavel's next-token log-probs against llama.cpp (llama-cpp-python)
on random-weight qwen35 GGUFs (tools/make_tiny_qwen35.py) at F32, F16, Q8_0 and Q4_K.

Prompts are real judge prompts (LLMBar pairs in the creative-writing judge's system + JSON user
format, rendered with the Qwen3.5-4B chat template through jinja2, thinking on and off) plus one
prompt of > 4,000 tokens, where the delta rule's long-range error would show. Both engines get
the same token ids (tokenized by llama.cpp), so this checks the forward pass only.
Pass: for every prompt the top-1 token agrees and, over llama.cpp's top-20, the log-probs differ
by at most 0.02.
"""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SHARED

TINY = pathlib.Path(os.environ.get("GAVEL_TINY", pathlib.Path.home() / ".cache/gavel/tiny"))
TYPES = ["f32", "f16", "q8_0", "q4_k"]
TOL = 0.02
SYSTEM = (
    "You are a specialized AI assistant tasked with evaluating two responses to a given "
    "instruction. Your purpose is to fairly compare the quality of each response and select the "
    "better one. The user provides the instruction and the two responses A and B. Evaluate based "
    "on accuracy, clarity, and originality, considering repetitive or unoriginal responses as "
    "lower quality.")


def model_path(name: str) -> pathlib.Path:
    path = TINY / name
    if not path.exists():
        r = subprocess.run([sys.executable, str(ROOT / "tools/make_tiny_qwen35.py"), "--which",
                            "all", "--out", str(TINY)], capture_output=True, text=True)
        if r.returncode != 0 or not path.exists():
            pytest.fail(f"cannot make {path}: {r.stderr[-2000:]}")
    return path


def render(messages, enable_thinking: bool) -> str:
    import jinja2
    import jinja2.sandbox

    def raise_exception(msg):
        raise jinja2.TemplateError(msg)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False, **kw)
    tmpl = env.from_string((SHARED / "data/chat_templates/Qwen3.5-4B.jinja").read_text())
    return tmpl.render(messages=messages, add_generation_prompt=True,
                       enable_thinking=enable_thinking)


def prompts() -> list:
    rows = [json.loads(line) for line in
            (SHARED / "data/bench/llmbar/pairs.jsonl").read_text().splitlines()[:56]]
    out = []
    for i, r in enumerate(rows):
        user = json.dumps({"instruction": r["instruction"], "A": r["response_a"],
                           "B": r["response_b"]}, ensure_ascii=False)
        out.append(render([{"role": "system", "content": SYSTEM},
                           {"role": "user", "content": user}], enable_thinking=bool(i % 2)))
    samples = [json.loads(line) for line in (SHARED / "data/eqbench/creative-writing-v3/"
               "creative_writing_bench_v3_samples.jsonl").read_text().splitlines()[:4]]
    long_user = json.dumps({"instruction": samples[0]["writing_prompt"],
                            "A": samples[0]["response"] + "\n\n" + samples[1]["response"],
                            "B": samples[2]["response"] + "\n\n" + samples[3]["response"]},
                           ensure_ascii=False)
    out.append(render([{"role": "system", "content": SYSTEM},
                       {"role": "user", "content": long_user}], enable_thinking=False))
    return out


def llama_reference(path: pathlib.Path, texts: list, n_ctx: int):
    import llama_cpp
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=2, verbose=False)
    ids, logprobs = [], []
    for text in texts:
        toks = llm.tokenize(text.encode(), add_bos=False, special=True)
        llm.reset()
        llm._ctx.kv_cache_clear()  # recurrent state cannot be partially removed: clear all
        llm.eval(toks)
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
        logits = logits.astype(np.float64)
        m = logits.max()
        lp = logits - m - np.log(np.exp(logits - m).sum())
        ids.append(toks)
        logprobs.append(lp)
    del llm
    return ids, logprobs


def gavel_logprobs(gavel_bin, path, ids, score_ids, n_ctx, tmp_path):
    batch = tmp_path / f"{path.stem}.jsonl"
    batch.write_text("".join(json.dumps({"tokens": t, "score_ids": s}) + "\n"
                             for t, s in zip(ids, score_ids)))
    r = subprocess.run([str(gavel_bin), "logprobs", str(path), "--batch-file", str(batch),
                        "--top-k", "1", "--ctx", str(n_ctx), "--threads", "2"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert len(lines) == len(ids), r.stdout[-2000:]
    return lines


@pytest.fixture(scope="module")
def texts():
    return prompts()


@pytest.mark.parametrize("qtype", TYPES)
def test_qwen35_parity_with_llama_cpp(gavel_bin, qtype, texts, tmp_path):
    path = model_path(f"qwen35-tiny-{qtype}.gguf")
    n_ctx = 8192
    ids, ref = llama_reference(path, texts, n_ctx)
    assert len(ids) >= 50 and max(len(t) for t in ids) >= 4000, [len(t) for t in ids]
    top20 = [list(np.argsort(-lp, kind="stable")[:20]) for lp in ref]
    out = gavel_logprobs(gavel_bin, path, ids, [[int(i) for i in t] for t in top20], n_ctx,
                         tmp_path)
    worst, worst_long, argmax_bad = 0.0, 0.0, []
    for k, (lp, t20, o) in enumerate(zip(ref, top20, out)):
        got = np.array(o["score_logprobs"])
        diff = float(np.abs(got - lp[t20]).max())
        worst = max(worst, diff)
        if len(ids[k]) >= 4000:
            worst_long = diff
        if o["top"][0]["id"] != int(t20[0]):
            # A near-tie may legitimately flip; it must then be within tolerance.
            if lp[t20[0]] - lp[o["top"][0]["id"]] > TOL:
                argmax_bad.append((k, int(t20[0]), o["top"][0]["id"]))
    print(f"\nqwen35 {qtype}: {len(ids)} prompts (longest {max(len(t) for t in ids)} tokens), "
          f"top-20 logprob max abs diff {worst:.5f} (long prompt {worst_long:.5f})")
    assert not argmax_bad, argmax_bad
    assert worst <= TOL


def test_qwen35_untied_mtp_model_runs_and_matches(gavel_bin, texts, tmp_path):
    """Untied output.weight and a stored MTP (nextn) block that must be skipped."""
    path = model_path("qwen35-tiny-untied-mtp-f32.gguf")
    sub = texts[:8]
    ids, ref = llama_reference(path, sub, 4096)
    top20 = [[int(i) for i in np.argsort(-lp, kind="stable")[:20]] for lp in ref]
    out = gavel_logprobs(gavel_bin, path, ids, top20, 4096, tmp_path)
    worst = max(float(np.abs(np.array(o["score_logprobs"]) - lp[t]).max())
                for lp, t, o in zip(ref, top20, out))
    print(f"qwen35 untied+mtp f32: max abs diff {worst:.5f}")
    assert all(o["top"][0]["id"] == t[0] for o, t in zip(out, top20))
    assert worst <= TOL


def test_qwen35_info_shows_layer_pattern(gavel_bin):
    """`gavel info` reads the layer kinds from metadata and does not count the MTP block."""
    import gguf

    path = model_path("qwen35-tiny-untied-mtp-f32.gguf")
    r = subprocess.run([str(gavel_bin), "info", str(path), "--json"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    reader = gguf.GGUFReader(str(path))
    blocks = int(reader.fields["qwen35.block_count"].parts[-1][0])
    assert info["layers"]["nextn_skipped"] == 1
    assert info["hparams"]["n_layer"] == blocks - 1
    assert info["layers"]["pattern"].replace(" ", "") == "LLLA"
    assert info["layers"]["deltanet"] == 3 and info["layers"]["full_attention"] == 1
