"""Chat-template parity: `gavel render` must produce byte-identical output to Python jinja2
configured as transformers' apply_chat_template (see chat_reference.py), for all real
templates in shared/data/chat_templates x the conversations in tests/data/chat, with and
without the generation prompt. When the reference raises, gavel must fail too."""
import json
import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import chat_reference as ref  # noqa: E402
from conftest import ROOT, SMOLLM2, QWEN25, real_model  # noqa: E402

CONVERSATIONS = ROOT / "tests/data/chat"


def gavel_render(gavel_bin, args, check=False):
    cmd = [str(gavel_bin), "render", "--now", ref.FIXED_NOW_ARG] + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    if check and r.returncode != 0:
        pytest.fail(f"{cmd} failed: {r.stderr.decode()}")
    return r


def token_vars():
    out = []
    for k, v in ref.SPECIAL_TOKENS.items():
        out += ["--var", f"{k}={json.dumps(v)}"]
    return out


def test_all_templates_match_jinja2(gavel_bin, shared_dir):
    templates = sorted((shared_dir / "data/chat_templates").glob("*.jinja"))
    conversations = sorted(CONVERSATIONS.glob("*.json"))
    assert len(templates) == 44, f"expected 44 templates, found {len(templates)}"
    assert len(conversations) >= 12
    table, failures = [], []
    rejected_total = 0
    for tpl in templates:
        source = tpl.read_text(encoding="utf-8")
        passed = rejected = 0
        for conv_path in conversations:
            conv = json.loads(conv_path.read_text(encoding="utf-8"))
            for agp in (True, False):
                try:
                    expected, ref_error = ref.render(source, conv, agp).encode("utf-8"), None
                except Exception as e:  # the template rejects this conversation
                    expected, ref_error = None, f"{type(e).__name__}: {e}"
                args = ["--template", tpl, "--messages", conv_path] + token_vars()
                if not agp:
                    args.append("--no-generation-prompt")
                r = gavel_render(gavel_bin, args)
                case = f"{tpl.name} x {conv_path.name} agp={agp}"
                if expected is None:
                    if r.returncode != 0:
                        passed += 1
                        rejected += 1
                    else:
                        failures.append(f"{case}: reference raised {ref_error!r}, gavel rendered")
                elif r.returncode != 0:
                    failures.append(f"{case}: gavel failed: {r.stderr.decode().strip()}")
                elif r.stdout != expected:
                    failures.append(f"{case}: output differs\n  want {expected[:300]!r}\n"
                                    f"  got  {r.stdout[:300]!r}")
                else:
                    passed += 1
        total = 2 * len(conversations)
        rejected_total += rejected
        table.append(f"{'PASS' if passed == total else 'FAIL'}  {passed:3d}/{total}"
                     f"  (both reject: {rejected:2d})  {tpl.name}")
    print("\nper-template parity (gavel render vs jinja2 with HF settings):")
    print("\n".join(table))
    assert rejected_total < len(templates) * len(conversations), "everything was rejected"
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures[:20])


