"""Recompute a `gavel tournament` run's leaderboard, separability and bias from its
matches.jsonl alone, independently of gavel: our own sequential-Elo replay and Bradley-Terry
(plain and with the length covariate) by Newton in numpy, scipy for the ANOVA and the
Mann-Whitney U behind Cliff's delta. Compares with leaderboard.json, separability.json and
bias.json to a relative/absolute tolerance (default 1e-9).

    python tests/python/tournament_recompute.py OUT_DIR [--tol 1e-9]

The bootstrap CIs (separability) are not recomputed: they come from libstdc++'s random
distributions; their presence and ordering are checked instead.
"""
import argparse
import json
import math
import pathlib
import sys

import numpy as np
from scipy import stats


def load(out_dir):
    d = pathlib.Path(out_dir)
    matches = [json.loads(x) for x in (d / "matches.jsonl").read_text(encoding="utf-8").splitlines() if x]
    return (matches, json.loads((d / "leaderboard.json").read_text()),
            json.loads((d / "separability.json").read_text()), json.loads((d / "bias.json").read_text()))


def elo_replay(matches, board):
    """Per tournament, sequential Elo over its matches in file order, from `initial`."""
    k, initial = board["elo"]["k"], board["elo"]["initial"]
    ratings = {}  # tournament id -> {writer: rating}
    for t in board["tournaments"]:
        ratings[t["id"]] = {w: float(initial) for w in t["writers"]}
    for m in matches:
        r = ratings[m["tournament"]]
        a, b = m["model_a"], m["model_b"]
        e = 1.0 / (1.0 + 10.0 ** ((r[b] - r[a]) / 400.0))
        d = k * (m["p_text1"] - e)
        r[a] += d
        r[b] -= d
    return ratings


def bt_replay(matches, board):
    """Per tournament, a Bradley-Terry fit over its matches (adaptive pairing's rating)."""
    ratings = {}
    for t in board["tournaments"]:
        comps = [(m["model_a"], m["model_b"], m["p_text1"]) for m in matches
                 if m["tournament"] == t["id"]]
        fit, _ = bt_fit(list(t["writers"]), comps, board["bt_alpha"])
        ratings[t["id"]] = {w: fit[w][0] for w in t["writers"]}
    return ratings


def per_writer(ratings, board):
    writers = [row["writer"] for row in board["writers"]]
    ids = [t["id"] for t in board["tournaments"]]
    return {w: [ratings[t][w] for t in ids if w in ratings[t]] for w in writers}


def distinct_judgments(matches):
    seen, out = set(), []
    for m in matches:
        key = tuple(m["keys"])
        if key in seen:
            continue
        seen.add(key)
        out.append(m)
    return out


