"""gavel under hostile use: full disks, outputs that are inputs, read-only commands on odd
files, changed weights, broken hyperparameters, paths that are directories, flags that do not
apply. Every case must end in a clear error and a non-zero exit, with no file damaged."""
import hashlib
import json
import math
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import tempfile

import numpy as np
import pytest
import xxhash
from gguf import GGUFReader

from conftest import tiny_model

# A tiny random-weight Qwen2 with the real vocabulary and chat template: judging is fast.
MODEL = ("qwen2", "q8_0")


def _run(gavel_bin, *args, env=None, preexec=None, timeout=300):
    return subprocess.run([str(gavel_bin), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, preexec_fn=preexec)


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _items(n, pad=1):
    return "".join(json.dumps({"id": f"it{i}", "instruction": f"task {i} " * pad,
                               "response_a": f"a{i} " * pad, "response_b": f"b{i} " * pad,
                               "label": "AB"[i % 2]}) + "\n" for i in range(n))


@pytest.fixture()
def work(tmp_path):
    """A copy of the tiny model (tests may damage it), an input file, a private digest cache."""
    model = tmp_path / "model.gguf"
    shutil.copy(tiny_model(*MODEL), model)
    inp = tmp_path / "in.jsonl"
    inp.write_text(_items(4))
    env = dict(os.environ, GAVEL_CACHE_DIR=str(tmp_path / "cache"))
    return dict(dir=tmp_path, model=model, input=inp, store=tmp_path / "s.sqlite", env=env)


def _judge(gavel_bin, w, *extra, out=None, inp=None, **kw):
    args = ["judge", "--model", w["model"], "-i", inp or w["input"], "--store", w["store"],
            "--no-progress", "--ctx", 1024, *extra]
    if out is not None:
        args += ["-o", out]
    return _run(gavel_bin, *args, env=w["env"], **kw)


def _count(gavel_bin, store):
    r = _run(gavel_bin, "store", "count", "--store", store)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def _integrity(store):
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


# ---- 1. write errors -------------------------------------------------------------------------

def test_judge_output_on_full_device_fails_and_store_stays_whole(gavel_bin, work):
    r = _judge(gavel_bin, work, out="/dev/full")
    assert r.returncode != 0
    assert "/dev/full: write failed: No space left on device" in r.stderr, r.stderr
    assert _count(gavel_bin, work["store"]) >= 1  # the first batch was committed before writing
    out = work["dir"] / "out.jsonl"
    r2 = _judge(gavel_bin, work, out=out)
    assert r2.returncode == 0, r2.stderr
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [f"it{i}" for i in range(4)]
    assert _count(gavel_bin, work["store"]) == 4  # nothing judged twice
    assert _integrity(work["store"]) == "ok"


def _mount_tmpfs(path, size):
    if os.geteuid() != 0:
        pytest.fail("mounting a small tmpfs (a full file system) needs root")
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs at {path}: {r.stderr}")


def test_judge_output_on_a_full_file_system(gavel_bin, work):
    # The output fills an 8 KiB tmpfs after a few records: the run must stop with an error,
    # not exit 0 with a record cut mid-line. The store (elsewhere) keeps every judgment.
    work["input"].write_text(_items(16))
    mnt = work["dir"] / "small"
    _mount_tmpfs(mnt, "8k")
    try:
        out = mnt / "out.jsonl"
        r = _judge(gavel_bin, work, "--keep-prompts", "--batch", 2, out=out)
        assert r.returncode != 0, r.stderr
        assert f"{out}: write failed: No space left on device" in r.stderr, r.stderr
        assert "committed to the store" in r.stderr
        done = _count(gavel_bin, work["store"])
        assert 0 < done < 16
        # Everything before the failure is whole lines; a rerun elsewhere completes the run.
        good = work["dir"] / "out.jsonl"
        r2 = _judge(gavel_bin, work, "--keep-prompts", "--batch", 2, out=good)
        assert r2.returncode == 0, r2.stderr
        assert f"{16 - done} new judgments, {done} from store" in r2.stderr, r2.stderr
        assert len(good.read_text().splitlines()) == 16
    finally:
        subprocess.run(["umount", str(mnt)])
    assert _integrity(work["store"]) == "ok"


def test_store_commit_failure_keeps_the_store_whole(gavel_bin, work):
    # Every file the process writes is limited to 192 KiB (a disk filling up under the store):
    # SQLite's commit fails, the run stops with an error, and what was committed stays intact.
    # The empty store's tables and indexes take about 64 KiB and each commit appends whole 4 KiB
    # pages to the write-ahead log, so a few batches fit before the limit.
    work["input"].write_text(_items(40))

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (192 << 10, resource.RLIM_INFINITY))

    r = _judge(gavel_bin, work, "--batch", 2, preexec=limit)
    assert r.returncode != 0, r.stderr
    assert "store:" in r.stderr, r.stderr
    assert _integrity(work["store"]) == "ok"
    partial = _count(gavel_bin, work["store"])
    assert 0 < partial < 40
    r2 = _judge(gavel_bin, work, "--batch", 2)
    assert r2.returncode == 0, r2.stderr
    assert f"{40 - partial} new judgments, {partial} from store" in r2.stderr, r2.stderr


