"""Every gavel statistic against an independent reference (scipy, choix, numpy) on randomized
inputs, to relative 1e-9. gavel side: the JSON probe tests/meta/stats_probe.cpp (built next to
the CLI as build*/tests/meta/gavel_stats_probe; GAVEL_STATS_PROBE overrides)."""
import json
import math
import os
import pathlib
import subprocess

import numpy as np
import pytest
from scipy import stats

RTOL = 1e-9


ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def probe():
    path = os.environ.get("GAVEL_STATS_PROBE")
    cli = pathlib.Path(os.environ.get("GAVEL_BIN", ROOT / "build/apps/gavel/gavel"))
    p = pathlib.Path(path) if path else cli.parents[2] / "tests/meta/gavel_stats_probe"
    if not p.exists():
        pytest.fail(f"stats probe missing: {p} (build target gavel_stats_probe)")
    return p


def run_probe(probe, requests):
    out = subprocess.run([str(probe)], input=json.dumps(requests), capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert len(res) == len(requests)
    return res


def close(a, b, rtol=RTOL, atol=1e-12):
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None) == (b is None or math.isnan(b))
    return abs(a - b) <= atol + rtol * abs(b)


def rand_xy(rng, n, ties):
    if ties:
        x = rng.integers(0, 5, n).astype(float)
        y = (x + rng.integers(-2, 3, n)).astype(float)
    else:
        x = rng.normal(size=n)
        y = 0.5 * x + rng.normal(size=n)
    return x.tolist(), y.tolist()


def fisher(r, n, se, level=0.95):
    z = math.atanh(r)
    q = stats.norm.ppf(1 - (1 - level) / 2)
    return math.tanh(z - q * se), math.tanh(z + q * se)


def test_correlations_match_scipy(probe):
    rng = np.random.default_rng(20261123)
    cases = []
    for i in range(60):
        n = int(rng.integers(5, 80))
        cases.append(rand_xy(rng, n, ties=(i % 2 == 1)))
    reqs = []
    for x, y in cases:
        for op in ("pearson", "spearman", "kendall"):
            reqs.append({"op": op, "x": x, "y": y})
    res = run_probe(probe, reqs)
    k = 0
    for x, y in cases:
        n = len(x)
        pr = stats.pearsonr(x, y)
        ci = pr.confidence_interval(0.95)
        got = res[k]; k += 1
        assert close(got["r"], pr.statistic) and close(got["p"], pr.pvalue), (got, pr)
        assert close(got["ci_low"], ci.low) and close(got["ci_high"], ci.high)
        sr = stats.spearmanr(x, y)
        got = res[k]; k += 1
        lo, hi = fisher(sr.statistic, n, 1 / math.sqrt(n - 3))
        assert close(got["r"], sr.statistic) and close(got["p"], sr.pvalue), (got, sr)
        assert close(got["ci_low"], lo) and close(got["ci_high"], hi)
        kt = stats.kendalltau(x, y, method="asymptotic")
        got = res[k]; k += 1
        lo, hi = fisher(kt.statistic, n, math.sqrt(0.437 / (n - 4)))
        assert close(got["r"], kt.statistic) and close(got["p"], kt.pvalue), (got, kt)
        assert close(got["ci_low"], lo) and close(got["ci_high"], hi)


def test_anova_and_cliffs_delta_match_scipy(probe):
    rng = np.random.default_rng(7)
    reqs, groups_all = [], []
    for i in range(30):
        k = int(rng.integers(2, 9))
        groups = []
        for g in range(k):
            m = int(rng.integers(2, 20))
            vals = rng.normal(loc=g * 0.3, size=m) if i % 2 else rng.integers(0, 6, m).astype(float)
            groups.append(vals.tolist())
        groups_all.append(groups)
        reqs += [{"op": "anova", "groups": groups}, {"op": "cliff", "groups": groups}]
    res = run_probe(probe, reqs)
    for i, groups in enumerate(groups_all):
        a, c = res[2 * i], res[2 * i + 1]
        f = stats.f_oneway(*groups)
        assert close(a["f"], f.statistic) and close(a["p"], f.pvalue), (a, f)
        # omega^2 from scipy's F: (F-1)(k-1) / ((F-1)(k-1) + N)
        k, n = len(groups), sum(len(g) for g in groups)
        om = (f.statistic - 1) * (k - 1) / ((f.statistic - 1) * (k - 1) + n)
        assert close(a["omega2"], om)
        # Cliff's delta = 2U/(nm) - 1 with scipy's Mann-Whitney U (ties count half).
        deltas = []
        for x in range(k):
            for y in range(x + 1, k):
                u = stats.mannwhitneyu(groups[x], groups[y]).statistic
                deltas.append(2 * u / (len(groups[x]) * len(groups[y])) - 1)
        assert all(close(g, d) for g, d in zip(c["pairs"], deltas))
        assert close(c["mean_abs"], float(np.mean(np.abs(deltas))))


