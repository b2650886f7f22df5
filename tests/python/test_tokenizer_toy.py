"""Corner cases of llama.cpp's BPE on a tiny hand-made vocabulary (written as a vocab-only GGUF
with the gguf package): merge order and ties, ignore_merges, merge results that are no
vocabulary entry (byte fallback that drops unknown bytes), special-token partitioning with the
longest token cut first, BOS/EOS flags. Ids must equal llama-cpp-python's."""
import importlib.util
import json
import subprocess

import llama_cpp
import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("mkvocab", ROOT / "tools/make_tokenizer_vocab_gguf.py")
mkvocab = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mkvocab)

SP = "\u0120"  # byte-level stand-in for ' '
TOKENS = ["a", "b", "c", SP, "ab", "abc", "bc", SP + "a", "aa", "ca", "<", ">", "s", "u", "<s>",
          "<u>", "A", "B", "C", "D", "AB", "BCD", "\u010a"]
TYPES = [1] * len(TOKENS)
TYPES[14] = 3  # <s> control
TYPES[15] = 4  # <u> user-defined
TYPES[20] = 3
TYPES[21] = 3
MERGES = ["a b", "ab c", "b c", f"{SP} a", "a a", "c c", f"{SP} {SP}"]
TEXTS = ["abc", "bc", "cab", "ab a", "aaa", "aaaa", "ca", "cc", "a  ", "a   b", "  ", "\n\na",
         "a<s>b<u>c", "<s><s>", "ABCD", "ABAB", "xyz", "a\u00e9b", "<u><s>", "", "a\xffb"]


@pytest.fixture(scope="module", params=["gpt-2", "llama-bpe", "qwen2"])
def vocab(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("toy") / f"toy-{request.param}.gguf"
    mkvocab.write_vocab(path, "toy", request.param, TOKENS, TYPES, MERGES, {"bos": 14, "eos": 14},
                        request.param == "llama-bpe")
    return path


def test_toy_vocab_matches_llama_cpp(vocab, gavel_bin, tmp_path):
    ref = llama_cpp.Llama(model_path=str(vocab), vocab_only=True, verbose=False)
    cases = [(t, a, p) for t in TEXTS for a in (False, True) for p in (False, True)]
    batch = tmp_path / "b.jsonl"
    batch.write_text("".join(json.dumps({"hex": t.encode("utf-8", "surrogateescape").hex(),
                                         "add_special": a, "parse_special": p}) + "\n"
                             for t, a, p in cases))
    r = subprocess.run([str(gavel_bin), "tokenize", str(vocab), "--batch", str(batch)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = [json.loads(x) for x in r.stdout.splitlines()]
    for (t, a, p), ids in zip(cases, got):
        want = ref.tokenize(t.encode("utf-8", "surrogateescape"), add_bos=a, special=p)
        assert ids == want, f"{t!r} add_special={a} parse_special={p}"
