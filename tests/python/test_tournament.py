"""`gavel tournament` end to end on the deterministic dev backend (no model): outputs recomputed
independently (tournament_recompute.py), every match's judgment the one `gavel judge` stores
for the same pair, resumable after SIGKILL to the same files, and the input edge cases (odd
field, a missing response, malformed lines, ties)."""
import json
import pathlib
import signal
import subprocess
import time

import pytest

from tournament_recompute import recompute

WRITERS = ["w-alpha", "w-bravo", "w-charlie", "w-delta", "w-echo"]  # odd: byes every round
PROMPTS = ["p1", "p2", "p3"]


def _rows(missing=("w-echo", "p3")):
    rows = []
    for p in PROMPTS:
        for i, w in enumerate(WRITERS):
            if (w, p) == missing:
                continue
            for it in ("1", "2"):
                # Lengths differ by writer; some text outside ASCII (json.dumps escapes it).
                text = f"{w} on {p}, take {it}: " + "lorem ipsum é→ " * (3 + 4 * i)
                rows.append({"writer_model": w, "prompt_id": p, "iteration": it,
                             "writing_prompt": f"Write about {p}.", "response": text,
                             "clean_score_0_100": 40 + 10 * i + (3 if it == "2" else 0)})
    return rows


def _write(path, rows, extra_lines=()):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        for x in extra_lines:
            f.write(x + "\n")
    return path


