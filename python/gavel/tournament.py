"""Tournaments over any judge callback, and Bradley-Terry ratings."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Callable, Optional, Union

from . import _gavel
from ._gavel import Match, RatingsResult, TournamentResult


def tournament(players: Union[int, Sequence[str]], judge: Callable[[Match], float], *,
               pairing: str = "swiss", rounds: int = 5, both_orders: bool = False,
               prompts: Union[int, Sequence[int], None] = None, prompts_per_match: int = 1,
               rating: str = "elo", elo_k: float = 32, elo_initial: float = 1500,
               elo_scale: float = 400, bt_alpha: float = 1e-4, bt_anchor: float = 1500,
               seed: int = 1, until_stable: bool = False) -> TournamentResult:
    """Run a tournament: pair the players round by round and ask ``judge(match)`` how likely
    player ``match.a`` (in position 1 / "A") beats ``match.b`` on prompt ``match.prompt``;
    it returns a float in [0, 1]. Ratings come from sequential Elo (``rating="elo"``, in play
    order) or Bradley-Terry (``"bt"``, Elo scale).

    ``players``: a count or a list of names (then ``result.players`` holds them).
    ``pairing``: "swiss" (by current rating, no rematches, byes for odd fields),
    "round-robin" (``rounds`` full cycles), "random" or "adaptive" (most informative pairs
    under the current Bradley-Terry fit). ``prompts``: a count n (prompts 0..n-1) or a list
    of prompt ids; each match draws ``prompts_per_match`` of them (none: prompt -1).
    ``both_orders`` asks (a, b) and (b, a) and averages: (p_ab + 1 - p_ba) / 2.

    ``until_stable`` (``gavel tournament --until-stable``): ``rounds`` becomes a cap; from
    round 4 on, after each round, Bradley-Terry is refit on 200 bootstrap resamples and the
    tournament stops once the players' 90% rank intervals moved by at most half a rank on
    average in two rounds in a row. ``result.stopped_early`` says whether it ended before
    ``rounds`` (adaptive pairing also stops once every pair is settled),
    ``result.rounds_played`` how many rounds ran, ``result.interval_change`` the per-round
    moves it checked.

    The judge can be a model::

        judge = gavel.Judge("model.gguf")
        def ask(m):
            return judge.pairwise(instructions[m.prompt], responses[m.a][m.prompt],
                                  responses[m.b][m.prompt]).p_text1
        result = gavel.tournament(writers, ask, prompts=len(instructions), rounds=5)

    An exception raised by the judge stops the tournament and propagates unchanged.
    """
    names: Optional[list[str]] = None
    if isinstance(players, int):
        n = players
    else:
        names = [str(p) for p in players]
        n = len(names)
    if prompts is None:
        prompt_ids: list[int] = []
    elif isinstance(prompts, int):
        prompt_ids = list(range(prompts))
    else:
        prompt_ids = [int(p) for p in prompts]
    result = _gavel.tournament(n, judge, pairing, rounds, both_orders, prompt_ids,
                               prompts_per_match, rating, elo_k, elo_initial, elo_scale,
                               bt_alpha, bt_anchor, seed, until_stable)
    result.players = names if names is not None else list(range(n))
    return result


def bradley_terry(n_players: int, outcomes: Sequence[tuple[int, int, float]], *,
                  alpha: float = 1e-4, anchor: float = 1500) -> RatingsResult:
    """Bradley-Terry ratings (Elo scale, mean ``anchor``) from ``(a, b, score)`` outcomes,
    score = how much a beat b in [0, 1]; ``alpha`` is the Gaussian prior (as choix's)."""
    return _gavel.bradley_terry(n_players, [(int(a), int(b), float(s)) for a, b, s in outcomes],
                                alpha, anchor)
