#!/usr/bin/env python3
"""The tournament's acceptance run on a real judge model (too long for the suite):

1. Option A, then Option B, over a CW v3 slice (default 8 writers x 4 prompts) with the model in
   process, uninterrupted, one store ("clean");
2. the same two runs into a second store, each killed with SIGKILL twice mid-run and resumed:
   every output file equals the clean run's (the per-match `judged` provenance aside), nothing
   is judged twice or lost;
3. tests/python/tournament_recompute.py recomputes each run's leaderboard, separability and bias
   from matches.jsonl alone (own Elo/BT replay, scipy) to 1e-9;
4. a sample of matches is judged again by `gavel judge` on a fresh store, with the responses
   truncated by llama.cpp's tokenizer (llama-cpp-python), not gavel's: same store key, same P.

    scripts/acceptance_tournament.py [--gavel build/apps/gavel/gavel] [--model M.gguf]
        [--writers 8] [--prompts 4] [--max-response-tokens 256] [--work DIR]

Prints what it checked and the timings; exits non-zero on the first disagreement.
"""
import argparse
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "python"))
from tournament_recompute import recompute  # noqa: E402

FILES = ("matches.jsonl", "leaderboard.json", "leaderboard.csv", "leaderboard.md",
         "separability.json", "bias.json")


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def gavel(args, *cmd, check=True):
    r = subprocess.run([str(args.gavel), *map(str, cmd)], capture_output=True, text=True)
    if check and r.returncode != 0:
        fail(f"gavel {' '.join(map(str, cmd))} -> {r.returncode}\n{r.stderr[-3000:]}")
    return r


def tournament_cmd(args, option, out_dir, store):
    return [str(args.gavel), "tournament", "--no-progress", "--model", str(args.model), "--threads",
            str(args.threads), "--input", str(args.input), "--max-writers", str(args.writers),
            "--max-prompts", str(args.prompts), "--max-response-tokens",
            str(args.max_response_tokens), "--option", option, "--seed", "7", "--out-dir",
            str(out_dir), "--store", str(store)]


def store_keys(args, store):
    if not store.exists():
        return []
    r = gavel(args, "store", "export", "--store", store, "--format", "jsonl", check=False)
    if r.returncode != 0:  # the store is being created by the run: try again later
        return []
    return [json.loads(x)["key"] for x in r.stdout.splitlines() if x]


def files(d):
    out = {}
    for f in FILES:
        text = (d / f).read_text(encoding="utf-8")
        if f == "matches.jsonl":
            rows = []
            for line in text.splitlines():
                m = json.loads(line)
                m.pop("judged", None)
                rows.append(json.dumps(m, sort_keys=True))
            text = rows
        out[f] = text
    return out


def killed_run(args, option, out_dir, store, expected_new):
    """Runs `option`, SIGKILLs it once its store holds 1/3 and then 2/3 of the judgments this
    run adds, then lets it finish. Returns the number of kills and the final run's stdout."""
    start = len(store_keys(args, store))
    cmd = tournament_cmd(args, option, out_dir, store)
    kills = 0
    for frac in (1 / 3, 2 / 3):
        target = start + max(1, int(expected_new * frac))
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while p.poll() is None:
            time.sleep(0.5)
            if len(store_keys(args, store)) >= target:
                p.send_signal(signal.SIGKILL)
                kills += 1
                break
        p.wait()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"resumed option {option} -> {r.returncode}\n{r.stderr[-3000:]}")
    return kills, r.stdout