def test_export_and_stdout_write_errors(gavel_bin, work):
    assert _judge(gavel_bin, work).returncode == 0
    r = _run(gavel_bin, "store", "export", "--store", work["store"], "-o", "/dev/full")
    assert r.returncode != 0 and "/dev/full: write failed" in r.stderr, r.stderr
    for fmt in ("jsonl", "csv"):
        with open("/dev/full", "w") as full:
            r = subprocess.run([str(gavel_bin), "store", "export", "--store", str(work["store"]),
                                "--format", fmt], stdout=full, stderr=subprocess.PIPE, text=True)
        assert r.returncode != 0 and "standard output: write failed" in r.stderr, r.stderr
    with open("/dev/full", "w") as full:
        r = subprocess.run([str(gavel_bin), "dequant", "--info", str(work["model"])], stdout=full,
                           stderr=subprocess.PIPE, text=True)
    assert r.returncode != 0 and "standard output: write failed" in r.stderr, r.stderr
    r = _run(gavel_bin, "dequant", "--model", work["model"], "--tensor", "output_norm.weight",
             "--out", "/dev/full")
    assert r.returncode != 0 and "/dev/full: is a character device" in r.stderr, r.stderr


# ---- 2. outputs that are inputs ---------------------------------------------------------------

def test_outputs_that_are_inputs_are_refused(gavel_bin, work):
    assert _judge(gavel_bin, work).returncode == 0
    d = work["dir"]
    os.link(work["model"], d / "hard.gguf")
    os.symlink(work["input"], d / "soft.jsonl")
    before = {p: _sha(p) for p in (work["model"], work["input"], work["store"])}
    cases = [
        (dict(out=work["model"]), "is the same file as the model"),
        (dict(out=d / "hard.gguf"), "is the same file as the model"),
        (dict(out=work["store"]), "is the same file as the store"),
        (dict(out=str(work["store"]) + "-wal"), "write-ahead log"),
        (dict(out=work["input"]), "is the same file as the input"),
        (dict(out=d / "soft.jsonl"), "is the same file as the input"),
    ]
    for kw, msg in cases:
        r = _judge(gavel_bin, work, **kw)
        assert r.returncode != 0, kw
        assert msg in r.stderr and "refusing to overwrite it" in r.stderr, (kw, r.stderr)
    r = _run(gavel_bin, "judge", "--model", work["model"], "-i", work["input"], "--store",
             work["input"], "--no-progress", env=work["env"])
    assert r.returncode != 0 and "--store" in r.stderr and "same file as the input" in r.stderr
    r = _run(gavel_bin, "store", "export", "--store", work["store"], "-o", work["store"])
    assert r.returncode != 0 and "same file as the store" in r.stderr, r.stderr
    r = _run(gavel_bin, "dequant", "--model", work["model"], "--tensor", "output_norm.weight",
             "--out", d / "hard.gguf")
    assert r.returncode != 0 and "same file as the --model" in r.stderr, r.stderr
    (d / "d.jsonl").write_text('{"a":1,"b":2}\n{"a":2,"b":3}\n{"a":3,"b":5}\n')
    r = _run(gavel_bin, "meta", "correlation", "--in", d / "d.jsonl", "--x", "a", "--y", "b",
             "--csv", d / "d.jsonl")
    assert r.returncode != 0 and "same file as the --in" in r.stderr, r.stderr
    assert json.loads((d / "d.jsonl").read_text().splitlines()[0]) == {"a": 1, "b": 2}
    assert {p: _sha(p) for p in before} == before
    assert _count(gavel_bin, work["store"]) == 4


