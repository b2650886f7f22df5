"""gavel.Judge: a judge model on gavel's native engine, with the pairwise-logprob and critique
protocols, single items or batches (lists, dicts or a pandas DataFrame)."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Literal, Optional, Union

from . import _gavel
from ._progress import make_progress
from ._gavel import CritiqueResult, JudgeInfo, PairwiseResult, Progress

PathLike = Union[str, "os.PathLike[str]"]
ProgressArg = Union[None, bool, Callable[[Progress], Any]]
Errors = Literal["raise", "return"]

_CRITIQUE_FIELDS = ("instruction", "response", "reference", "rubric", "a", "b")


def _is_frame(items: Any) -> bool:
    return type(items).__name__ == "DataFrame" and hasattr(items, "to_dict")


def _text(value: Any, what: str, row: Any) -> Optional[str]:
    """A text field of an input row: str, or None when absent (NaN counts as absent)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if not isinstance(value, str):
        raise TypeError(f"item {row}: field {what!r} must be a str, got {type(value).__name__}")
    return value


def _rows(items: Any) -> tuple[list[Any], list[Any], bool]:
    """(row labels, rows, is_frame): rows are Mappings or Sequences."""
    if _is_frame(items):
        return list(items.index), items.to_dict("records"), True
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        items = list(items)
    return list(range(len(items))), list(items), False


def _frame(results: list[Any], index: list[Any], flatten: Callable[[Any], dict]) -> Any:
    import pandas as pd

    rows = [flatten(r) if not isinstance(r, BaseException) else {"error": str(r)} for r in results]
    return pd.DataFrame(rows, index=index)


def _flat_pairwise(r: PairwiseResult) -> dict:
    d = {"id": r.id, "p_text1": r.p_text1, "p_text2": r.p_text2}
    for name, p in (("pass1", r.pass1), ("pass2", r.pass2)):
        for f in ("logprob_a", "logprob_b", "p_a", "p_b", "a_in_top_k", "b_in_top_k",
                  "prompt_tokens"):
            d[f"{name}_{f}"] = getattr(p, f)
    d.update(cached=r.cached, key=r.key, error=None)
    return d


def _flat_critique(r: CritiqueResult) -> dict:
    d = {"id": r.id, "mode": r.mode, "score": r.score, "expected_score": r.expected_score,
         "verdict": r.verdict, "p_yes": r.p_yes, "preferred": r.preferred, "p_text1": r.p_text1}
    for i, p in enumerate(r.passes, 1):
        d[f"pass{i}_outcome"] = p.outcome
        d[f"pass{i}_label"] = p.label
        d[f"pass{i}_critique"] = p.critique
        d[f"pass{i}_finish"] = p.finish
    d.update(cached=all(p.cached for p in r.passes), error=None)
    return d


