"""Selene prompts: the rendered user turn equals Python str.format of Atla's YAML template."""
import json

from judge_util import chatml, run_judge

RUBRIC = ("[Is the answer helpful?]\nScore 1: Useless.\nScore 2: Weak.\nScore 3: Okay.\n"
          "Score 4: Good {with braces}.\nScore 5: Excellent.")
YN = "[Is it correct?]\nYes: It is correct.\nNo: It is wrong."


def read_block_scalar(text, key="user_template"):
    """Atla's files are one `key: |-` block scalar indented by two spaces."""
    lines = text.split("\n")
    assert lines[0] == f"{key}: |-"
    body = [l[2:] if l else "" for l in lines[1:]]
    while body and body[-1] == "":
        body.pop()
    return "\n".join(body)


CASES = {
    "absolute": ("absolute-scoring.yaml", RUBRIC),
    "absolute-ref": ("absolute-scoring-with-reference.yaml", RUBRIC),
    "classify": ("classification.yaml", YN),
    "classify-ref": ("classification-with-reference.yaml", YN),
}


def _rubric_vars(rubric, mode):
    head, *rest = rubric.split("\n")
    v = {"rubric_objective": head.strip("[]")}
    for line in rest:
        k, _, d = line.partition(": ")
        if k.startswith("Score "):
            v[f"rubric_score_{k[6:]}_description"] = d
        else:
            v[f"rubric_{k.lower()}_description"] = d
    return v


def test_selene_modes_match_str_format(gavel_bin, tmp_path, shared_dir):
    item = {"instruction": "Explain {x} in \"quotes\" é 😀", "response": "Because\n```code```",
            "reference": "Ref {answer}", "label": 3}
    for mode, (fname, rubric) in CASES.items():
        tmpl = read_block_scalar((shared_dir / "data/selene_templates" / fname).read_text(encoding="utf-8"))
        _, recs = run_judge(gavel_bin, tmp_path, [dict(item, rubric=rubric)], "--protocol", "critique",
                            "--mode", mode, "--keep-prompts")
        vars_ = dict(user_input=item["instruction"], assistant_response=item["response"],
                     reference_response=item["reference"], **_rubric_vars(rubric, mode))
        expected = chatml([{"role": "user", "content": tmpl.format(**vars_)}])
        assert recs[0]["passes"][0]["prompt"] == expected, mode


def test_selene_pairwise_both_orders(gavel_bin, tmp_path, shared_dir):
    tmpl = read_block_scalar((shared_dir / "data/selene_templates/pairwise.yaml").read_text(encoding="utf-8"))
    item = {"instruction": "Pick", "response_a": "one {1}", "response_b": "two", "label": "A"}
    _, recs = run_judge(gavel_bin, tmp_path, [item], "--protocol", "critique", "--mode", "pairwise",
                        "--var", "rubric_objective=Which is better?", "--both-orders", "--keep-prompts")
    passes = recs[0]["passes"]
    for p, (a, b) in zip(passes, [("one {1}", "two"), ("two", "one {1}")]):
        user = tmpl.format(user_input="Pick", assistant_response_a=a, assistant_response_b=b,
                           rubric_objective="Which is better?")
        assert p["prompt"] == chatml([{"role": "user", "content": user}])
    assert [p["order"] for p in passes] == ["AB", "BA"]


def test_appendix_e_formats_render(gavel_bin, tmp_path):
    item = {"instruction": "Pick", "response_a": "one", "response_b": "two"}
    seen = set()
    for fmt in ("markdown", "json", "prepair", "simplified"):
        _, recs = run_judge(gavel_bin, tmp_path, [item], "--protocol", "critique", "--mode", "pairwise",
                            "--format", fmt, "--keep-prompts")
        p = recs[0]["passes"][0]["prompt"]
        assert "one" in p and "two" in p and "{user_input}" not in p
        seen.add(p)
    assert len(seen) == 4
    r, _ = run_judge(gavel_bin, tmp_path, [item], "--protocol", "critique", "--mode", "absolute",
                     "--format", "json", check=False)
    assert r.returncode == 1 and "pairwise mode only" in r.stderr


def test_outcomes_stay_distinct(gavel_bin, tmp_path):
    items = [{"instruction": f"q{i}", "response": f"r{i}", "rubric": RUBRIC, "label": 1 + i % 5}
             for i in range(40)]
    r, recs = run_judge(gavel_bin, tmp_path, items, "--protocol", "critique", "--mode", "absolute",
                        backend="fake:garble=4")
    outcomes = [rec["passes"][0]["outcome"] for rec in recs]
    assert "parse_error" in outcomes and "valid" in outcomes
    for rec in recs:
        p = rec["passes"][0]
        if p["outcome"] != "valid":
            assert rec["score"] is None  # a parse error never becomes a score
        else:
            assert rec["score"] == int(p["critique"].rsplit("**Result:** ", 1)[1])
            probs = p["verdict"]["probs"]
            assert abs(sum(probs.values()) - 1) < 1e-9
            assert abs(p["verdict"]["expected"] - sum(int(k) * v for k, v in probs.items())) < 1e-9
    assert "Pearson" in r.stderr
    _, trunc = run_judge(gavel_bin, tmp_path, items[:3], "--protocol", "critique", "--mode",
                         "absolute", "--max-tokens", "20")
    assert all(rec["passes"][0]["outcome"] == "truncated" for rec in trunc)