# ---- 3. the atomic writer seen from the CLI -----------------------------------------------------

def test_csv_goes_through_a_symlink_and_leaves_no_temporary(gavel_bin, tmp_path):
    (tmp_path / "d.jsonl").write_text('{"a":1,"b":2}\n{"a":2,"b":3}\n{"a":3,"b":5}\n')
    (tmp_path / "real").mkdir()
    os.symlink("real/table.csv", tmp_path / "link.csv")
    r = _run(gavel_bin, "meta", "correlation", "--in", tmp_path / "d.jsonl", "--x", "a", "--y",
             "b", "--csv", tmp_path / "link.csv")
    assert r.returncode == 0, r.stderr
    assert os.path.islink(tmp_path / "link.csv")
    assert (tmp_path / "real/table.csv").read_text().startswith("method,")
    assert sorted(os.listdir(tmp_path)) == ["d.jsonl", "link.csv", "real"]
    assert os.listdir(tmp_path / "real") == ["table.csv"]
    os.mkfifo(tmp_path / "fifo")
    r = _run(gavel_bin, "meta", "correlation", "--in", tmp_path / "d.jsonl", "--x", "a", "--y",
             "b", "--csv", tmp_path / "fifo")
    assert r.returncode != 0 and "is a FIFO, not a regular file" in r.stderr, r.stderr
    assert (tmp_path / "fifo").is_fifo()


# ---- 4. read-only commands ------------------------------------------------------------------

def test_store_reads_create_and_change_nothing(gavel_bin, work):
    d = work["dir"]
    for cmd in (["count"], ["export"], ["export", "--format", "csv"]):
        r = _run(gavel_bin, "store", *cmd, "--store", d / "missing.sqlite")
        assert r.returncode != 0 and "no such store" in r.stderr, r.stderr
        assert not (d / "missing.sqlite").exists()
        (d / "empty.sqlite").write_bytes(b"")
        r = _run(gavel_bin, "store", *cmd, "--store", d / "empty.sqlite")
        assert r.returncode != 0 and "not a gavel store" in r.stderr, r.stderr
        assert (d / "empty.sqlite").read_bytes() == b""
        r = _run(gavel_bin, "store", *cmd, "--store", work["input"])
        assert r.returncode != 0 and "not a gavel store" in r.stderr, r.stderr
        r = _run(gavel_bin, "store", *cmd, "--store", d)
        assert r.returncode != 0 and "is a directory" in r.stderr, r.stderr
    assert sorted(p.name for p in d.iterdir()) == ["empty.sqlite", "in.jsonl", "model.gguf"]
    assert _judge(gavel_bin, work).returncode == 0
    main = _sha(work["store"])
    assert _count(gavel_bin, work["store"]) == 4
    r = _run(gavel_bin, "store", "export", "--store", work["store"])
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 4
    assert _sha(work["store"]) == main


