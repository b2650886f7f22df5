"""The Python package (python/gavel, built by `pip install .`) against the `gavel` command line
on the same inputs: the numbers must be equal bit for bit (pairwise-logprob and critique on
the default model, separability, a tournament, the store), and bad input must raise with the
native message. Also: Ctrl-C between batches, the GIL released during model work, progress
callbacks, DataFrames, docstrings and type stubs.

scripts/test.sh installs the package into build/python-site (GAVEL_PYTHONPATH) first.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import QWEN25, ROOT, SHARED, SMOLLM2, real_model

SITE = pathlib.Path(os.environ.get("GAVEL_PYTHONPATH", ROOT / "build/python-site"))


@pytest.fixture(scope="session")
def gavel():
    if not (SITE / "gavel" / "__init__.py").exists():
        pytest.fail(f"the gavel package is not installed in {SITE}: run scripts/test.sh, or "
                    f"pip install --no-build-isolation --no-deps --target {SITE} .")
    sys.path.insert(0, str(SITE))
    import gavel as g

    if not pathlib.Path(g.__file__).resolve().is_relative_to(SITE.resolve()):
        pytest.fail(f"imported gavel from {g.__file__}, not from {SITE}")
    return g


@pytest.fixture(scope="session")
def qwen(gavel):
    return gavel.Judge(real_model(QWEN25), threads=2)


@pytest.fixture(scope="session")
def small(gavel):
    return gavel.Judge(real_model(SMOLLM2), threads=2)


def run_cli(gavel_bin, *args, timeout=1200):
    r = subprocess.run([str(gavel_bin), *map(str, args)], capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"gavel {' '.join(map(str, args))} -> {r.returncode}\n{r.stderr}")
    return r


def read_jsonl(path):
    return [json.loads(x) for x in pathlib.Path(path).read_text(encoding="utf-8").splitlines() if x]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def shortest_llmbar_pairs(n):
    rows = read_jsonl(SHARED / "data/bench/llmbar/pairs.jsonl")
    rows.sort(key=lambda r: len(r["instruction"]) + len(r["response_a"]) + len(r["response_b"]))
    return rows[:n]


def vicuna_item():
    rows = read_jsonl(SHARED / "data/bench/prometheus_eval_abs/vicuna_eval_absolute.jsonl")
    return min(rows, key=lambda r: len(r["instruction"]) + len(r["response"]) + len(r["rubric"]))


def assert_pass_equal(py, cli, text1_is_a):
    assert py.text1_is_a is text1_is_a
    # Exact equality: the JSON record keeps every double's shortest round-trip form.
    assert py.logprob_a == cli["logprob_A"] and py.logprob_b == cli["logprob_B"]
    assert py.p_a == cli["p_A"] and py.p_b == cli["p_B"]
    assert py.a_in_top_k == cli["A_in_top_k"] and py.b_in_top_k == cli["B_in_top_k"]


# ---- the numbers equal the command line's ----


def test_pairwise_equals_cli_on_the_default_model(gavel, qwen, gavel_bin, tmp_path):
    pairs = shortest_llmbar_pairs(3)
    store = tmp_path / "cli.sqlite"
    run_cli(gavel_bin, "judge", "--model", real_model(QWEN25), "--threads", 2, "--input",
            write_jsonl(tmp_path / "in.jsonl", pairs), "--out", tmp_path / "out.jsonl",
            "--store", store, "--no-progress")
    cli = read_jsonl(tmp_path / "out.jsonl")
    assert [c["id"] for c in cli] == [p["id"] for p in pairs]

    batch = qwen.pairwise_batch(pairs, batch=2)
    single = qwen.pairwise(pairs[0]["instruction"], pairs[0]["response_a"],
                           pairs[0]["response_b"], id=pairs[0]["id"])
    for py, c in zip([single, *batch], [cli[0], *cli]):
        assert py.id == c["id"]
        assert py.key == c["key"]  # same model, protocol, rendered prompts and parameters
        assert py.cached is False
        assert_pass_equal(py.pass1, c["pass1"], True)
        assert_pass_equal(py.pass2, c["pass2"], False)
        assert py.p_text1 == c["p_text1"] and py.p_text2 == c["p_text2"]
        assert [py.pass1.prompt_tokens, py.pass2.prompt_tokens] == c["prompt_tokens"]
        assert py.p_text1 == (py.pass1.p_a + py.pass2.p_b) / 2

    # The command line's store answers the package: same keys, stored records, same numbers.
    shared = gavel.Judge(real_model(QWEN25), threads=2, store=store)
    again = shared.pairwise_batch(pairs)
    assert all(r.cached for r in again)
    assert [r.p_text1 for r in again] == [c["p_text1"] for c in cli]
    assert gavel.Store(store).count() == len(pairs)


def test_critique_equals_cli_on_the_default_model(qwen, gavel_bin, tmp_path):
    vicuna = vicuna_item()
    short = {"id": "short", "instruction": "What is 2+2?", "response": "4",
             "rubric": "Is the answer correct?\nYes: the answer is correct.\nNo: it is wrong."}
    for item, mode, max_tokens in ((vicuna, "absolute", 40), (short, "classify", 64)):
        out = tmp_path / f"{mode}.jsonl"
        run_cli(gavel_bin, "judge", "--model", real_model(QWEN25), "--threads", 2, "--input",
                write_jsonl(tmp_path / "in.jsonl", [item]), "--out", out, "--store",
                tmp_path / f"{mode}.sqlite", "--protocol", "critique", "--mode", mode,
                "--max-tokens", max_tokens, "--no-progress")
        (c,) = read_jsonl(out)
        py = qwen.critique(mode=mode, instruction=item["instruction"], response=item["response"],
                           rubric=item["rubric"], max_tokens=max_tokens, id=item["id"])
        assert py.mode == c["mode"] and py.id == c["id"]
        for field in ("score", "expected_score", "verdict", "p_yes"):
            assert getattr(py, field) == c.get(field), field
        (p,), (cp,) = py.passes, c["passes"]
        assert p.key == cp["key"]
        assert p.critique == cp["critique"]
        assert (p.finish, p.outcome, p.label, p.raw_label) == (
            cp["finish"], cp["outcome"], cp["label"], cp["raw_label"])
        assert (p.generated_tokens, p.prompt_tokens) == (cp["generated_tokens"], cp["prompt_tokens"])
        if cp["verdict"] is None:
            assert p.verdict is None
        else:
            v = cp["verdict"]
            assert p.verdict.probs == [v["probs"][k] for k in p.verdict.labels]
            assert p.verdict.logprobs == [v["logprobs"][k] for k in p.verdict.labels]
            assert p.verdict.mass == v["mass"] and p.verdict.expected == v.get("expected")
        assert py.to_dict()["passes"][0]["critique"] == cp["critique"]


def cw_slice(writers=6, prompts=5):
    """Items of the first `writers` writers on the first `prompts` prompts of CW v3."""
    rows, ws, ps = [], [], []
    with open(SHARED / "data/eqbench/creative-writing-v3/creative_writing_bench_v3_samples.jsonl",
              encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            w, p = r["writer_model"], r["prompt_id"]
            if w not in ws and len(ws) < writers:
                ws.append(w)
            if p not in ps and len(ps) < prompts:
                ps.append(p)
            if w in ws and p in ps:
                rows.append({"writer_model": w, "prompt_id": p,
                             "clean_score_0_100": r["clean_score_0_100"]})
    return rows


def test_separability_equals_cli(gavel, gavel_bin, tmp_path):
    rows = cw_slice()
    path = write_jsonl(tmp_path / "items.jsonl", rows)
    cli = json.loads(run_cli(gavel_bin, "meta", "separability", "--in", path, "--bootstrap", 300,
                             "--seed", 7, "--json").stdout)
    py = gavel.meta.separability(rows, bootstrap=300, seed=7)
    assert (py.n_items, py.n_groups, py.n_prompts) == (cli["n_items"], cli["n_groups"],
                                                       cli["n_prompts"])
    assert py.anova_f == cli["anova_f"] and py.anova_p == cli["anova_p"]
    assert py.omega2 == cli["omega2"] and py.cliff_delta == cli["cliff_delta"]
    assert py.score == cli["score"]
    assert [py.score_ci_low, py.score_ci_high] == cli["score_ci"]
    assert [py.omega2_ci_low, py.omega2_ci_high] == cli["omega2_ci"]
    assert [py.delta_ci_low, py.delta_ci_high] == cli["cliff_delta_ci"]
    # The same from sequences and from a DataFrame.
    import pandas as pd

    df = pd.DataFrame(rows)
    assert gavel.meta.separability(df, bootstrap=300, seed=7).score_ci_low == py.score_ci_low
    seq = gavel.meta.separability(groups=df.writer_model, prompts=df.prompt_id,
                                  values=df.clean_score_0_100.to_numpy(), bootstrap=300, seed=7)
    assert seq.to_dict() == py.to_dict()


def test_meta_statistics_equal_cli(gavel, gavel_bin, tmp_path):
    import random

    rng = random.Random(5)
    rows = []
    for i in range(40):
        s1, s2 = rng.randint(1, 10), rng.randint(1, 10)
        rows.append({"x": rng.random(), "y": rng.random() + i / 40, "score_1": s1, "score_2": s2,
                     "len_1": rng.randint(50, 200), "len_2": rng.randint(50, 200),
                     "p_a_pass1": rng.random(), "p_a_pass2": rng.random(),
                     "prob": rng.random(), "pair_id": i // 2,
                     "label": rng.choice("AB"), "pred": rng.choice("AB"),
                     "outcome": rng.randint(0, 1)})
        # Rows 2k and 2k+1 are the two orders of one pair (bias needs swaps).
        j, la, lb = i // 2, 10 + (i // 2) % 7, 12 - (i // 2) % 5
        a, b = f"m{j % 4}", f"m{(j + 1) % 4}"
        if i % 2:
            a, b, la, lb = b, a, lb, la
        rows[-1].update(model_a=a, model_b=b, len_a=la, len_b=lb)
    path = write_jsonl(tmp_path / "rows.jsonl", rows)

    def cli(*args):
        return json.loads(run_cli(gavel_bin, "meta", *args, "--in", path, "--json").stdout)

    corr = cli("correlation", "--x", "x", "--y", "y")
    xs, ys = [r["x"] for r in rows], [r["y"] for r in rows]
    for name, method in (("pearson", "pearson"), ("spearman", "spearman"),
                         ("kendall_tau_b", "kendall")):
        c = gavel.meta.correlation(xs, ys, method)
        assert [c.r, c.p, [c.ci_low, c.ci_high], c.n] == [
            corr[name]["r"], corr[name]["p"], corr[name]["ci"], corr[name]["n"]], name
    pw = cli("pairwise", "--max-len-ratio", 3, "--min-diff", 1, "--p1", "p_a_pass1",
             "--p2", "p_a_pass2")
    m = gavel.meta.pairwise_metrics(rows, max_len_ratio=3, min_diff=1, p1="p_a_pass1",
                                    p2="p_a_pass2")
    # The defaults are gavel judge's record fields, reached through nested objects.
    nested = [{**r, "pass1": {"p_A": r["p_a_pass1"]}, "pass2": {"p_A": r["p_a_pass2"]}}
              for r in rows]
    m2 = gavel.meta.pairwise_metrics(nested, max_len_ratio=3, min_diff=1)
    for f in ("n", "filtered_out", "strict_accuracy", "positional_consistency",
              "mean_target_mass", "mean_non_target_mass", "soft_accuracy"):
        assert getattr(m, f) == pw[f] == getattr(m2, f), f
    bias = cli("bias")
    assert gavel.meta.bias(rows).to_dict() == bias
    cls = cli("classify", "--gold", "label", "--pred", "pred")
    c = gavel.meta.classification([r["label"] for r in rows], [r["pred"] for r in rows])
    assert (c.n, c.accuracy, c.macro_f1) == (cls["n"], cls["accuracy"], cls["macro_f1"])
    assert {k.label: {"support": k.support, "predicted": k.predicted, "precision": k.precision,
                      "recall": k.recall, "f1": k.f1} for k in c.classes} == cls["classes"]
    cal = cli("calibration", "--prob", "prob", "--outcome", "outcome", "--bins", 5)
    k = gavel.meta.calibration([r["prob"] for r in rows], [r["outcome"] for r in rows], bins=5)
    assert (k.n, k.bins, k.ece, k.brier, k.bin_count) == (
        cal["n"], cal["bins"], cal["ece"], cal["brier"], cal["bin_count"])
    assert k.bin_confidence.dtype.name == "float64" and len(k.bin_accuracy) == 5
    with pytest.raises(gavel.GavelError, match="method"):
        gavel.meta.correlation(xs, ys, "cosine")
    with pytest.raises(gavel.GavelError):
        gavel.meta.correlation([1.0, 2.0], [1.0])


def stand_in(rows, tau):
    """(writers, prompts, judge, calls): `gavel rank tournament`'s stand-in judge written in
    Python, P(a better) = 1 / (1 + exp(-(s_a - s_b) / tau)) over each writer's mean item score
    per prompt; `calls` collects the matches asked."""
    import math

    writers, prompts = [], []
    for r in rows:
        if r["writer_model"] not in writers:
            writers.append(r["writer_model"])
        if r["prompt_id"] not in prompts:
            prompts.append(r["prompt_id"])
    total = {}
    for r in rows:  # mean item score per writer and prompt, summed in file order
        s, n = total.get((r["writer_model"], r["prompt_id"]), (0.0, 0))
        total[(r["writer_model"], r["prompt_id"])] = (s + r["clean_score_0_100"], n + 1)
    mean = [[total[(w, p)][0] / total[(w, p)][1] for p in prompts] for w in writers]
    calls = []

    def judge(m):
        calls.append((m.a, m.b, m.prompt))
        return 1.0 / (1.0 + math.exp(-((mean[m.a][m.prompt] - mean[m.b][m.prompt]) / tau)))

    return writers, prompts, judge, calls


def test_tournament_equals_cli(gavel, gavel_bin, tmp_path):
    """`gavel rank tournament` (Swiss, stand-in judge from item scores) against
    gavel.tournament with the same stand-in judge written in Python."""
    rows = cw_slice(writers=7, prompts=4)
    path = write_jsonl(tmp_path / "items.jsonl", rows)
    tau, rounds, seed = 5.0, 6, 11
    cli = json.loads(run_cli(gavel_bin, "rank", "tournament", "--in", path, "--mode", "swiss",
                             "--rounds", rounds, "--seed", seed, "--tau", tau, "--json").stdout)
    writers, prompts, judge, calls = stand_in(rows, tau)
    res = gavel.tournament(writers, judge, pairing="swiss", rounds=rounds,
                           prompts=len(prompts), seed=seed)
    assert res.players == writers
    assert len(res.judgments) == cli["judge_calls"] == len(calls)
    by_name = {w["writer"]: w["rating"] for w in cli["writers"]}
    assert [by_name[w] for w in writers] == list(res.rating)
    assert res.stopped_early is False and cli["stopped_early_tournaments"] == 0
    assert res.rounds_played == cli["rounds_played"] == rounds

    # A judge that raises stops the tournament with its own exception.
    def broken(m):
        raise ZeroDivisionError("judge broke")

    with pytest.raises(ZeroDivisionError, match="judge broke"):
        gavel.tournament(4, broken)
    with pytest.raises(gavel.GavelError, match="not in \\[0,1\\]"):
        gavel.tournament(4, lambda m: 2.0)
    with pytest.raises(gavel.GavelError, match="pairing"):
        gavel.tournament(4, judge, pairing="knockout")


def test_tournament_until_stable_equals_cli(gavel, gavel_bin, tmp_path):
    """until_stable: `gavel rank tournament --until-stable` and gavel.tournament(...,
    until_stable=True) stop after the same round with the same ratings, before the cap."""
    rows = cw_slice(writers=16, prompts=4)
    path = write_jsonl(tmp_path / "items.jsonl", rows)
    tau, rounds, seed = 5.0, 14, 3
    cli = json.loads(run_cli(gavel_bin, "rank", "tournament", "--in", path, "--mode", "swiss",
                             "--rounds", rounds, "--seed", seed, "--tau", tau, "--until-stable",
                             "--json").stdout)
    writers, prompts, judge, calls = stand_in(rows, tau)
    res = gavel.tournament(writers, judge, pairing="swiss", rounds=rounds,
                           prompts=len(prompts), seed=seed, until_stable=True)
    assert cli["until_stable"] is True
    assert res.stopped_early is True and cli["stopped_early_tournaments"] == 1
    assert 4 <= res.rounds_played == cli["rounds_played"] < rounds
    assert len(res.judgments) == cli["judge_calls"] == len(calls)
    by_name = {w["writer"]: w["rating"] for w in cli["writers"]}
    assert [by_name[w] for w in writers] == list(res.rating)
    # The stop rule's record: one interval move per checked round after the first, the last
    # two within its tolerance (half a rank).
    assert len(res.interval_change) == res.rounds_played - 4
    assert all(x <= 0.5 for x in res.interval_change[-2:])
    # Without it the same tournament plays every round.
    full = gavel.tournament(writers, judge, pairing="swiss", rounds=rounds,
                            prompts=len(prompts), seed=seed)
    assert full.stopped_early is False and full.rounds_played == rounds
    assert len(full.interval_change) == 0


def test_store_equals_cli(gavel, small, gavel_bin, tmp_path):
    store = tmp_path / "s.sqlite"
    judge = gavel.Judge(real_model(SMOLLM2), threads=2, store=store)
    results = judge.pairwise_batch([("Name a prime.", "7", "8"), ("Say hi.", "Hi!", "No.")])
    assert int(run_cli(gavel_bin, "store", "count", "--store", store).stdout) == 2
    st = gavel.Store(store)
    assert len(st) == st.count() == 2
    exported = read_jsonl_text(run_cli(gavel_bin, "store", "export", "--store", store).stdout)
    assert [r["key"] for r in st.records()] == [e["key"] for e in exported] == [
        r.key for r in results]
    assert [r["record"] for r in st.records()] == [e["record"] for e in exported]
    frame = st.to_dataframe()
    assert list(frame["record.p_text1"]) == [r.p_text1 for r in results]


def read_jsonl_text(text):
    return [json.loads(x) for x in text.splitlines() if x]


# ---- errors ----


def test_bad_model_path_raises_with_the_path(gavel, tmp_path):
    missing = tmp_path / "no-such-model.gguf"
    with pytest.raises(gavel.GavelError, match="no-such-model.gguf"):
        gavel.Judge(missing)
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"this is not a gguf file" * 10)
    with pytest.raises(gavel.GavelError, match="garbage.gguf"):
        gavel.Judge(garbage)
    with pytest.raises(gavel.GavelError, match="threads must be 1..256"):
        gavel.Judge(real_model(SMOLLM2), threads=0)
    with pytest.raises(gavel.GavelError, match="decode_batch must be 1..256"):
        gavel.Judge(real_model(SMOLLM2), decode_batch=0)


def test_bad_input_raises_naming_the_problem(gavel, small):
    with pytest.raises(gavel.GavelError, match="missing field 'rubric'"):
        small.critique(mode="absolute", instruction="x", response="y")
    with pytest.raises(gavel.GavelError, match="unknown mode 'bogus'.*absolute-ref"):
        small.critique(mode="bogus", instruction="x", response="y", rubric="r")
    with pytest.raises(gavel.GavelError, match='read: must be "full" or "top-k"'):
        small.pairwise("i", "a", "b", read="everything")
    with pytest.raises(gavel.GavelError, match="rubric: no line starting 'Score 1:'"):
        small.critique(instruction="x", response="y", rubric="no scores here")
    with pytest.raises(ValueError, match="field 'response_b' is missing"):
        small.pairwise_batch([{"instruction": "i", "response_a": "a"}])
    with pytest.raises(TypeError, match="must be a str"):
        small.pairwise_batch([{"instruction": "i", "response_a": "a", "response_b": 3}])
    with pytest.raises(gavel.GavelError, match="batch: must be 1..4096"):
        small.pairwise_batch([("i", "a", "b")], batch=0)


def test_an_item_too_long_for_the_context_fails_alone(gavel):
    judge = gavel.Judge(real_model(SMOLLM2), threads=2, ctx=200)
    items = [("Say hi.", "Hi!", "No."), ("Say hi.", "word " * 400, "No."), ("Name a prime.", "7", "8")]
    results = judge.pairwise_batch(items, batch=3, errors="return")
    assert isinstance(results[1], gavel.GavelError)
    assert "context" in str(results[1]) or "200" in str(results[1])
    assert isinstance(results[0], gavel.PairwiseResult) and isinstance(results[2], gavel.PairwiseResult)
    with pytest.raises(gavel.GavelError, match="1 of 3 items failed(.|\n)*item 2"):
        judge.pairwise_batch(items, batch=3)


# ---- Ctrl-C, the GIL, progress ----


def test_ctrl_c_stops_between_batches_and_the_store_keeps_finished_work(gavel, tmp_path):
    store = tmp_path / "s.sqlite"
    judge = gavel.Judge(real_model(SMOLLM2), threads=2, store=store)
    items = [(f"Name a prime number greater than {k}.", str(k + 1), str(k + 2)) for k in range(6)]
    seen = []

    def interrupt_after_first(p):
        seen.append(p.done)
        if p.done >= 1 and len(seen) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does

    # A shell starts background jobs with SIGINT ignored, and Python then installs no handler:
    # install Python's own, as an interactive session has it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            judge.pairwise_batch(items, batch=1, progress=interrupt_after_first)
    finally:
        signal.signal(signal.SIGINT, previous)
    done = gavel.Store(store).count()
    assert 1 <= done < len(items)
    resumed = judge.pairwise_batch(items, batch=2)
    assert sum(r.cached for r in resumed) == done


def test_the_gil_is_released_during_model_work(small):
    ticks = 0
    running = True

    def count():
        nonlocal ticks
        while running:
            ticks += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        before, start = ticks, time.monotonic()
        small.pairwise("Describe the sea in one long paragraph.", "Blue and wide. " * 20,
                       "Wet. " * 40)
        during, elapsed = ticks - before, time.monotonic() - start
    finally:
        running = False
        t.join()
    # Had the call held the GIL, the other thread could not have counted while it ran.
    assert elapsed > 0.2
    assert during > 10000, (during, elapsed)


def test_progress_reaches_python(gavel, small):
    updates = []
    items = [("Say hi.", "Hi!", "No."), ("Say bye.", "Bye!", "No."), ("Count.", "1 2 3", "3 2 1")]
    results = small.pairwise_batch(items, batch=2, progress=updates.append)
    assert [(u.done, u.total) for u in updates] == [(0, 3), (2, 3), (3, 3)]
    assert updates[-1].judged == 3 and updates[-1].failed == 0
    assert isinstance(updates[-1], gavel.Progress)
    assert len(small.pairwise_batch(items, progress=True)) == 3  # a tqdm bar
    def stop(p):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        small.pairwise_batch(items, progress=stop)
    assert results[0].to_dict()["pass1"]["p_a"] == results[0].pass1.p_a


def test_dataframes_in_and_out(gavel, small):
    import pandas as pd

    df = pd.DataFrame({"instruction": ["Say hi.", "Name a prime."], "response_a": ["Hi!", "7"],
                       "response_b": ["No.", "8"], "id": ["x", "y"]}, index=[10, 20])
    out = small.pairwise_batch(df)
    assert list(out.index) == [10, 20] and list(out["id"]) == ["x", "y"]
    listed = small.pairwise_batch(df.to_dict("records"))
    assert list(out["p_text1"]) == [r.p_text1 for r in listed]
    crit = pd.DataFrame({"question": ["Name a prime."], "answer": ["7"],
                         "rubric": ["Correct?\nScore 1: no\nScore 2: a\nScore 3: b\nScore 4: c\n"
                                    "Score 5: yes"]})
    c = small.critique_batch(crit, columns={"instruction": "question", "response": "answer"},
                             max_tokens=16)
    assert list(c.columns[:3]) == ["id", "mode", "score"] and c["pass1_finish"][0] in (
        "length", "eos", "stop")


def test_docs_and_type_stubs(gavel):
    import pydoc

    text = pydoc.render_doc(gavel.Judge, renderer=pydoc.plaintext)
    for phrase in ("pairwise-logprob", "critique", "pairwise_batch", "store", "bit for bit",
                   "backend_api_key_env", "concurrency"):
        assert phrase in text, phrase
    pkg = pathlib.Path(gavel.__file__).parent
    stub = (pkg / "_gavel.pyi").read_text()
    for name in ("class PairwiseResult", "class CritiqueResult", "def separability",
                 "def tournament", "p_text1", "class BackendSpec", "until_stable",
                 "stopped_early"):
        assert name in stub, name
    assert (pkg / "py.typed").exists()
    assert gavel.PairwiseResult.p_text1.__doc__.startswith("Swap-averaged")