# Small templates exercising interpreter semantics one at a time (rendered with the same
# conversation context). Each must match jinja2 exactly, or both must fail.
SNIPPETS = [
    "{{ 1/2 }} {{ 7//2 }} {{ -7//2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2**-1 }} {{ 2**3**2 }} {{ 1e3 }}",
    "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e-5 }} {{ 123456789.125 }}",
    "{{ -3|abs }} {{ not 0 }} {{ 1 if 0 }}|{{ 'a' if 1 else 'b' }} {{ 0 or 'x' }} {{ 1 and 2 }}",
    "{{ [1, 'a', none, true, 1.0, {'k': (1,)}, ()] }} {{ (1,) }} {{ {'a': 'it\\'s'} }}",
    "{{ 'abcdef'[::-1] }}{{ 'abcdef'[1:4] }}{{ 'abcdef'[-2:] }}{{ [1,2,3,4][::2] }}{{ 'héllo'[1] }}",
    "{{ 'héllo wörld'|length }} {{ 'ß'|upper }} {{ 'hello world'|title }} {{ 'hELLO'|capitalize }}",
    "{{ '  x  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ ' a b '.strip() }}|{{ 'a,b'.split(',') }}",
    "{{ ' a  b '.split() }}{{ 'a b c'.split(' ', 1) }}{{ 'a-b-c'.rsplit('-', 1) }}{{ 'x'.join(['1','2']) }}",
    "{{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('x','c')) }}{{ 'abc'.find('c') }}{{ 'a{}b'.format(1) }}",
    "{{ 'l1\\nl2\\r\\nl3'.splitlines() }}{{ 'aXbXc'.replace('X', '-', 1) }}{{ 'Ab'.lower() }}{{ 'ab'.upper() }}",
    "{{ '%s-%d-%.2f-%r' % ('a', 3, 2.5, 'q') }}{{ '%5s|' % 'x' }}{{ '%s'|format(1) }}",
    "{{ 3.7|int }}{{ '3.7'|int }}{{ 'x'|int }}{{ '42'|int }}{{ 2.5|round }}{{ 3.5|round }}{{ 2.567|round(2) }}{{ '1.5'|float }}",
    "{{ 'a\\nb\\n'|indent(2) }}|{{ 'a\\n\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}",
    "{{ ['b','A','a']|sort }}{{ ['b','A','a']|unique|list }}{{ [3,1,2]|sort(reverse=true) }}{{ [1,2,3]|sum }}",
    "{{ [1,2,3]|first }}{{ [1,2,3]|last }}{{ [3,1,2]|min }}{{ [3,1,2]|max }}{{ [1,2,3,4,5]|batch(2)|list }}",
    "{{ {'b': 1, 'a': 2}|dictsort }}{{ {'b': 1, 'a': 2}|items|list }}{{ {'a': 1}|tojson }}",
    "{{ {'a': [1, {'b': 'é\\n\"<'}]}|tojson(indent=2) }}{{ [1,2]|tojson(separators=(',', ':')) }}",
    "{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}{{ 'é'|tojson(ensure_ascii=true) }}{{ none|tojson }}",
    "{{ [1,2,3]|map('string')|join(',') }}{{ [{'a':1},{'a':2}]|map(attribute='a')|list }}",
    "{{ [1,2,3]|select('odd')|list }}{{ [1,2,3]|reject('equalto', 2)|list }}{{ [1,2]|select|list }}",
    "{{ [{'t':'x'},{'t':'y'}]|selectattr('t', 'equalto', 'y')|list }}{{ [{'t':1},{}]|rejectattr('t')|list }}",
    "{{ [1,2]|map('string')|tojson }}",
    "{{ [1,2]|select('odd')|length }}",
    "{% set g = [1,2,3]|select('odd') %}{{ g|list }}{{ g|list }}{{ 'T' if g else 'F' }}",
    "{{ undefined_var }}|{{ undefined_var|default('d') }}|{{ ''|default('e', true) }}|{{ undefined_var|length }}",
    "{{ undefined_var.attr }}",
    "{{ messages[99] }}|{{ messages[0]['nope'] }}|{{ messages[0].nope is defined }}",
    "{{ messages[99].role }}",
    "{{ 1 + 'a' }}",
    "{{ 'a' + none }}",
    "{{ none['x'] }}|{{ (1).real }}",
    "{{ 'Use'|safe + '<x>' }}|{{ '<a>' + 'b'|safe }}|{{ ('<x>'|safe ~ '<y>') }}|{{ '<&>'|e }}",
    "{% for a in [1,2] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.revindex }}{{ loop.cycle('x','y') }};{% endfor %}",
    "{% for x in [] %}a{% else %}b{% endfor %}{% for x in [1,2,3] if x > 1 %}{{ loop.index }}/{{ loop.length }}{% endfor %}",
    "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }}{% if not loop.last %},{% endif %}{% endfor %}",
    "{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for i in range(3) %}{% if i == 0 %}{% set x = 1 %}{% endif %}{{ x }},{% endfor %}[{{ x }}]",
    "{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}",
    "{% set ns = namespace(n=0, l=[]) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% set ns.l = ns.l + [i] %}{% endfor %}{{ ns.n }}{{ ns.l }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = (1, 2) %}{{ t[1] }}",
    "{% set x %}  block {{ 1 }}  {% endset %}[{{ x }}]{% set y | upper %}up{% endset %}{{ y }}",
    "{% macro m(a, b=2) %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(1, b=3) }}{{ m(a=5) }}",
    "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}",
    "{% macro m(a) %}{{ a }}{{ kwargs }}{% endmacro %}{{ m(1, z=3) }}",
    "{% macro m() %}[{{ caller() }}]{% endmacro %}{% call m() %}inner{% endcall %}",
    "{% macro m() %}{{ caller(7) }}{% endmacro %}{% call(v) m() %}got {{ v }}{% endcall %}",
    "{% set x = 5 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 6 %}{{ m() }}",
    "{% filter upper %}abc {{ 'def' }}{% endfilter %}",
    "{% generation %}{% set y = 4 %}{{ y }}{% endgeneration %}[{{ y }}]",
    "{% raw %}{{ not rendered }}{% endraw %}{#- comment -#}  x",
    "  {% if true %}\n  x\n  {% endif %}\n{{ 1 }}  {% if true %}y{% endif %}\n\t {%+ if true %}z{% endif %}",
    "a {%- if true -%} b {%- endif -%} c {{- ' d ' -}} e\n{# c #}\nf",
    "line1\r\nline2\r\n{{ 'x' }}\n",
    "{{ 'a' 'b' }}{{ \"q\\\"\" }}{{ '\\x41\\u00e9\\t|' }}{{ 0x1F }}{{ 1_000 }}",
    "{{ 1 == 1.0 }}{{ 1 is sameas 1 }}{{ none is sameas none }}{{ 'a' < 'b' }}{{ [1,2] < [1,3] }}{{ 1 < 2 < 3 }}",
    "{{ 'a' in 'cat' }}{{ 2 in [1,2] }}{{ 'k' in {'k': 1} }}{{ 'z' not in 'abc' }}{{ 3 is divisibleby 3 }}",
    "{{ 'x' is string }}{{ 1 is number }}{{ true is boolean }}{{ {} is mapping }}{{ [] is sequence }}{{ u is iterable }}{{ 1.0 is float }}{{ 1 is integer }}",
    "{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ none is none }}{{ 1 is odd }}{{ 2 is even }}{{ true is true }}{{ 0 is false }}",
    "{{ x|nofilter }}",
    "{% if false %}{{ x|nofilter }}{% endif %}ok",
    "{% for i in [1] %}{{ x|nofilter }}{% endfor %}",
    "{{ 'a' if true else x|nofilter }}",
    "{{ x is notatest }}",
    "{% do x %}",
    "{% if true %}unclosed",
    "{{ [1, 2 }}",
    "{{ raise_exception('bad conversation') }}",
    "{{ strftime_now('%Y-%m-%d %H:%M %A %b') }}",
    "{{ range(3)|list }}{{ range(1, 10, 3)|list }}{{ dict(a=1) }}{{ namespace(a=1).a }}",
    "{{ [1,2].append(3) }}",
    "{{ {'a': 1}.pop('a') }}",
    "{{ {'a': 1}.get('a') }}{{ {'a': 1}.get('b', 'z') }}{{ {'a': 1}.keys()|list }}{{ {'a': 1}.values()|list }}",
    "{{ 'abc'|reverse }}{{ [1,2,3]|reverse|list }}{{ 'a b c'|wordcount }}{{ 'hello world'|truncate(9) }}{{ 'x'|center(5) }}|",
    "{{ messages|length }}{{ messages[0]['content'] }}{{ messages|selectattr('role', 'equalto', 'user')|list|length }}",
    "{{ tools[0].function.name }}{{ tools|map(attribute='function')|map(attribute='name')|list }}",
    "{{ 10 / 0 }}",
    "{{ loop.index }}",
    "{% break %}",
]


