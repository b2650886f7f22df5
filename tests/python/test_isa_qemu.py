"""The default (portable) build on older CPUs, emulated by qemu-user (scripts/setup.sh installs
qemu-user; QEMU 7.2 emulates up to AVX2, not AVX-512):
  * `-cpu Haswell` (AVX2, FMA, F16C): gavel picks its AVX2 kernels and gives exactly the
    log-probs it gives natively when forced to that level (GAVEL_ISA=avx2);
  * `-cpu Nehalem` (SSE4.2 only): a clear error naming what is missing, never an illegal
    instruction, and `gavel info --system` still reports the CPU.
"""
import json
import shutil
import subprocess

import pytest

from test_parity_llamacpp import tiny_model

QEMU = "qemu-x86_64"


def qemu():
    path = shutil.which(QEMU)
    if not path:
        pytest.fail(f"{QEMU} missing (qemu-user; run scripts/setup.sh)")
    return path


def run(cmd, env=None, timeout=1800):
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def requests(tmp_path):
    batch = tmp_path / "reqs.jsonl"
    rows = [{"tokens": [(i * 131 + 7 * k) % 900 + 1 for i in range(n)]}
            for k, n in ((1, 3), (2, 9), (3, 23))]
    rows.append({"tokens": rows[2]["tokens"], "prefill": 17})  # then 6 single-token steps
    batch.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return batch


def test_haswell_runs_the_avx2_kernels_bit_for_bit(gavel_bin, tmp_path):
    info = run([qemu(), "-cpu", "Haswell", str(gavel_bin), "info", "--system", "--json"])
    assert info.returncode == 0, info.stderr
    j = json.loads(info.stdout)
    assert j["kernel_set"] == "avx2", j
    assert "avx512f" not in j["cpu"]["features"]
    for name in ("qwen2-q4_k_m", "llama-f16", "qwen3-q8_0"):
        path = tiny_model(*name.split("-", 1))
        args = ["logprobs", str(path), "--batch-file", str(requests(tmp_path)), "--top-k", "5",
                "--threads", "2"]
        native = run([str(gavel_bin)] + args, env={"GAVEL_ISA": "avx2", "PATH": "/usr/bin"})
        assert native.returncode == 0, native.stderr
        emulated = run([qemu(), "-cpu", "Haswell", str(gavel_bin)] + args)
        assert emulated.returncode == 0, emulated.stderr[-2000:]
        assert emulated.stdout == native.stdout, name  # byte for byte: the same float bits


def test_pre_avx2_cpu_gets_a_clear_error(gavel_bin, tmp_path):
    path = tiny_model("qwen2", "f32")
    r = run([qemu(), "-cpu", "Nehalem", str(gavel_bin), "logprobs", str(path), "--prompt", "hi"])
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "Illegal instruction" not in r.stderr and "signal" not in r.stderr, r.stderr
    assert "need at least AVX2, FMA and F16C" in r.stderr, r.stderr
    assert "sse4.2" in r.stderr  # what the CPU has
    info = run([qemu(), "-cpu", "Nehalem", str(gavel_bin), "info", "--system"])
    assert info.returncode == 1, info.stderr
    assert "kernel set: none" in info.stdout
    assert "not runnable on this CPU" in info.stdout
    # Work that needs no kernels still runs.
    tok = run([qemu(), "-cpu", "Nehalem", str(gavel_bin), "info", str(path)])
    assert tok.returncode == 0, tok.stderr[-2000:]
