"""Shared fixtures for the reference tests. A missing prerequisite is a failure, never a skip."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
MODELS = pathlib.Path(os.environ.get("GAVEL_MODELS", pathlib.Path.home() / ".cache/gavel/models"))

# `gavel judge --backend fake:...` (the deterministic scripted backend) is refused unless this
# test-only switch is set; every gavel the tests start inherits it.
os.environ["GAVEL_TEST_BACKEND"] = "1"


def _require(path: pathlib.Path, what: str) -> pathlib.Path:
    if not path.exists():
        pytest.fail(f"{what} missing: {path} (run scripts/setup.sh)")
    return path


@pytest.fixture(scope="session")
def gavel_bin() -> pathlib.Path:
    return _require(pathlib.Path(os.environ.get("GAVEL_BIN", ROOT / "build/apps/gavel/gavel")),
                    "gavel binary")


@pytest.fixture(scope="session")
def shared_dir() -> pathlib.Path:
    return _require(SHARED, "shared data dir")


@pytest.fixture(scope="session")
def models_dir() -> pathlib.Path:
    return _require(MODELS, "model cache")


def real_model(name: str) -> pathlib.Path:
    return _require(MODELS / name, "real model")


SMOLLM2 = "smollm2-135m-instruct-q4_1.gguf"
QWEN25 = "qwen2.5-coder-0.5b-instruct.gguf"


TINY = pathlib.Path(os.environ.get("GAVEL_TINY", pathlib.Path.home() / ".cache/gavel/tiny"))


def tiny_model(variant: str, typ: str) -> pathlib.Path:
    """A tiny random-weight GGUF from tools/make_tiny_gguf.py, made (and checked) when absent."""
    import subprocess
    import sys
    path = TINY / f"{variant}-{typ}.gguf"
    if not path.exists():
        r = subprocess.run([sys.executable, str(ROOT / "tools/make_tiny_gguf.py"), "--out", str(TINY),
                            "--variant", variant, "--type", typ],
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0 or not path.exists():
            pytest.fail(f"tiny model {path} missing and make_tiny_gguf.py failed:\n{r.stdout}{r.stderr}")
    return path
