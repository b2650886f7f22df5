#!/usr/bin/env bash
# Set up everything, build, and run every test: the C++ suite (ctest) and the Python
# reference checks (pytest) that compare gavel against llama.cpp, gguf, jinja2 and scipy.
# Usage: scripts/test.sh [--sanitize]   (--sanitize: ASan+UBSan build in build-asan/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
# ccache keys on paths relative to the checkout and on the compiler's name, so the Python
# package's build (same flags and build-dir depth, pyproject.toml) reuses the objects of the
# build below instead of compiling everything again. CC/CXX: CMake's default compilers, which
# scikit-build-core would otherwise replace with Python's (gcc/g++).
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true CC="${CC:-cc}" CXX="${CXX:-c++}"
BUILD=build; EXTRA=()
if [ "${1:-}" = "--sanitize" ]; then
  BUILD=build-asan; EXTRA=(-DGAVEL_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  export GAVEL_SANITIZE=1
fi
cmake -S . -B "$BUILD" -G Ninja "${EXTRA[@]}" >/dev/null
ninja -C "$BUILD"
export GAVEL_BIN="$ROOT/$BUILD/apps/gavel/gavel"
export GAVEL_MODELS="${GAVEL_MODELS:-$HOME/.cache/gavel/models}"
PY="${GAVEL_VENV:-$HOME/.cache/gavel/venv}/bin/python"
# The Python package (pyproject.toml), built as `pip install .` builds it, into build/python-site
# for tests/python/test_python_package.py (the shared venv is left as it is).
export GAVEL_PYTHONPATH="$ROOT/build/python-site"
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
  "$PY" -m pip install -q --no-build-isolation --no-deps --upgrade --target "$GAVEL_PYTHONPATH" "$ROOT"
status=0
ctest --test-dir "$BUILD" --output-on-failure -j2 || status=1
# The slowest tests are listed so the suite's time can be watched (CI: under 30 minutes).
"$PY" -m pytest -q -ra --durations=15 tests/python || status=1
exit $status
