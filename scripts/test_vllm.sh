#!/usr/bin/env bash
# Opt-in: installs vLLM for this CPU (scripts/setup_vllm.sh, about 5 GB) and runs tests/vllm,
# which compares `gavel judge --backend` on a real vLLM with the embedded engine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup_vllm.sh" >/dev/null
export GAVEL_BIN="${GAVEL_BIN:-$ROOT/build/apps/gavel/gavel}"
exec "${GAVEL_VENV:-$HOME/.cache/gavel/venv}/bin/python" -m pytest -q -ra "$ROOT/tests/vllm" "$@"
