"""tests/vllm reuses the fixtures and helpers of tests/python."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

from conftest import gavel_bin, models_dir, shared_dir  # noqa: E402,F401
