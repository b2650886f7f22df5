"""Qwen3.5 (arch qwen35) parity: gavel's next-token log-probs against llama.cpp (llama-cpp-python)
on random-weight qwen35 GGUFs (tools/make_tiny_qwen35.py) at F32, F16, Q8_0 and Q4_K.

Prompts are real judge prompts (LLMBar pairs in the creative-writing judge's system + JSON user
format, rendered with the Qwen3.5-4B chat template through jinja2, thinking on and off) plus one
prompt of > 4,000 tokens, where the delta rule's long-range error would show. Both engines get
the same token ids (tokenized by llama.cpp), so this checks the forward pass only.
Every test runs at each ISA level (tensor/isa.h) against llama.cpp built for that level
(llamacpp_ref.py); a level this CPU cannot run is reported as skipped, naming the CPU.
Pass: bit-identical logits (over llama.cpp's top-20 the log-probs agree to EXACT, see
test_parity_llamacpp.py) and the same top-1 token for every prompt.
"""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SHARED, require_level
from llamacpp_ref import LEVELS, reference

TINY = pathlib.Path(os.environ.get("GAVEL_TINY", pathlib.Path.home() / ".cache/gavel/tiny"))
TYPES = ["f32", "f16", "q8_0", "q4_k"]
EXACT = 1e-9
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


def llama_reference(level: str, path: pathlib.Path, texts: list, n_ctx: int):
    docs = [{"text": t, "add_bos": False, "special": True} for t in texts]
    res = reference(level, {"model": str(path), "n_ctx": n_ctx, "docs": docs})["results"]
    return [r["tokens"] for r in res], [(np.array(r["lp"]), r["top"]) for r in res]


def gavel_logprobs(gavel_bin, env, path, ids, score_ids, n_ctx, tmp_path):
    batch = tmp_path / f"{path.stem}.jsonl"
    batch.write_text("".join(json.dumps({"tokens": t, "score_ids": s}) + "\n"
                             for t, s in zip(ids, score_ids)))
    r = subprocess.run([str(gavel_bin), "logprobs", str(path), "--batch-file", str(batch),
                        "--top-k", "1", "--ctx", str(n_ctx), "--threads", "2"],
                       capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert len(lines) == len(ids), r.stdout[-2000:]
    return lines


@pytest.fixture(scope="module")
def texts():
    return prompts()


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("qtype", TYPES)
def test_qwen35_parity_with_llama_cpp(gavel_bin, system_info, level, qtype, texts, tmp_path):
    env = require_level(system_info, level)
    path = model_path(f"qwen35-tiny-{qtype}.gguf")
    n_ctx = 8192
    ids, ref = llama_reference(level, path, texts, n_ctx)
    assert len(ids) >= 50 and max(len(t) for t in ids) >= 4000, [len(t) for t in ids]
    out = gavel_logprobs(gavel_bin, env, path, ids, [t for _, t in ref], n_ctx, tmp_path)
    diffs, worst_long, argmax_bad = [], 0.0, []
    for k, ((lp, t20), o) in enumerate(zip(ref, out)):
        diff = float(np.abs(np.array(o["score_logprobs"]) - lp).max())
        diffs.append(diff)
        if len(ids[k]) >= 4000:
            worst_long = diff
        if o["top"][0]["id"] != int(t20[0]):
            argmax_bad.append((k, int(t20[0]), o["top"][0]["id"]))
    print(f"\nqwen35 {level} {qtype}: {len(ids)} prompts (longest {max(len(t) for t in ids)} "
          f"tokens), top-20 logprob max abs diff {max(diffs):.3g} (long prompt {worst_long:.3g}), "
          f"{sum(d > EXACT for d in diffs)} not bit-identical, argmax differs on "
          f"{len(argmax_bad)}")
    assert not argmax_bad, argmax_bad
    assert max(diffs) <= EXACT


@pytest.mark.parametrize("level", LEVELS)
def test_qwen35_untied_mtp_model_runs_and_matches(gavel_bin, system_info, level, texts,
                                                  tmp_path):
    """Untied output.weight and a stored MTP (nextn) block that must be skipped."""
    env = require_level(system_info, level)
    path = model_path("qwen35-tiny-untied-mtp-f32.gguf")
    ids, ref = llama_reference(level, path, texts[:8], 4096)
    out = gavel_logprobs(gavel_bin, env, path, ids, [t for _, t in ref], 4096, tmp_path)
    worst = max(float(np.abs(np.array(o["score_logprobs"]) - lp).max())
                for (lp, t), o in zip(ref, out))
    print(f"qwen35 {level} untied+mtp f32: max abs diff {worst:.3g}")
    assert all(o["top"][0]["id"] == t[0] for (_, t), o in zip(ref, out))
    assert worst <= EXACT


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
