"""The judge API of `gavel serve` on the real SmolLM2-135M: every judgment lands in the store
under `gavel judge`'s content key, so the server answers what the CLI judged from the store (and
the CLI what the server judged), with records equal field for field; bad judge requests are 400s
naming the field."""
import json
import subprocess

import pytest

from conftest import SHARED, SMOLLM2, real_model
from server_util import Server, request

# Fields that describe the call, not the judgment.
CALL_FIELDS = {"cached", "line", "index"}


def post(url, body):
    return request(url, body)


def get(url):
    return request(url)


def strip(rec):
    """The judgment without the call's fields, at every level (critique passes carry "cached")."""
    if isinstance(rec, dict):
        return {k: strip(v) for k, v in rec.items() if k not in CALL_FIELDS}
    if isinstance(rec, list):
        return [strip(v) for v in rec]
    return rec


def cli_judge(gavel_bin, tmp, store, lines, *args):
    inp = tmp / "in.jsonl"
    inp.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp / "out.jsonl"
    r = subprocess.run([str(gavel_bin), "judge", "--model", str(real_model(SMOLLM2)), "--input",
                        str(inp), "--out", str(out), "--store", str(store), "--no-progress", *args],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return r.stderr, [json.loads(x) for x in out.read_text().splitlines()]


def pairs(n):
    rows = [json.loads(x) for x in (SHARED / "data/bench/llmbar/pairs.jsonl").read_text().splitlines()]
    return [{k: r[k] for k in ("id", "instruction", "response_a", "response_b")} for r in rows[:n]]


def api_pair(p):
    return {"id": p["id"], "instruction": p["instruction"], "A": p["response_a"], "B": p["response_b"]}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("judge") / "store.sqlite"


@pytest.fixture(scope="module")
def server(gavel_bin, store):
    s = Server(gavel_bin, real_model(SMOLLM2), store, "--quiet", "--ctx", "2048")
    yield s
    s.stop()


def test_pairwise_cli_and_server_share_judgments(gavel_bin, tmp_path, store, server):
    ps = pairs(4)
    # The CLI judges the first three; the server then answers them from the store.
    err, cli = cli_judge(gavel_bin, tmp_path, store, ps[:3])
    assert "3 new judgments" in err
    status, out = post(server.url + "/v1/judge/pairwise", {"items": [api_pair(p) for p in ps]})
    assert status == 200, out
    assert out["cached"] == 3 and out["judged"] == 1
    data = out["data"]
    assert [d["index"] for d in data] == [0, 1, 2, 3]
    assert [d["cached"] for d in data] == [True, True, True, False]
    for c, s in zip(cli, data[:3]):
        assert strip(c) == strip(s)
    new = data[3]
    assert new["id"] == ps[3]["id"] and 0.0 < new["p_text1"] < 1.0
    assert abs(new["p_text1"] + new["p_text2"] - 1.0) < 1e-12
    for pas in ("pass1", "pass2"):
        assert abs(new[pas]["p_A"] + new[pas]["p_B"] - 1.0) < 1e-12
    # The CLI now finds the server's judgment in the store, equal field for field.
    err, again = cli_judge(gavel_bin, tmp_path, store, ps[3:])
    assert "0 new judgments, 1 from store" in err
    assert strip(again[0]) == strip(new)
    # Single form, and the stored record by key.
    status, one = post(server.url + "/v1/judge/pairwise", {**api_pair(ps[0]), "keep_prompts": True})
    assert status == 200 and one["cached"] is True
    assert one["pass1"]["prompt"].count(json.dumps(ps[0]["response_a"])) == 1
    status, stored = get(server.url + "/v1/judgments/" + one["key"])
    assert status == 200 and stored["record"]["p_text1"] == one["p_text1"]


def test_critique_cli_and_server_share_judgments(gavel_bin, tmp_path, store, server):
    row = json.loads((SHARED / "data/bench/prometheus_eval_abs/vicuna_eval_absolute.jsonl")
                     .read_text().splitlines()[0])
    item = {k: row[k] for k in ("id", "instruction", "response", "reference", "rubric")}
    status, rec = post(server.url + "/v1/judge/critique",
                       {**item, "mode": "absolute-ref", "max_tokens": 48})
    assert status == 200, rec
    assert rec["protocol"] == "critique" and rec["mode"] == "absolute-ref"
    err, cli = cli_judge(gavel_bin, tmp_path, store, [item], "--protocol", "critique", "--mode",
                         "absolute-ref", "--max-tokens", "48")
    assert "0 new judgments, 1 from store" in err
    assert strip(cli[0]) == strip(rec)


def test_bad_judge_requests_name_the_field(server):
    u = server.url + "/v1/judge/pairwise"
    cases = [
        ({"instruction": "i", "A": "a"}, "B", "required"),
        ({"instruction": "i", "A": "a", "B": 3}, "B", "expected a string"),
        ({"instruction": "i", "A": "a", "B": "b", "reed": "full"}, "reed", "unknown field"),
        ({"items": [{"instruction": "i", "A": "a", "B": "b"},
                    {"instruction": "i", "A": "a", "B": "b", "C": "c"}]}, "items[1].C", "unknown"),
        ({"items": []}, "items", "empty list"),
        ({"items": [{"instruction": "i", "A": "a", "B": "b"}], "A": "x"}, "A", "not both"),
        ({"instruction": "i", "A": "a", "B": "b", "read": "all"}, "read", "not full or top-k"),
        ({"instruction": "i", "A": "a", "B": "b", "top_k": 5}, "top_k", "top-k"),
        ({"instruction": "i", "A": "a", "B": "b", "thinking": "maybe"}, "thinking", "maybe"),
        ({"instruction": "i", "A": "a", "B": "b", "id": [1]}, "id", "string or an integer"),
    ]
    for body, param, needle in cases:
        status, out = post(u, body)
        assert status == 400, (body, out)
        assert out["error"]["param"] == param, (body, out)
        assert needle in out["error"]["message"], (body, out)
    c = server.url + "/v1/judge/critique"
    for body, param in [({"mode": "scores", "instruction": "i", "response": "r"}, "mode"),
                        ({"mode": "absolute", "format": "json", "instruction": "i", "response": "r"},
                         "format"),
                        ({"mode": "absolute", "both_orders": True, "instruction": "i",
                          "response": "r"}, "both_orders"),
                        ({"mode": "absolute", "instruction": "i"}, "response"),
                        ({"mode": "absolute", "instruction": "i", "response": "r",
                          "max_tokens": 0}, "max_tokens")]:
        status, out = post(c, body)
        assert status == 400 and out["error"]["param"] == param, (body, out)
    # A Selene template variable the item lacks is named.
    status, out = post(c, {"mode": "absolute", "instruction": "i", "response": "r"})
    assert status == 400 and "rubric" in out["error"]["message"], out
    status, out = get(server.url + "/v1/judgments/" + "0" * 64)
    assert status == 404 and out["error"]["param"] == "key"