def _run(gavel_bin, *args, check=True, timeout=600):
    r = subprocess.run([str(gavel_bin), "tournament", "--no-progress", *map(str, args)],
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{args} -> {r.returncode}\n{r.stderr}")
    return r


def _files(d):
    d = pathlib.Path(d)
    return {f: (d / f).read_text(encoding="utf-8") for f in
            ("matches.jsonl", "leaderboard.json", "leaderboard.csv", "leaderboard.md",
             "separability.json", "bias.json")}


def _without_provenance(matches_text):
    out = []
    for line in matches_text.splitlines():
        m = json.loads(line)
        m.pop("judged")
        out.append(json.dumps(m, sort_keys=True))
    return out


def _assert_same(a, b):
    fa, fb = _files(a), _files(b)
    for f in fa:
        if f == "matches.jsonl":
            assert _without_provenance(fa[f]) == _without_provenance(fb[f])
        else:
            assert fa[f] == fb[f], f


def _assert_rerun_from_store(gavel_bin, tmp_path, out, *args):
    """The same command (fake backend) into another directory with out's store: every judgment
    comes from the store and the files are the same."""
    again = tmp_path / "again"
    r = _run(gavel_bin, "--backend", "fake:", "--out-dir", again, "--store", out / "gavel.sqlite", *args)
    assert "judgments: 0 new" in r.stdout, r.stdout
    _assert_same(out, again)


def _stored_so_far(gavel_bin, store):
    """Judgments in a store a running tournament writes: none while it is still being created
    (the schema commits in one transaction, until then export says it is not a gavel store)."""
    r = subprocess.run([str(gavel_bin), "store", "export", "--store", str(store), "--format", "jsonl"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        assert "not a gavel store" in r.stderr or "locked" in r.stderr, r.stderr
        return 0
    return len(r.stdout.splitlines())


def _store_rows(gavel_bin, store):
    r = subprocess.run([str(gavel_bin), "store", "export", "--store", str(store), "--format", "jsonl"],
                       capture_output=True, text=True, check=True)
    return [json.loads(x) for x in r.stdout.splitlines()]


@pytest.mark.parametrize("option", ["A", "B"])
def test_outputs_recompute_independently(gavel_bin, tmp_path, option):
    inp = _write(tmp_path / "in.jsonl", _rows())
    out = tmp_path / "out"
    r = _run(gavel_bin, "--backend", "fake:", "--input", inp, "--out-dir", out, "--option", option,
             "--rounds", "4", "--iterations", "4", "--iteration-choice", "all", "--seed", "3")
    assert "Separability Results" in r.stdout and "Positional Bias" in r.stdout, r.stdout
    bad, info = recompute(out)
    assert not bad, bad
    assert info["writers"] == 5
    matches = [json.loads(x) for x in (out / "matches.jsonl").read_text().splitlines()]
    board = json.loads((out / "leaderboard.json").read_text())
    assert board["missing_responses"] == 1
    # w-echo has no response to p3: it never plays there.
    assert not any(m["prompt_id"] == "p3" and "w-echo" in (m["model_a"], m["model_b"]) for m in matches)
    if option == "A":
        # 3 tournaments; a field of 5 plays 2 matches a round (one bye), of 4 plays 2.
        assert len(matches) == 4 * (2 + 2 + 2)
        t3 = next(t for t in board["tournaments"] if t["prompts"] == ["p3"])
        assert "w-echo" not in t3["writers"]
    else:
        assert len(matches) == 4 * 4 * 2
    for m in matches:
        assert [p["A"] for p in m["passes"]] == [m["passes"][0]["A"], m["passes"][0]["B"]]
        assert abs(m["p_text1"] - (m["passes"][0]["p_A"] + 1 - m["passes"][1]["p_A"]) / 2) < 1e-12 \
            if m["passes"][0]["A"] == m["model_a"] else True
        assert m["tokens_1"] == len(next(r["response"] for r in _rows() if r["writer_model"] == m["model_a"]
                                         and r["prompt_id"] == m["prompt_id"] and r["iteration"] == m["iteration_1"]).encode())
    _assert_rerun_from_store(gavel_bin, tmp_path, out, "--input", inp, "--option", option, "--rounds", "4",
                             "--iterations", "4", "--iteration-choice", "all", "--seed", "3")


def test_each_match_is_the_judgment_gavel_judge_makes(gavel_bin, tmp_path):
    rows = _rows()
    inp = _write(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out"
    _run(gavel_bin, "--backend", "fake:", "--input", inp, "--out-dir", out, "--rounds", "3",
         "--max-response-tokens", "40")
    matches = [json.loads(x) for x in (out / "matches.jsonl").read_text().splitlines()]
    text = {(r["writer_model"], r["prompt_id"], r["iteration"]): r["response"] for r in rows}
    instr = {r["prompt_id"]: r["writing_prompt"] for r in rows}

    def truncated(t):  # the dev backend's tokens are bytes; a cut character is dropped
        return t.encode()[:40].decode("utf-8", errors="ignore")

    items = []
    for m in matches:
        first = m["passes"][0]["A"]  # text 1 of the judgment: A in the first pass
        it = {m["model_a"]: m["iteration_1"], m["model_b"]: m["iteration_2"]}
        second = m["passes"][0]["B"]
        items.append({"id": str(len(items)), "instruction": instr[m["prompt_id"]],
                      "response_a": truncated(text[(first, m["prompt_id"], it[first])]),
                      "response_b": truncated(text[(second, m["prompt_id"], it[second])])})
        assert m["truncated_1"] and m["tokens_1"] <= 40
    judged = tmp_path / "judged.jsonl"
    _write(tmp_path / "pairs.jsonl", items)
    r = subprocess.run([str(gavel_bin), "judge", "--backend", "fake:", "--input", tmp_path / "pairs.jsonl",
                        "--out", judged, "--store", out / "gavel.sqlite", "--no-progress"],
                       capture_output=True, text=True, check=True)
    assert f"0 new judgments, {len(items)} from store" in r.stderr, r.stderr
    recs = [json.loads(x) for x in judged.read_text().splitlines()]
    for m, rec in zip(matches, recs):
        assert m["keys"] == [rec["key"]]
        assert m["passes"][0]["logprob_A"] == rec["pass1"]["logprob_A"]
        assert m["passes"][1]["p_A"] == rec["pass2"]["p_A"]
        want = rec["p_text1"] if m["passes"][0]["A"] == m["model_a"] else 1 - rec["p_text1"]
        assert m["p_text1"] == want


def test_critique_protocol_keys_match_gavel_judge(gavel_bin, tmp_path):
    rows = _rows()
    inp = _write(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out"
    _run(gavel_bin, "--backend", "fake:", "--input", inp, "--out-dir", out, "--rounds", "2",
         "--protocol", "critique", "--max-prompts", "1")
    bad, _ = recompute(out)
    assert not bad, bad
    matches = [json.loads(x) for x in (out / "matches.jsonl").read_text().splitlines()]
    text = {(r["writer_model"], r["prompt_id"]): r["response"] for r in rows if r["iteration"] == "1"}
    items = [{"id": str(i), "instruction": "Write about p1.",
              "response_a": text[(m["passes"][0]["A"], "p1")], "response_b": text[(m["passes"][0]["B"], "p1")]}
             for i, m in enumerate(matches)]
    _write(tmp_path / "pairs.jsonl", items)
    judged = tmp_path / "judged.jsonl"
    r = subprocess.run([str(gavel_bin), "judge", "--backend", "fake:", "--input", tmp_path / "pairs.jsonl",
                        "--out", judged, "--store", out / "gavel.sqlite", "--no-progress", "--protocol",
                        "critique", "--mode", "pairwise", "--both-orders", "--var",
                        "rubric_objective=Which response is the better piece of creative writing for the instruction?"],
                       capture_output=True, text=True, check=True)
    assert f"0 new judgments, {2 * len(items)} from store" in r.stderr, r.stderr
    for m, rec in zip(matches, (json.loads(x) for x in judged.read_text().splitlines())):
        assert m["keys"] == [p["key"] for p in rec["passes"]]
        assert len(m["passes"]) == 2


def test_sigkill_then_resume_gives_the_same_files(gavel_bin, tmp_path):
    inp = _write(tmp_path / "in.jsonl", _rows())
    args = ["--input", inp, "--option", "B", "--rounds", "5", "--iterations", "3", "--seed", "9",
            "--iteration-choice", "all", "--batch", "1"]
    clean = tmp_path / "clean"
    _run(gavel_bin, "--backend", "fake:", *args, "--out-dir", clean)
    out, store = tmp_path / "killed", tmp_path / "killed.sqlite"
    cmd = [str(gavel_bin), "tournament", "--no-progress", "--backend", "fake:delay_ms=40",
           *map(str, args), "--out-dir", str(out), "--store", str(store)]
    kills = 0
    for target in (3, 9, 15):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None:
            time.sleep(0.05)
            if store.exists() and _stored_so_far(gavel_bin, store) >= target:
                break
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    assert kills >= 1
    mid = len(_store_rows(gavel_bin, store))
    r = _run(gavel_bin, "--backend", "fake:", *args, "--out-dir", out, "--store", store)
    _assert_same(clean, out)
    rows = _store_rows(gavel_bin, store)
    keys = [x["key"] for x in rows]
    assert len(keys) == len(set(keys))  # nothing judged twice
    matches = [json.loads(x) for x in (out / "matches.jsonl").read_text().splitlines()]
    distinct = {k for m in matches for k in m["keys"]}
    assert set(keys) == distinct  # nothing lost, nothing extra
    assert 0 < mid < len(distinct)  # the kills came mid-run
    assert f"judgments: {len(distinct) - mid} new, {mid} from the store" in r.stdout, r.stdout


def test_bad_lines_are_named_and_can_be_skipped(gavel_bin, tmp_path):
    rows = _rows()
    inp = _write(tmp_path / "in.jsonl", rows, ["{not json", json.dumps({"writer_model": "w-x", "prompt_id": "p1"})])
    n = len(rows)
    r = _run(gavel_bin, "--backend", "fake:", "--input", inp, "--out-dir", tmp_path / "o", check=False)
    assert r.returncode != 0
    assert f"{inp}:{n + 1}: invalid JSON" in r.stderr, r.stderr
    assert f"{inp}:{n + 2}: missing field \"writing_prompt\"" in r.stderr, r.stderr
    assert not (tmp_path / "o" / "leaderboard.json").exists()
    r = _run(gavel_bin, "--backend", "fake:", "--input", inp, "--out-dir", tmp_path / "o",
             "--on-bad-line", "skip")
    assert "2 malformed line(s) left out" in r.stderr
    assert json.loads((tmp_path / "o" / "leaderboard.json").read_text())["writers_n"] == 5


def test_input_errors(gavel_bin, tmp_path):
    rows = _rows()
    dup = dict(rows[0])
    inp = _write(tmp_path / "dup.jsonl", rows + [dup])
    r = _run(gavel_bin, "--backend", "fake:", "--input", inp, "--out-dir", tmp_path / "o", check=False)
    assert r.returncode != 0 and "already has a response" in r.stderr and f"line 1)" in r.stderr, r.stderr
    r = _run(gavel_bin, "--backend", "fake:", "--input", _write(tmp_path / "in.jsonl", rows),
             "--out-dir", tmp_path / "o", "--writers", "w-alpha,nobody", check=False)
    assert r.returncode != 0 and 'no writer "nobody"' in r.stderr, r.stderr
    r = _run(gavel_bin, "--backend", "fake:", "--input", tmp_path / "in.jsonl", "--out-dir",
             tmp_path / "o", "--max-writers", "1", check=False)
    assert r.returncode != 0 and "at least 2 writers" in r.stderr, r.stderr
    r = _run(gavel_bin, "--input", tmp_path / "in.jsonl", "--out-dir", tmp_path / "o", check=False)
    assert r.returncode != 0 and "--model" in r.stderr, r.stderr


def test_ties_and_a_two_writer_field(gavel_bin, tmp_path):
    """The stand-in judge gives exact ties for equal scores: Elo treats 0.5 as a draw."""
    rows = [{"writer_model": w, "prompt_id": p, "writing_prompt": "x", "response": "same",
             "clean_score_0_100": 50} for w in ("a", "b") for p in ("q1", "q2")]
    inp = _write(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out"
    _run(gavel_bin, "--judge", "stand-in", "--input", inp, "--out-dir", out, "--rounds", "3")
    board = json.loads((out / "leaderboard.json").read_text())
    assert [w["rating"] for w in board["writers"]] == [1500, 1500]
    matches = [json.loads(x) for x in (out / "matches.jsonl").read_text().splitlines()]
    assert all(m["p_text1"] == 0.5 for m in matches) and len(matches) == 6
    bias = json.loads((out / "bias.json").read_text())
    assert bias["swap_flip_rate"] == 1.0  # an exact 0.5 prefers nobody: counted as a flip


def test_equal_lengths_give_no_length_figures_not_zero_or_nan(gavel_bin, tmp_path):
    """Every response equally long: the length figures are undefined, and the summary, the
    leaderboards and bias.json say so instead of printing 0.0% or nan."""
    rows = [{"writer_model": w, "prompt_id": p, "writing_prompt": "x",
             "response": f"{w}{p}", "clean_score_0_100": s}
            for w, s in (("aa", 40), ("bb", 60), ("cc", 50)) for p in ("q1", "q2")]
    out = tmp_path / "out"
    r = _run(gavel_bin, "--judge", "stand-in", "--input", _write(tmp_path / "in.jsonl", rows),
             "--out-dir", out, "--rounds", "2")
    assert "Length Bias (Longer Response Win Rate): n/a (no length variation" in r.stdout, r.stdout
    assert "Length Bias (Avg EV Margin for Longer): n/a (no length variation" in r.stdout, r.stdout
    assert "length coefficient: n/a (no length variation" in r.stdout, r.stdout
    assert "nan" not in r.stdout.lower(), r.stdout
    for f in ("leaderboard.md", "leaderboard.csv"):
        text = (out / f).read_text()
        assert "nan" not in text.lower() and "n/a" in text, (f, text)
    bias = json.loads((out / "bias.json").read_text())
    assert bias["length_passes"] == 0
    assert bias["longer_response_win_rate"] is None and bias["longer_avg_ev_margin"] is None
    board = json.loads((out / "leaderboard.json").read_text())
    assert board["length_coefficient"]["beta"] is None
    assert "no length variation" in board["length_coefficient"]["not_fitted"]
    # One writer longer than the others: the figures are numbers again.
    for row in rows:
        if row["writer_model"] == "aa":
            row["response"] += " and more"
    r = _run(gavel_bin, "--judge", "stand-in", "--input", _write(tmp_path / "in2.jsonl", rows),
             "--out-dir", tmp_path / "out2", "--rounds", "2")
    assert "Length Bias (Longer Response Win Rate): n/a" not in r.stdout, r.stdout
    assert json.loads((tmp_path / "out2/bias.json").read_text())["length_passes"] > 0


def test_dry_run_plans_and_calibrates_without_judging(gavel_bin, tmp_path):
    inp = _write(tmp_path / "in.jsonl", _rows())
    r = _run(gavel_bin, "--backend", "fake:delay_ms=5", "--input", inp, "--out-dir", tmp_path / "o",
             "--dry-run", "--option", "B", "--rounds", "6", "--iterations", "2")
    assert "matches: 24" in r.stdout, r.stdout  # 2 x 6 x floor(5/2)
    assert "calibration: 1 judgment" in r.stdout and "estimated time" in r.stdout, r.stdout
    assert not (tmp_path / "o").exists()  # nothing judged, nothing written


@pytest.mark.parametrize("option", ["A", "B"])
def test_adaptive_pairing_recomputes_with_bradley_terry(gavel_bin, tmp_path, option):
    """Adaptive tournaments are read with Bradley-Terry: the recompute replays a BT fit per
    tournament (not Elo) and agrees; a second run judges nothing new."""
    inp = _write(tmp_path / "in.jsonl", _rows())
    out = tmp_path / "out"
    _run(gavel_bin, "--backend", "fake:", "--input", inp, "--out-dir", out, "--option", option,
         "--pairing", "adaptive", "--rounds", "4", "--iterations", "3", "--seed", "5")
    board = json.loads((out / "leaderboard.json").read_text())
    assert board["pairing"] == "adaptive" and board["tournament_rating"] == "bt"
    bad, _ = recompute(out)
    assert not bad, bad
    matches = [json.loads(x) for x in (out / "matches.jsonl").read_text().splitlines()]
    assert 0 < len(matches) <= board["planned_matches"]
    for t in board["tournaments"]:  # one match per writer per round
        for rnd in {m["round"] for m in matches if m["tournament"] == t["id"]}:
            ws = [w for m in matches if m["tournament"] == t["id"] and m["round"] == rnd
                  for w in (m["model_a"], m["model_b"])]
            assert len(ws) == len(set(ws)), (t["id"], rnd, ws)
    _assert_rerun_from_store(gavel_bin, tmp_path, out, "--input", inp, "--option", option,
                             "--pairing", "adaptive", "--rounds", "4", "--iterations", "3", "--seed", "5")


def test_until_stable_reports_the_matches_saved(gavel_bin, shared_dir, tmp_path):
    """Full CW v3 scale with the stand-in judge: adaptive pairing with --until-stable stops
    tournaments early and the summary and leaderboard.json say how many matches it saved."""
    inp = shared_dir / "data/eqbench/creative-writing-v3/creative_writing_bench_v3_samples.jsonl"
    out = tmp_path / "out"
    r = _run(gavel_bin, "--judge", "stand-in", "--input", inp, "--out-dir", out, "--option", "B",
             "--pairing", "adaptive", "--until-stable", "--iterations", "3")
    board = json.loads((out / "leaderboard.json").read_text())
    played = len((out / "matches.jsonl").read_text().splitlines())
    assert board["planned_matches"] == 3 * 20 * 15
    assert board["stopped_early_tournaments"] >= 1
    assert played < board["planned_matches"]
    saved = board["planned_matches"] - played
    assert f"{played} of {board['planned_matches']} planned matches played, {saved} saved" in r.stdout, r.stdout
    bad, _ = recompute(out)
    assert not bad, bad
