"""`gavel tokenize`: output format, flags, input sources and clear errors (ids are checked
against llama.cpp in test_tokenizer_parity.py)."""
import json
import subprocess

import llama_cpp
import pytest

from conftest import QWEN25, SHARED, real_model


def run(gavel_bin, *args):
    return subprocess.run([str(gavel_bin), "tokenize", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def qwen():
    return real_model(QWEN25)


@pytest.fixture(scope="module")
def ref(qwen):
    return llama_cpp.Llama(model_path=str(qwen), vocab_only=True, verbose=False)


def test_prints_one_json_array_line(gavel_bin, qwen, ref):
    text = "Judge: response A is better.\n"
    r = run(gavel_bin, qwen, text)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == ref.tokenize(text.encode(), add_bos=True, special=False)


def test_special_flag_parses_control_tokens(gavel_bin, qwen, ref):
    text = "<|im_start|>user\nhi<|im_end|>"
    plain = json.loads(run(gavel_bin, qwen, text).stdout)
    special = json.loads(run(gavel_bin, qwen, text, "--special").stdout)
    assert special == ref.tokenize(text.encode(), add_bos=True, special=True)
    assert special[0] == 151644 and 151644 not in plain


def test_no_bos_with_a_bos_vocabulary(gavel_bin):
    vocab = SHARED / "data/tokenizer_tests/ggml-vocab-deepseek-coder.gguf"  # add_bos = true
    with_bos = json.loads(run(gavel_bin, vocab, "hello").stdout)
    without = json.loads(run(gavel_bin, vocab, "hello", "--no-bos").stdout)
    assert with_bos[0] == 32013 and with_bos[1:] == without


def test_text_file_is_read_byte_exact(gavel_bin, qwen, ref, tmp_path):
    data = "line one\r\n\tline two  \n\n".encode() + b"\xff tail"
    f = tmp_path / "in.txt"
    f.write_bytes(data)
    r = run(gavel_bin, qwen, "--text-file", f, "--no-bos")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == ref.tokenize(data, add_bos=False, special=False)


def test_batch_reports_the_bad_line(gavel_bin, qwen, tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text('{"text": "ok"}\n{"hex": "zz"}\n')
    r = run(gavel_bin, qwen, "--batch", f)
    assert r.returncode != 0
    assert "b.jsonl:2" in r.stderr and "hex" in r.stderr


@pytest.mark.parametrize("args, needle", [
    (["/no/such/model.gguf", "x"], "/no/such/model.gguf"),
    (["{qwen}", "--text-file", "/no/such/text.txt"], "/no/such/text.txt"),
    (["{qwen}"], "exactly one"),
    (["{qwen}", "x", "--text-file", "/etc/hostname"], "exactly one"),
    (["{spm}", "x"], "'llama'"),
])
def test_errors_are_clear(gavel_bin, qwen, args, needle):
    spm = SHARED / "data/tokenizer_tests/ggml-vocab-llama-spm.gguf"
    args = [a.format(qwen=qwen, spm=spm) for a in args]
    r = run(gavel_bin, *args)
    assert r.returncode == 1
    assert r.stderr.startswith("gavel: ") and needle in r.stderr, r.stderr
