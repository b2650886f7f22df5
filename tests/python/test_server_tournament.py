"""Tournament jobs on `gavel serve` (SmolLM2-135M): POST /v1/tournaments runs writers' responses
through Swiss rounds judged with the pairwise-logprob protocol; GET shows progress and the
results (Bradley-Terry with bootstrap CIs, sequential Elo per round, writer x prompt heatmap,
position and length bias). A job interrupted by a server stop is taken up again at the next
start and ends with the results of an uninterrupted run (the judgments come from the store).
Bad job requests are 400s naming the field."""
import json
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
            assert r["sd"] > 0 and r["matches"] == 3
        assert res["rounds"]["x"] == [1, 2, 3]
        assert all(len(se["values"]) == 3 for se in res["rounds"]["series"])
        hm = res["heatmap"]
        assert hm["writers"] == [w["name"] for w in WRITERS] and len(hm["prompts"]) == 3
        cells = [v for row in hm["values"] for v in row if v is not None]
        assert cells and all(0 <= v <= 1 for v in cells)
        assert 0 <= res["bias"]["position1_mean_prob"] <= 1
        # The same job again, fresh: every judgment comes from the store, and the results are
        # those of the interrupted-and-resumed run.
        again = wait_done(s.url, started(s.url, job()))
        assert again["result"] == res
        _, listing = request(s.url + "/v1/tournaments")
        assert [t["id"] for t in listing["data"]] == [tid, tid + 1]
    finally:
        s.stop()
    assert "POST /v1/tournaments" not in "".join(s.log)  # --quiet


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