# ---- 5. fingerprints see every weight ---------------------------------------------------------

def _fingerprint(stderr):
    m = re.search(r"model (gguf:[0-9a-f]+\+\S+)", stderr)
    assert m, stderr
    return m.group(1)


def test_changed_weights_are_never_served_from_the_store(gavel_bin, work):
    r = _judge(gavel_bin, work)
    assert r.returncode == 0, r.stderr
    fp = _fingerprint(r.stderr)
    assert fp.startswith("gguf:" + xxhash.xxh3_128_hexdigest(work["model"].read_bytes()) + "+")
    r = _judge(gavel_bin, work)
    assert "0 new judgments, 4 from store" in r.stderr, r.stderr
    # Change one weight far from the start of its tensor (the old fingerprint hashed the first
    # 4 KiB of each tensor) and put the modification time back.
    reader = GGUFReader(work["model"])
    t = max(reader.tensors, key=lambda t: t.n_bytes)
    at = int(t.data_offset) + int(t.n_bytes) // 2
    del reader
    st = os.stat(work["model"])
    with open(work["model"], "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x40]))
    os.utime(work["model"], ns=(st.st_atime_ns, st.st_mtime_ns))
    r = _judge(gavel_bin, work)
    assert r.returncode == 0, r.stderr
    assert _fingerprint(r.stderr) != fp
    assert "4 new judgments, 0 from store" in r.stderr, r.stderr
    # The digest is cached per file version: the next run reads the cache, not the weights.
    cache = list((work["dir"] / "cache/digests").iterdir())
    assert len(cache) == 1 and json.loads(cache[0].read_text())["digest"] in _fingerprint(r.stderr)


# ---- 9. hyperparameters and tensor types ------------------------------------------------------

def _patch_model(src, dst, key=None, value=None, tensor=None, type_id=None):
    shutil.copy(src, dst)
    reader = GGUFReader(dst, "r+")
    if key is not None:
        field = reader.fields[key]
        field.parts[field.data[0]][0] = value
    if tensor is not None:
        t = next(t for t in reader.tensors if t.name == tensor)
        # Tensor info parts: name length, name, n_dims, dims..., type, offset.
        t.field.parts[-2][0] = type_id
    reader.data.flush()
    del reader


@pytest.mark.parametrize("value", [math.nan, -1e-6, 0.0, math.inf])
def test_bad_rms_epsilon_is_an_error(gavel_bin, tmp_path, value):
    bad = tmp_path / "bad.gguf"
    _patch_model(tiny_model(*MODEL), bad, key="qwen2.attention.layer_norm_rms_epsilon", value=value)
    r = _run(gavel_bin, "logprobs", bad, "--prompt", "hi", "--ctx", 64)
    assert r.returncode != 0, r.stdout
    assert "layer_norm_rms_epsilon" in r.stderr and "must be in (0, 1)" in r.stderr, r.stderr


def test_quantized_norm_weight_is_an_error(gavel_bin, tmp_path):
    bad = tmp_path / "bad.gguf"
    _patch_model(tiny_model(*MODEL), bad, tensor="output_norm.weight", type_id=8)  # Q8_0
    r = _run(gavel_bin, "logprobs", bad, "--prompt", "hi", "--ctx", 64)
    assert r.returncode != 0, r.stdout
    assert "'output_norm.weight' has type Q8_0" in r.stderr, r.stderr
    good = _run(gavel_bin, "logprobs", tiny_model(*MODEL), "--prompt", "hi", "--ctx", 64)
    assert good.returncode == 0, good.stderr


def test_bad_rope_base_is_an_error(gavel_bin, tmp_path):
    bad = tmp_path / "bad.gguf"
    _patch_model(tiny_model(*MODEL), bad, key="qwen2.rope.freq_base", value=math.nan)
    r = _run(gavel_bin, "logprobs", bad, "--prompt", "hi", "--ctx", 64)
    assert r.returncode != 0 and "rope.freq_base" in r.stderr, r.stderr


# ---- 10. paths that are not files -------------------------------------------------------------

def test_directories_and_unreadable_files_are_errors(gavel_bin, work):
    d = work["dir"]
    r = _judge(gavel_bin, work, inp=d)
    assert r.returncode != 0 and f"{d}: is a directory" in r.stderr, r.stderr
    r = _judge(gavel_bin, work, inp="/proc/self/mem")  # opens, but every read fails
    assert r.returncode != 0 and "/proc/self/mem: read error" in r.stderr, r.stderr
    fresh = d / "fresh.sqlite"
    r = _run(gavel_bin, "judge", "--model", d, "-i", work["input"], "--store", fresh,
             env=work["env"])
    assert r.returncode != 0 and f"{d}: is a directory, not a GGUF model file" in r.stderr, r.stderr
    assert not fresh.exists()  # a failed model load creates no store
    (d / "m.json").write_text('[{"role": "user", "content": "x"}]')
    r = _run(gavel_bin, "render", "--template", d, "--messages", d / "m.json")
    assert r.returncode != 0 and f"{d}: is a directory" in r.stderr, r.stderr
    r = _run(gavel_bin, "logprobs", d, "--prompt", "x")
    assert r.returncode != 0 and "is a directory" in r.stderr, r.stderr


# ---- 12. flags that do not apply ----------------------------------------------------------------

@pytest.mark.parametrize("flags,msg", [
    (["--seed", "-1"], "--seed"),
    (["--limit", "-1"], "--limit"),
    (["--limit", "0"], "--limit"),
    (["--decode-batch", "0"], "--decode-batch"),
    (["--decode-batch", "257"], "--decode-batch"),
    (["--field", "foo=bar"], "unknown logical field 'foo'"),
    (["--mode", "absolute"], "--mode does not apply to --protocol pairwise-logprob"),
    (["--max-tokens", "9"], "--max-tokens does not apply to --protocol pairwise-logprob"),
    (["--protocol", "critique", "--read", "top-k"], "--read does not apply to --protocol critique"),
    (["--protocol", "critique", "--mode", "absolute", "--top-k", "3"], "--top-k does not apply"),
])
def test_flags_that_do_not_apply_are_refused(gavel_bin, work, flags, msg):
    r = _judge(gavel_bin, work, *flags)
    assert r.returncode != 0, r.stderr
    assert msg in r.stderr, r.stderr
    assert "1.79769" not in r.stderr  # no float-formatted integer range
    assert not work["store"].exists()


# ---- 17. small things --------------------------------------------------------------------------

def test_help_shows_defaults_and_errors_hide_hidden_flags(gavel_bin, work):
    h = _run(gavel_bin, "judge", "--help").stdout
    for flag, default in [("--threads", "2"), ("--ctx", "4096"), ("--batch", "4"),
                          ("--max-tokens", "512"), ("--protocol", "pairwise-logprob"),
                          ("--prefix-cache", "4"), ("--decode-batch", "8"), ("--top-k", "10")]:
        assert re.search(re.escape(flag) + r" [^\n]*=" + re.escape(default) + r"\b", h), (flag, h)
    assert "fake" not in h  # the test-only scripted backend stays out of sight
    r = _run(gavel_bin, "judge", "-i", work["input"], "--store", work["store"])
    assert r.returncode != 0 and "--model" in r.stderr, r.stderr
    assert "fake" not in r.stderr, r.stderr
    assert "=4096" in _run(gavel_bin, "logprobs", "--help").stdout


def test_render_messages_wants_a_file_and_says_so(gavel_bin, work):
    h = _run(gavel_bin, "render", "--help").stdout
    assert re.search(r"--messages TEXT REQUIRED\s+FILE holding a JSON list", h), h
    r = _run(gavel_bin, "render", work["model"], "--messages", '[{"role":"user","content":"x"}]')
    assert r.returncode != 0
    assert "expected the name of a file holding the JSON, got JSON text" in r.stderr, r.stderr
    msgs = work["dir"] / "m.json"
    msgs.write_text('[{"role":"user","content":"x"}]')
    r = _run(gavel_bin, "render", work["model"], "--messages", msgs)
    assert r.returncode == 0 and "<|im_start|>user\nx<|im_end|>" in r.stdout, r.stderr


def test_tokenize_pieces_are_plain_strings(gavel_bin, work):
    r = _run(gavel_bin, "tokenize", work["model"], 'say "hi" é', "--pieces")
    assert r.returncode == 0, r.stderr
    pieces = json.loads(r.stdout)
    ids = json.loads(_run(gavel_bin, "tokenize", work["model"], 'say "hi" é').stdout)
    assert [p["id"] for p in pieces] == ids
    # The pieces are the tokens' texts, not JSON text: together they spell the input.
    assert "".join(p["piece"] for p in pieces) == 'say "hi" é'
    assert not any(p["piece"].startswith('"') and p["piece"].endswith('"') and len(p["piece"]) > 1
                   for p in pieces)


def test_non_tty_progress_prints_its_last_line_once(gavel_bin, work):
    args = ["judge", "--model", work["model"], "-i", work["input"], "--store", work["store"],
            "--ctx", 1024]
    r = _run(gavel_bin, *args, env=work["env"])  # stderr is a pipe: no TTY
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("judge [")]
    assert lines and lines[-1].startswith("judge [########################] 4/4"), r.stderr
    assert len(lines) == len(set(lines)), r.stderr
    assert sum("4/4" in x for x in lines) == 1, r.stderr


