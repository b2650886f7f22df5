"""Kill `gavel judge` with SIGKILL mid-run, re-run, and find 0 lost and 0 duplicated judgments."""
import csv
import io
import json
import signal
import subprocess
import time


def _items(n):
    return [{"id": f"it{i}", "instruction": f"task {i}", "response_a": f"a{i}", "response_b": f"b{i}",
             "label": "AB"[i % 2]} for i in range(n)]


def _count(gavel_bin, store):
    r = subprocess.run([str(gavel_bin), "store", "count", "--store", str(store)],
                       capture_output=True, text=True, check=True)
    return int(r.stdout)


def test_sigkill_then_resume(gavel_bin, tmp_path):
    n = 40
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(x) + "\n" for x in _items(n)))
    store, out = tmp_path / "s.sqlite", tmp_path / "out.jsonl"
    cmd = [str(gavel_bin), "judge", "--backend", "fake:delay_ms=25", "--input", str(inp), "--out",
           str(out), "--store", str(store), "--batch", "3", "--no-progress"]
    kills = 0
    for _ in range(3):  # kill a few times at different points
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        before = _count(gavel_bin, store) if store.exists() else 0
        while time.time() < deadline:
            time.sleep(0.15)
            if store.exists() and _count(gavel_bin, store) >= before + 4:
                break
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    assert kills >= 1
    mid = _count(gavel_bin, store)
    assert 0 < mid < n, mid
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{n - mid} new judgments, {mid} from store" in r.stderr
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [rec["id"] for rec in recs] == [f"it{i}" for i in range(n)]  # none lost, none twice
    assert _count(gavel_bin, store) == n
    exp = subprocess.run([str(gavel_bin), "store", "export", "--store", str(store), "--format", "jsonl"],
                         capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in exp.stdout.splitlines()]
    assert len(rows) == n and len({row["key"] for row in rows}) == n
    assert sorted(row["item_id"] for row in rows) == sorted(f"it{i}" for i in range(n))
    by_key = {row["key"]: row["record"] for row in rows}
    for rec in recs:  # what was reported equals what was stored
        assert by_key[rec["key"]]["p_text1"] == rec["p_text1"]
    c = subprocess.run([str(gavel_bin), "store", "export", "--store", str(store), "--format", "csv"],
                       capture_output=True, text=True, check=True)
    table = list(csv.DictReader(io.StringIO(c.stdout)))
    assert len(table) == n and "pass1.logprob_A" in table[0] and "p_text1" in table[0]


def test_second_run_on_the_same_output_is_refused(gavel_bin, tmp_path):
    """Two runs given one --out would interleave their records: the second fails, clearly, and
    leaves the first run's file whole."""
    n = 30
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(x) + "\n" for x in _items(n)))
    out = tmp_path / "out.jsonl"
    first = [str(gavel_bin), "judge", "--backend", "fake:delay_ms=40", "--input", str(inp), "--out",
             str(out), "--store", str(tmp_path / "a.sqlite"), "--batch", "2", "--no-progress"]
    p = subprocess.Popen(first, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or not out.read_text()):
        time.sleep(0.05)
    assert p.poll() is None, "the first run ended before the check"
    second = first[:-5] + ["--store", str(tmp_path / "b.sqlite"), "--batch", "2", "--no-progress"]
    r = subprocess.run(second, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "another process is writing this output file" in r.stderr and str(out) in r.stderr
    assert p.wait(timeout=120) == 0, p.stderr.read()
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [rec["id"] for rec in recs] == [f"it{i}" for i in range(n)]
    # Once the first run is done, the same --out is free again.
    r = subprocess.run(second, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_unwritable_output_is_a_clear_error(gavel_bin, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(x) + "\n" for x in _items(2)))
    out = tmp_path / "missing-dir" / "out.jsonl"
    r = subprocess.run([str(gavel_bin), "judge", "--backend", "fake:", "--input", str(inp), "--out",
                        str(out), "--store", str(tmp_path / "s.sqlite"), "--no-progress"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert f"{out}: cannot create output file" in r.stderr, r.stderr
