"""GAVEL_AUTOVEC_BITS: the vector width of llama.cpp's auto-vectorized loops (qwen35's conv) that
gavel mirrors (src/tensor/isa.h). A bad value is refused with a message naming the variable, by
`gavel info --system` and by a model load; a good one shows in `info --system`, capped by the
level."""
import json
import os
import subprocess

from test_parity_llamacpp import tiny_model


def run(gavel_bin, args, **env):
    return subprocess.run([str(gavel_bin), *args], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, **env))


def test_bad_value_is_refused_with_its_name(gavel_bin):
    for bad in ("9", "1024", "wide"):
        info = run(gavel_bin, ["info", "--system"], GAVEL_AUTOVEC_BITS=bad)
        assert info.returncode == 1, (bad, info.stdout, info.stderr)
        assert f"GAVEL_AUTOVEC_BITS={bad}: use 256 or 512" in info.stderr, info.stderr
        load = run(gavel_bin, ["logprobs", str(tiny_model("qwen2", "f32")), "--prompt", "hi"],
                   GAVEL_AUTOVEC_BITS=bad)
        assert load.returncode != 0, (bad, load.stdout)
        assert f"GAVEL_AUTOVEC_BITS={bad}: use 256 or 512" in load.stderr, load.stderr


def test_width_in_use_is_the_levels_capped_by_the_variable(gavel_bin, system_info):
    runs = {l["name"]: l["runs_here"] for l in system_info["levels"]}
    for level in (l for l, ok in runs.items() if ok):
        for bits in ("256", "512"):
            r = run(gavel_bin, ["info", "--system", "--json"], GAVEL_ISA=level,
                    GAVEL_AUTOVEC_BITS=bits)
            assert r.returncode == 0, r.stderr
            got = json.loads(r.stdout)["autovec_bits"]
            assert got == min(int(bits), 256 if level == "avx2" else 512), (level, bits, got)
