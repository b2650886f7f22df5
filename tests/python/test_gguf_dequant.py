"""Bit-exact parity of gavel's dequantizers with gguf-py (gguf.quants.dequantize).

Random blocks of every supported type go through `gavel dequant` and must match the
reference bit for bit (NaN-aware: a NaN must be NaN on both sides, payloads may differ).
Real-model tensors are compared in test_gguf_reader.py.
"""
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import gguf_goldens  # noqa: E402


def _compare(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, f"{what}: {got.shape} vs {want.shape}"
    both_nan = np.isnan(got) & np.isnan(want)
    diff = (got.view(np.uint32) != want.view(np.uint32)) & ~both_nan
    if diff.any():
        i = int(np.argmax(diff))
        pytest.fail(f"{what}: {int(diff.sum())} of {got.size} values differ; first at {i}: "
                    f"gavel {got[i]!r} (0x{got.view(np.uint32)[i]:08x}) vs reference {want[i]!r}")


def _run(gavel_bin, *args) -> None:
    r = subprocess.run([str(gavel_bin), "dequant", *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("type_name", list(gguf_goldens.TYPES))
def test_random_blocks_bit_exact(gavel_bin, tmp_path, type_name):
    n_blocks = 8192 if type_name in ("F32", "F16", "BF16") else 512
    raw = gguf_goldens.make_blocks(type_name, n_blocks, seed=1234)
    want = gguf_goldens.golden(type_name, raw)
    assert np.isfinite(want).mean() > 0.99  # the comparison is mostly about real numbers
    src, out = tmp_path / "in.raw", tmp_path / "out.f32"
    src.write_bytes(raw.tobytes())
    _run(gavel_bin, "--type", type_name, "--in", src, "--out", out)
    got = np.frombuffer(out.read_bytes(), dtype="<f4")
    _compare(got, want, type_name)


def test_all_fp16_bit_patterns(gavel_bin, tmp_path):
    raw = np.arange(65536, dtype=np.uint16).view(np.uint8)
    src, out = tmp_path / "in.raw", tmp_path / "out.f32"
    src.write_bytes(raw.tobytes())
    _run(gavel_bin, "--type", "F16", "--in", src, "--out", out)
    _compare(np.frombuffer(out.read_bytes(), dtype="<f4"),
              np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32), "F16 table")


def test_rejects_partial_blocks_and_unknown_types(gavel_bin, tmp_path):
    src = tmp_path / "in.raw"
    src.write_bytes(b"\0" * 35)
    r = subprocess.run([str(gavel_bin), "dequant", "--type", "Q8_0", "--in", str(src), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode != 0 and "Q8_0" in r.stderr
    r = subprocess.run([str(gavel_bin), "dequant", "--type", "IQ2_XXS", "--in", str(src), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode != 0 and "IQ2_XXS" in r.stderr