def bt_fit(names, comps, alpha, covariate=None, tol=1e-13, max_iter=500):
    """MAP Bradley-Terry: minimise sum -s log sig(eta) - (1-s) log sig(-eta) + alpha |theta|^2,
    eta = theta_a - theta_b (+ beta x). Newton with a step-halving line search."""
    n = len(names)
    idx = {w: i for i, w in enumerate(names)}
    a = np.array([idx[c[0]] for c in comps])
    b = np.array([idx[c[1]] for c in comps])
    s = np.array([c[2] for c in comps], dtype=np.float64)
    x = None if covariate is None else np.asarray(covariate, dtype=np.float64)
    dim = n + (0 if x is None else 1)
    z = np.zeros(dim)

    def eta(z):
        e = z[a] - z[b]
        return e if x is None else e + z[n] * x

    def f(z):
        e = eta(z)
        return float(np.sum(s * np.logaddexp(0, -e) + (1 - s) * np.logaddexp(0, e)) + alpha * np.sum(z[:n] ** 2))

    def grad_hess(z):
        p = 1 / (1 + np.exp(-eta(z)))
        r, c = p - s, p * (1 - p)
        g = np.zeros(dim)
        g[:n] = 2 * alpha * z[:n]
        h = np.zeros((dim, dim))
        h[np.arange(n), np.arange(n)] = 2 * alpha
        for m in range(len(comps)):
            v = np.zeros(dim)
            v[a[m]], v[b[m]] = 1, -1
            if x is not None:
                v[n] = x[m]
            g += r[m] * v
            h += c[m] * np.outer(v, v)
        return g, h

    fz = f(z)
    for _ in range(max_iter):
        g, h = grad_hess(z)
        step = np.linalg.solve(h, g)
        t = 1.0
        while True:
            trial = z - t * step
            ft = f(trial)
            if ft <= fz + 1e-12 * abs(fz) or t < 1e-18:
                break
            t /= 2
        change = np.max(np.abs(trial - z))
        z, fz = trial, ft
        if change < tol:
            break
    g, h = grad_hess(z)
    cov = np.linalg.inv(h)
    proj = np.eye(n) - np.ones((n, n)) / n
    theta_cov = proj @ cov[:n, :n] @ proj
    to_elo = 400 / math.log(10)
    theta = z[:n] - z[:n].mean()
    out = {w: (1500 + theta[i] * to_elo, math.sqrt(max(0.0, theta_cov[i, i])) * to_elo) for i, w in enumerate(names)}
    beta = None if x is None else (z[n], math.sqrt(cov[n, n]))
    return out, beta


def omega_squared(groups):
    allv = np.concatenate(groups)
    grand = allv.mean()
    k, n = len(groups), len(allv)
    ssb = sum(len(g) * (np.mean(g) - grand) ** 2 for g in groups)
    ssw = sum(np.sum((np.asarray(g) - np.mean(g)) ** 2) for g in groups)
    msw = ssw / (n - k)
    return (ssb - (k - 1) * msw) / (ssb + ssw + msw)


def cliffs_delta(x, y):
    u = stats.mannwhitneyu(x, y, alternative="two-sided").statistic  # U of x
    return 2 * u / (len(x) * len(y)) - 1