# ---- 7. wrong-typed fields are errors, never an abort ------------------------------------------

def _judgemark_variants(shared_dir):
    src = json.loads((shared_dir / "data/eqbench/judgemark-v1/judgemark_v1_judge_results.json")
                     .read_text())
    first_stat = next(iter(src["judges"][0]["stats"]))

    def judge(d, k, v):
        d["judges"][0][k] = v
    return src, [
        (lambda d: judge(d, "judge", 5), 'judge 1: field "judge" (its name) is not a string'),
        (lambda d: judge(d, "judge", ["x"]), 'judge 1: field "judge" (its name) is not a string'),
        (lambda d: judge(d, "writer_scores", [1, 2]), 'field "writer_scores" is not an object'),
        (lambda d: judge(d, "stats", [1]), 'field "stats" is not an object'),
        (lambda d: d["judges"][0]["stats"].__setitem__(first_stat, "x"),
         f"stats.{first_stat} is not a number"),
        (lambda d: judge(d, "judgemark_published", {}), "judgemark_published is not a number"),
        (lambda d: d.__setitem__("judges", [7]), "judge 1 is not an object"),
    ]


def test_judgemark_wrong_types_name_the_field(gavel_bin, shared_dir, tmp_path):
    import copy
    src, variants = _judgemark_variants(shared_dir)
    for i, (mutate, msg) in enumerate(variants):
        d = copy.deepcopy(src)
        mutate(d)
        f = tmp_path / f"jm{i}.json"
        f.write_text(json.dumps(d))
        r = _run(gavel_bin, "meta", "judgemark", "--in", f)
        assert r.returncode == 1, (i, r.returncode, r.stderr)
        assert "terminate" not in r.stderr and msg in r.stderr, (i, r.stderr)
        assert r.stderr.startswith(f"gavel: {f}: "), r.stderr
    f = tmp_path / "list.json"
    f.write_text("[1, 2]")
    r = _run(gavel_bin, "meta", "judgemark", "--in", f)
    assert r.returncode == 1 and "not a judge-results object" in r.stderr, r.stderr


