"""Helpers shared by the judge/store reference tests: run `gavel judge` with the dev backend."""
import json
import pathlib
import re
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


QWEN_SPECIALS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]


def template_special_ids(llm, prompt, data, specials=QWEN_SPECIALS):
    """llama.cpp's ids (llama-cpp-python `llm`) for a rendered prompt whose only data is the
    substring `data` (once): special tokens parsed only where the template wrote them (outside
    `data`), everything between them tokenized with special=False, as llama.cpp tokenizes the
    text between special tokens."""
    assert prompt.count(data) == 1, "the data must occur once in the prompt"
    start = prompt.index(data)
    end = start + len(data)
    cuts = sorted((m.start(), m.end()) for s in specials for m in re.finditer(re.escape(s), prompt)
                  if m.end() <= start or m.start() >= end)
    ids, pos = [], 0
    for a, b in cuts:
        if pos < a:
            ids += llm.tokenize(prompt[pos:a].encode(), add_bos=False, special=False)
        tok = llm.tokenize(prompt[a:b].encode(), add_bos=False, special=True)
        assert len(tok) == 1, prompt[a:b]
        ids += tok
        pos = b
    if pos < len(prompt):
        ids += llm.tokenize(prompt[pos:].encode(), add_bos=False, special=False)
    return ids
