"""gavel's GGUF reader agrees with gguf-py (GGUFReader / GGUFWriter).

* both real models: every key, value type and value; every tensor's name, shape, type,
  absolute data offset and byte size; the smallest tensor of every type dequantizes bit for
  bit like gguf.quants.dequantize;
* a file written by GGUFWriter with every value type (incl. nested and typed arrays) and
  several tensor types reads back with the values that were written.
"""
import json
import subprocess

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import dequantize, quantize

from conftest import QWEN25, SMOLLM2, real_model

VT = {GGUFValueType.UINT8: "u8", GGUFValueType.INT8: "i8", GGUFValueType.UINT16: "u16",
      GGUFValueType.INT16: "i16", GGUFValueType.UINT32: "u32", GGUFValueType.INT32: "i32",
      GGUFValueType.FLOAT32: "f32", GGUFValueType.BOOL: "bool", GGUFValueType.STRING: "string",
      GGUFValueType.ARRAY: "array", GGUFValueType.UINT64: "u64", GGUFValueType.INT64: "i64",
      GGUFValueType.FLOAT64: "f64"}


def _info(gavel_bin, path, tmp_path):
    out = tmp_path / "info.json"
    r = subprocess.run([str(gavel_bin), "dequant", "--info", str(path), "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="module", params=[SMOLLM2, QWEN25])
def model(request):
    path = real_model(request.param)
    return path, GGUFReader(path)


def test_metadata_matches_gguf_reader(gavel_bin, tmp_path, model):
    path, reader = model
    info = _info(gavel_bin, path, tmp_path)
    assert info["version"] == int(reader.fields["GGUF.version"].parts[-1][0])
    assert info["alignment"] == reader.alignment
    assert info["data_offset"] == reader.data_offset
    fields = [f for name, f in reader.fields.items() if not name.startswith("GGUF.")]
    assert [e["key"] for e in info["metadata"]] == [f.name for f in fields]
    for e, f in zip(info["metadata"], fields):
        assert e["type"] == VT[f.types[0]], f.name
        if f.types[0] == GGUFValueType.ARRAY:
            assert e["elem_type"] == VT[f.types[-1]], f.name
        want = f.contents()
        assert e["value"] == want, f"{f.name}: gavel {str(e['value'])[:200]} vs {str(want)[:200]}"
    # The tokenizer arrays really were compared element by element.
    tokens = next(e for e in info["metadata"] if e["key"] == "tokenizer.ggml.tokens")
    assert len(tokens["value"]) > 40000


def test_tensor_table_matches_gguf_reader(gavel_bin, tmp_path, model):
    path, reader = model
    info = _info(gavel_bin, path, tmp_path)
    assert len(info["tensors"]) == len(reader.tensors) > 100
    for g, t in zip(info["tensors"], reader.tensors):
        assert g["name"] == t.name
        assert g["ne"] == [int(x) for x in t.shape], t.name
        assert g["type_id"] == int(t.tensor_type) and g["type"] == t.tensor_type.name, t.name
        assert info["data_offset"] + g["offset"] == t.data_offset, t.name
        assert g["nbytes"] == t.n_bytes, t.name


def _bit_equal(got, want, what):
    assert got.shape == want.shape, what
    diff = got.view(np.uint32) != want.view(np.uint32)
    assert not diff.any(), f"{what}: {int(diff.sum())} values differ, first at {int(np.argmax(diff))}"


def test_smallest_tensor_of_each_type_dequantizes_exactly(gavel_bin, tmp_path, model):
    path, reader = model
    smallest = {}
    for t in reader.tensors:
        k = t.tensor_type.name
        if k not in smallest or t.n_elements < smallest[k].n_elements:
            smallest[k] = t
    assert len(smallest) >= 3, list(smallest)
    for k, t in sorted(smallest.items()):
        out = tmp_path / f"{k}.f32"
        r = subprocess.run([str(gavel_bin), "dequant", "--model", str(path), "--tensor", t.name,
                            "--out", str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        want = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(-1)
        _bit_equal(np.frombuffer(out.read_bytes(), dtype="<f4"), want, f"{t.name} ({k})")


def test_writer_file_reads_back(gavel_bin, tmp_path):
    path = tmp_path / "w.gguf"
    w = GGUFWriter(str(path), "llama")
    w.add_uint8("v.u8", 250)
    w.add_int8("v.i8", -128)
    w.add_uint16("v.u16", 65535)
    w.add_int16("v.i16", -32768)
    w.add_uint32("v.u32", 4294967295)
    w.add_int32("v.i32", -2147483648)
    w.add_float32("v.f32", 0.1)
    w.add_uint64("v.u64", 2**64 - 1)
    w.add_int64("v.i64", -(2**63))
    w.add_float64("v.f64", 1e300)
    w.add_bool("v.bool", False)
    w.add_string("v.str", "日本語 \n\t\"quoted\"")
    w.add_array("v.arr_str", ["a", "", "ü"])
    w.add_key_value("v.arr_i16", [-1, 2, -3], GGUFValueType.ARRAY, sub_type=GGUFValueType.INT16)
    w.add_key_value("v.arr_f64", [0.5, -2.25], GGUFValueType.ARRAY, sub_type=GGUFValueType.FLOAT64)
    w.add_array("v.arr_bool", [True, False, True])
    w.add_array("v.nested", [[1, 2], [3]])
    rng = np.random.default_rng(0)
    f32 = rng.standard_normal((3, 64)).astype(np.float32)
    w.add_tensor("t.f32", f32)
    w.add_tensor("t.f16", f32.astype(np.float16))
    q8 = quantize(f32, GGMLQuantizationType.Q8_0)
    w.add_tensor("t.q8_0", q8, raw_dtype=GGMLQuantizationType.Q8_0)
    q4k = rng.integers(0, 256, size=(2, 144), dtype=np.uint8)
    q4k[:, 0:4] = np.array([0x00, 0x2C, 0x00, 0x24], dtype=np.uint8)  # d, dmin finite
    w.add_tensor("t.q4_k", q4k, raw_dtype=GGMLQuantizationType.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    info = _info(gavel_bin, path, tmp_path)
    meta = {e["key"]: e for e in info["metadata"]}
    assert info["version"] == 3
    assert meta["general.architecture"]["value"] == "llama"
    expect = {"v.u8": ("u8", 250), "v.i8": ("i8", -128), "v.u16": ("u16", 65535),
              "v.i16": ("i16", -32768), "v.u32": ("u32", 4294967295),
              "v.i32": ("i32", -2147483648), "v.f32": ("f32", float(np.float32(0.1))),
              "v.u64": ("u64", 2**64 - 1), "v.i64": ("i64", -(2**63)), "v.f64": ("f64", 1e300),
              "v.bool": ("bool", False), "v.str": ("string", "日本語 \n\t\"quoted\""),
              "v.arr_str": ("array", ["a", "", "ü"]), "v.arr_i16": ("array", [-1, 2, -3]),
              "v.arr_f64": ("array", [0.5, -2.25]), "v.arr_bool": ("array", [True, False, True]),
              "v.nested": ("array", [[1, 2], [3]])}
    for k, (typ, val) in expect.items():
        assert meta[k]["type"] == typ, k
        assert meta[k]["value"] == val, (k, meta[k]["value"])
    assert meta["v.arr_i16"]["elem_type"] == "i16"
    assert meta["v.nested"]["elem_type"] == "array"
    tensors = {t["name"]: t for t in info["tensors"]}
    assert tensors["t.q8_0"]["ne"] == [64, 3] and tensors["t.q8_0"]["type"] == "Q8_0"
    assert tensors["t.q4_k"]["nbytes"] == 288
    refs = {"t.f32": f32.reshape(-1), "t.f16": f32.astype(np.float16).astype(np.float32).reshape(-1),
            "t.q8_0": dequantize(q8, GGMLQuantizationType.Q8_0).reshape(-1),
            "t.q4_k": dequantize(q4k, GGMLQuantizationType.Q4_K).reshape(-1)}
    for name, want in refs.items():
        out = tmp_path / f"{name}.f32"
        r = subprocess.run([str(gavel_bin), "dequant", "--model", str(path), "--tensor", name,
                            "--out", str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        _bit_equal(np.frombuffer(out.read_bytes(), dtype="<f4"), want.astype(np.float32), name)


def test_corrupt_file_fails_cleanly(gavel_bin, tmp_path):
    path = real_model(SMOLLM2)
    head = path.read_bytes()[:100000]  # truncated inside the tokenizer metadata
    bad = tmp_path / "trunc.gguf"
    bad.write_bytes(head)
    r = subprocess.run([str(gavel_bin), "dequant", "--info", str(bad)], capture_output=True,
                       text=True)
    assert r.returncode == 1
    assert "trunc.gguf" in r.stderr and "offset" in r.stderr, r.stderr