def test_snippets_match_jinja2(gavel_bin, tmp_path):
    conv = {
        "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
    }
    conv_path = tmp_path / "conv.json"
    conv_path.write_text(json.dumps(conv), encoding="utf-8")
    failures = []
    for i, snippet in enumerate(SNIPPETS):
        tpl = tmp_path / f"s{i}.jinja"
        tpl.write_text(snippet, encoding="utf-8", newline="")
        try:
            expected = ref.render(snippet, conv, True).encode("utf-8")
        except Exception as e:
            expected = None
            ref_error = f"{type(e).__name__}: {e}"
        r = gavel_render(gavel_bin, ["--template", tpl, "--messages", conv_path] + token_vars())
        if expected is None:
            if r.returncode == 0:
                failures.append(f"{snippet!r}: reference raised {ref_error}, gavel gave {r.stdout!r}")
        elif r.returncode != 0:
            failures.append(f"{snippet!r}: gavel failed: {r.stderr.decode().strip()}")
        elif r.stdout != expected:
            failures.append(f"{snippet!r}:\n  want {expected!r}\n  got  {r.stdout!r}")
    assert not failures, f"{len(failures)} of {len(SNIPPETS)} snippets differ:\n" + "\n".join(failures)


def _gguf_template_and_tokens(path):
    import gguf
    reader = gguf.GGUFReader(str(path))

    def field(name):
        f = reader.fields[name]
        return f.parts[f.data[0]]

    template = bytes(field("tokenizer.chat_template")).decode("utf-8")
    tokens_field = reader.fields["tokenizer.ggml.tokens"]

    def token(i):
        return bytes(tokens_field.parts[tokens_field.data[i]]).decode("utf-8")

    out = {}
    for key, var in (("tokenizer.ggml.bos_token_id", "bos_token"),
                     ("tokenizer.ggml.eos_token_id", "eos_token")):
        if key in reader.fields:
            out[var] = token(int(field(key)[0]))
    return template, out


