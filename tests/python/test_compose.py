"""`gavel judge` output and a tournament's matches.jsonl piped into `gavel rank fit`, `gavel meta
pairwise` and `gavel meta classify` with no field flags, each result checked against an
independent computation from the records (scipy's optimizer for Bradley-Terry, plain counting
for the agreement figures)."""
import json
import math
import subprocess

import numpy as np
from scipy import optimize

from judge_util import run_judge

SYSTEMS = ["sys-a", "sys-b", "sys-c", "sys-d"]


def _gavel(gavel_bin, *args):
    r = subprocess.run([str(gavel_bin), *map(str, args)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, f"{args} -> {r.returncode}\n{r.stderr}"
    return r


def _pairs():
    rows = []
    for i in range(24):
        a, b = SYSTEMS[i % 4], SYSTEMS[(i // 4 + i + 1) % 4]
        if a == b:
            b = SYSTEMS[(i + 2) % 4]
        rows.append({"id": f"q{i}", "instruction": f"Question {i}?",
                     "response_a": f"{a} answers {i} " + "x" * (i % 5),
                     "response_b": f"{b} answers {i} " + "y" * (i % 3),
                     "model_a": a, "model_b": b, "label": ["A", "B", "tie"][i % 3 if i < 6 else i % 2]})
    return rows


def _bt_theta(comps, names, alpha):
    """MAP Bradley-Terry (rank/elo.h's objective, choix's penalty) with scipy's optimizer."""
    idx = {n: i for i, n in enumerate(names)}

    def f(t):
        v = alpha * np.dot(t, t)
        for a, b, s in comps:
            d = t[idx[a]] - t[idx[b]]
            v += s * np.logaddexp(0, -d) + (1 - s) * np.logaddexp(0, d)
        return v

    res = optimize.minimize(f, np.zeros(len(names)), method="BFGS", options={"gtol": 1e-10})
    return {n: res.x[i] for n, i in idx.items()}


def _check_fit(gavel_bin, path, comps):
    got = json.loads(_gavel(gavel_bin, "rank", "fit", "--in", path, "--alpha", 0.01,
                            "--bootstrap", 2, "--json").stdout)
    assert got["comparisons"] == len(comps)
    names = sorted({n for a, b, _ in comps for n in (a, b)})
    ref = _bt_theta(comps, names, 0.01)
    theta = {p["player"]: p["theta"] for p in got["players"]}
    assert set(theta) == set(names)
    for n in names:
        assert abs(theta[n] - ref[n]) < 1e-5, (n, theta[n], ref[n])
    return got


def test_judge_output_feeds_rank_and_meta(gavel_bin, tmp_path):
    rows = _pairs()
    _, recs = run_judge(gavel_bin, tmp_path, rows)
    assert len(recs) == len(rows)
    # The systems of the input are in the output, next to the label and the verdict.
    for row, rec in zip(rows, recs):
        assert (rec["model_a"], rec["model_b"], rec["label"]) == (row["model_a"], row["model_b"],
                                                                   row["label"])
        p = rec["p_text1"]
        assert rec["verdict"] == ("A" if p > 0.5 else "B" if p < 0.5 else "tie")
    out = tmp_path / "out.jsonl"

    # rank fit: model_a, model_b and the soft P(text 1 better).
    _check_fit(gavel_bin, out, [(r["model_a"], r["model_b"], r["p_text1"]) for r in recs])

    # meta pairwise: pass1.p_A / pass2.p_A against the gold label; ties are left out and counted.
    got = json.loads(_gavel(gavel_bin, "meta", "pairwise", "--in", out, "--json").stdout)
    gold = [(r, r["label"] == "A") for r in recs if r["label"] in ("A", "B")]
    strict = consistent = 0
    target = []
    for r, text1 in gold:
        p1, p2 = r["pass1"]["p_A"], r["pass2"]["p_A"]
        first, second = p1 > 0.5, p2 < 0.5  # each pass prefers text 1
        strict += (first == text1 and second == text1 and p1 != 0.5 and p2 != 0.5)
        consistent += (first == second and p1 != 0.5 and p2 != 0.5)
        pt1 = (p1 + 1 - p2) / 2
        target.append(pt1 if text1 else 1 - pt1)
    assert got["n"] == len(gold)
    assert got["labels_not_scored"] == {"tie": sum(r["label"] == "tie" for r in recs)}
    assert abs(got["strict_accuracy"] - strict / len(gold)) < 1e-12
    assert abs(got["positional_consistency"] - consistent / len(gold)) < 1e-12
    assert abs(got["mean_target_mass"] - sum(target) / len(target)) < 1e-12

    # meta classify: the verdict against the label, in the same vocabulary.
    got = json.loads(_gavel(gavel_bin, "meta", "classify", "--in", out, "--json").stdout)
    assert got["n"] == len(recs) and got["no_verdict"] == 0
    hits = sum(r["verdict"] == r["label"] for r in recs)
    assert abs(got["accuracy"] - hits / len(recs)) < 1e-12
    for k, c in got["classes"].items():
        tp = sum(r["verdict"] == k and r["label"] == k for r in recs)
        assert c["support"] == sum(r["label"] == k for r in recs)
        assert c["predicted"] == sum(r["verdict"] == k for r in recs)
        prec = tp / c["predicted"] if c["predicted"] else 0.0
        assert abs(c["precision"] - prec) < 1e-12


def test_system_names_mapped_or_checked(gavel_bin, tmp_path):
    rows = [{"instruction": "Q?", "response_a": "one", "response_b": "two", "left": "m1",
             "right": "m2"}]
    _, recs = run_judge(gavel_bin, tmp_path, rows, "--field", "model_a=left", "--field",
                        "model_b=right")
    assert (recs[0]["model_a"], recs[0]["model_b"]) == ("m1", "m2")
    # Without system names in the input, the record has none (nothing is made up).
    _, recs = run_judge(gavel_bin, tmp_path, [{"instruction": "Q?", "response_a": "one",
                                               "response_b": "two"}])
    assert "model_a" not in recs[0] and "model_b" not in recs[0]
    # A system name that is not a string is an error naming the line and field.
    r, recs = run_judge(gavel_bin, tmp_path, [{"instruction": "Q?", "response_a": "one",
                                               "response_b": "two", "model_a": 7}], check=False)
    assert r.returncode != 0 and "line 1" in r.stderr and "model_a" in r.stderr, r.stderr


def test_classify_leaves_out_rows_without_verdict(gavel_bin, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"label": "A", "verdict": "A"}\n{"label": "B", "verdict": null}\n'
                    '{"label": "B", "verdict": "A"}\n')
    got = json.loads(_gavel(gavel_bin, "meta", "classify", "--in", path, "--json").stdout)
    assert got["n"] == 2 and got["no_verdict"] == 1 and got["accuracy"] == 0.5
    text = _gavel(gavel_bin, "meta", "classify", "--in", path).stdout
    assert "1 row(s) without a verdict" in text


def test_tournament_matches_feed_rank(gavel_bin, tmp_path):
    rows = []
    for p in ("p1", "p2", "p3"):
        for i, w in enumerate(SYSTEMS):
            rows.append({"writer_model": w, "prompt_id": p, "iteration": "1",
                         "writing_prompt": f"Write about {p}.",
                         "response": f"{w} on {p}: " + "lorem ipsum " * (2 + 3 * i),
                         "clean_score_0_100": 40 + 10 * i})
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    subprocess.run([str(gavel_bin), "tournament", "--no-progress", "--backend", "fake:", "--input",
                    str(inp), "--out-dir", str(out), "--option", "B", "--rounds", "3",
                    "--iterations", "2", "--seed", "5"], check=True, capture_output=True,
                   timeout=600)
    matches = [json.loads(x) for x in (out / "matches.jsonl").read_text().splitlines()]
    assert matches
    for m in matches:  # a verdict in the label's vocabulary, or none (p_text1 is then 0.5)
        p = m["p_text1"]
        assert m["verdict"] in (None, "A" if p > 0.5 else "B" if p < 0.5 else "tie")
    got = _check_fit(gavel_bin, out / "matches.jsonl",
                     [(m["model_a"], m["model_b"], m["p_text1"]) for m in matches])
    assert math.isfinite(got["players"][0]["bt_elo"])