def close(a, b, tol):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def recompute(out_dir, tol=1e-9):
    """Returns a list of mismatch messages (empty: everything agrees) and the figures."""
    matches, board, sep, bias = load(out_dir)
    bad = []

    def check(what, ours, theirs):
        if not close(ours, theirs, tol):
            bad.append(f"{what}: recomputed {ours!r}, gavel {theirs!r}")

    # Elo per tournament -> rating mean / sd per writer.
    replay = bt_replay if board.get("tournament_rating") == "bt" else elo_replay
    ratings = per_writer(replay(matches, board), board)
    for row in board["writers"]:
        v = ratings[row["writer"]]
        check(f"rating {row['writer']}", float(np.mean(v)) if v else None, row["rating"])
        check(f"sd {row['writer']}", float(np.std(v, ddof=1)) if len(v) > 1 else None, row["sd"])
        check(f"tournaments {row['writer']}", len(v), row["tournaments"])
        played = sum(m["model_a"] == row["writer"] or m["model_b"] == row["writer"] for m in matches)
        check(f"matches {row['writer']}", played, row["matches"])
    order = sorted(board["writers"], key=lambda r: (-r["rating"], r["writer"]))
    if [r["writer"] for r in order] != [r["writer"] for r in board["writers"]]:
        bad.append("leaderboard order is not by rating")
    # Separability over the per-tournament ratings.
    groups = [np.array(ratings[r["writer"]]) for r in board["writers"]]
    if len(board["tournaments"]) >= 2:
        f = stats.f_oneway(*groups)
        w2 = omega_squared(groups)
        pairs = [(i, j) for i in range(len(groups)) for j in range(i + 1, len(groups))]
        delta = float(np.mean([abs(cliffs_delta(groups[i], groups[j])) for i, j in pairs]))
        check("omega2", w2, sep["omega2"])
        check("anova_f", float(f.statistic), sep["anova_f"])
        check("cliff_delta", delta, sep["cliff_delta"])
        check("score", (0.5 * w2 + 0.5 * delta) / 0.75 * 100, sep["score"])
        lo, hi = sep["score_ci"]
        if lo is not None and not lo <= hi:
            bad.append(f"separability CI out of order: {sep['score_ci']}")
    # Bradley-Terry over distinct judgments (with verdicts), plain and length-controlled.
    judged = [m for m in distinct_judgments(matches) if m["verdict"] is not None]
    check("distinct_judgments", len(judged), board["distinct_judgments"])
    names = [r["writer"] for r in sorted(board["writers"], key=lambda r: r["writer"])]
    comps = [(m["model_a"], m["model_b"], m["p_text1"]) for m in judged]
    unit = board["length_unit"]
    lens = [(m[f"{unit}_1"], m[f"{unit}_2"]) for m in judged]
    cov = [(l1 - l2) / (l1 + l2) if l1 + l2 > 0 else 0.0 for l1, l2 in lens]
    if comps:
        plain, _ = bt_fit(names, comps, board["bt_alpha"])
        rows = {r["writer"]: r for r in board["writers"]}
        for w in names:
            check(f"bt_rating {w}", plain[w][0], rows[w]["bt_rating"])
            check(f"bt_se {w}", plain[w][1], rows[w]["bt_se"])
        if len(set(cov)) > 1:
            lc, beta = bt_fit(names, comps, board["bt_alpha"], covariate=cov)
            for w in names:
                check(f"lc_rating {w}", lc[w][0], rows[w]["lc_rating"])
                check(f"lc_se {w}", lc[w][1], rows[w]["lc_se"])
            check("length beta", beta[0], board["length_coefficient"]["beta"])
            check("length beta se", beta[1], board["length_coefficient"]["se"])
    # Bias over the passes of the distinct judgments.
    passes = []  # (p_A, len_A, len_B, writer_A, writer_B, judgment)
    for j, m in enumerate(judged):
        for p in m["passes"]:
            if p["p_A"] is None:
                continue
            first = p["A"] == m["model_a"]
            la, lb = (lens[j] if first else lens[j][::-1])
            passes.append((p["p_A"], la, lb, p["A"], p["B"], j))
    if passes:
        pa = np.array([p[0] for p in passes])
        check("position_1_avg_assignment", float(pa.mean()), bias["position_1_avg_assignment"])
        check("position_1_win_rate", float(np.mean(np.where(pa > 0.5, 1.0, np.where(pa == 0.5, 0.5, 0.0)))),
              bias["position_1_win_rate"])
        longer = [p[0] if p[1] > p[2] else 1 - p[0] for p in passes if p[1] != p[2]]
        if longer:
            lp = np.array(longer)
            check("longer_response_win_rate", float(np.mean(np.where(lp > 0.5, 1.0, np.where(lp == 0.5, 0.5, 0.0)))),
                  bias["longer_response_win_rate"])
            check("longer_avg_ev_margin", float(np.mean(2 * lp - 1)), bias["longer_avg_ev_margin"])
        by = {}
        for p in passes:
            by.setdefault(p[5], []).append(p)
        swaps = [v for v in by.values() if len(v) == 2]
        def pref(p):
            return p[3] if p[0] > 0.5 else (p[4] if p[0] < 0.5 else None)
        flips = sum(1 for a, b in swaps if pref(a) is None or pref(a) != pref(b))
        check("swap_pairs", len(swaps), bias["swap_pairs"])
        if swaps:
            check("swap_flip_rate", flips / len(swaps), bias["swap_flip_rate"])
    return bad, dict(matches=len(matches), judgments=len(judged), writers=len(names))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--tol", type=float, default=1e-9)
    args = ap.parse_args()
    bad, info = recompute(args.out_dir, args.tol)
    print(f"{args.out_dir}: {info['matches']} matches, {info['judgments']} distinct judgments, "
          f"{info['writers']} writers")
    for b in bad:
        print("MISMATCH", b)
    print("all figures agree" if not bad else f"{len(bad)} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