@pytest.mark.parametrize("model", [SMOLLM2, QWEN25])
def test_render_gguf_model_template(gavel_bin, model):
    path = real_model(model)
    template, tokens = _gguf_template_and_tokens(path)
    for conv_name in ("system_user.json", "seed_qwen_judge.json", "multi_turn.json"):
        conv_path = CONVERSATIONS / conv_name
        conv = json.loads(conv_path.read_text(encoding="utf-8"))
        # Reference: the GGUF's own template with the vocabulary's bos/eos tokens.
        tmpl = ref.compile_template(template)
        expected = tmpl.render(messages=conv["messages"], tools=None, documents=None,
                               add_generation_prompt=True, **tokens).encode("utf-8")
        r = gavel_render(gavel_bin, [path, "--messages", conv_path], check=True)
        assert r.stdout == expected, f"{model} x {conv_name}"


def test_render_hf_folder(gavel_bin, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    template = ("{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}"
                "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": {"content": "<|begin|>", "lstrip": False},
        "eos_token": "<|end|>",
        "chat_template": [{"name": "default", "template": template},
                          {"name": "tool_use", "template": "TOOLS {{ tools|length }}"}],
    }), encoding="utf-8")
    conv_path = CONVERSATIONS / "system_user.json"
    conv = json.loads(conv_path.read_text(encoding="utf-8"))
    expected = ref.compile_template(template).render(
        messages=conv["messages"], add_generation_prompt=False, bos_token="<|begin|>",
        eos_token="<|end|>").encode("utf-8")
    r = gavel_render(gavel_bin, [folder, "--messages", conv_path, "--no-generation-prompt"],
                     check=True)
    assert r.stdout == expected
    r = gavel_render(gavel_bin, [folder, "--messages", CONVERSATIONS / "tools_only.json",
                                 "--template-name", "tool_use"], check=True)
    assert r.stdout == b"TOOLS 1"
    # chat_template.jinja takes precedence over tokenizer_config.json
    (folder / "chat_template.jinja").write_text("J{{ messages|length }}", encoding="utf-8")
    r = gavel_render(gavel_bin, [folder, "--messages", conv_path], check=True)
    assert r.stdout == b"J2"


def test_render_vars_and_errors(gavel_bin, tmp_path):
    tpl = tmp_path / "t.jinja"
    tpl.write_text("{{ n + 1 }} {{ s }} {{ flag }} {{ obj.k }}", encoding="utf-8")
    conv = CONVERSATIONS / "basic_user.json"
    r = gavel_render(gavel_bin, ["--template", tpl, "--messages", conv, "--var", "n=41",
                                 "--var", "s=plain text", "--var", "flag=true",
                                 "--var", 'obj={"k": [1]}'], check=True)
    assert r.stdout == b"42 plain text True [1]"

    bad = tmp_path / "bad.json"
    bad.write_text('[\n  {"role": "user",\n   "content": "x",,}\n]', encoding="utf-8")
    r = gavel_render(gavel_bin, ["--template", tpl, "--messages", bad])
    assert r.returncode != 0 and b"bad.json" in r.stderr and b"line 3" in r.stderr, r.stderr

    r = gavel_render(gavel_bin, ["--template", tmp_path / "missing.jinja", "--messages", conv])
    assert r.returncode != 0 and b"missing.jinja" in r.stderr

    broken = tmp_path / "broken.jinja"
    broken.write_text("ok\n{% for x in y %}\n  {{ x }\n{% endfor %}", encoding="utf-8")
    r = gavel_render(gavel_bin, ["--template", broken, "--messages", conv])
    assert r.returncode != 0 and b"line 3" in r.stderr, r.stderr

    runaway = tmp_path / "runaway.jinja"
    runaway.write_text("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}"
                       "{% endfor %}", encoding="utf-8")
    r = gavel_render(gavel_bin, ["--template", runaway, "--messages", conv, "--max-steps", "100000"])
    assert r.returncode != 0 and b"step limit" in r.stderr, r.stderr

    recursive = tmp_path / "recursive.jinja"
    recursive.write_text("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", encoding="utf-8")
    r = gavel_render(gavel_bin, ["--template", recursive, "--messages", conv])
    assert r.returncode != 0 and b"recursion" in r.stderr, r.stderr
