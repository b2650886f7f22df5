"""Runs of `gavel judge` sharing one store split the work through claims: two runs started at
once on the same input judge every item exactly once between them, and a claim left by a run
that died is taken over when it expires (and the summary says so)."""
import json
import re
import socket
import sqlite3
import subprocess
import time

ITEMS = 24
SUMMARY = re.compile(r"judged (\d+) of (\d+) items in [\d.]+ s \((\d+) new judgments, (\d+) from "
                     r"store(?:, (\d+) by other runs on this store)?\)")


def _items(n=ITEMS, tag="q"):
    return [{"id": f"{tag}{i}", "instruction": f"Question {i}?", "response_a": f"first {i}",
             "response_b": f"second {i} " + "z" * (i % 4), "label": "AB"[i % 2]} for i in range(n)]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _cmd(gavel_bin, inp, out, store, *args, delay_ms=150):
    return [str(gavel_bin), "judge", "--backend", f"fake:delay_ms={delay_ms}", "--input", str(inp),
            "--out", str(out), "--store", str(store), "--no-progress", "--batch", "2", *args]


def _summary(stderr):
    m = SUMMARY.search(stderr)
    assert m, stderr
    done, items, new, stored, others = (int(x or 0) for x in m.groups())
    return {"done": done, "items": items, "new": new, "stored": stored, "others": others}


def _table_count(store, table):
    con = sqlite3.connect(store)
    try:
        return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_two_runs_on_one_store_judge_each_item_once(gavel_bin, tmp_path):
    inp = _write(tmp_path / "in.jsonl", _items())
    store = tmp_path / "s.sqlite"
    procs = [subprocess.Popen(_cmd(gavel_bin, inp, tmp_path / f"out{i}.jsonl", store),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results):
        assert p.returncode == 0, err
    sums = [_summary(err) for _, err in results]
    # Every item is judged exactly once between the two runs: the computations add up to the
    # items, and the store holds one judgment per item and no claim.
    assert sums[0]["new"] + sums[1]["new"] == ITEMS, sums
    assert all(s["new"] > 0 for s in sums), f"one run did all the work: {sums}"
    assert _table_count(store, "judgments") == ITEMS
    assert _table_count(store, "claims") == 0
    for me, other in ((0, 1), (1, 0)):
        s = sums[me]
        assert s["done"] == s["items"] == ITEMS
        # What this run did not judge, the other run did: found in the store at lookup, or
        # waited for while the other run held its claim.
        assert s["stored"] + s["others"] == sums[other]["new"], sums
        recs = [json.loads(x) for x in (tmp_path / f"out{me}.jsonl").read_text().splitlines()]
        assert sorted(r["id"] for r in recs) == sorted(f"q{i}" for i in range(ITEMS))
    # Both outputs hold the same judgments (the one stored record per item).
    outs = [{r["id"]: r["p_text1"] for r in map(json.loads, (tmp_path / f"out{i}.jsonl")
                                                .read_text().splitlines())} for i in range(2)]
    assert outs[0] == outs[1]


def test_claim_of_a_dead_run_is_taken_over_at_expiry(gavel_bin, tmp_path):
    rows = _items(6, "d")
    inp = _write(tmp_path / "in.jsonl", rows)
    # The keys of the items, from a run on another store (keys depend only on the content).
    first = subprocess.run(_cmd(gavel_bin, inp, tmp_path / "keys.jsonl", tmp_path / "k.sqlite",
                                delay_ms=0), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    keys = [json.loads(x)["key"] for x in (tmp_path / "keys.jsonl").read_text().splitlines()]
    # A store where runs that died hold claims: two expired, one live for 3 more seconds.
    store = tmp_path / "s.sqlite"
    other = [{"instruction": "Another question?", "response_a": "x", "response_b": "y"}]
    warm = subprocess.run(_cmd(gavel_bin, _write(tmp_path / "other.jsonl", other),
                               tmp_path / "o.jsonl", store, delay_ms=0),
                          capture_output=True, text=True, timeout=300)
    assert warm.returncode == 0, warm.stderr
    con = sqlite3.connect(store)
    now = time.time()
    # A process that has exited: its live claim on this host is taken over at once.
    gone = subprocess.Popen(["true"])
    gone.wait()
    con.executemany("INSERT INTO claims (key, worker, expires_at) VALUES (?, ?, ?)",
                    [(keys[0], "dead", now - 10), (keys[1], "dead", now - 1),
                     (keys[2], "dead", now + 3),
                     (keys[3], f"{socket.gethostname()}:{gone.pid}:x", now + 600)])
    con.commit()
    con.close()
    t0 = time.monotonic()
    r = subprocess.run(_cmd(gavel_bin, inp, tmp_path / "out.jsonl", store, delay_ms=0),
                       capture_output=True, text=True, timeout=300)
    waited = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    s = _summary(r.stderr)
    assert s["done"] == 6 and s["new"] == 6 and s["others"] == 0, s
    assert "4 judgment(s) taken over from claims of runs that stopped" in r.stderr, r.stderr
    assert 2.0 <= waited < 60, f"the live claim was not waited for until it expired ({waited:.1f} s)"
    assert _table_count(store, "judgments") == 7 and _table_count(store, "claims") == 0


def test_runs_started_together_open_a_new_store(gavel_bin, tmp_path):
    """A new store is switched to WAL, which needs the file alone for a moment: runs started
    together on it retry rather than fail with 'database is locked' (before the fix, about one
    run in six of such pairs failed)."""
    inp = _write(tmp_path / "in.jsonl", _items(2))
    for trial in range(20):
        store = tmp_path / f"s{trial}.sqlite"
        procs = [subprocess.Popen(_cmd(gavel_bin, inp, tmp_path / f"out{trial}-{i}.jsonl", store,
                                       delay_ms=1),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, f"trial {trial}: {err}"
        assert _table_count(store, "judgments") == 2