def test_tokenize_batch_wrong_types_name_line_and_field(gavel_bin, work):
    batch = work["dir"] / "b.jsonl"
    batch.write_text('{"text": "ok"}\n{"text": "x", "add_special": "yes"}\n')
    r = _run(gavel_bin, "tokenize", work["model"], "--batch", batch)
    assert r.returncode != 0 and "terminate" not in r.stderr, r.stderr
    assert f"{batch}:2: field add_special: expected true or false" in r.stderr, r.stderr


# ---- 6. numeric flags out of range are errors ------------------------------------------------

def _scored_items(path):
    path.write_text("".join(json.dumps({"writer_model": f"w{w}", "prompt_id": f"p{p}",
                                        "clean_score_0_100": 10 * w + 7 * ((w * 5 + p * 3) % 4)})
                            + "\n" for w in range(4) for p in range(5)))
    return path


@pytest.mark.parametrize("args,msg", [
    (["meta", "separability", "--level", "2"], "level: must be in (0, 1), got 2"),
    (["meta", "separability", "--level", "1e6"], "level: must be in (0, 1), got 1000000"),
    (["meta", "separability", "--level", "nan"], "level: must be in (0, 1), got nan"),
    (["meta", "separability", "--level", "-1"], "level: must be in (0, 1), got -1"),
    (["meta", "separability", "--level", "0"], "level: must be in (0, 1), got 0"),
    (["meta", "separability", "--bootstrap", "-1"], "bootstrap: must be 0..1000000, got -1"),
    (["meta", "correlation", "--x", "clean_score_0_100", "--y", "clean_score_0_100",
      "--level", "1"], "level: must be in (0, 1), got 1"),
    (["rank", "tournament", "--k", "nan"], "k: must be a finite number >= 0, got nan"),
    (["rank", "tournament", "--tau", "0"], "tau: must be a finite number > 0, got 0"),
    (["rank", "tournament", "--mode", "option-b", "--iterations", "0"],
     "iterations: must be 1..10000, got 0"),
    (["rank", "curve", "--sim-noise", "nan"], "sim_noise: must be a finite number >= 0, got nan"),
    (["rank", "curve", "--sim-spread", "inf"], "sim_spread: must be a finite number >= 0, got inf"),
    (["rank", "curve", "--seeds", "0"], "seeds: must be 1..10000, got 0"),
])
def test_numeric_flags_out_of_range(gavel_bin, tmp_path, args, msg):
    items = _scored_items(tmp_path / "items.jsonl")
    src = ["--simulate", "5"] if args[:2] == ["rank", "curve"] else ["--in", items]
    r = _run(gavel_bin, *args, *src, timeout=60)
    assert r.returncode == 1 and msg in r.stderr, (r.returncode, r.stderr)