class Judge:
    """A judge model running in this process on gavel's native CPU engine (llama.cpp-exact
    log-probabilities), loaded once and used for many judgments -- or in serving engines over
    HTTP (``backend=["http://gpu1:8080", ...]``: llama.cpp's server, vLLM, SGLang, Ollama),
    with the same protocols, store and checks.

    Protocols:

    * :meth:`pairwise` -- the Qwen3.5 creative-writing judge card's pairwise-logprob protocol:
      the next-token log-probabilities of "A" and "B", judged twice with the texts swapped;
      ``P(text1)`` is the swap average.
    * :meth:`critique` -- Atla Selene Mini's critique-then-result protocol: the model writes a
      critique ending in ``**Result:** X``; the verdict, its outcome (valid, parse_error,
      invalid_label, truncated) and the probability of every label at the verdict.

    Each has a batch form (:meth:`pairwise_batch`, :meth:`critique_batch`) over a list of
    tuples or dicts or a pandas DataFrame, with progress and Ctrl-C between batches.

    With ``store="judgments.sqlite"`` every judgment is committed to that SQLite store before
    it is returned, and one already stored (same model, protocol, prompts and parameters) is
    read back instead of computed -- the same store ``gavel judge --store`` uses, with the same
    keys, so work is shared between the command line and Python.

    The same inputs give the same numbers as ``gavel judge``, bit for bit. Model work runs
    without the GIL; calls on one Judge are serialized.

    Example::

        import gavel
        judge = gavel.Judge("qwen2.5-coder-0.5b-instruct.gguf", threads=4)
        r = judge.pairwise("Name a prime.", "7", "8")
        r.p_text1, r.pass1.p_a, r.pass2.p_a
        c = judge.critique(mode="absolute", instruction="Name a prime.", response="7",
                           rubric="Is it correct?\\nScore 1: wrong\\n...\\nScore 5: right")
        c.score, c.passes[0].critique
        remote = gavel.Judge("qwen2.5-coder-0.5b-instruct.gguf",  # tokenizer + chat template
                             backend=["http://gpu1:8080", "http://gpu2:8080"], concurrency=4)

    Raises :class:`gavel.GavelError` (a subclass by kind) with the native message when the
    model cannot be opened (missing file, not a GGUF gavel runs, no chat template), the
    store cannot be opened, or a ``backend`` server fails its start-up checks
    (:class:`gavel.UnavailableError` when none answers; a tokenization mismatch names the first
    differing token).
    """

    def __init__(self, model: Optional[PathLike] = None, *, threads: int = 2, ctx: int = 4096,
                 prefix_cache: int = 4, decode_batch: int = 8,
                 store: Optional[PathLike] = None,
                 backend: Union[None, str, Sequence[str]] = None, backend_kind: str = "",
                 tokenizer: Optional[PathLike] = None, backend_model: str = "",
                 concurrency: int = 2, request_timeout: float = 600, retries: int = 4,
                 down_timeout: float = 60, backend_api_key_env: str = "",
                 backend_headers: Union[None, Mapping[str, str], Sequence[str]] = None,
                 backend_ca_cert: Optional[PathLike] = None, server_prefix_cache: bool = False,
                 top_n: int = 100):
        """Open ``model`` (a GGUF file; ``~`` is expanded) with ``threads`` engine threads, a
        context of ``ctx`` tokens and ``prefix_cache`` evaluated sequences kept for prefix reuse
        (0 = off); ``decode_batch``: critiques decoded together in one weight pass (each gets
        the tokens it gets alone; 1 = one at a time); ``store``: optional SQLite judgment store
        (created when missing).

        With ``backend`` (a URL, or a list of URLs of replicas of one model:
        ``http[s]://host[:port][/prefix]`` of llama.cpp's server, vLLM, SGLang, Ollama or an
        OpenAI-compatible server), the model runs there instead, and ``model`` (or
        ``tokenizer``) is the served model's GGUF, read for its tokenizer and chat template.
        The other arguments are the ``gavel judge`` flags of the same names
        (docs/http-backends.md):

        * ``backend_kind``: "llama.cpp", "vllm", "sglang", "ollama" or "openai" ("" = ask the
          server); ``backend_model``: the model name to request ("" = the server's only one);
        * ``concurrency``: requests in flight per endpoint; ``request_timeout``: seconds one
          attempt may take; ``retries``: further attempts of a failed request (backoff with
          jitter, other endpoints); ``down_timeout``: seconds with every endpoint down before
          requests fail;
        * ``backend_api_key_env``: the *name* of the environment variable holding the API key
          (sent as a Bearer token; the key itself is never an argument);
          ``backend_headers``: extra headers, ``{name: value}`` or ``["Name: value"]``;
          ``backend_ca_cert``: CA bundle for https (default: the system's);
        * ``server_prefix_cache``: let llama.cpp's server reuse cached prompt prefixes (faster;
          log-probabilities then depend on what ran before); ``top_n``: alternatives asked per
          position before an exact fallback (llama.cpp, openai).

        The servers are checked before this returns: their kind, the served model, and that
        they tokenize a rendered judge prompt into the same ids as the GGUF (a mismatch names
        the first differing token). ``ctx`` is Ollama's ``num_ctx`` there; ``threads`` and
        ``prefix_cache`` and ``decode_batch`` are not used."""
        if backend is None and model is None:
            raise TypeError("gavel.Judge: give model (a GGUF file) or backend (server URLs)")
        self.model = os.path.expanduser(os.fspath(model)) if model is not None else None
        self.store = os.path.expanduser(os.fspath(store)) if store is not None else None
        spec = _gavel.BackendSpec()
        spec.model = self.model or ""
        spec.threads, spec.ctx, spec.prefix_cache = threads, ctx, prefix_cache
        spec.decode_batch = decode_batch
        self.backend: list[str] = []
        if backend is not None:
            urls = [backend] if isinstance(backend, str) else list(backend)
            if not urls or not all(isinstance(u, str) for u in urls):
                raise TypeError("gavel.Judge: backend must be a URL or a non-empty list of URLs")
            if model is None and tokenizer is None:
                raise TypeError("gavel.Judge: a backend needs the served model's GGUF for its "
                                "tokenizer and chat template: give model= or tokenizer=")
            spec.urls = self.backend = urls
            spec.kind, spec.served_model = backend_kind, backend_model
            if tokenizer is not None:
                spec.tokenizer = os.path.expanduser(os.fspath(tokenizer))
            spec.concurrency, spec.request_timeout_s = concurrency, float(request_timeout)
            spec.retries, spec.down_timeout_s = retries, float(down_timeout)
            spec.api_key_env = backend_api_key_env
            if isinstance(backend_headers, Mapping):
                spec.headers = [f"{k}: {v}" for k, v in backend_headers.items()]
            elif backend_headers is not None:
                spec.headers = list(backend_headers)
            if backend_ca_cert is not None:
                spec.ca_cert = os.path.expanduser(os.fspath(backend_ca_cert))
            spec.server_prefix_cache, spec.top_n = server_prefix_cache, top_n
        self._native = _gavel.NativeJudge(spec, self.store or "")

    @property
    def info(self) -> JudgeInfo:
        """The model's fingerprint (part of every store key), chat template and context."""
        return self._native.info

    def __repr__(self) -> str:
        where = f"backend={self.backend!r}" if self.backend else repr(self.model)
        return f"gavel.Judge({where}, fingerprint={self.info.fingerprint!r})"

    # ---- pairwise-logprob ----

    def pairwise(self, instruction: str, a: str, b: str, *, id: str = "", read: str = "full",
                 top_k: int = 10, thinking: str = "default", ensure_ascii: bool = True,
                 system_prompt: str = "") -> PairwiseResult:
        """Judge which of two responses to ``instruction`` is better (text1 = ``a``).

        Pass 1 shows ``a`` as A and ``b`` as B, pass 2 the other way round; the result holds
        both passes' log-probabilities of "A" and "B" and ``p_text1`` = (pass1.p_a +
        pass2.p_b) / 2.

        Options: ``read`` "full" (exact log-probabilities) or "top-k" (the card's vLLM code:
        a token outside the top ``top_k`` counts as -100); ``thinking`` "default" (as the
        template), "on" or "off"; ``ensure_ascii`` as the card's json.dumps; ``system_prompt``
        "" for the card's.
        """
        return _single(self._pairwise([(instruction, a, b, id)], read, top_k, thinking,
                                      ensure_ascii, system_prompt, 1, None, "return"))

    def pairwise_batch(self, items: Any, *, instruction: str = "instruction",
                       a: str = "response_a", b: str = "response_b", id: str = "id",
                       read: str = "full", top_k: int = 10, thinking: str = "default",
                       ensure_ascii: bool = True, system_prompt: str = "", batch: int = 4,
                       progress: ProgressArg = None, errors: Errors = "raise") -> Any:
        """Judge many pairs: ``items`` is a list of ``(instruction, a, b)`` tuples, a list of
        dicts, or a pandas DataFrame; dict keys and DataFrame columns are named by
        ``instruction``, ``a``, ``b`` and ``id`` (defaults: the benchmark files' names).

        Returns a list of :class:`PairwiseResult` in input order, or for a DataFrame a
        DataFrame with the same index (columns p_text1, pass1_p_a, ..., error).

        ``batch`` items go to the engine per call (and to the store per transaction);
        ``progress`` True shows a tqdm bar, a callable gets a :class:`gavel.Progress` after
        every batch. Ctrl-C stops the call after the current batch (KeyboardInterrupt);
        with a store, the finished batches are kept. ``errors``: "raise" raises a
        GavelError listing the items that failed (a missing field, a prompt longer than the
        context) once all items ran; "return" puts each failed item's exception in its place.
        """
        index, rows, frame = _rows(items)
        tuples = []
        for label, row in zip(index, rows):
            if isinstance(row, Mapping):
                t = (row.get(instruction), row.get(a), row.get(b))
                rid = row.get(id)
            else:
                if len(row) not in (3, 4):
                    raise TypeError(f"item {label}: expected (instruction, a, b[, id]), got "
                                    f"{len(row)} values")
                t, rid = tuple(row[:3]), (row[3] if len(row) == 4 else None)
            for what, v in zip((instruction, a, b), t):
                if _text(v, what, label) is None:
                    raise ValueError(f"item {label}: field {what!r} is missing")
            tuples.append((*t, "" if rid is None else str(rid)))
        results = self._pairwise(tuples, read, top_k, thinking, ensure_ascii, system_prompt,
                                 batch, progress, errors)
        return _frame(results, index, _flat_pairwise) if frame else results

    def _pairwise(self, tuples, read, top_k, thinking, ensure_ascii, system_prompt, batch,
                  progress, errors):
        cb, closer = make_progress(progress, "gavel pairwise")
        try:
            return self._native.pairwise(tuples, read, top_k, thinking, ensure_ascii,
                                         system_prompt, batch, cb, _raise(errors))
        finally:
            if closer is not None:
                closer.close()

    # ---- critique ----

    def critique(self, *, mode: str = "absolute", instruction: Optional[str] = None,
                 response: Optional[str] = None, rubric: Optional[str] = None,
                 reference: Optional[str] = None, a: Optional[str] = None,
                 b: Optional[str] = None, id: str = "", format: str = "original",
                 thinking: str = "default", max_tokens: int = 512, seed: int = 0,
                 verdict_distribution: bool = True, both_orders: bool = False,
                 **template_vars: str) -> CritiqueResult:
        """Judge with Selene's critique protocol: the model writes a critique ending in
        ``**Result:** X``; the result holds the critique, the verdict and its outcome, and the
        probability of every label at the verdict (``verdict_distribution``).

        ``mode`` and the fields it needs: "absolute" (1-5; instruction, response, rubric),
        "absolute-ref" (and reference), "classify" (Yes/No; instruction, response, rubric),
        "classify-ref" (and reference), "pairwise" (A/B; instruction, a, b, with ``format``
        "original", "markdown", "json", "prepair" or "simplified" and ``both_orders`` to judge
        B/A too). A rubric is "objective\\nScore 1: ...\\n...Score 5: ..." (or "Yes: ...\\nNo:
        ..."); template variables (rubric_objective, rubric_score_1_description, ...) may be
        given directly as keyword arguments instead. ``max_tokens`` bounds the critique; an
        unfinished one has outcome "truncated". A missing field raises, naming it.
        """
        item = (instruction, response, reference, rubric, a, b, dict(template_vars), id)
        return _single(self._critique([item], mode, format, thinking, max_tokens, seed,
                                      verdict_distribution, both_orders, 1, None, "return"))

    def critique_batch(self, items: Any, *, mode: str = "absolute",
                       columns: Optional[Mapping[str, str]] = None,
                       vars: Optional[Mapping[str, str]] = None, format: str = "original",
                       thinking: str = "default", max_tokens: int = 512, seed: int = 0,
                       verdict_distribution: bool = True, both_orders: bool = False,
                       batch: int = 4, progress: ProgressArg = None,
                       errors: Errors = "raise") -> Any:
        """Judge many items with the critique protocol. ``items``: a list of dicts or a pandas
        DataFrame. Fields are read from the keys/columns instruction, response, reference,
        rubric, response_a (a), response_b (b) and id; ``columns`` renames them (e.g.
        ``{"instruction": "question", "a": "answer_1"}``). ``vars``: template variables set
        for every item (a dict item may also carry its own under "vars").

        Returns a list of :class:`CritiqueResult` in input order, or a DataFrame for a
        DataFrame (score, verdict, preferred, pass1_outcome, pass1_critique, ..., error).
        ``batch``, ``progress`` and ``errors`` as in :meth:`pairwise_batch`.
        """
        names = {"instruction": "instruction", "response": "response", "reference": "reference",
                 "rubric": "rubric", "a": "response_a", "b": "response_b", "id": "id"}
        for k, v in (columns or {}).items():
            if k not in names:
                raise ValueError(f"columns: unknown field {k!r} (expected one of "
                                 f"{', '.join(names)})")
            names[k] = v
        index, rows, frame = _rows(items)
        tuples = []
        for label, row in zip(index, rows):
            if not isinstance(row, Mapping):
                raise TypeError(f"item {label}: expected a dict, got {type(row).__name__}")
            texts = [_text(row.get(names[f]), names[f], label) for f in _CRITIQUE_FIELDS]
            item_vars = dict(vars or {})
            item_vars.update(row.get("vars") or {})
            rid = row.get(names["id"])
            tuples.append((*texts, item_vars, "" if rid is None else str(rid)))
        results = self._critique(tuples, mode, format, thinking, max_tokens, seed,
                                 verdict_distribution, both_orders, batch, progress, errors)
        return _frame(results, index, _flat_critique) if frame else results

    def _critique(self, tuples, mode, format, thinking, max_tokens, seed, verdict_distribution,
                  both_orders, batch, progress, errors):
        cb, closer = make_progress(progress, "gavel critique")
        try:
            return self._native.critique(tuples, mode, format, thinking, max_tokens, seed,
                                         verdict_distribution, both_orders, batch, cb,
                                         _raise(errors))
        finally:
            if closer is not None:
                closer.close()


def _single(results: list[Any]) -> Any:
    """The one result of a single-item call; its error is raised as it is."""
    if isinstance(results[0], BaseException):
        raise results[0]
    return results[0]


def _raise(errors: str) -> bool:
    if errors not in ("raise", "return"):
        raise ValueError(f'errors must be "raise" or "return", got {errors!r}')
    return errors == "raise"
