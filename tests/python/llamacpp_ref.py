"""llama.cpp reference log-probs for the parity tests, at a given ISA level.

gavel's kernels are chosen per ISA level and each level matches llama.cpp built for it
(docs/layers/engine.md, "ISA levels"):
  avx2    llama-cpp-python 0.3.36 built GGML_NATIVE=OFF GGML_AVX2/FMA/F16C=ON, no AVX-512
          (scripts/setup.sh installs it in ~/.cache/gavel/venv-avx2)
  avx512  llama-cpp-python 0.3.36 built natively on an AVX-512 VNNI CPU (the main venv)
One llama.cpp library can be loaded per process, so each reference runs in a child process
(this file run as a script) with LLAMA_CPP_LIB_PATH pointing at that level's library.

As a script: reads a JSON request on stdin, writes the result JSON to stdout.
  request: {"model", "n_ctx", "docs": [{"text", "add_bos", "special", "max_tokens"} or
            {"tokens"}], "n_decode": 0 (or k: prefill all but the last k tokens, then feed them
            one at a time), "min_tokens": 0 (docs shorter than this are dropped), "limit": null}
  result:  {"system_info", "results": [{"tokens", "top", "lp"}]} with the top-20 token ids
           of the final position and their log-probs.
"""
import json
import os
import pathlib
import subprocess
import sys

LEVELS = ["avx2", "avx512"]


def avx2_lib_dir() -> pathlib.Path:
    """The AVX2 build's llama_cpp/lib (GAVEL_LLAMA_AVX2_LIB overrides)."""
    env = os.environ.get("GAVEL_LLAMA_AVX2_LIB")
    if env:
        return pathlib.Path(env)
    venv = pathlib.Path(os.environ.get("GAVEL_VENV_AVX2",
                                       pathlib.Path.home() / ".cache/gavel/venv-avx2"))
    hits = sorted(venv.glob("lib/python3*/site-packages/llama_cpp/lib"))
    return hits[0] if hits else venv / "lib/python3/site-packages/llama_cpp/lib"


def level_env(level: str) -> dict:
    """Environment for a child process that loads llama.cpp built for `level`."""
    env = dict(os.environ)
    env.pop("LLAMA_CPP_LIB_PATH", None)
    if level == "avx2":
        lib = avx2_lib_dir()
        if not (lib / "libllama.so").exists():
            raise FileNotFoundError(
                f"llama.cpp built for AVX2 missing: {lib}/libllama.so (run scripts/setup.sh)")
        env["LLAMA_CPP_LIB_PATH"] = str(lib)
    return env


def check_system_info(level: str, info: str) -> None:
    """The library really is the level's build (an AVX2 build has no AVX-512 at all)."""
    flags = dict(kv.strip().split(" = ") for kv in info.split("|") if " = " in kv)
    if level == "avx2":  # system info lists only the features a build has
        assert flags.get("AVX2") == "1" and not any(k.startswith("AVX512") for k in flags), info
    else:
        assert flags.get("AVX512") == "1" and flags.get("AVX512_VNNI") == "1", info
    # AMX kernels sum in other orders than the AVX-512 path gavel mirrors (scripts/setup.sh
    # builds llama.cpp without them).
    assert not any(k.startswith("AMX") for k in flags), f"llama.cpp built with AMX: {info}"


def reference(level: str, request: dict) -> dict:
    """Runs this file in a child process against llama.cpp built for `level`."""
    r = subprocess.run([sys.executable, __file__], input=json.dumps(request), text=True,
                       capture_output=True, env=level_env(level), timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f"llama.cpp reference ({level}) failed: {r.stderr[-3000:]}")
    out = json.loads(r.stdout)
    check_system_info(level, out["system_info"])
    return out


def _run(req: dict) -> dict:
    import numpy as np
    import llama_cpp

    llm = llama_cpp.Llama(model_path=req["model"], n_ctx=req["n_ctx"], n_threads=2,
                          logits_all=False, verbose=False)
    n_decode = req.get("n_decode", 0)
    results = []
    for doc in req["docs"]:
        if "tokens" in doc:
            ids = list(doc["tokens"])
        else:
            ids = llm.tokenize(doc["text"].encode(), add_bos=doc.get("add_bos", True),
                               special=doc.get("special", False))
        if doc.get("max_tokens"):
            ids = ids[: doc["max_tokens"]]
        if len(ids) < req.get("min_tokens", 1):
            continue
        llm.reset()
        llm._ctx.kv_cache_clear()  # recurrent state cannot be partially removed: clear all
        if n_decode:
            llm.eval(ids[:-n_decode])
            for t in ids[-n_decode:]:
                llm.eval([t])
        else:
            llm.eval(ids)
        lg = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
        lg = lg.astype(np.float64)
        lp = lg - (lg.max() + np.log(np.exp(lg - lg.max()).sum()))
        top = np.argsort(-lp, kind="stable")[:20]
        results.append({"tokens": [int(t) for t in ids], "top": [int(t) for t in top],
                        "lp": [float(lp[t]) for t in top]})
        if req.get("limit") and len(results) == req["limit"]:
            break
    del llm
    return {"system_info": llama_cpp.llama_print_system_info().decode(), "results": results}


if __name__ == "__main__":
    json.dump(_run(json.load(sys.stdin)), sys.stdout)
