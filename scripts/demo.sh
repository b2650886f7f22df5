#!/usr/bin/env bash
# Set up everything and run the main job on the embedded default model.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
cmake -S . -B build -G Ninja >/dev/null
ninja -C build gavel
MODEL="${GAVEL_MODELS:-$HOME/.cache/gavel/models}/qwen2.5-coder-0.5b-instruct.gguf"
./build/apps/gavel/gavel info "$MODEL"
./build/apps/gavel/gavel logprobs "$MODEL" --prompt "The capital of France is" --top-k 5
