"""gavel: LLM-as-a-judge on a native, llama.cpp-exact CPU engine.

    import gavel
    judge = gavel.Judge("qwen2.5-coder-0.5b-instruct.gguf", threads=4, store="j.sqlite")
    judge.pairwise("Name a prime.", "7", "8").p_text1
    judge.critique(mode="absolute", instruction=..., response=..., rubric=...).score
    judge.pairwise_batch(df, progress=True)            # a DataFrame in, a DataFrame out
    gavel.meta.separability(scores_df)                 # judge meta-evaluation
    gavel.tournament(players, judge_fn, rounds=5)      # Swiss tournament, Elo or BT ratings
    gavel.Store("j.sqlite").to_dataframe()             # every stored judgment

Errors raise gavel.GavelError subclasses (gavel.errors) with the native message.
"""
from __future__ import annotations

from . import errors, meta
from ._gavel import (CritiquePass, CritiqueResult, JudgeInfo, Match, MatchJudgment,
                     PairwisePass, PairwiseResult, Progress, StoredJudgment, TournamentResult,
                     VerdictProbs)
from .errors import *  # noqa: F401,F403  (GavelError and its subclasses)
from .judge import Judge
from .store import Store
from .tournament import bradley_terry, tournament

__version__ = "0.1.0"

__all__ = ["Judge", "Store", "tournament", "bradley_terry", "meta", "errors", "PairwiseResult",
           "PairwisePass", "CritiqueResult", "CritiquePass", "VerdictProbs", "JudgeInfo",
           "Progress", "Match", "MatchJudgment", "TournamentResult", "StoredJudgment",
           *errors.__all__]