def choix_fit(n, wins, alpha):
    import choix
    return np.asarray(choix.opt_pairwise(n, wins, alpha=alpha, tol=1e-13))


def test_bradley_terry_matches_choix(probe):
    import choix  # noqa: F401  (fails loudly if missing)
    rng = np.random.default_rng(99)
    reqs, refs = [], []
    for i in range(12):
        n = int(rng.integers(3, 12))
        alpha = [1e-3, 1e-2, 0.1][i % 3]
        strengths = rng.normal(size=n)
        wins, outs = [], []
        for _ in range(int(rng.integers(n, 6 * n))):
            a, b = rng.choice(n, 2, replace=False)
            # Soft outcomes in quarters: an outcome s = k/4 is k wins of a and 4-k of b,
            # each with weight 1/4 -- choix sees 4 hard comparisons and a 4x alpha.
            p = 1 / (1 + math.exp(strengths[b] - strengths[a]))
            k = int(rng.binomial(4, p))
            outs.append([int(a), int(b), k / 4])
            wins += [(int(a), int(b))] * k + [(int(b), int(a))] * (4 - k)
        reqs.append({"op": "bt", "n": n, "alpha": alpha / 4, "outcomes": outs})
        refs.append(choix_fit(n, wins, alpha))
    res = run_probe(probe, reqs)
    for got, ref in zip(res, refs):
        theta = np.asarray(got["theta"])
        # Compare on the scale of the spread (absolute 1e-9 of |theta|_max, choix stops at tol).
        scale = max(1.0, np.abs(ref).max())
        assert np.allclose(theta, ref, rtol=0, atol=1e-7 * scale), (theta, ref)
        rating = np.asarray(got["rating"])
        assert np.allclose(rating, 1500 + theta * 400 / math.log(10), rtol=1e-12)


def test_bradley_terry_optimum_matches_choix_objective(probe):
    """Exactness at 1e-9: choix's own gradient vanishes at gavel's optimum."""
    from choix.opt import PairwiseFcts
    rng = np.random.default_rng(5)
    for i in range(8):
        n = int(rng.integers(3, 15))
        wins = [tuple(int(v) for v in rng.choice(n, 2, replace=False))
                for _ in range(int(rng.integers(n, 8 * n)))]
        alpha = [1e-4, 1e-2][i % 2]
        got = run_probe(probe, [{"op": "bt", "n": n, "alpha": alpha,
                                  "outcomes": [[a, b, 1.0] for a, b in wins]}])[0]
        theta = np.asarray(got["theta"])
        fcts = PairwiseFcts(wins, alpha)
        grad = fcts.gradient(theta.copy())
        assert np.abs(grad).max() < 1e-9 * max(1.0, len(wins)), grad
        # Newton step from choix's Hessian is below 1e-9: the optimum to 1e-9.
        step = np.linalg.solve(fcts.hessian(theta.copy()), grad)
        assert np.abs(step).max() < 1e-9
        # Standard errors of the mean-anchored ratings: sqrt(diag(P H^-1 P)), P = I - 11^T/n.
        proj = np.eye(n) - np.ones((n, n)) / n
        cov = proj @ np.linalg.inv(fcts.hessian(theta.copy())) @ proj
        se = np.sqrt(np.diag(cov)) * 400 / math.log(10)
        assert np.allclose(got["std_error"], se, rtol=1e-8)


def test_elo_sequential_matches_formula(probe):
    rng = np.random.default_rng(3)
    n = 6
    outs = [[int(a), int(b), float(rng.random())]
            for a, b in (rng.choice(n, 2, replace=False) for _ in range(200))]
    got = run_probe(probe, [{"op": "elo", "n": n, "k": 24, "initial": 1200, "outcomes": outs}])[0]
    r = [1200.0] * n
    for a, b, s in outs:
        e = 1 / (1 + 10 ** ((r[b] - r[a]) / 400))
        r[a] += 24 * (s - e)
        r[b] -= 24 * (s - e)
    assert np.allclose(got["rating"], r, rtol=1e-12)


