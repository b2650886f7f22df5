"""Tournament jobs on `gavel serve` (SmolLM2-135M): POST /v1/tournaments runs writers' responses
through the tournament layer (Swiss rounds judged with the pairwise-logprob protocol); GET shows
progress and the results (Bradley-Terry with bootstrap CIs, sequential Elo per round, writer x
prompt heatmap, position and length bias). A job interrupted by a server stop is taken up again
at the next start and ends with the results of an uninterrupted run (the judgments come from
the store). A job and `gavel tournament` on the same responses, options and seed make the same
judgments and the same ratings. Bad job requests are 400s naming the field."""
import json
import sqlite3
import subprocess
import time

import pytest

from conftest import SMOLLM2, real_model
from server_util import Server, request

PROMPTS = ["Name a colour.", "Say hello.", "Give a number."]
WRITERS = [
    {"name": "terse", "responses": ["Red.", "Hi.", "7."]},
    {"name": "polite", "responses": ["Blue is a lovely colour.", "Hello, how are you?", "Seven."]},
    {"name": "wrong", "responses": ["Seven.", "Goodbye.", "Blue."]},
    {"name": "long", "responses": ["Green, like grass in spring after rain.",
                                   "Hello there, friend, it is good to see you.",
                                   "Forty-two, the answer to everything."]},
]


def job(**over):
    body = {"name": "colours", "prompts": PROMPTS, "writers": WRITERS, "rounds": 3,
            "bootstrap": 50}
    body.update(over)
    return body


def wait_done(url, tid, deadline_s=900):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        status, t = request(f"{url}/v1/tournaments/{tid}")
        assert status == 200, t
        if t["status"] in ("done", "failed"):
            return t
        time.sleep(0.5)
    pytest.fail(f"tournament {tid} not done within {deadline_s} s: {t}")


def started(url, body):
    status, out = request(url + "/v1/tournaments", body)
    assert status == 202, out
    assert out["status"] == "queued" and out["url"] == f"/v1/tournaments/{out['id']}"
    return out["id"]


def test_tournament_runs_resumes_and_matches_a_fresh_run(gavel_bin, tmp_path):
    model = real_model(SMOLLM2)
    store = tmp_path / "t.sqlite"
    s = Server(gavel_bin, model, store, "--quiet")
    try:
        tid = started(s.url, job())
        # Stop the server once the job has judged a match but not all of them.
        deadline = time.time() + 600
        while time.time() < deadline:
            _, t = request(f"{s.url}/v1/tournaments/{tid}")
            prog = (t.get("result") or {}).get("progress", {})
            if prog.get("matches_done", 0) >= 1:
                break
            time.sleep(0.2)
        assert prog["matches_done"] < prog["matches_planned"], "finished before the stop"
        assert t["status"] == "running"
    finally:
        s.stop()
    s = Server(gavel_bin, model, store, "--quiet")
    try:
        resumed = wait_done(s.url, tid)
        assert resumed["status"] == "done", resumed
        res = resumed["result"]
        # 4 writers, Swiss: 2 pairings a round, 3 rounds.
        assert res["progress"] == {"matches_done": 6, "matches_planned": 6, "rounds_done": 3}
        board = res["leaderboard"]
        assert sorted(r["writer"] for r in board) == sorted(w["name"] for w in WRITERS)
        ratings = [r["rating"] for r in board]
        assert ratings == sorted(ratings, reverse=True)
        assert abs(sum(ratings) / len(ratings) - 1500) < 1e-6  # BT anchor: the field's mean
        for r in board:
            assert r["ci_low"] <= r["rating"] <= r["ci_high"], r
            assert r["se"] > 0 and r["matches"] == 3
        assert res["rounds"]["x"] == [1, 2, 3]
        assert all(len(se["values"]) == 3 for se in res["rounds"]["series"])
        hm = res["heatmap"]
        assert hm["writers"] == [w["name"] for w in WRITERS] and len(hm["prompts"]) == 3
        cells = [v for row in hm["values"] for v in row if v is not None]
        assert cells and all(0 <= v <= 1 for v in cells)
        assert 0 <= res["bias"]["position1_mean_prob"] <= 1
        assert res["config"]["option"] == "global" and "separability" not in res
        # The same job again, fresh: every judgment comes from the store, and the results are
        # those of the interrupted-and-resumed run.
        again = wait_done(s.url, started(s.url, job()))
        assert again["result"] == res
        _, listing = request(s.url + "/v1/tournaments")
        assert [t["id"] for t in listing["data"]] == [tid, tid + 1]
    finally:
        s.stop()
    assert "POST /v1/tournaments" not in "".join(s.log)  # --quiet


def judgments(store):
    con = sqlite3.connect(store)
    try:
        return {k: json.loads(r) for k, r in con.execute("SELECT key, record FROM judgments")}
    finally:
        con.close()


