#!/usr/bin/env bash
# Set up everything, build, and run every test: the C++ suite (ctest) and the Python
# reference checks (pytest) that compare gavel against llama.cpp, gguf, jinja2 and scipy.
# Usage: scripts/test.sh [--sanitize]   (--sanitize: ASan+UBSan build in build-asan/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
BUILD=build; EXTRA=()
if [ "${1:-}" = "--sanitize" ]; then BUILD=build-asan; EXTRA=(-DGAVEL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug); fi
cmake -S . -B "$BUILD" -G Ninja "${EXTRA[@]}" >/dev/null
ninja -C "$BUILD"
export GAVEL_BIN="$ROOT/$BUILD/apps/gavel/gavel"
export GAVEL_MODELS="${GAVEL_MODELS:-$HOME/.cache/gavel/models}"
status=0
ctest --test-dir "$BUILD" --output-on-failure -j2 || status=1
"${GAVEL_VENV:-$HOME/.cache/gavel/venv}/bin/python" -m pytest -q -ra tests/python || status=1
exit $status