def llama_truncate(llm, text, n):
    ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
    if len(ids) <= n:
        return text
    # gavel drops a character cut by the token limit (only the tail can be partial).
    return llm.detokenize(ids[:n]).decode("utf-8", errors="ignore")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gavel", type=pathlib.Path, default=ROOT / "build/apps/gavel/gavel")
    ap.add_argument("--model", type=pathlib.Path, default=pathlib.Path(os.environ.get(
        "GAVEL_MODELS", pathlib.Path.home() / ".cache/gavel/models")) /
        "qwen2.5-coder-0.5b-instruct.gguf")
    ap.add_argument("--input", type=pathlib.Path, default=ROOT.parent / "shared/data/eqbench/"
                    "creative-writing-v3/creative_writing_bench_v3_samples.jsonl")
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--max-response-tokens", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sample", type=int, default=4, help="matches re-judged by `gavel judge`")
    ap.add_argument("--work", type=pathlib.Path, help="work directory (default: a new temp dir)")
    args = ap.parse_args()
    work = args.work or pathlib.Path(tempfile.mkdtemp(prefix="gavel-acceptance-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work dir {work}; model {args.model}; {args.writers} writers x {args.prompts} prompts; "
          f"responses cut to {args.max_response_tokens} tokens", flush=True)

    clean_store, killed_store = work / "clean.sqlite", work / "killed.sqlite"
    for option in ("A", "B"):
        t0 = time.time()
        before = len(store_keys(args, clean_store))
        r = subprocess.run(tournament_cmd(args, option, work / f"clean-{option}", clean_store),
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"option {option} -> {r.returncode}\n{r.stderr[-3000:]}")
        new = len(store_keys(args, clean_store)) - before
        print(f"option {option}: {new} new judgments in {time.time() - t0:.0f} s", flush=True)
        bad, info = recompute(work / f"clean-{option}")
        if bad:
            fail(f"option {option} recompute: {bad[:5]}")
        print(f"option {option}: recompute agrees to 1e-9 ({info})", flush=True)

        t0 = time.time()
        kills, stdout = killed_run(args, option, work / f"killed-{option}", killed_store, new)
        if new >= 3 and kills < 2:
            fail(f"option {option}: the run ended before it could be killed twice ({kills})")
        if files(work / f"clean-{option}") != files(work / f"killed-{option}"):
            diff = [f for f, v in files(work / f"clean-{option}").items()
                    if files(work / f"killed-{option}")[f] != v]
            fail(f"option {option}: killed and resumed files differ: {diff}")
        if new < 3:
            print(f"option {option}: {new} new judgments, too few to kill the run mid-way")
        print(f"option {option}: killed {kills}x and resumed in {time.time() - t0:.0f} s; the "
              f"six output files equal the uninterrupted run's", flush=True)

    clean_keys, killed_keys = store_keys(args, clean_store), store_keys(args, killed_store)
    if len(killed_keys) != len(set(killed_keys)) or set(killed_keys) != set(clean_keys):
        fail(f"stores differ: clean {len(clean_keys)} judgments, killed {len(killed_keys)} "
             f"({len(set(killed_keys))} distinct)")
    print(f"stores: {len(clean_keys)} judgments each, none twice, the same keys", flush=True)

    # A sample of matches, judged afresh by `gavel judge` with llama.cpp's truncation.
    import llama_cpp  # the reference tokenizer (llama-cpp-python)
    llm = llama_cpp.Llama(str(args.model), vocab_only=True, verbose=False)
    rows = [json.loads(x) for x in args.input.read_text(encoding="utf-8").splitlines() if x]
    text = {(r["writer_model"], r["prompt_id"], str(r["iteration"])): r["response"] for r in rows}
    instr = {r["prompt_id"]: r["writing_prompt"] for r in rows}
    matches = [json.loads(x) for x in (work / "clean-B/matches.jsonl").read_text().splitlines()]
    sample = random.Random(1).sample(matches, min(args.sample, len(matches)))
    items = []
    for m in sample:
        it = {m["model_a"]: m["iteration_1"], m["model_b"]: m["iteration_2"]}
        a, b = m["passes"][0]["A"], m["passes"][0]["B"]
        items.append({"id": str(len(items)), "instruction": instr[m["prompt_id"]],
                      "response_a": llama_truncate(llm, text[(a, m["prompt_id"], it[a])],
                                                   args.max_response_tokens),
                      "response_b": llama_truncate(llm, text[(b, m["prompt_id"], it[b])],
                                                   args.max_response_tokens)})
    pairs, judged = work / "sample.jsonl", work / "sample-judged.jsonl"
    pairs.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    gavel(args, "judge", "--model", args.model, "--threads", args.threads, "--input", pairs,
          "--out", judged, "--store", work / "fresh.sqlite", "--no-progress")
    for m, rec in zip(sample, (json.loads(x) for x in judged.read_text().splitlines())):
        want = rec["p_text1"] if m["passes"][0]["A"] == m["model_a"] else 1 - rec["p_text1"]
        if m["keys"] != [rec["key"]] or m["p_text1"] != want:
            fail(f"match {m['model_a']} v {m['model_b']} on {m['prompt_id']}: key "
                 f"{m['keys']} / P {m['p_text1']!r}, gavel judge: {rec['key']} / {want!r}")
    print(f"{len(sample)} sampled matches: gavel judge on a fresh store gives the same key and "
          f"bit-identical P (texts truncated by llama.cpp's tokenizer)", flush=True)
    print("PASS")


if __name__ == "__main__":
    main()
