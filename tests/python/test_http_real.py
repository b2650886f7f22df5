"""`gavel judge --backend` on real engines started here on 127.0.0.1 with the default small model
(Qwen2.5-Coder-0.5B-Instruct GGUF), compared with `gavel judge --model` (the embedded engine,
itself checked against llama.cpp elsewhere):

* llama.cpp's llama-server (built by scripts/setup.sh): one slot, flash attention off, the
  server's prompt cache off (gavel's default), so every request evaluates its whole prompt in
  one batch as the embedded engine does. P(text1) and each pass's A-vs-B margin agree within
  1e-4 and the critique text at temperature 0 is identical. The server normalizes its
  probabilities with a float32 sum over the 152k-token vocabulary, gavel with a double
  log-sum-exp: every log-probability of one position is shifted by the same ~2.5e-4 (measured),
  which the margin and P(text1) cancel. The same server killed mid-run and restarted loses
  nothing.
* llama-cpp-python's OpenAI-compatible server (a text prompt, top-k keyed by token text). It
  always reuses the KV cache of the longest prefix the previous prompt shares, so a prompt is
  evaluated in two batches split at an arbitrary token, which sums in another order than one
  batch (docs/judge.md, "exact split"): differences up to about 0.1 are that, not the protocol.
"""
import json
import re
import subprocess
import time

from conftest import QWEN25, real_model
from http_util import (SERVER_ENV, VENV_PY, free_port, llama_server, llama_server_cmd, shortest_pairs,
                       store_count, wait_ready)


def judge(gavel_bin, tmp, name, rows, *args):
    inp = tmp / f"{name}.in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp / f"{name}.jsonl"
    cmd = [str(gavel_bin), "judge", "--input", str(inp), "--out", str(out), "--store", str(tmp / f"{name}.sqlite"),
           "--no-progress", "--threads", "2", *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, f"{cmd}\n{r.stderr}"
    return r, [json.loads(x) for x in out.read_text().splitlines()]


def test_llama_server_pairwise_matches_the_embedded_engine(gavel_bin, shared_dir, tmp_path):
    model = real_model(QWEN25)
    rows = shortest_pairs(shared_dir, 3)
    with llama_server(model) as (url, _):
        r, http = judge(gavel_bin, tmp_path, "http", rows, "--backend", url, "--model", model)
    assert "model http:llama.cpp:" in r.stderr and ":lp=raw-full-vocab" in r.stderr, r.stderr
    _, embedded = judge(gavel_bin, tmp_path, "embedded", rows, "--model", model)
    worst_p = worst_margin = worst_shift = 0.0
    for h, e in zip(http, embedded):
        assert h["id"] == e["id"]
        worst_p = max(worst_p, abs(h["p_text1"] - e["p_text1"]))
        for p in ("pass1", "pass2"):
            assert h[p]["exact"] is True
            da = h[p]["logprob_A"] - e[p]["logprob_A"]
            db = h[p]["logprob_B"] - e[p]["logprob_B"]
            worst_margin = max(worst_margin, abs(da - db))
            worst_shift = max(worst_shift, abs(da), abs(db))
    assert worst_p <= 1e-4, worst_p
    assert worst_margin <= 1e-4, worst_margin
    assert worst_shift <= 2e-3, worst_shift  # the float32 normalization (module docstring)


def test_llama_server_critique_text_is_identical_at_temperature_zero(gavel_bin, shared_dir, tmp_path):
    model = real_model(QWEN25)
    rows = [json.loads(x) for x in open(shared_dir / "data/bench/prometheus_eval_abs/vicuna_eval_absolute.jsonl")][:2]
    args = ["--protocol", "critique", "--mode", "absolute-ref", "--max-tokens", "48"]
    with llama_server(model) as (url, _):
        _, http = judge(gavel_bin, tmp_path, "http", rows, "--backend", url, "--model", model, *args)
    _, embedded = judge(gavel_bin, tmp_path, "embedded", rows, "--model", model, *args)
    for h, e in zip(http, embedded):
        hp, ep = h["passes"][0], e["passes"][0]
        assert hp["critique"] == ep["critique"]
        assert hp["finish"] == ep["finish"]
        assert hp["generated_tokens"] == ep["generated_tokens"]
        if ep["verdict"] is not None:
            for label, p in ep["verdict"]["probs"].items():
                assert abs(hp["verdict"]["probs"][label] - p) <= 1e-4


def test_llama_server_killed_mid_run_and_restarted(gavel_bin, shared_dir, tmp_path):
    """A real server dies mid-run and comes back on the same port: every pair is judged once."""
    model = real_model(QWEN25)
    rows = shortest_pairs(shared_dir, 4)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    start = llama_server_cmd(model, port)
    server = subprocess.Popen(start, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=SERVER_ENV)
    try:
        wait_ready(url, "/health", proc=server)
        inp = tmp_path / "in.jsonl"
        inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
        store = tmp_path / "s.sqlite"
        gavel = subprocess.Popen([str(gavel_bin), "judge", "--backend", url, "--model", str(model), "--input", str(inp),
                                  "--out", str(tmp_path / "out.jsonl"), "--store", str(store), "--batch", "1",
                                  "--no-progress", "--down-timeout", "300"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 600
        while time.time() < deadline and (not store.exists() or store_count(gavel_bin, store) < 1):
            time.sleep(0.5)
        server.kill()
        server.wait()
        time.sleep(2)
        server = subprocess.Popen(start, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=SERVER_ENV)
        _, err = gavel.communicate(timeout=1800)
        assert gavel.returncode == 0, err
    finally:
        server.kill()
    assert store_count(gavel_bin, store) == 4
    recs = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in recs] == [r["id"] for r in rows]
    assert re.search(r"[1-9]\d* failed", err), err


def test_llama_cpp_python_server_agrees_with_the_embedded_engine(gavel_bin, shared_dir, tmp_path):
    model = real_model(QWEN25)
    rows = shortest_pairs(shared_dir, 3)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(VENV_PY), "-m", "llama_cpp.server", "--model", str(model), "--logits_all", "true",
                               "--n_threads", "2", "--n_ctx", "4096", "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(url, "/v1/models", proc=server)
        r, http = judge(gavel_bin, tmp_path, "http", rows, "--backend", url, "--model", model)
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert "model http:openai:" in r.stderr and "tokenizer check passed (/tokenize ids equal)" in r.stderr, r.stderr
    _, embedded = judge(gavel_bin, tmp_path, "embedded", rows, "--model", model)
    diffs = []
    for h, e in zip(http, embedded):
        for p in ("pass1", "pass2"):
            assert h[p]["exact"] is True  # A and B are within its top-100
            for k in ("logprob_A", "logprob_B"):
                diffs.append(abs(h[p][k] - e[p][k]))
            margin = e[p]["logprob_A"] - e[p]["logprob_B"]
            if abs(margin) > 0.5:
                assert (h[p]["logprob_A"] > h[p]["logprob_B"]) == (margin > 0)
    # The server's prefix reuse (see the module docstring) bounds the differences; where it
    # happened to split at an exact point the values agree to float32 precision.
    assert max(diffs) <= 0.5, diffs
    assert min(diffs) <= 1e-5, diffs
