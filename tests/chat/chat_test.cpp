// Unit tests of the chat-template interpreter pieces: lexer whitespace control, parser
// errors with line/column, evaluator semantics and limits. Byte parity against jinja2 on
// real templates lives in tests/python/test_chat_templates.py.
#include <gtest/gtest.h>

#include "chat/chat.h"
#include "chat/lexer.h"
#include "chat/parser.h"
#include "chat/template.h"
#include "chat/value.h"

namespace gavel::chat {
namespace {

std::string R(const std::string& src, const std::string& vars = "{}") {
  auto r = render_ordered(src, nlohmann::ordered_json::array(),
                          nlohmann::ordered_json::parse(vars));
  return r.ok() ? r.value() : "ERROR: " + r.message();
}

TEST(ChatLexer, TrimAndLstripBlocks) {
  EXPECT_EQ(R("  {% if true %}\n  x\n  {% endif %}\n"), "  x\n");
  EXPECT_EQ(R("a {%- if true -%} b {%- endif -%} c"), "abc");
  EXPECT_EQ(R("x\n\t {%+ if true %}y{% endif %}"), "x\n\t y");
  EXPECT_EQ(R("{{ 1 }}  {% if true %}x{% endif %}"), "1  x");
  EXPECT_EQ(R("line1\r\nline2\r\n"), "line1\nline2");  // newline normalised, last dropped
}

TEST(ChatLexer, StringEscapesAndNumbers) {
  auto toks = tokenize("{{ 'a\\n\\x41\\u00e9\\q' 0x1F 1_000 2.5e-3 }}");
  ASSERT_TRUE(toks.ok()) << toks.message();
  EXPECT_EQ((*toks)[1].text, "a\nA\xc3\xa9\\q");
  EXPECT_EQ((*toks)[2].ival, 31);
  EXPECT_EQ((*toks)[3].ival, 1000);
  EXPECT_DOUBLE_EQ((*toks)[4].fval, 2.5e-3);
}

TEST(ChatParser, ErrorsNameLineAndColumn) {
  auto p = parse_template("ok\n{% for x in y %}\n  {{ x }\n{% endfor %}");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.message().find("line 3"), std::string::npos) << p.message();
  auto q = parse_template("a\n  {% frobnicate %}");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.message().find("line 2, column 6"), std::string::npos) << q.message();
  EXPECT_NE(q.message().find("frobnicate"), std::string::npos);
  EXPECT_FALSE(parse_template("{% if x %}never closed").ok());
  EXPECT_FALSE(parse_template("{{ x|nosuchfilter }}").ok());
  EXPECT_TRUE(parse_template("{% if x %}{{ x|nosuchfilter }}{% endif %}").ok());  // soft frame
}

// Errors carry codes (a bad template is an invalid argument), and an error raised inside a
// macro is located once, at the macro body's line, not again at each call site.
TEST(ChatEval, ErrorsAreLocatedOnceAndCarryACode) {
  EXPECT_EQ(parse_template("{% frobnicate %}").code(), StatusCode::kInvalidArgument);
  auto r = render_ordered("{% macro f(x) %}\n{{ x + 'a' }}{% endmacro %}\n\n{{ f(1) }}",
                          nlohmann::ordered_json::array(), nlohmann::ordered_json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.message().rfind("error at line 2, column ", 0), 0u) << r.message();
  EXPECT_EQ(r.message().find("error at line", 1), std::string::npos) << r.message();
  auto raised = render_ordered("{{ raise_exception('no tools') }}", nlohmann::ordered_json::array(),
                               nlohmann::ordered_json::object());
  ASSERT_FALSE(raised.ok());
  EXPECT_EQ(raised.message(), "error at line 1, column 19: raise_exception: no tools");
}

TEST(ChatParser, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  EXPECT_FALSE(parse_template("{{ " + deep + " }}").ok());
  std::string ifs;
  for (int i = 0; i < 1000; ++i) ifs += "{% if x %}";
  EXPECT_FALSE(parse_template(ifs).ok());
}

TEST(ChatEval, PythonArithmeticAndFormatting) {
  EXPECT_EQ(R("{{ 1/2 }} {{ 7//2 }} {{ -7//2 }} {{ -7 % 3 }} {{ 2**3**2 }}"), "0.5 3 -4 2 64");
  EXPECT_EQ(R("{{ [1, 'a', none, true, 1.0, {'k': (1,)}] }}"),
            "[1, 'a', None, True, 1.0, {'k': (1,)}]");
  EXPECT_EQ(R("{{ 1e16 }} {{ 1e-5 }} {{ 0.1 + 0.2 }}"), "1e+16 1e-05 0.30000000000000004");
  EXPECT_EQ(R("{{ 'h\xc3\xa9llo'|length }}{{ 'h\xc3\xa9llo'[1] }}{{ 'abc'[::-1] }}"),
            "5\xc3\xa9" "cba");
}

TEST(ChatEval, ScopingMatchesJinja2) {
  EXPECT_EQ(R("{% for i in range(3) %}{% if i == 0 %}{% set x = 1 %}{% endif %}{{ x }},"
              "{% endfor %}[{{ x }}]"),
            "1,,,[]");
  EXPECT_EQ(R("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}"
              "{% endfor %}{{ ns.n }}"),
            "6");
  EXPECT_EQ(R("{% set x = 5 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 6 %}{{ m() }}"),
            "6");
}

TEST(ChatEval, HfTojsonAndMarkup) {
  EXPECT_EQ(R("{{ d|tojson }}", R"({"d": {"b": "\u00e9<", "a": [1, 2.5]}})"),
            "{\"b\": \"\xc3\xa9<\", \"a\": [1, 2.5]}");
  EXPECT_EQ(R("{{ [1]|tojson(indent=2) }}"), "[\n  1\n]");
  EXPECT_EQ(R("{{ 'Use'|safe + '<x>' }}"), "Use&lt;x&gt;");
}

TEST(ChatEval, ErrorsAndLimits) {
  std::string e = R("line one\n{{ raise_exception('bad role') }}");
  EXPECT_NE(e.find("bad role"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  EXPECT_NE(R("{{ x.y }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(R("{{ [1].append(2) }}").find("unsafe"), std::string::npos);
  EXPECT_NE(R("{{ [1,2]|map('string')|tojson }}").find("ERROR"), std::string::npos);

  auto t = Template::compile("{% for a in range(100000) %}{% for b in range(100000) %}"
                             "{% endfor %}{% endfor %}");
  ASSERT_TRUE(t.ok());
  RenderOptions opt;
  opt.max_steps = 10000;
  auto r = t->render(nlohmann::ordered_json::array(), nlohmann::ordered_json::object(), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("step limit"), std::string::npos);
  EXPECT_EQ(r.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(R("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("recursion"),
            std::string::npos);
}

TEST(ChatRender, AgreedEntryPoint) {
  nlohmann::json msgs = nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}});
  auto r = render("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
                  "{% if add_generation_prompt %}<a>{% endif %}",
                  msgs, {{"add_generation_prompt", true}});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(*r, "<user>hi<a>");
}

TEST(ChatValue, PythonReprOfStrings) {
  EXPECT_EQ(py_repr_string("it's"), "\"it's\"");
  EXPECT_EQ(py_repr_string("a\n\\'\""), "'a\\n\\\\\\'\"'");
  EXPECT_EQ(py_float_repr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(py_float_repr(1e17), "1e+17");
}

}  // namespace
}  // namespace gavel::chat
