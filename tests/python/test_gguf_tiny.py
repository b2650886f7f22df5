"""tools/make_tiny_gguf.py: generated models are deterministic, load and evaluate in llama.cpp,
carry the structure each variant promises, and gavel's reader agrees with gguf-py on them.
The llama3 variant's vocabulary (converted from tokenizer.json) must tokenize llama.cpp's
llama-bpe test vectors exactly."""
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
from gguf import GGUFReader
from gguf.quants import dequantize

from conftest import ROOT, SHARED, tiny_model

TOOL = ROOT / "tools/make_tiny_gguf.py"
TINY = pathlib.Path(os.environ.get("GAVEL_TINY", pathlib.Path.home() / ".cache/gavel/tiny"))


def _make(*args, out=TINY):
    r = subprocess.run([sys.executable, str(TOOL), "--out", str(out), *args],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _tiny(variant, typ):
    return tiny_model(variant, typ)  # made and checked in llama.cpp when absent


_READERS = {}


def _reader(path):
    """GGUFReader is slow on 150k-entry vocabularies: parse each file once per session."""
    if path not in _READERS:
        _READERS[path] = GGUFReader(path)
    return _READERS[path]


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_generation_is_deterministic_and_loads(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        if (TINY / "vocab-smollm2.json").exists():  # skip re-extracting the vocabulary
            shutil.copy(TINY / "vocab-smollm2.json", d)
    out = _make("--variant", "llama", "--type", "f32", "--type", "q8_0", out=a)
    assert "llama-q8_0.gguf" in out and "tokens" in out  # the llama.cpp check line
    _make("--variant", "llama", "--type", "f32", "--type", "q8_0", "--no-check", out=b)
    for name in ("llama-f32.gguf", "llama-q8_0.gguf"):
        assert _sha(a / name) == _sha(b / name), name


@pytest.mark.parametrize("variant,typ", [("llama-rope", "f32"), ("qwen2", "q4_k_m"),
                                         ("qwen3", "q4_k_m")])
def test_variant_structure(variant, typ):
    r = _reader(_tiny(variant, typ))
    names = {t.name: t for t in r.tensors}
    types = {t.tensor_type.name for t in r.tensors}
    arch = r.fields["general.architecture"].contents()
    n_vocab = len(r.fields["tokenizer.ggml.tokens"].data)
    assert names["token_embd.weight"].shape.tolist()[1] == n_vocab
    if variant == "llama-rope":
        assert arch == "llama" and "output.weight" in names
        rf = np.asarray(names["rope_freqs.weight"].data)
        assert rf.min() == 1.0 and rf.max() == 8.0 and len(np.unique(rf)) == 3
        assert n_vocab == 49152
    if variant == "qwen2":
        assert arch == "qwen2" and "blk.0.attn_q.bias" in names and "output.weight" in names
        assert n_vocab == 151936 and r.fields["tokenizer.ggml.pre"].contents() == "qwen2"
    if variant == "qwen3":
        assert arch == "qwen3" and "output.weight" not in names
        hd = r.fields["qwen3.attention.key_length"].contents()
        assert hd == 128 != r.fields["qwen3.embedding_length"].contents() // r.fields[
            "qwen3.attention.head_count"].contents()
        assert names["blk.0.attn_q_norm.weight"].shape.tolist() == [hd]
        assert names["blk.0.attn_q.weight"].shape.tolist() == [256, 4 * hd]
    if typ == "q4_k_m":
        assert {"Q4_K", "Q6_K", "F32"} <= types


def test_gavel_reads_tiny_q4_k_m_like_gguf_py(gavel_bin, tmp_path):
    path = _tiny("qwen3", "q4_k_m")
    r = subprocess.run([str(gavel_bin), "dequant", "--info", str(path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    reader = _reader(path)
    assert [t["name"] for t in info["tensors"]] == [t.name for t in reader.tensors]
    for g, t in zip(info["tensors"], reader.tensors):
        assert g["ne"] == t.shape.tolist() and g["type"] == t.tensor_type.name
        assert info["data_offset"] + g["offset"] == t.data_offset
    for t in reader.tensors:
        if t.name.startswith("blk.1.") and t.tensor_type.name in ("Q4_K", "Q6_K"):
            out = tmp_path / "t.f32"
            r = subprocess.run([str(gavel_bin), "dequant", "--model", str(path), "--tensor", t.name,
                                "--out", str(out)], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            want = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(-1)
            got = np.frombuffer(out.read_bytes(), dtype="<f4")
            assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), t.name


def test_llama3_vocab_matches_llama_bpe_vectors():
    import llama_cpp
    path = _tiny("llama3", "q8_0")
    base = SHARED / "data/tokenizer_tests/ggml-vocab-llama-bpe.gguf"
    inputs = base.with_suffix(".gguf.inp").read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n")
    outputs = base.with_suffix(".gguf.out").read_text(encoding="utf-8").split("\n")
    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    assert llm.n_vocab() == 128256
    checked = 0
    for text, ids in zip(inputs, outputs):
        want = [int(x) for x in ids.split()]
        assert llm.tokenize(text.encode(), add_bos=False, special=False) == want, repr(text)
        checked += 1
    assert checked > 40
    special = llm.tokenize(b"<|start_header_id|>user<|end_header_id|>", add_bos=False, special=True)
    assert special == [128006, 882, 128007]
