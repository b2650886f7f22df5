#!/usr/bin/env python3
"""Random-weight Qwen3.5 (arch `qwen35`) GGUFs laid out exactly as llama.cpp's converter writes
them (model-spec §4.8-4.9), for parity tests against llama.cpp and for load/speed checks.

Weights are drawn in the Hugging Face layout (zero-centred norms, A_log, dt_bias, conv [C,1,K],
V heads grouped by key head) and then put through the converter's transforms:
  * every `*norm.weight` except `linear_attn.norm.weight` gets +1,
  * ssm_a = -exp(A_log), dt_bias -> ssm_dt.bias, conv1d squeezed to {K, C},
  * V heads reordered grouped -> tiled (GGUF V head j = HF V head (j % H_k) * r + j // H_k) in
    the V rows of attn_qkv, attn_gate rows, ssm_alpha / ssm_beta rows, ssm_a, ssm_dt, the V
    channels of ssm_conv1d and the input columns of ssm_out,
  * MTP layers (if any) appended as blk.{n_layer}.* with nextn_predict_layers set.
Vocabulary: the real Qwen3.5 one (tools/qwen35_vocab.py), pre-tokenizer `qwen35`, and the
Qwen3.5-4B chat template from ../shared/data/chat_templates.

Models (into --out, default ~/.cache/gavel/tiny):
  tiny:   qwen35-tiny-{f32,f16,q8_0,q4_k}.gguf  hidden 256, 8 layers (2 full attention), tied
  untied: qwen35-tiny-untied-mtp-{f32,q8_0}.gguf 4 layers + 1 MTP layer, untied output
  4b:     qwen35-4b-shape-q8_0.gguf  Qwen3.5-4B shapes (~4.5 GB), Q8_0 written directly
F16/Q8_0/Q4_K files of the tiny models are made from the F32 file with llama.cpp's quantizer
(llama_cpp.llama_model_quantize; Q4_K = LLAMA_FTYPE_MOSTLY_Q4_K_M, which mixes in Q6_K).
"""
import argparse
import ctypes
import os
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import qwen35_vocab  # noqa: E402
import tiny_files  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
TEMPLATE = ROOT.parent / "shared/data/chat_templates/Qwen3.5-4B.jinja"
DEFAULT_OUT = pathlib.Path(os.environ.get("GAVEL_TINY", pathlib.Path.home() / ".cache/gavel/tiny"))

TINY = dict(hidden=256, n_layer=8, n_ff=512, n_head=4, n_head_kv=2, head_dim=64, rot=16,
            sections=[3, 3, 2, 0], k_heads=2, v_heads=4, d_state=64, conv=4, interval=4,
            theta=1e7, eps=1e-6, tied=True, nextn=0, ctx=32768)
UNTIED = dict(TINY, n_layer=4, tied=False, nextn=1)
# Qwen3.5-4B (model-spec §4.1).
SHAPE_4B = dict(hidden=2560, n_layer=32, n_ff=9216, n_head=16, n_head_kv=4, head_dim=256, rot=64,
                sections=[11, 11, 10, 0], k_heads=16, v_heads=32, d_state=128, conv=4,
                interval=4, theta=1e7, eps=1e-6, tied=True, nextn=0, ctx=262144)


def is_linear(cfg: dict, il: int) -> bool:
    return (il + 1) % cfg["interval"] != 0


