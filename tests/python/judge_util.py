"""Helpers shared by the judge/store reference tests: run `gavel judge` with the dev backend."""
import json
import pathlib
import subprocess

CARD_SYSTEM = (
    "You are a specialized AI assistant tasked with evaluating two responses to a given instruction. "
    "Your purpose is to fairly compare the quality of each response and select the better one. "
    "The user provides the instruction and the two responses A and B. Evaluate based on accuracy, "
    "clarity, and originality, considering repetitive or unoriginal responses as lower quality."
)


def chatml(messages, thinking_off=False):
    """What the dev backend's ChatML template renders (add_generation_prompt=True)."""
    s = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    s += "<|im_start|>assistant\n"
    if thinking_off:
        s += "<think>\n\n</think>\n\n"
    return s


def run_judge(gavel_bin, tmp: pathlib.Path, lines, *args, backend="fake:", check=True):
    inp = tmp / "in.jsonl"
    with open(inp, "wb") as f:
        for line in lines:
            f.write(line if isinstance(line, bytes) else (json.dumps(line) + "\n").encode())
    out = tmp / "out.jsonl"
    cmd = [str(gavel_bin), "judge", *([ "--backend", backend] if backend else []), "--input", str(inp), "--out", str(out),
           "--store", str(tmp / "s.sqlite"), "--no-progress", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=900)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} -> {r.returncode}\n{r.stderr}")
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").split("\n") if x] if out.exists() else []
    return r, recs
