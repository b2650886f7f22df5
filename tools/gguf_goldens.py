#!/usr/bin/env python3
"""Random quantized blocks and their reference dequantization (gguf-py's gguf.quants).

Used by tests/python/test_gguf_dequant.py; can also write the pairs to a directory:

    tools/gguf_goldens.py --out DIR [--blocks 64] [--seed 0]

writes DIR/<TYPE>.raw (the blocks) and DIR/<TYPE>.f32 (little-endian float32 reference
values) for every type in TYPES.

Random bytes are valid blocks of every type except for their fp16/f32 scale fields, which
could be NaN/inf. Those fields are made finite (subnormals kept) in all but the last
`wild` blocks, which stay fully random; compare NaN-aware.
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
from gguf.quants import dequantize

# type name -> byte offsets of the fp16 scale fields inside one block (None: every element).
TYPES: dict[str, list[int] | None] = {
    "F32": None,
    "F16": None,
    "BF16": None,
    "Q4_0": [0],
    "Q4_1": [0, 2],
    "Q5_0": [0],
    "Q5_1": [0, 2],
    "Q8_0": [0],
    "Q2_K": [80, 82],
    "Q3_K": [108],
    "Q4_K": [0, 2],
    "Q5_K": [0, 2],
    "Q6_K": [208],
    "IQ4_NL": [0],
    "IQ4_XS": [0],
}


def _finite_halves(raw: np.ndarray) -> np.ndarray:
    """Clears the top exponent bit of fp16 values whose exponent is all ones."""
    h = raw.view(np.uint16).copy()
    inf_nan = (h & 0x7C00) == 0x7C00
    h[inf_nan] &= np.uint16(0xBFFF)
    return h.view(np.uint8)


def make_blocks(type_name: str, n_blocks: int, seed: int, wild: int = 2) -> np.ndarray:
    """n_blocks random blocks (uint8, flat) of the given type."""
    qtype = GGMLQuantizationType[type_name]
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    rng = np.random.default_rng([seed, int(qtype)])
    blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    tame = max(n_blocks - wild, 0)
    fields = TYPES[type_name]
    if type_name == "F32":
        v = blocks[:tame].reshape(-1).view(np.uint32)
        v[(v & 0x7F800000) == 0x7F800000] &= np.uint32(0xBFFFFFFF)
    elif type_name in ("F16", "BF16"):
        if type_name == "F16":
            blocks[:tame] = _finite_halves(blocks[:tame].reshape(-1)).reshape(tame, type_size)
        else:
            v = blocks[:tame].reshape(-1).view(np.uint16)
            v[(v & 0x7F80) == 0x7F80] &= np.uint16(0xBFFF)
    else:
        for off in fields or []:
            part = np.ascontiguousarray(blocks[:tame, off:off + 2]).reshape(-1)
            blocks[:tame, off:off + 2] = _finite_halves(part).reshape(tame, 2)
    return blocks.reshape(-1)


def golden(type_name: str, raw: np.ndarray) -> np.ndarray:
    """Reference float32 values of the flat block bytes."""
    qtype = GGMLQuantizationType[type_name]
    return np.asarray(dequantize(raw, qtype), dtype=np.float32).reshape(-1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=pathlib.Path)
    ap.add_argument("--blocks", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in TYPES:
        raw = make_blocks(name, args.blocks, args.seed)
        (args.out / f"{name}.raw").write_bytes(raw.tobytes())
        (args.out / f"{name}.f32").write_bytes(golden(name, raw).astype("<f4").tobytes())
        print(args.out / f"{name}.raw")


if __name__ == "__main__":
    main()
