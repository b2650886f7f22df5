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


@pytest.fixture(scope="session")
def system_info(gavel_bin) -> dict:
    """`gavel info --system --json`: the CPU and the ISA levels gavel runs on it."""
    import json
    import subprocess

    r = subprocess.run([str(gavel_bin), "info", "--system", "--json"], capture_output=True,
                       text=True, env={k: v for k, v in os.environ.items() if k != "GAVEL_ISA"})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def require_level(system_info: dict, level: str) -> dict:
    """The environment that runs gavel at `level`; a level this CPU lacks is reported as
    skipped with the CPU's name (the levels it has are tested)."""
    runs = {l["name"]: l["runs_here"] for l in system_info["levels"]}
    assert level in runs, f"gavel has no ISA level {level}: {runs}"
    if not runs[level]:
        pytest.skip(f"the {level} level is not runnable on this CPU "
                    f"({system_info['cpu']['brand']}); the levels it runs are tested")
    return dict(os.environ, GAVEL_ISA=level)
