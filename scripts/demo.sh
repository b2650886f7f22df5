#!/usr/bin/env bash
# Set up everything and run the main job on the embedded default model: a small Swiss
# tournament of creative-writing models judged by the model itself (the card's pairwise-logprob
# protocol, both orders averaged), printing the leaderboard, separability and bias figures.
# Judgments go to runs/demo/gavel.sqlite, so a rerun takes them from there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
cmake -S . -B build -G Ninja >/dev/null
ninja -C build gavel
MODEL="${GAVEL_MODELS:-$HOME/.cache/gavel/models}/qwen2.5-coder-0.5b-instruct.gguf"
DATA="$ROOT/../shared/data/eqbench/creative-writing-v3/creative_writing_bench_v3_samples.jsonl"
[ -f "$DATA" ] || { echo "demo: $DATA not found (../shared beside the checkout)" >&2; exit 1; }
mkdir -p runs/demo
./build/apps/gavel/gavel tournament --model "$MODEL" --input "$DATA" \
  --max-writers 4 --max-prompts 2 --rounds 2 --max-response-tokens 128 --threads 2 \
  --out-dir runs/demo
