"""A new user's install, as the README says: clone the repository, create a fresh venv,
`pip install .` (and `pip wheel .`), then judge from Python; the numbers equal the command
line's. Tests what is committed (a clone has no uncommitted changes). Needs PyPI for the build
requirements (scikit-build-core, nanobind) and numpy; the C++ compile reuses ccache.
"""
import json
import os
import pathlib
import subprocess
import sys
import zipfile

from conftest import ROOT, SMOLLM2, real_model


def run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=3000, **kw)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} -> {r.returncode}\n{r.stdout[-4000:]}\n"
                             f"{r.stderr[-4000:]}")
    return r


def test_fresh_venv_installs_from_a_clean_clone(tmp_path, gavel_bin):
    clone = tmp_path / "gavel"
    run(["git", "clone", "--quiet", "--no-hardlinks", ROOT, clone])
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    py = venv / "bin" / "python"
    # Objects compiled in another checkout are reused when paths are relative to the checkout.
    env = dict(os.environ, CCACHE_BASEDIR=str(clone), CCACHE_NOHASHDIR="true",
               CMAKE_BUILD_PARALLEL_LEVEL="2")
    env.pop("PYTHONPATH", None)
    run([py, "-m", "pip", "install", "-q", "."], cwd=clone, env=env)
    run([py, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", "."], cwd=clone,
        env=env)
    (wheel,) = (tmp_path / "dist").glob("gavel-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("gavel/_gavel") and n.endswith(".so") for n in names), names
    assert "gavel/_gavel.pyi" in names and "gavel/py.typed" in names

    model = real_model(SMOLLM2)
    script = (
        "import gavel, json, sys\n"
        f"j = gavel.Judge({str(model)!r}, threads=2)\n"
        "r = j.pairwise('Name a prime number.', '7', '8')\n"
        "print(json.dumps({'file': gavel.__file__, 'p_text1': r.p_text1, 'key': r.key,"
        " 'p_a1': r.pass1.p_a, 'p_a2': r.pass2.p_a}))\n")
    out = json.loads(run([py, "-c", script], cwd=tmp_path, env=env).stdout)
    assert pathlib.Path(out["file"]).is_relative_to(venv), out["file"]

    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"instruction": "Name a prime number.", "response_a": "7",
                               "response_b": "8"}) + "\n")
    run([gavel_bin, "judge", "--model", model, "--threads", 2, "--input", inp, "--out",
         tmp_path / "out.jsonl", "--store", tmp_path / "s.sqlite", "--no-progress"])
    cli = json.loads((tmp_path / "out.jsonl").read_text())
    assert (out["p_text1"], out["key"], out["p_a1"], out["p_a2"]) == (
        cli["p_text1"], cli["key"], cli["pass1"]["p_A"], cli["pass2"]["p_A"])
