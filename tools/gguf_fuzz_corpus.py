#!/usr/bin/env python3
"""Writes the seed corpus for fuzz/fuzz_gguf.cpp (small GGUF v2/v3 files covering every
metadata value type, nested arrays, custom alignment and several tensor types; no .gguf
suffix, which .gitignore excludes) with
gguf-py's GGUFWriter. Usage: tools/gguf_fuzz_corpus.py [--out fuzz/corpus/gguf]"""
import argparse
import pathlib

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType, GGUFWriter
from gguf.quants import quantize


def write(path: pathlib.Path, kv: bool, tensors: list, alignment: int | None = None,
          version: int = 3) -> None:
    w = GGUFWriter(str(path), "llama")
    if alignment:
        w.add_custom_alignment(alignment)
    if kv:
        w.add_uint8("a.u8", 7)
        w.add_int8("a.i8", -7)
        w.add_uint16("a.u16", 700)
        w.add_int16("a.i16", -700)
        w.add_uint32("a.u32", 70000)
        w.add_int32("a.i32", -70000)
        w.add_float32("a.f32", 0.5)
        w.add_bool("a.bool", True)
        w.add_string("a.str", "hé")
        w.add_uint64("a.u64", 2**40)
        w.add_int64("a.i64", -(2**40))
        w.add_float64("a.f64", 0.25)
        w.add_array("a.arr_str", ["x", "y z"])
        w.add_key_value("a.arr_i32", [1, -2], GGUFValueType.ARRAY, sub_type=GGUFValueType.INT32)
        w.add_array("a.nested", [[1, 2], [3]])
    rng = np.random.default_rng(0)
    for name, qtype, shape in tensors:
        x = rng.standard_normal(shape).astype(np.float32)
        if qtype == Q.F32:
            w.add_tensor(name, x)
        elif qtype == Q.F16:
            w.add_tensor(name, x.astype(np.float16))
        elif qtype == Q.Q4_K:  # gguf-py cannot quantize K types: random blocks, finite scales
            blocks = rng.integers(0, 256, size=(shape[0], 144), dtype=np.uint8)
            blocks[:, 0:4] = [0x00, 0x2C, 0x00, 0x24]
            w.add_tensor(name, blocks, raw_dtype=qtype)
        else:
            w.add_tensor(name, quantize(x, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    if version != 3:  # v2 has the same layout; only the version field differs
        b = bytearray(path.read_bytes())
        b[4:8] = version.to_bytes(4, "little")
        path.write_bytes(bytes(b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("fuzz/corpus/gguf"))
    out = ap.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    mixed = [("f32", Q.F32, (2, 8)), ("f16", Q.F16, (3,)), ("q8", Q.Q8_0, (1, 32)),
             ("q4", Q.Q4_0, (2, 32)), ("q5", Q.Q5_1, (32,))]
    write(out / "v3_all_types", True, mixed)
    write(out / "v2_all_types", True, mixed, version=2)
    write(out / "v3_align64", True, [("w", Q.F32, (4, 4)), ("b", Q.F32, (4,))], alignment=64)
    write(out / "v3_kv_only", True, [])
    write(out / "v3_q4k", False, [("k", Q.Q4_K, (1, 256)), ("b", Q.BF16, (8,))])
    write(out / "v2_tensor_only", False, [("t", Q.Q8_0, (2, 32))], version=2)
    for p in sorted(out.iterdir()):
        print(p, p.stat().st_size)


if __name__ == "__main__":
    main()
