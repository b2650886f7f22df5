"""Meta-evaluation of judges: separability, correlations, pairwise accuracy, bias,
classification and calibration -- the statistics of `gavel meta`, on values in memory.

Inputs are sequences (lists, numpy arrays, pandas Series), or a table (a pandas DataFrame or
a list of dicts) with the columns named by keyword arguments whose defaults are the
`gavel meta` flags' defaults. The same inputs give the same numbers as the command line.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from . import _gavel
from ._gavel import (BiasResult, CalibrationResult, ClassificationResult, CorrelationResult,
                     PairwiseMetricsResult, SeparabilityResult)


def _column(data: Any, name: str) -> list[Any]:
    if data is None:
        raise ValueError(f"no data for column {name!r}")
    if hasattr(data, "columns"):  # a DataFrame
        if name not in data.columns:
            raise KeyError(f"no column {name!r} (columns: {', '.join(map(str, data.columns))})")
        return list(data[name])
    out = []
    for i, row in enumerate(data):
        if not isinstance(row, Mapping):
            raise TypeError(f"row {i}: expected a dict, got {type(row).__name__}")
        out.append(_field(row, name, i))
    return out


def _field(row: Mapping, name: str, i: int) -> Any:
    # A dotted name reaches into nested objects, as the CLI's readers do (meta/jsonl.cpp
    # find_field): at each level a nested key first, else the rest of the name as one literal key.
    value: Any = row
    rest = name
    while True:
        if not isinstance(value, Mapping):
            raise KeyError(f"row {i}: no field {name!r}")
        key, dot, tail = rest.partition(".")
        if key in value:
            value = value[key]
            if not dot:
                return value
            rest = tail
        elif rest in value:
            return value[rest]
        else:
            raise KeyError(f"row {i}: no field {name!r}")


def _numbers(values: Any, what: str) -> list[float]:
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or v is None:
            raise TypeError(f"{what}[{i}]: expected a number, got {v!r}")
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            raise TypeError(f"{what}[{i}]: expected a number, got {v!r}") from None
    return out


def _names(values: Any) -> list[str]:
    # As `gavel meta` reads ids: strings as they are, other values as their JSON text.
    return [v if isinstance(v, str) else json.dumps(v.item() if hasattr(v, "item") else v)
            for v in values]


def separability(data: Any = None, *, group: str = "writer_model", prompt: str = "prompt_id",
                 value: str = "clean_score_0_100", groups: Optional[Sequence[Any]] = None,
                 prompts: Optional[Sequence[Any]] = None,
                 values: Optional[Sequence[float]] = None, bootstrap: int = 1000,
                 seed: int = 42, level: float = 0.95,
                 skip_missing: bool = False) -> SeparabilityResult:
    """How cleanly a judge's scores separate the systems that were scored (Judgemark v4):
    one-way ANOVA omega^2, mean |Cliff's delta| over pairs of systems, and the combined score
    (0.5 omega^2 + 0.5 delta) / 0.75 * 100, with percentile CIs from ``bootstrap`` draws of
    the prompt set (seeded).

    Give a table ``data`` with columns ``group`` (the system), ``prompt`` and ``value`` (the
    score), or the sequences ``groups``, ``prompts``, ``values``. ``skip_missing`` drops rows
    whose value is missing (None/NaN) instead of failing. As `gavel meta separability`.
    """
    if data is not None:
        groups, prompts, values = (_column(data, group), _column(data, prompt),
                                   _column(data, value))
    if groups is None or prompts is None or values is None:
        raise ValueError("give data, or groups, prompts and values")
    groups, prompts, values = list(groups), list(prompts), list(values)
    if not len(groups) == len(prompts) == len(values):
        raise ValueError(f"groups, prompts and values differ in length: {len(groups)}, "
                         f"{len(prompts)}, {len(values)}")
    if skip_missing:
        keep = [i for i, v in enumerate(values)
                if not (v is None or (isinstance(v, float) and math.isnan(v)))]
        groups, prompts, values = ([groups[i] for i in keep], [prompts[i] for i in keep],
                                   [values[i] for i in keep])
    return _gavel.separability(_names(groups), _names(prompts), _numbers(values, "values"),
                               bootstrap, seed, level)


def correlation(x: Sequence[float], y: Sequence[float], method: str = "pearson",
                level: float = 0.95) -> CorrelationResult:
    """Correlation of x and y with scipy.stats' definitions: ``method`` "pearson",
    "spearman" or "kendall" (tau-b); two-sided p-value and a Fisher-z CI at ``level``."""
    return _gavel.correlation(_numbers(x, "x"), _numbers(y, "y"), method, level)


def pearson(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> CorrelationResult:
    """Pearson r (scipy.stats.pearsonr)."""
    return correlation(x, y, "pearson", level)


def spearman(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> CorrelationResult:
    """Spearman rho (scipy.stats.spearmanr)."""
    return correlation(x, y, "spearman", level)


def kendall(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> CorrelationResult:
    """Kendall tau-b (scipy.stats.kendalltau, asymptotic p)."""
    return correlation(x, y, "kendall", level)


def pairwise_metrics(data: Any, *, score1: str = "score_1", score2: str = "score_2",
                     len1: Optional[str] = "len_1", len2: Optional[str] = "len_2",
                     p1: str = "pass1.p_A", p2: str = "pass2.p_A", max_len_ratio: float = 0,
                     min_diff: float = 0, max_diff: float = 0, sample: int = 0,
                     seed: int = 42) -> PairwiseMetricsResult:
    """A pairwise judge on pairs judged in both orders (the model card's section 3): strict
    accuracy, positional consistency, target / non-target probability mass, soft accuracy.

    ``data`` has per pair the gold scores (``score1``, ``score2``), P(A) in pass 1 (text 1 as
    A, ``p1``) and pass 2 (text 2 as A, ``p2``), and optionally lengths (``len1``, ``len2``:
    numbers, or texts whose length in bytes is used; needed by ``max_len_ratio``). Filters:
    keep max/min length <= ``max_len_ratio``, ``min_diff`` <= |score diff| <= ``max_diff``,
    then ``sample`` pairs (seeded). Probabilities must be in [0, 1].
    """
    s1, s2 = _numbers(_column(data, score1), score1), _numbers(_column(data, score2), score2)
    q1, q2 = _numbers(_column(data, p1), p1), _numbers(_column(data, p2), p2)

    def lengths(name: Optional[str]) -> Optional[list[float]]:
        if name is None:
            return None
        try:
            col = _column(data, name)
        except KeyError:
            return None
        return [float(len(v.encode())) if isinstance(v, str) else float(v) for v in col]

    l1, l2 = lengths(len1), lengths(len2)
    if l1 is None or l2 is None:
        if max_len_ratio > 0:
            raise ValueError(f"max_len_ratio needs the length columns {len1!r} and {len2!r}")
        l1 = l2 = [1.0] * len(s1)
    pairs = list(zip(s1, s2, l1, l2, q1, q2))
    return _gavel.pairwise_metrics(pairs, max_len_ratio, min_diff, max_diff, sample, seed)


def bias(data: Any, *, first: str = "model_a", second: str = "model_b", prob: str = "prob",
         len_first: Optional[str] = "len_a", len_second: Optional[str] = "len_b",
         pair_id: Optional[str] = "pair_id") -> BiasResult:
    """Position, length and swap-flip bias of judged matches (the card's section 4): one row
    per judged orientation with the systems in position 1 and 2, P(position 1 better), the
    two texts' lengths (numbers or texts) and an id shared by a pair's two orientations.
    Length and pair-id columns are optional."""
    a, b = _names(_column(data, first)), _names(_column(data, second))
    p = _numbers(_column(data, prob), prob)

    def optional(name: Optional[str]) -> Optional[list[Any]]:
        if name is None:
            return None
        try:
            return _column(data, name)
        except KeyError:
            return None

    la, lb, ids = optional(len_first), optional(len_second), optional(pair_id)
    to_len = lambda v: float(len(v.encode())) if isinstance(v, str) else float(v)  # noqa: E731
    records = []
    for i in range(len(p)):
        records.append((a[i], b[i], p[i], to_len(la[i]) if la and lb else 0.0,
                        to_len(lb[i]) if la and lb else 0.0, int(ids[i]) if ids else -1))
    return _gavel.bias(records)


def classification(gold: Sequence[Any], predicted: Sequence[Any]) -> ClassificationResult:
    """Accuracy, per-class precision/recall/F1 and macro F1 of predicted labels (labels are
    compared as text; sklearn's zero_division=0)."""
    return _gavel.classification(_names(gold), _names(predicted))


def calibration(p: Sequence[float], outcome: Sequence[float], bins: int = 10) -> CalibrationResult:
    """Calibration of probabilities ``p`` of binary ``outcome`` (0/1): expected calibration
    error over ``bins`` equal-width bins and the Brier score."""
    return _gavel.calibration(_numbers(p, "p"), _numbers(outcome, "outcome"), bins)


__all__ = ["separability", "correlation", "pearson", "spearman", "kendall", "pairwise_metrics",
           "bias", "classification", "calibration"]
