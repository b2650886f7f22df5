"""Reference renderer for chat templates: Python jinja2 configured the way Hugging Face
transformers' apply_chat_template configures it (utils/chat_template_utils.py,
_compile_jinja_template): ImmutableSandboxedEnvironment(trim_blocks, lstrip_blocks) with a
{% generation %} tag extension and loopcontrols, HF's tojson filter, raise_exception and
strftime_now globals. Rendered with messages, tools=None, documents=None,
add_generation_prompt and the extra variables, as apply_chat_template does.

strftime_now uses a fixed time (FIXED_NOW) so renders are deterministic; gavel gets the same
time through `gavel render --now`.

Usage: python chat_reference.py TEMPLATE.jinja CONVERSATION.json [--no-generation-prompt]
"""
import datetime
import json
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXED_NOW = datetime.datetime(2026, 1, 15, 10, 30, 0)
FIXED_NOW_ARG = "2026-01-15 10:30:00"
SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}


class GenerationTag(jinja2.ext.Extension):
    """HF's AssistantTracker without index tracking: {% generation %} renders its body
    through a caller, exactly like the CallBlock HF builds."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        call = self.call_method("_generation_support")
        return jinja2.nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        return caller()


def _raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def _strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


def compile_template(source: str):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env.from_string(source)


def render(source: str, conversation: dict, add_generation_prompt: bool) -> str:
    """conversation: {"messages": [...], other variables...} as in tests/data/chat/."""
    tmpl = compile_template(source)
    extra = dict(SPECIAL_TOKENS)
    extra.update({k: v for k, v in conversation.items() if k not in ("messages", "tools", "documents")})
    return tmpl.render(messages=conversation["messages"], tools=conversation.get("tools"),
                       documents=conversation.get("documents"),
                       add_generation_prompt=add_generation_prompt, **extra)


if __name__ == "__main__":
    src = open(sys.argv[1], encoding="utf-8").read()
    conv = json.load(open(sys.argv[2], encoding="utf-8"))
    sys.stdout.write(render(src, conv, "--no-generation-prompt" not in sys.argv))