def test_rank_fit_level_out_of_range(gavel_bin, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"model_a": f"w{i % 3}", "model_b": f"w{(i + 1) % 3}",
                                         "outcome": "AB"[i % 2]}) + "\n" for i in range(12)))
    ok = _run(gavel_bin, "rank", "fit", "--in", pairs, "--bootstrap", "20")
    assert ok.returncode == 0, ok.stderr
    for level in ["1e6", "nan", "2"]:
        r = _run(gavel_bin, "rank", "fit", "--in", pairs, "--bootstrap", "20", "--level", level)
        assert r.returncode == 1 and "level: must be in (0, 1)" in r.stderr, r.stderr


# ---- 8. sizes that drive memory are bounded; long work shows progress -------------------------

def _limit_memory():
    # ASan reserves terabytes of shadow address space, which RLIMIT_AS forbids: under
    # `scripts/test.sh --sanitize` the bound is left to ASan's own allocator checks.
    if os.environ.get("GAVEL_SANITIZE"):
        return
    lim = 2 << 30
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))


def test_calibration_bins_are_bounded(gavel_bin, tmp_path):
    f = tmp_path / "cal.jsonl"
    f.write_text("".join(json.dumps({"p": i / 20, "y": i % 2}) + "\n" for i in range(20)))
    r = _run(gavel_bin, "meta", "calibration", "--in", f, "--prob", "p", "--outcome", "y",
             "--bins", "1000000000", preexec=_limit_memory, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "bins: must be 1..10000, got 1000000000" in r.stderr, r.stderr


def test_curve_bounds_the_simulation_and_shows_progress(gavel_bin):
    r = _run(gavel_bin, "rank", "curve", "--simulate", "5000", timeout=30)
    assert r.returncode == 1 and "simulate: must be 2..1000 (writers), got 5000" in r.stderr, \
        r.stderr
    r = _run(gavel_bin, "rank", "curve", "--simulate", "6", "--rounds", "3", "--seeds", "2",
             "--json", timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("curve [")]
    assert lines and lines[0].startswith("curve [#") and " 1/19 " in lines[0], r.stderr
    assert lines[-1].startswith("curve [########################] 19/19"), r.stderr
    json.loads(r.stdout)  # progress never mixes into the report
    q = _run(gavel_bin, "rank", "curve", "--simulate", "6", "--rounds", "3", "--seeds", "2",
             "--json", "--no-progress", timeout=120)
    assert q.returncode == 0 and q.stderr == "" and q.stdout == r.stdout, q.stderr


# ---- 16. SIGINT / SIGTERM end a run cleanly ---------------------------------------------------

@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_finishes_the_batch_commits_and_says_how_to_resume(gavel_bin, work, sig, code):
    import time
    n = 40
    work["input"].write_text(_items(n, pad=20))
    out = work["dir"] / "out.jsonl"
    args = ["judge", "--model", work["model"], "-i", work["input"], "--store", work["store"],
            "--ctx", 1024, "--batch", 2, "-o", out]
    p = subprocess.Popen([str(gavel_bin), *map(str, args)], stderr=subprocess.PIPE, text=True,
                         env=work["env"])
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        if out.exists() and out.read_text().count("\n") >= 2:
            break
        time.sleep(0.05)
    assert p.poll() is None, "the run ended before it could be interrupted"
    p.send_signal(sig)
    err = p.communicate(timeout=120)[1]
    assert p.returncode == code, (p.returncode, err)
    assert "gavel: interrupted: finishing the current batch" in err, err
    m = re.search(r"judged (\d+) of 40 items .*interrupted before the other (\d+) items: every "
                  r"judgment made so far is committed to the store, and rerunning the same "
                  r"command resumes from there", err)
    assert m, err
    done = int(m.group(1))
    assert 2 <= done < n and done + int(m.group(2)) == n, err
    lines = out.read_text().splitlines()
    assert len(lines) == done and all(json.loads(x)["id"] for x in lines)  # whole records
    assert _count(gavel_bin, work["store"]) == done
    again = _run(gavel_bin, *args, env=work["env"])
    assert again.returncode == 0, again.stderr
    assert f"judged {n} of {n} items" in again.stderr, again.stderr
    assert f"({n - done} new judgments, {done} from store)" in again.stderr, again.stderr


# ---- 11. labels the figures cannot read are counted and shown ---------------------------------

def test_unreadable_labels_are_counted_and_named(gavel_bin, work):
    labels = ["A", "B", "C", 5, "a", " A"]
    work["input"].write_text("".join(
        json.dumps({"id": f"it{i}", "instruction": f"task {i}", "response_a": f"a{i}",
                    "response_b": f"b{i}", "label": lab}) + "\n" for i, lab in enumerate(labels)))
    r = _judge(gavel_bin, work)
    assert r.returncode == 0, r.stderr
    assert ('4 label(s) not in the figures above (unreadable, or a tie): "C", 5, "a", " A"'
            in r.stderr), r.stderr
    metrics = json.loads(r.stderr.split("metrics: ", 1)[1].splitlines()[0])
    assert metrics["n_labelled"] == 2
    assert metrics["labels_not_scored"] == {"count": 4, "values": ["C", 5, "a", " A"]}
