"""The card's user prompt is CPython's json.dumps, byte for byte (gavel judge --keep-prompts)."""
import json

from judge_util import CARD_SYSTEM, chatml, run_judge

TRICKY = [
    "plain ascii",
    'quotes " and \\ backslashes / slash',
    "newline\nreturn\rtab\tbackspace\bformfeed\f",
    "controls \x00\x01\x1f and DEL \x7f",
    "latin é ü ß, cjk 漢字, rtl עברית",
    "emoji 😀 and math 𝔸 (non-BMP: surrogate pairs)",
    "zero width \u200b and bom \ufeff and line sep \u2028",
    "",
    "{\"already\": \"json\"}",
]


def _items():
    return [{"id": str(i), "instruction": t, "response_a": TRICKY[(i + 1) % len(TRICKY)],
             "response_b": TRICKY[(i + 2) % len(TRICKY)], "label": "A"} for i, t in enumerate(TRICKY)]


def _expected_prompt(instr, a, b, ensure_ascii):
    user = json.dumps({"instruction": instr, "A": a, "B": b}, ensure_ascii=ensure_ascii)
    return chatml([{"role": "system", "content": CARD_SYSTEM}, {"role": "user", "content": user}])


def test_user_content_matches_python_json_dumps(gavel_bin, tmp_path):
    items = _items()
    for ensure_ascii in (True, False):
        args = ["--keep-prompts"] + ([] if ensure_ascii else ["--no-ensure-ascii"])
        _, recs = run_judge(gavel_bin, tmp_path, items, *args)
        assert len(recs) == len(items)
        for it, rec in zip(items, recs):
            i, a, b = it["instruction"], it["response_a"], it["response_b"]
            assert rec["pass1"]["prompt"] == _expected_prompt(i, a, b, ensure_ascii), it["id"]
            assert rec["pass2"]["prompt"] == _expected_prompt(i, b, a, ensure_ascii), it["id"]


def test_thinking_switch(gavel_bin, tmp_path):
    it = _items()[0]
    _, recs = run_judge(gavel_bin, tmp_path, [it], "--keep-prompts", "--thinking", "off")
    user = json.dumps({"instruction": it["instruction"], "A": it["response_a"], "B": it["response_b"]})
    assert recs[0]["pass1"]["prompt"] == chatml(
        [{"role": "system", "content": CARD_SYSTEM}, {"role": "user", "content": user}], thinking_off=True)


def test_invalid_utf8_and_lone_surrogates_are_reported_by_line(gavel_bin, tmp_path):
    good = {"instruction": "i", "response_a": "a", "response_b": "b"}
    lines = [good, b'{"instruction": "bad \xff byte", "response_a": "a", "response_b": "b"}\n',
             b'{"instruction": "lone \\ud800", "response_a": "a", "response_b": "b"}\n', good]
    r, recs = run_judge(gavel_bin, tmp_path, lines, check=False)
    assert r.returncode == 3, r.stderr  # errors skipped, reported, non-zero exit
    assert [rec["line"] for rec in recs] == [1, 4]
    assert "line 2" in r.stderr and "line 3" in r.stderr
    assert "2 item(s) failed" in r.stderr
    r, _ = run_judge(gavel_bin, tmp_path, lines, "--on-error", "stop", check=False)
    assert r.returncode == 1 and "stopped" in r.stderr
