"""The card's evaluate_pair arithmetic, run in Python on the raw logprobs gavel reports.

extract_probs / the averaging below are the model card's code (seed 000), with vLLM's output
object replaced by the logprobs of A and B (or their absence from the top k)."""
import math

from judge_util import run_judge


def extract_probs(logA, logB):  # the card's extract_probs after the lps.get(...) lookups
    pA, pB = math.exp(logA), math.exp(logB)
    return (pA / (pA + pB) * 100, pB / (pA + pB) * 100) if (pA + pB) > 0 else (50.0, 50.0)


def evaluate_pair_from_logprobs(pass1, pass2):
    S1_pos1_prob, S1_pos2_prob = extract_probs(*pass1)
    S2_pos1_prob, S2_pos2_prob = extract_probs(*pass2)
    avg_text1_better = (S1_pos1_prob + S2_pos2_prob) / 2
    avg_text2_better = (S1_pos2_prob + S2_pos1_prob) / 2
    return avg_text1_better, avg_text2_better


def _items(n):
    return [{"id": f"p{i}", "instruction": f"task {i}", "response_a": f"first {i * 7}",
             "response_b": f"second {i * 13}", "label": "AB"[i % 2]} for i in range(n)]


def _check(recs, topk):
    assert recs
    for rec in recs:
        p1, p2 = rec["pass1"], rec["pass2"]
        if topk:  # absent from the top k -> the card's default of -100
            for p in (p1, p2):
                for t in "AB":
                    if not p[f"{t}_in_top_k"]:
                        assert p[f"logprob_{t}"] == -100
        t1, t2 = evaluate_pair_from_logprobs((p1["logprob_A"], p1["logprob_B"]),
                                             (p2["logprob_A"], p2["logprob_B"]))
        assert abs(rec["p_text1"] * 100 - t1) < 1e-9
        assert abs(rec["p_text2"] * 100 - t2) < 1e-9
        assert abs(p1["p_A"] * 100 - extract_probs(p1["logprob_A"], p1["logprob_B"])[0]) < 1e-9


def test_full_distribution_read(gavel_bin, tmp_path):
    _, recs = run_judge(gavel_bin, tmp_path, _items(40))
    _check(recs, topk=False)


def test_top_k_read_with_missing_tokens(gavel_bin, tmp_path):
    _, recs = run_judge(gavel_bin, tmp_path, _items(60), "--read", "top-k", "--top-k", "10",
                        backend="fake:drop=3")
    _check(recs, topk=True)
    missing = sum(not r[p][f"{t}_in_top_k"] for r in recs for p in ("pass1", "pass2") for t in "AB")
    assert missing > 0  # the -100 path was exercised


def test_metrics_printed(gavel_bin, tmp_path):
    r, recs = run_judge(gavel_bin, tmp_path, _items(20))
    # Recompute accuracy / consistency from the records and compare with the printed summary.
    acc = sum((rec["p_text1"] > 0.5) == (rec["label"] == "A") for rec in recs) / len(recs)
    cons = sum((rec["pass1"]["p_A"] > 0.5) == (rec["pass2"]["p_B"] > 0.5) for rec in recs) / len(recs)
    assert f"accuracy {100 * acc:.1f}%" in r.stderr
    assert f"positional consistency {100 * cons:.1f}%" in r.stderr
