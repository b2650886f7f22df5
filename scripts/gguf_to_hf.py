#!/usr/bin/env python3
"""Writes a Hugging Face model folder (float32 safetensors, tokenizer, config) from a GGUF, so
that engines that load HF folders (vLLM) can serve the same weights as the GGUF: every tensor is
dequantized by transformers' GGUF loader. Used by scripts/setup_vllm.sh."""
import argparse
import pathlib

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("gguf", type=pathlib.Path)
    ap.add_argument("out", type=pathlib.Path)
    a = ap.parse_args()
    tok = AutoTokenizer.from_pretrained(a.gguf.parent, gguf_file=a.gguf.name)
    model = AutoModelForCausalLM.from_pretrained(a.gguf.parent, gguf_file=a.gguf.name, torch_dtype=torch.float32)
    # The weights are plain float32 tensors now; transformers refuses to save a model marked as
    # GGUF-quantized, so drop the marker.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(a.out)
    tok.save_pretrained(a.out)
    print(a.out)


if __name__ == "__main__":
    main()