def test_classification_and_calibration(probe):
    rng = np.random.default_rng(11)
    gold = rng.choice(["A", "B", "tie"], 300).tolist()
    pred = [g if rng.random() < 0.6 else rng.choice(["A", "B", "tie"]) for g in gold]
    p = rng.random(500)
    y = (rng.random(500) < p ** 1.3).astype(float)
    res = run_probe(probe, [{"op": "classification", "gold": gold, "pred": pred},
                            {"op": "calibration", "p": p.tolist(), "y": y.tolist(), "bins": 7}])
    c = res[0]
    gold_a, pred_a = np.array(gold), np.array(pred)
    assert close(c["accuracy"], float(np.mean(gold_a == pred_a)))
    f1s = []
    for lab in sorted(set(gold) | set(pred)):
        tp = np.sum((gold_a == lab) & (pred_a == lab))
        prec = tp / max(1, np.sum(pred_a == lab))
        rec = tp / max(1, np.sum(gold_a == lab))
        f1 = 0 if tp == 0 else 2 * prec * rec / (prec + rec)
        f1s.append(f1)
        assert close(c["classes"][lab]["f1"], f1)
    assert close(c["macro_f1"], float(np.mean(f1s)))
    cal = res[1]
    idx = np.minimum((p * 7).astype(int), 6)
    ece = sum(np.sum(idx == b) / len(p) * abs(y[idx == b].mean() - p[idx == b].mean())
              for b in range(7) if np.any(idx == b))
    assert close(cal["ece"], ece)
    assert close(cal["brier"], float(np.mean((p - y) ** 2)))


def test_pairwise_metrics_and_bias(probe):
    rng = np.random.default_rng(21)
    pairs = []
    for _ in range(400):
        s1, s2 = rng.uniform(0, 100, 2)
        l1, l2 = rng.uniform(500, 4000, 2)
        pairs.append([float(s1), float(s2), float(l1), float(l2), float(rng.random()), float(rng.random())])
    res = run_probe(probe, [{"op": "pairwise", "pairs": pairs, "max_len_ratio": 2.0,
                             "min_diff": 5.0, "max_diff": 30.0}])[0]
    strict = cons = target = 0
    n = 0
    for s1, s2, l1, l2, p1, p2 in pairs:
        d = abs(s1 - s2)
        if d == 0 or d < 5 or d > 30 or max(l1, l2) / min(l1, l2) > 2:
            continue
        n += 1
        t1 = (p1 + 1 - p2) / 2
        first = s1 > s2
        strict += (p1 > .5 and p2 < .5) if first else (p1 < .5 and p2 > .5)
        cons += (p1 > .5 and p2 < .5) or (p1 < .5 and p2 > .5)
        target += t1 if first else 1 - t1
    assert res["n"] == n
    assert close(res["strict_accuracy"], strict / n)
    assert close(res["positional_consistency"], cons / n)
    assert close(res["mean_target_mass"], target / n)
    # Bias: records come in swapped pairs.
    recs = []
    for i in range(150):
        a, b = (int(v) for v in rng.choice(10, 2, replace=False))
        la, lb = float(rng.integers(1, 5)), float(rng.integers(1, 5))
        recs.append([a, b, float(rng.random()), la, lb, i])
        recs.append([b, a, float(rng.random()), lb, la, i])
    got = run_probe(probe, [{"op": "bias", "records": recs}])[0]
    p = np.array([r[2] for r in recs])
    assert close(got["position1_mean_prob"], float(p.mean()))
    assert close(got["position1_win_rate"], float(np.mean(p > 0.5)))
    longer = [(r[2] if r[3] > r[4] else 1 - r[2]) for r in recs if r[3] != r[4]]
    assert close(got["longer_win_rate"], float(np.mean(np.array(longer) > 0.5)))
    assert close(got["longer_ev_margin"], float(np.mean(2 * np.array(longer) - 1)))
    flips = sum(((recs[2 * i][2] > .5) == (recs[2 * i + 1][2] > .5)) for i in range(150))
    assert got["swap_pairs"] == 150
    assert close(got["swap_flip_rate"], flips / 150)
