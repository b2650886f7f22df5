#!/usr/bin/env python3
"""Dump llama.cpp's intermediate tensors (via the scheduler's eval callback) for one prompt.

A parity-debugging aid: run llama.cpp (llama-cpp-python) on the same token ids gavel gets and
save every F32 graph tensor whose name matches --match (e.g. 'attn_norm-0', 'ffn_out', 'l_out')
to an .npz, shaped [n_tokens, ...] as ggml lays them out (ne[0] fastest). Compare them with
gavel's (GAVEL_DUMP_DIR, see src/model/debug_dump.h) using --compare.

  tools/llamacpp_tensors.py MODEL --tokens 1,2,3 --out ref.npz [--ubatch 512]
  tools/llamacpp_tensors.py --compare ref.npz GAVEL_DUMP_DIR
"""
from __future__ import annotations

import argparse
import ctypes
import pathlib
import re
import sys

import numpy as np

GGML_MAX_DIMS, GGML_MAX_SRC, GGML_MAX_OP_PARAMS, GGML_MAX_NAME = 4, 10, 64, 64
GGML_TYPE_F32 = 0


class GgmlTensor(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("buffer", ctypes.c_void_p),
        ("ne", ctypes.c_int64 * GGML_MAX_DIMS),
        ("nb", ctypes.c_size_t * GGML_MAX_DIMS),
        ("op", ctypes.c_int),
        ("op_params", ctypes.c_int32 * (GGML_MAX_OP_PARAMS // 4)),
        ("flags", ctypes.c_int32),
        ("src", ctypes.c_void_p * GGML_MAX_SRC),
        ("view_src", ctypes.c_void_p),
        ("view_offs", ctypes.c_size_t),
        ("data", ctypes.c_void_p),
        ("name", ctypes.c_char * GGML_MAX_NAME),
        ("extra", ctypes.c_void_p),
        ("padding", ctypes.c_char * 8),
    ]


def dump(model: str, tokens: list[int], match: str, ubatch: int, threads: int) -> dict:
    import llama_cpp

    if len(tokens) > ubatch:
        sys.exit("one ubatch only (names repeat per ubatch): give --ubatch >= the token count")
    pat = re.compile(match)
    out: dict[str, np.ndarray] = {}

    @llama_cpp.ggml_backend_sched_eval_callback
    def cb(t_ptr, ask, _user):
        t = ctypes.cast(t_ptr, ctypes.POINTER(GgmlTensor)).contents
        name = t.name.decode(errors="replace")
        if not pat.search(name) or t.type != GGML_TYPE_F32:
            return False if ask else True
        if ask:
            return True
        ne = [t.ne[i] for i in range(GGML_MAX_DIMS)]
        nb = [t.nb[i] for i in range(GGML_MAX_DIMS)]
        n = int(np.prod(ne))
        contiguous = nb[0] == 4 and all(nb[i] == nb[i - 1] * ne[i - 1] for i in range(1, 4))
        if not contiguous or not t.data:
            return True
        buf = (ctypes.c_float * n).from_address(t.data)
        arr = np.frombuffer(buf, dtype=np.float32, count=n).copy()
        out[name] = arr.reshape(ne[::-1])  # a name reused in one layer: keep the last
        return True

    @llama_cpp.llama_log_callback
    def quiet(_level, _text, _user):
        pass

    llama_cpp.llama_log_set(quiet, None)
    mp = llama_cpp.llama_model_default_params()
    lm = llama_cpp.llama_model_load_from_file(model.encode(), mp)
    if not lm:
        sys.exit(f"cannot load {model}")
    cp = llama_cpp.llama_context_default_params()
    cp.n_ctx = max(256, len(tokens) + 16)
    cp.n_batch = max(ubatch, len(tokens))
    cp.n_ubatch = ubatch
    cp.n_threads = cp.n_threads_batch = threads
    cp.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
    cp.cb_eval = cb
    ctx = llama_cpp.llama_init_from_model(lm, cp)
    arr = (llama_cpp.llama_token * len(tokens))(*tokens)
    batch = llama_cpp.llama_batch_get_one(arr, len(tokens))
    if llama_cpp.llama_decode(ctx, batch) != 0:
        sys.exit("llama_decode failed")
    n_vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(lm))
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
    res = dict(out)
    res["logits_last"] = logits.astype(np.float32).copy()
    llama_cpp.llama_free(ctx)
    llama_cpp.llama_model_free(lm)
    return res


def compare(ref_path: str, gavel_dir: str) -> None:
    ref = np.load(ref_path)
    for f in sorted(pathlib.Path(gavel_dir).glob("*.npy")):
        g = np.load(f)
        name = f.stem
        if name not in ref:
            print(f"{name:24s} (no llama.cpp tensor of that name)")
            continue
        r = ref[name]
        r, g = r.reshape(-1).astype(np.float64), g.reshape(-1).astype(np.float64)
        if r.size < g.size and g.size % r.size == 0:  # llama.cpp pruned to the output rows
            g = g[-r.size:]
            name += " (last row)"
        if r.size != g.size:
            print(f"{name:24s} size {g.size} vs llama.cpp {r.size}")
            continue
        d = np.abs(r - g)
        print(f"{name:24s} max|d| {d.max():.3e}  max|ref| {np.abs(r).max():.3e}  "
              f"rel {d.max() / max(np.abs(r).max(), 1e-30):.3e}  exact {np.mean(d == 0):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?")
    ap.add_argument("--tokens", help="comma-separated token ids")
    ap.add_argument("--match", default=".", help="regex on ggml tensor names")
    ap.add_argument("--ubatch", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out")
    ap.add_argument("--compare", nargs=2, metavar=("REF_NPZ", "GAVEL_DIR"))
    a = ap.parse_args()
    if a.compare:
        compare(*a.compare)
        return
    if not (a.model and a.tokens and a.out):
        ap.error("MODEL, --tokens and --out are required unless --compare")
    res = dump(a.model, [int(x) for x in a.tokens.split(",")], a.match, a.ubatch, a.threads)
    np.savez(a.out, **res)
    for k, v in res.items():
        print(k, v.shape)


if __name__ == "__main__":
    main()