def v_reorder(cfg: dict) -> np.ndarray:
    """perm[j] = HF V head stored at GGUF V head j (grouped -> tiled)."""
    hk, hv = cfg["k_heads"], cfg["v_heads"]
    r = hv // hk
    return np.array([(j % hk) * r + j // hk for j in range(hv)])


def reorder_rows(w: np.ndarray, perm: np.ndarray, head: int, start: int = 0) -> np.ndarray:
    """Permute `head`-row blocks of w[start:start + len(perm)*head] by perm."""
    out = w.copy()
    blocks = w[start:start + len(perm) * head].reshape(len(perm), head, *w.shape[1:])
    out[start:start + len(perm) * head] = blocks[perm].reshape(-1, *w.shape[1:])
    return out


class Gen:
    """HF-layout random tensors, scaled so activations stay O(1) and logits are spread."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def linear(self, out_f: int, in_f: int, gain: float = 1.0) -> np.ndarray:
        return (self.rng.standard_normal((out_f, in_f), dtype=np.float32)
                * np.float32(gain / np.sqrt(in_f)))

    def centred_norm(self, n: int) -> np.ndarray:  # HF Qwen3_5RMSNorm weight, used as 1 + w
        return (0.1 * self.rng.standard_normal(n)).astype(np.float32)

    def norm(self, n: int, mean: float = 1.0) -> np.ndarray:
        return (mean + 0.1 * self.rng.standard_normal(n)).astype(np.float32)


def hf_tensors(cfg: dict, seed: int):
    """Yields (hf_name, array) in the HF safetensors layout ([out, in])."""
    g = Gen(seed)
    H, hd, nh, nkv = cfg["hidden"], cfg["head_dim"], cfg["n_head"], cfg["n_head_kv"]
    hk, hv, ds = cfg["k_heads"], cfg["v_heads"], cfg["d_state"]
    C = 2 * hk * ds + hv * ds
    n_vocab = qwen35_vocab.N_VOCAB_ROWS
    yield "embed_tokens.weight", (0.05 * g.rng.standard_normal((n_vocab, H), dtype=np.float32))
    for il in range(cfg["n_layer"] + cfg["nextn"]):
        p = f"layers.{il}."
        yield p + "input_layernorm.weight", g.centred_norm(H)
        yield p + "post_attention_layernorm.weight", g.centred_norm(H)
        if il < cfg["n_layer"] and is_linear(cfg, il):
            q = p + "linear_attn."
            yield q + "in_proj_qkv.weight", g.linear(C, H)
            yield q + "in_proj_z.weight", g.linear(hv * ds, H)
            yield q + "in_proj_b.weight", g.linear(hv, H)
            yield q + "in_proj_a.weight", g.linear(hv, H)
            yield q + "conv1d.weight", (0.5 * g.rng.standard_normal((C, 1, cfg["conv"]))
                                        ).astype(np.float32)
            # Decay rates from ~0.02 to ~1.6 per unit softplus: some heads remember thousands
            # of tokens, which is where the delta rule's long-range error would show.
            yield q + "A_log", g.rng.uniform(-4.0, 0.5, hv).astype(np.float32)
            yield q + "dt_bias", g.rng.uniform(-3.0, 1.0, hv).astype(np.float32)
            yield q + "norm.weight", g.norm(ds)
            yield q + "out_proj.weight", g.linear(H, hv * ds)
        else:
            q = p + "self_attn."
            yield q + "q_proj.weight", g.linear(nh * hd * 2, H)
            yield q + "k_proj.weight", g.linear(nkv * hd, H)
            yield q + "v_proj.weight", g.linear(nkv * hd, H)
            yield q + "o_proj.weight", g.linear(H, nh * hd)
            yield q + "q_norm.weight", g.centred_norm(hd)
            yield q + "k_norm.weight", g.centred_norm(hd)
        yield p + "mlp.gate_proj.weight", g.linear(cfg["n_ff"], H)
        yield p + "mlp.up_proj.weight", g.linear(cfg["n_ff"], H)
        yield p + "mlp.down_proj.weight", g.linear(H, cfg["n_ff"])
        if il >= cfg["n_layer"]:  # MTP block extras
            yield p + "eh_proj.weight", g.linear(H, 2 * H)
            yield p + "enorm.weight", g.centred_norm(H)
            yield p + "hnorm.weight", g.centred_norm(H)
            yield p + "shared_head.norm.weight", g.centred_norm(H)
    # A spread of final-norm gains makes logits peaked enough for argmax checks to bite.
    yield "norm.weight", (2.0 + 0.1 * g.rng.standard_normal(H)).astype(np.float32)
    if not cfg["tied"]:
        yield "lm_head.weight", (0.05 * g.rng.standard_normal((n_vocab, H), dtype=np.float32))


GGUF_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "linear_attn.in_proj_qkv.weight": "attn_qkv.weight",
    "linear_attn.in_proj_z.weight": "attn_gate.weight",
    "linear_attn.in_proj_b.weight": "ssm_beta.weight",
    "linear_attn.in_proj_a.weight": "ssm_alpha.weight",
    "linear_attn.conv1d.weight": "ssm_conv1d.weight",
    "linear_attn.A_log": "ssm_a",
    "linear_attn.dt_bias": "ssm_dt.bias",
    "linear_attn.norm.weight": "ssm_norm.weight",
    "linear_attn.out_proj.weight": "ssm_out.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "eh_proj.weight": "nextn.eh_proj.weight",
    "enorm.weight": "nextn.enorm.weight",
    "hnorm.weight": "nextn.hnorm.weight",
    "shared_head.norm.weight": "nextn.shared_head_norm.weight",
}


def to_gguf(cfg: dict, name: str, w: np.ndarray):
    """The converter's rename and transforms for one HF tensor."""
    if name == "embed_tokens.weight":
        return "token_embd.weight", w
    if name == "norm.weight":
        return "output_norm.weight", w  # written as-is here: the gain above is already 1 + w
    if name == "lm_head.weight":
        return "output.weight", w
    _, il, rest = name.split(".", 2)
    out = f"blk.{il}.{GGUF_NAMES[rest]}"
    if rest.endswith("norm.weight") and rest != "linear_attn.norm.weight":
        w = w + np.float32(1.0)
    if rest == "linear_attn.A_log":
        w = -np.exp(w)
    if rest == "linear_attn.conv1d.weight":
        w = w.squeeze(1)
    hk, hv, ds = cfg["k_heads"], cfg["v_heads"], cfg["d_state"]
    if hk != hv and rest.startswith("linear_attn."):
        perm = v_reorder(cfg)
        if rest in ("linear_attn.in_proj_qkv.weight", "linear_attn.conv1d.weight"):
            w = reorder_rows(w, perm, ds, start=2 * hk * ds)
        elif rest == "linear_attn.in_proj_z.weight":
            w = reorder_rows(w, perm, ds)
        elif rest in ("linear_attn.in_proj_a.weight", "linear_attn.in_proj_b.weight",
                      "linear_attn.A_log", "linear_attn.dt_bias"):
            w = reorder_rows(w, perm, 1)
        elif rest == "linear_attn.out_proj.weight":
            w = reorder_rows(w.T, perm, ds).T.copy()
    return out, np.ascontiguousarray(w, dtype=np.float32)


def add_metadata(writer, cfg: dict, name: str, file_type: int):
    import gguf
    a = "qwen35"
    writer.add_string("general.name", name)
    writer.add_uint32("general.file_type", file_type)
    writer.add_uint32(f"{a}.context_length", cfg["ctx"])
    writer.add_uint32(f"{a}.embedding_length", cfg["hidden"])
    writer.add_uint32(f"{a}.feed_forward_length", cfg["n_ff"])
    writer.add_uint32(f"{a}.block_count", cfg["n_layer"] + cfg["nextn"])
    if cfg["nextn"]:
        writer.add_uint32(f"{a}.nextn_predict_layers", cfg["nextn"])
    writer.add_uint32(f"{a}.attention.head_count", cfg["n_head"])
    writer.add_uint32(f"{a}.attention.head_count_kv", cfg["n_head_kv"])
    writer.add_uint32(f"{a}.attention.key_length", cfg["head_dim"])
    writer.add_uint32(f"{a}.attention.value_length", cfg["head_dim"])
    writer.add_float32(f"{a}.attention.layer_norm_rms_epsilon", cfg["eps"])
    writer.add_float32(f"{a}.rope.freq_base", cfg["theta"])
    writer.add_uint32(f"{a}.rope.dimension_count", cfg["rot"])
    writer.add_array(f"{a}.rope.dimension_sections", cfg["sections"])
    writer.add_uint32(f"{a}.full_attention_interval", cfg["interval"])
    writer.add_uint32(f"{a}.ssm.conv_kernel", cfg["conv"])
    writer.add_uint32(f"{a}.ssm.state_size", cfg["d_state"])
    writer.add_uint32(f"{a}.ssm.group_count", cfg["k_heads"])
    writer.add_uint32(f"{a}.ssm.time_step_rank", cfg["v_heads"])
    writer.add_uint32(f"{a}.ssm.inner_size", cfg["v_heads"] * cfg["d_state"])
    vocab = qwen35_vocab.build(DEFAULT_OUT)
    writer.add_string("tokenizer.ggml.model", "gpt2")
    writer.add_string("tokenizer.ggml.pre", "qwen35")
    writer.add_array("tokenizer.ggml.tokens", vocab["tokens"])
    writer.add_array("tokenizer.ggml.token_type", vocab["token_types"])
    writer.add_array("tokenizer.ggml.merges", vocab["merges"])
    writer.add_uint32("tokenizer.ggml.bos_token_id", qwen35_vocab.SPECIAL_IDS["bos"])
    writer.add_uint32("tokenizer.ggml.eos_token_id", qwen35_vocab.SPECIAL_IDS["eos"])
    writer.add_uint32("tokenizer.ggml.padding_token_id", qwen35_vocab.SPECIAL_IDS["pad"])
    writer.add_bool("tokenizer.ggml.add_bos_token", False)
    writer.add_string("tokenizer.chat_template", TEMPLATE.read_text())
    del gguf


def write_f32(cfg: dict, path: pathlib.Path, seed: int):
    import gguf
    with tiny_files.atomic_path(path) as tmp:
        writer = gguf.GGUFWriter(str(tmp), "qwen35")
        add_metadata(writer, cfg, path.stem, 0)
        for name, w in hf_tensors(cfg, seed):
            gname, gw = to_gguf(cfg, name, w)
            writer.add_tensor(gname, gw)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()


def write_q8_0_streaming(cfg: dict, path: pathlib.Path, seed: int):
    """Big models: 2-D weights drawn straight as Q8_0 blocks (fp16 scale + 32 int8), streamed
    to disk one tensor at a time so memory stays at one tensor."""
    import gguf
    rng = np.random.default_rng(seed)
    with tiny_files.atomic_path(path) as tmp:
        writer = gguf.GGUFWriter(str(tmp), "qwen35")
        add_metadata(writer, cfg, path.stem, 7)  # LLAMA_FTYPE_MOSTLY_Q8_0
        # Shapes come from the HF generator run on a size-1 stand-in, so names and layouts stay
        # the single source above; values of 2-D tensors are redrawn as Q8_0 blocks.
        specs = hf_tensors_shapes(cfg)  # GGUF names; (rows, cols) = HF [out, in]
        for gname, shape, is_2d in specs:
            if is_2d:
                n_bytes = shape[0] * (shape[1] // 32) * 34
                writer.add_tensor_info(gname, [shape[0], n_bytes // shape[0]], np.dtype(np.uint8),
                                       n_bytes, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
            else:
                writer.add_tensor_info(gname, shape, np.dtype(np.float32), int(np.prod(shape)) * 4)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for gname, shape, is_2d in specs:
            if is_2d:
                rows, cols = shape
                nb = cols // 32
                blocks = np.empty((rows, nb, 34), dtype=np.uint8)
                scale = np.float16(1.0 / np.sqrt(cols) / 64.0)  # q ~ U(-127,127): std ~73 * scale
                blocks[:, :, 0:2] = np.frombuffer(scale.tobytes(), dtype=np.uint8)
                blocks[:, :, 2:] = rng.integers(-127, 128, (rows, nb, 32), dtype=np.int8).view(np.uint8)
                writer.write_tensor_data(blocks.reshape(rows, nb * 34))
            else:
                writer.write_tensor_data(small_tensor(cfg, gname, shape, rng))
        writer.close()


def hf_tensors_shapes(cfg: dict):
    """(gguf_name, shape [rows, cols] or 1-D shape, is_2d) for the streaming writer."""
    H, hd, nh, nkv = cfg["hidden"], cfg["head_dim"], cfg["n_head"], cfg["n_head_kv"]
    hk, hv, ds = cfg["k_heads"], cfg["v_heads"], cfg["d_state"]
    C = 2 * hk * ds + hv * ds
    out = [("token_embd.weight", (qwen35_vocab.N_VOCAB_ROWS, H), True)]
    for il in range(cfg["n_layer"]):
        b = f"blk.{il}."
        out += [(b + "attn_norm.weight", (H,), False),
                (b + "post_attention_norm.weight", (H,), False)]
        if is_linear(cfg, il):
            out += [(b + "attn_qkv.weight", (C, H), True), (b + "attn_gate.weight", (hv * ds, H), True),
                    (b + "ssm_beta.weight", (hv, H), True), (b + "ssm_alpha.weight", (hv, H), True),
                    (b + "ssm_conv1d.weight", (C, cfg["conv"]), False),
                    (b + "ssm_a", (hv,), False), (b + "ssm_dt.bias", (hv,), False),
                    (b + "ssm_norm.weight", (ds,), False), (b + "ssm_out.weight", (H, hv * ds), True)]
        else:
            out += [(b + "attn_q.weight", (nh * hd * 2, H), True),
                    (b + "attn_k.weight", (nkv * hd, H), True),
                    (b + "attn_v.weight", (nkv * hd, H), True),
                    (b + "attn_output.weight", (H, nh * hd), True),
                    (b + "attn_q_norm.weight", (hd,), False), (b + "attn_k_norm.weight", (hd,), False)]
        out += [(b + "ffn_gate.weight", (cfg["n_ff"], H), True),
                (b + "ffn_up.weight", (cfg["n_ff"], H), True),
                (b + "ffn_down.weight", (H, cfg["n_ff"]), True)]
    out.append(("output_norm.weight", (H,), False))
    return out


def small_tensor(cfg: dict, gname: str, shape, rng) -> np.ndarray:
    if gname.endswith("ssm_a"):
        return (-np.exp(rng.uniform(-4.0, 0.5, shape))).astype(np.float32)
    if gname.endswith("ssm_dt.bias"):
        return rng.uniform(-3.0, 1.0, shape).astype(np.float32)
    if gname.endswith("ssm_conv1d.weight"):
        return (0.5 * rng.standard_normal(shape)).astype(np.float32)
    mean = 2.0 if gname == "output_norm.weight" else 1.0
    return (mean + 0.1 * rng.standard_normal(shape)).astype(np.float32)


def quantize(src: pathlib.Path, dst: pathlib.Path, ftype_name: str):
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, ftype_name)
    params.nthread = 2
    with tiny_files.atomic_path(dst) as tmp:
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(),
                                            ctypes.byref(params))
        if rc != 0:
            raise SystemExit(f"llama_model_quantize {src} -> {dst} ({ftype_name}) failed: {rc}")


QUANTS = {"f16": "LLAMA_FTYPE_MOSTLY_F16", "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
          "q4_k": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}


def make(which: str, out: pathlib.Path, force: bool = False) -> list:
    out.mkdir(parents=True, exist_ok=True)
    made = []
    if which in ("tiny", "all"):
        f32 = out / "qwen35-tiny-f32.gguf"
        if force or not f32.exists():
            write_f32(TINY, f32, seed=35)
        made.append(f32)
        for q in ("f16", "q8_0", "q4_k"):
            dst = out / f"qwen35-tiny-{q}.gguf"
            if force or not dst.exists():
                quantize(f32, dst, QUANTS[q])
            made.append(dst)
    if which in ("untied", "all"):
        f32 = out / "qwen35-tiny-untied-mtp-f32.gguf"
        if force or not f32.exists():
            write_f32(UNTIED, f32, seed=36)
        made.append(f32)
        dst = out / "qwen35-tiny-untied-mtp-q8_0.gguf"
        if force or not dst.exists():
            quantize(f32, dst, QUANTS["q8_0"])
        made.append(dst)
    if which in ("4b", "all-4b"):
        dst = out / "qwen35-4b-shape-q8_0.gguf"
        if force or not dst.exists():
            write_q8_0_streaming(SHAPE_4B, dst, seed=4)
        made.append(dst)
    return made


def check(path: pathlib.Path) -> str:
    """Loads the file in llama.cpp and evaluates a short chat prompt."""
    import llama_cpp
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=2, verbose=False)
    toks = llm.tokenize(b"<|im_start|>user\nHello world<|im_end|>\n", add_bos=False, special=True)
    llm.eval(toks)
    # Without logits_all only the last row is computed; llama-cpp-python leaves .scores empty.
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()
    if not np.all(np.isfinite(logits)):
        raise SystemExit(f"{path}: non-finite logits")
    return f"{path.name}: {len(toks)} tokens, argmax {int(logits.argmax())}, logit std {logits.std():.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--which", default="tiny", choices=["tiny", "untied", "all", "4b"])
    ap.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--check", action="store_true", help="load and evaluate each in llama.cpp")
    args = ap.parse_args()
    # Concurrent runs (parallel tests) wait here; then the files the first one made exist.
    with tiny_files.locked(args.out):
        for path in make(args.which, args.out, args.force):
            print(check(path) if args.check else path)


if __name__ == "__main__":
    main()