@pytest.mark.parametrize("option, over", [
    ("global", {"rounds": 3, "seed": 5}),
    ("A", {"option": "A", "rounds": 2, "prompts_per_match": 2, "seed": 9, "pairing": "random"}),
])
def test_a_job_and_the_cli_play_the_same_tournament(gavel_bin, tmp_path, option, over):
    # One owner of "a tournament the judge decides": the server's job and `gavel tournament`
    # on the same responses, option, pairing, rounds and seed, each with its own fresh store.
    model = real_model(SMOLLM2)
    body = job(**over)
    s = Server(gavel_bin, model, tmp_path / "server.sqlite", "--quiet")
    try:
        res = wait_done(s.url, started(s.url, body))
    finally:
        s.stop()
    assert res["status"] == "done", res
    res = res["result"]
    inp = tmp_path / "responses.jsonl"
    with open(inp, "w") as f:
        for w in WRITERS:
            for p, (prompt, text) in enumerate(zip(PROMPTS, w["responses"])):
                f.write(json.dumps({"writer_model": w["name"], "prompt_id": str(p + 1),
                                    "writing_prompt": prompt, "response": text}) + "\n")
    out = tmp_path / "cli"
    cmd = [str(gavel_bin), "tournament", "--model", str(model), "--input", str(inp),
           "--out-dir", str(out), "--store", str(tmp_path / "cli.sqlite"), "--option", option,
           "--pairing", body.get("pairing", "swiss"), "--rounds", str(body["rounds"]),
           "--prompts-per-match", str(body.get("prompts_per_match", 1)),
           "--seed", str(body["seed"]), "--bt-bootstrap", str(body["bootstrap"]),
           "--batch", "1", "--no-progress"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    cli = json.loads((out / "leaderboard.json").read_text())
    # The same judgments, under the same store keys.
    server_j, cli_j = judgments(tmp_path / "server.sqlite"), judgments(tmp_path / "cli.sqlite")
    assert server_j.keys() == cli_j.keys() and len(server_j) == res["judgments"]
    for k in server_j:
        assert server_j[k] == cli_j[k], k
    # The same matches and the same ratings.
    played = [json.loads(line) for line in (out / "matches.jsonl").read_text().splitlines()]
    assert res["progress"]["matches_done"] == len(played) == cli["matches"]
    assert res["progress"]["matches_planned"] == cli["planned_matches"]
    assert res["judgments"] == cli["distinct_judgments"]
    rows = {row["writer"]: row for row in cli["writers"]}
    assert [r["writer"] for r in res["leaderboard"]] == sorted(
        rows, key=lambda w: -rows[w]["bt_rating"])
    for r in res["leaderboard"]:
        c = rows[r["writer"]]
        for ours, theirs in [("rating", "bt_rating"), ("se", "bt_se"), ("ci_low", "bt_ci_low"),
                             ("ci_high", "bt_ci_high"), ("lc", "lc_rating"), ("lc_se", "lc_se"),
                             ("elo", "rating"), ("elo_sd", "sd")]:
            if theirs == "sd" and option == "global":
                assert r[ours] is None and c[theirs] is None
                continue
            assert r[ours] == pytest.approx(c[theirs], abs=1e-9), (r["writer"], ours)
        assert r["matches"] == c["matches"] and r["tournaments"] == c["tournaments"]
    if option == "A":
        sep = json.loads((out / "separability.json").read_text())
        assert res["separability"]["score"] == pytest.approx(sep["score"], abs=1e-9)
        assert len(res["rounds"]["x"]) == body["rounds"]


@pytest.fixture(scope="module")
def server(gavel_bin, tmp_path_factory):
    s = Server(gavel_bin, real_model(SMOLLM2), tmp_path_factory.mktemp("tb") / "t.sqlite",
               "--quiet")
    yield s
    s.stop()


@pytest.mark.parametrize("over, param, needle", [
    ({"prompts": None}, "prompts", "required"),
    ({"prompts": []}, "prompts", "give 1 to"),
    ({"prompts": ["a", 3, "c"]}, "prompts[1]", "expected a string"),
    ({"writers": WRITERS[:1]}, "writers", "give 2 to"),
    ({"writers": [WRITERS[0], {"name": "x", "responses": ["a", "b"]}]}, "writers[1].responses",
     "give 3 to 3"),
    ({"writers": [WRITERS[0], {"name": "terse", "responses": ["a", "b", "c"]}]},
     "writers[1].name", "names two writers"),
    ({"writers": [WRITERS[0], {"name": "y", "responses": ["a", "b", "c"], "extra": 1}]},
     "writers[1].extra", ""),
    ({"writers": [WRITERS[0], "y"]}, "writers[1]", "expected an object"),
    ({"pairing": "knockout"}, "pairing", "unknown pairing 'knockout'"),
    ({"option": "C"}, "option", "unknown option 'C'"),
    ({"iterations": 3}, "iterations", "option B only"),
    ({"option": "B", "iterations": 0}, "iterations", ""),
    ({"prompts_per_match": 0}, "prompts_per_match", ""),
    ({"rounds": 0}, "rounds", ""),
    ({"rounds": "3"}, "rounds", ""),
    ({"seed": -1}, "seed", ""),
    ({"round": 3}, "round", ""),
    ({"read": "top-k", "top_k": 0}, "top_k", ""),
])
def test_bad_tournament_requests_name_the_field(server, over, param, needle):
    body = job(**over)
    body = {k: v for k, v in body.items() if v is not None}
    status, out = request(server.url + "/v1/tournaments", body)
    assert status == 400, out
    assert out["error"]["param"] == param, out
    assert needle in out["error"]["message"], out


def test_unknown_tournaments_are_404_and_the_list_is_empty(server):
    status, out = request(server.url + "/v1/tournaments/999")
    assert status == 404 and out["error"]["param"] == "id", out
    status, out = request(server.url + "/v1/tournaments")
    assert status == 200 and out["data"] == [], out
    status, out = request(server.url + "/v1/tournaments", job(model="other"))
    assert status == 404 and out["error"]["param"] == "model", out
