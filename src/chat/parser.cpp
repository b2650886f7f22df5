#include "chat/parser.h"

#include <algorithm>
#include <array>

#include "chat/lexer.h"

namespace gavel::chat {

bool is_jinja_filter(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "abs",       "attr",       "batch",   "capitalize", "center",    "count",
      "d",         "default",    "dictsort", "e",         "escape",    "filesizeformat",
      "first",     "float",      "forceescape", "format", "groupby",   "indent",
      "int",       "join",       "last",    "length",     "list",      "lower",
      "items",     "map",        "min",     "max",        "pprint",    "random",
      "reject",    "rejectattr", "replace", "reverse",    "round",     "safe",
      "select",    "selectattr", "slice",   "sort",       "string",    "striptags",
      "sum",       "title",      "trim",    "truncate",   "unique",    "upper",
      "urlencode", "urlize",     "wordcount", "wordwrap", "xmlattr",   "tojson"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

bool is_jinja_test(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "odd",      "even",     "divisibleby", "defined",  "undefined",   "filter",  "test",
      "none",     "boolean",  "false",       "true",     "integer",     "float",   "lower",
      "upper",    "string",   "mapping",     "number",   "sequence",    "iterable", "callable",
      "sameas",   "escaped",  "in",          "==",       "eq",          "equalto", "!=",
      "ne",       ">",        "gt",          "greaterthan", "ge",       ">=",      "<",
      "lt",       "lessthan", "<=",          "le"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  Result<Program> run() {
    Program p;
    GAVEL_TRY(subparse(p.body, {}));
    if (cur().type != Tok::kEof) return fail("unexpected '" + cur().text + "'");
    return p;
  }

 private:
  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
  int soft_ = 0;      // > 0 inside if-branches and inline ifs (jinja2's "soft frames")
  int loops_ = 0;     // enclosing for loops (for break/continue)
  std::vector<int> saved_soft_;

  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  void next() {
    if (i_ + 1 < t_.size()) ++i_;
  }
  Error fail(const std::string& msg) const { return fail_at(msg, cur()); }
  static Error fail_at(const std::string& msg, const Token& at) {
    return Error{"template syntax error at " + position(at.line, at.col) + ": " + msg,
                 StatusCode::kInvalidArgument};
  }
  bool is_op(std::string_view op) const { return cur().type == Tok::kOp && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == Tok::kName && cur().text == n; }
  std::string describe(const Token& t) const {
    switch (t.type) {
      case Tok::kEof:
        return "end of template";
      case Tok::kVarEnd:
        return "'}}'";
      case Tok::kBlockEnd:
        return "'%}'";
      case Tok::kData:
        return "template data";
      default:
        return "'" + t.text + "'";
    }
  }
  Status expect_op(std::string_view op) {
    if (!is_op(op)) return fail("expected '" + std::string(op) + "', got " + describe(cur()));
    next();
    return Status::Ok();
  }
  Status expect_name(std::string_view n) {
    if (!is_name(n)) return fail("expected '" + std::string(n) + "', got " + describe(cur()));
    next();
    return Status::Ok();
  }
  Status expect_block_end() {
    if (cur().type != Tok::kBlockEnd) return fail("expected '%}', got " + describe(cur()));
    next();
    return Status::Ok();
  }
  Result<std::string> expect_identifier() {
    if (cur().type != Tok::kName) return fail("expected a name, got " + describe(cur()));
    std::string n = cur().text;
    next();
    return n;
  }

  // A scope that is not soft (jinja2's frame.inner()).
  void enter_hard() {
    saved_soft_.push_back(soft_);
    soft_ = 0;
  }
  void leave_hard() {
    soft_ = saved_soft_.back();
    saved_soft_.pop_back();
  }

  ExprPtr node(ExprKind k, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = at.line;
    e->col = at.col;
    return e;
  }

  struct DepthGuard {
    int& d;
    explicit DepthGuard(int& x) : d(x) { ++d; }
    ~DepthGuard() { --d; }
  };

  // ------------------------------------------------------------ statements

  // Parses until a block tag named in `ends` (left current, after '{%'), or end of input.
  Status subparse(Body& body, const std::vector<std::string_view>& ends) {
    DepthGuard g(depth_);
    if (depth_ > kMaxParseDepth) return fail("template nested too deeply");
    while (cur().type != Tok::kEof) {
      const Token& t = cur();
      if (t.type == Tok::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kData;
        s->line = t.line;
        s->col = t.col;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.type == Tok::kVarBegin) {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kOutput;
        s->line = t.line;
        s->col = t.col;
        GAVEL_ASSIGN(s->expr, parse_tuple(true, {}, false));
        if (cur().type != Tok::kVarEnd) return fail("expected '}}', got " + describe(cur()));
        next();
        body.push_back(std::move(s));
      } else if (t.type == Tok::kBlockBegin) {
        const Token& tag = peek();
        if (tag.type == Tok::kName &&
            std::find(ends.begin(), ends.end(), tag.text) != ends.end()) {
          next();  // leave the tag name current for the caller
          return Status::Ok();
        }
        next();
        GAVEL_TRY(parse_statement(body));
      } else {
        return fail("unexpected " + describe(t));
      }
    }
    if (!ends.empty()) {
      return fail("unexpected end of template, expected '" + std::string(ends.back()) + "'");
    }
    return Status::Ok();
  }

  Status parse_statement(Body& body) {
    const Token& tag = cur();
    if (tag.type != Tok::kName) return fail("expected a tag name, got " + describe(tag));
    auto s = std::make_unique<Stmt>();
    s->line = tag.line;
    s->col = tag.col;
    std::string name = tag.text;
    next();
    if (name == "if") {
      GAVEL_TRY(parse_if(*s));
    } else if (name == "for") {
      GAVEL_TRY(parse_for(*s));
    } else if (name == "set") {
      GAVEL_TRY(parse_set(*s));
    } else if (name == "macro") {
      GAVEL_TRY(parse_macro(*s));
    } else if (name == "call") {
      GAVEL_TRY(parse_call_block(*s));
    } else if (name == "filter") {
      GAVEL_TRY(parse_filter_block(*s));
    } else if (name == "generation") {
      s->kind = StmtKind::kGeneration;
      GAVEL_TRY(expect_block_end());
      enter_hard();
      GAVEL_TRY(subparse(s->body, {"endgeneration"}));
      leave_hard();
      next();
      GAVEL_TRY(expect_block_end());
    } else if (name == "break" || name == "continue") {
      if (loops_ == 0) return fail_at("'" + name + "' outside of a loop", tag);
      s->kind = name == "break" ? StmtKind::kBreak : StmtKind::kContinue;
      GAVEL_TRY(expect_block_end());
    } else {
      static const std::vector<std::string_view> kKnown = {
          "block", "extends", "include", "import", "from", "with", "autoescape", "do"};
      if (std::find(kKnown.begin(), kKnown.end(), name) != kKnown.end() && name != "do") {
        return fail_at("the '" + name + "' tag is not supported in chat templates", tag);
      }
      return fail_at("encountered unknown tag '" + name + "'", tag);
    }
    body.push_back(std::move(s));
    return Status::Ok();
  }

  Status parse_if(Stmt& s) {
    s.kind = StmtKind::kIf;
    ++soft_;
    while (true) {
      GAVEL_ASSIGN(auto cond, parse_tuple(false, {}, false));
      GAVEL_TRY(expect_block_end());
      Body b;
      GAVEL_TRY(subparse(b, {"elif", "else", "endif"}));
      s.conds.push_back(std::move(cond));
      s.bodies.push_back(std::move(b));
      std::string which = cur().text;
      next();
      if (which == "elif") continue;
      if (which == "else") {
        GAVEL_TRY(expect_block_end());
        GAVEL_TRY(subparse(s.else_body, {"endif"}));
        next();
      }
      break;
    }
    --soft_;
    return expect_block_end();
  }

  Status parse_targets(std::vector<std::string>& out, std::string_view end_name) {
    // name | name, name ... | (name, name)
    bool paren = is_op("(");
    if (paren) next();
    while (true) {
      GAVEL_ASSIGN(std::string n, expect_identifier());
      out.push_back(n);
      if (!is_op(",")) break;
      next();
      if ((paren && is_op(")")) || is_name(end_name) || is_op("=")) break;
    }
    if (paren) GAVEL_TRY(expect_op(")"));
    return Status::Ok();
  }

  Status parse_for(Stmt& s) {
    s.kind = StmtKind::kFor;
    GAVEL_TRY(parse_targets(s.targets, "in"));
    GAVEL_TRY(expect_name("in"));
    GAVEL_ASSIGN(s.expr, parse_tuple(false, {"recursive"}, false));
    if (is_name("if")) {
      next();
      enter_hard();
      auto c = parse_expression(true);
      leave_hard();
      if (!c.ok()) return c.status();
      s.cond = std::move(c).value();
    }
    if (is_name("recursive")) return fail("recursive for loops are not supported");
    GAVEL_TRY(expect_block_end());
    enter_hard();
    ++loops_;
    GAVEL_TRY(subparse(s.body, {"endfor", "else"}));
    --loops_;
    if (cur().text == "else") {
      next();
      GAVEL_TRY(expect_block_end());
      GAVEL_TRY(subparse(s.else_body, {"endfor"}));
    }
    leave_hard();
    next();
    return expect_block_end();
  }

  Status parse_set(Stmt& s) {
    s.kind = StmtKind::kSet;
    if (cur().type == Tok::kName && peek().type == Tok::kOp && peek().text == ".") {
      s.targets.push_back(cur().text);  // namespace attribute assignment
      next();
      next();
      GAVEL_ASSIGN(s.text, expect_identifier());
    } else {
      GAVEL_TRY(parse_targets(s.targets, ""));
    }
    if (is_op("=")) {
      next();
      GAVEL_ASSIGN(s.expr, parse_tuple(true, {}, false));
      return expect_block_end();
    }
    if (!s.text.empty() || s.targets.size() != 1) return fail("expected '='");
    s.kind = StmtKind::kSetBlock;
    enter_hard();
    if (is_op("|")) {
      GAVEL_ASSIGN(s.expr, parse_filter(nullptr, false));
    }
    GAVEL_TRY(expect_block_end());
    GAVEL_TRY(subparse(s.body, {"endset"}));
    leave_hard();
    next();
    return expect_block_end();
  }

  Status parse_signature(std::vector<MacroParam>& params) {
    GAVEL_TRY(expect_op("("));
    while (!is_op(")")) {
      if (!params.empty()) GAVEL_TRY(expect_op(","));
      if (is_op(")")) break;
      MacroParam p;
      GAVEL_ASSIGN(p.name, expect_identifier());
      if (is_op("=")) {
        next();
        GAVEL_ASSIGN(p.default_value, parse_expression(true));
      } else {
        for (const auto& q : params) {
          if (q.default_value) return fail("non-default argument follows default argument");
        }
      }
      params.push_back(std::move(p));
    }
    next();
    return Status::Ok();
  }

  // Which of caller/kwargs/varargs a macro body mentions (jinja2 decides this statically).
  static void scan_names(const Body& body, Stmt& m);
  static void scan_expr(const Expr* e, Stmt& m);

  Status parse_macro(Stmt& s) {
    s.kind = StmtKind::kMacro;
    GAVEL_ASSIGN(s.text, expect_identifier());
    enter_hard();
    int saved_loops = loops_;
    loops_ = 0;
    GAVEL_TRY(parse_signature(s.params));
    GAVEL_TRY(expect_block_end());
    GAVEL_TRY(subparse(s.body, {"endmacro"}));
    loops_ = saved_loops;
    leave_hard();
    next();
    if (cur().type == Tok::kName && cur().text == s.text) next();
    GAVEL_TRY(expect_block_end());
    scan_names(s.body, s);
    return Status::Ok();
  }

  Status parse_call_block(Stmt& s) {
    s.kind = StmtKind::kCallBlock;
    if (is_op("(")) {
      GAVEL_TRY(parse_signature(s.params));
    }
    GAVEL_ASSIGN(s.expr, parse_expression(true));
    if (s.expr->kind != ExprKind::kCall) return fail("expected a call");
    GAVEL_TRY(expect_block_end());
    enter_hard();
    int saved_loops = loops_;
    loops_ = 0;
    GAVEL_TRY(subparse(s.body, {"endcall"}));
    loops_ = saved_loops;
    leave_hard();
    next();
    return expect_block_end();
  }

  Status parse_filter_block(Stmt& s) {
    s.kind = StmtKind::kFilterBlock;
    enter_hard();
    GAVEL_ASSIGN(s.expr, parse_filter(nullptr, true));
    GAVEL_TRY(expect_block_end());
    GAVEL_TRY(subparse(s.body, {"endfilter"}));
    leave_hard();
    next();
    return expect_block_end();
  }

  // ------------------------------------------------------------ expressions

  bool is_tuple_end(const std::vector<std::string_view>& extra) const {
    if (cur().type == Tok::kVarEnd || cur().type == Tok::kBlockEnd || cur().type == Tok::kEof) {
      return true;
    }
    if (is_op(")")) return true;
    for (auto n : extra) {
      if (is_name(n)) return true;
    }
    return false;
  }

  Result<ExprPtr> parse_tuple(bool with_condexpr, const std::vector<std::string_view>& extra,
                              bool explicit_parens) {
    const Token start = cur();
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) GAVEL_TRY(expect_op(","));
      if (is_tuple_end(extra)) break;
      GAVEL_ASSIGN(auto e, parse_expression(with_condexpr));
      items.push_back(std::move(e));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) return fail("expected an expression, got " + describe(cur()));
    }
    auto t = node(ExprKind::kTuple, start);
    t->items = std::move(items);
    return t;
  }

  Result<ExprPtr> parse_expression(bool with_condexpr) {
    DepthGuard g(depth_);
    if (depth_ > kMaxParseDepth) return fail("expression nested too deeply");
    if (!with_condexpr) return parse_or();
    GAVEL_ASSIGN(auto e, parse_or());
    while (is_name("if")) {
      const Token at = cur();
      next();
      ++soft_;
      GAVEL_ASSIGN(auto cond, parse_or());
      ExprPtr other;
      if (is_name("else")) {
        next();
        GAVEL_ASSIGN(other, parse_expression(true));
      }
      --soft_;
      auto c = node(ExprKind::kCondExpr, at);
      c->items.push_back(std::move(cond));
      c->items.push_back(std::move(e));
      c->items.push_back(std::move(other));
      e = std::move(c);
    }
    return e;
  }

  Result<ExprPtr> binary_left(ExprKind k, const Token& at, ExprPtr l, ExprPtr r,
                              std::string op = {}) {
    auto b = node(k, at);
    b->name = std::move(op);
    b->items.push_back(std::move(l));
    b->items.push_back(std::move(r));
    return b;
  }

  Result<ExprPtr> parse_or() {
    GAVEL_ASSIGN(auto l, parse_and());
    while (is_name("or")) {
      const Token at = cur();
      next();
      GAVEL_ASSIGN(auto r, parse_and());
      GAVEL_ASSIGN(l, binary_left(ExprKind::kOr, at, std::move(l), std::move(r)));
    }
    return l;
  }

  Result<ExprPtr> parse_and() {
    GAVEL_ASSIGN(auto l, parse_not());
    while (is_name("and")) {
      const Token at = cur();
      next();
      GAVEL_ASSIGN(auto r, parse_not());
      GAVEL_ASSIGN(l, binary_left(ExprKind::kAnd, at, std::move(l), std::move(r)));
    }
    return l;
  }

  Result<ExprPtr> parse_not() {
    if (is_name("not")) {
      DepthGuard g(depth_);
      if (depth_ > kMaxParseDepth) return fail("expression nested too deeply");
      const Token at = cur();
      next();
      GAVEL_ASSIGN(auto inner, parse_not());
      auto n = node(ExprKind::kNot, at);
      n->items.push_back(std::move(inner));
      return n;
    }
    return parse_compare();
  }

  Result<ExprPtr> parse_compare() {
    const Token at = cur();
    GAVEL_ASSIGN(auto first, parse_math1());
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == Tok::kOp &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
           cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().type == Tok::kName && peek().text == "in") {
        op = "notin";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(ExprKind::kCompare, at);
        cmp->items.push_back(std::move(first));
      }
      GAVEL_ASSIGN(auto r, parse_math1());
      cmp->ops.push_back(op);
      cmp->items.push_back(std::move(r));
    }
    if (cmp) return cmp;
    return first;
  }

  Result<ExprPtr> parse_math1() {
    GAVEL_ASSIGN(auto l, parse_concat());
    while (is_op("+") || is_op("-")) {
      const Token at = cur();
      next();
      GAVEL_ASSIGN(auto r, parse_concat());
      GAVEL_ASSIGN(l, binary_left(ExprKind::kBinary, at, std::move(l), std::move(r), at.text));
    }
    return l;
  }

  Result<ExprPtr> parse_concat() {
    const Token at = cur();
    GAVEL_ASSIGN(auto first, parse_math2());
    if (!is_op("~")) return first;
    auto c = node(ExprKind::kConcat, at);
    c->items.push_back(std::move(first));
    while (is_op("~")) {
      next();
      GAVEL_ASSIGN(auto r, parse_math2());
      c->items.push_back(std::move(r));
    }
    return c;
  }

  Result<ExprPtr> parse_math2() {
    GAVEL_ASSIGN(auto l, parse_pow());
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token at = cur();
      next();
      GAVEL_ASSIGN(auto r, parse_pow());
      GAVEL_ASSIGN(l, binary_left(ExprKind::kBinary, at, std::move(l), std::move(r), at.text));
    }
    return l;
  }

  Result<ExprPtr> parse_pow() {
    GAVEL_ASSIGN(auto l, parse_unary(true));
    while (is_op("**")) {
      const Token at = cur();
      next();
      GAVEL_ASSIGN(auto r, parse_unary(true));
      GAVEL_ASSIGN(l, binary_left(ExprKind::kBinary, at, std::move(l), std::move(r), "**"));
    }
    return l;
  }

  Result<ExprPtr> parse_unary(bool with_filter) {
    DepthGuard g(depth_);
    if (depth_ > kMaxParseDepth) return fail("expression nested too deeply");
    ExprPtr n;
    if (is_op("-") || is_op("+")) {
      const Token at = cur();
      next();
      GAVEL_ASSIGN(auto inner, parse_unary(false));
      n = node(at.text == "-" ? ExprKind::kNeg : ExprKind::kPos, at);
      n->items.push_back(std::move(inner));
    } else {
      GAVEL_ASSIGN(n, parse_primary());
    }
    GAVEL_ASSIGN(n, parse_postfix(std::move(n)));
    if (with_filter) {
      GAVEL_ASSIGN(n, parse_filter_expr(std::move(n)));
    }
    return n;
  }

  Result<ExprPtr> parse_primary() {
    const Token t = cur();
    switch (t.type) {
      case Tok::kName: {
        next();
        auto e = node(ExprKind::kConst, t);
        if (t.text == "true" || t.text == "True") {
          e->constant = Value::boolean(true);
        } else if (t.text == "false" || t.text == "False") {
          e->constant = Value::boolean(false);
        } else if (t.text == "none" || t.text == "None") {
          e->constant = Value::none();
        } else {
          e->kind = ExprKind::kName;
          e->name = t.text;
        }
        return e;
      }
      case Tok::kString: {
        std::string s;
        while (cur().type == Tok::kString) {
          s += cur().text;
          next();
        }
        auto e = node(ExprKind::kConst, t);
        e->constant = Value::string(std::move(s));
        return e;
      }
      case Tok::kInt:
      case Tok::kFloat: {
        next();
        auto e = node(ExprKind::kConst, t);
        e->constant = t.type == Tok::kInt ? Value::integer(t.ival) : Value::floating(t.fval);
        return e;
      }
      case Tok::kOp:
        if (t.text == "(") {
          next();
          GAVEL_ASSIGN(auto e, parse_tuple(true, {}, true));
          GAVEL_TRY(expect_op(")"));
          return e;
        }
        if (t.text == "[") {
          next();
          auto e = node(ExprKind::kList, t);
          while (!is_op("]")) {
            if (!e->items.empty()) GAVEL_TRY(expect_op(","));
            if (is_op("]")) break;
            GAVEL_ASSIGN(auto x, parse_expression(true));
            e->items.push_back(std::move(x));
          }
          next();
          return e;
        }
        if (t.text == "{") {
          next();
          auto e = node(ExprKind::kDict, t);
          while (!is_op("}")) {
            if (!e->items.empty()) GAVEL_TRY(expect_op(","));
            if (is_op("}")) break;
            GAVEL_ASSIGN(auto k, parse_expression(true));
            GAVEL_TRY(expect_op(":"));
            GAVEL_ASSIGN(auto v, parse_expression(true));
            e->items.push_back(std::move(k));
            e->items.push_back(std::move(v));
          }
          next();
          return e;
        }
        break;
      default:
        break;
    }
    return fail("unexpected " + describe(t));
  }

  Result<ExprPtr> parse_postfix(ExprPtr n) {
    while (true) {
      if (is_op(".")) {
        const Token at = cur();
        next();
        if (cur().type == Tok::kName) {
          auto g = node(ExprKind::kGetattr, at);
          g->name = cur().text;
          g->items.push_back(std::move(n));
          n = std::move(g);
          next();
        } else if (cur().type == Tok::kInt) {
          auto g = node(ExprKind::kGetitem, at);
          auto idx = node(ExprKind::kConst, cur());
          idx->constant = Value::integer(cur().ival);
          g->items.push_back(std::move(n));
          g->items.push_back(std::move(idx));
          n = std::move(g);
          next();
        } else {
          return fail("expected a name after '.'");
        }
      } else if (is_op("[")) {
        GAVEL_ASSIGN(n, parse_subscript(std::move(n)));
      } else if (is_op("(")) {
        GAVEL_ASSIGN(n, parse_call(std::move(n)));
      } else {
        return n;
      }
    }
  }

  Result<ExprPtr> parse_subscript(ExprPtr obj) {
    const Token at = cur();
    next();  // [
    std::vector<ExprPtr> parts;  // start, stop, step
    bool slice = false;
    ExprPtr index;
    if (!is_op(":")) {
      GAVEL_ASSIGN(index, parse_expression(true));
    }
    if (is_op(":")) {
      slice = true;
      next();
      parts.push_back(std::move(index));
      ExprPtr stop, step;
      if (!is_op("]") && !is_op(":") && !is_op(",")) {
        GAVEL_ASSIGN(stop, parse_expression(true));
      }
      if (is_op(":")) {
        next();
        if (!is_op("]") && !is_op(",")) {
          GAVEL_ASSIGN(step, parse_expression(true));
        }
      }
      parts.push_back(std::move(stop));
      parts.push_back(std::move(step));
    }
    if (is_op(",")) return fail("tuple subscripts are not supported");
    GAVEL_TRY(expect_op("]"));
    if (!slice) {
      if (!index) return fail("expected an index");
      auto g = node(ExprKind::kGetitem, at);
      g->items.push_back(std::move(obj));
      g->items.push_back(std::move(index));
      return g;
    }
    auto s = node(ExprKind::kSlice, at);
    s->items.push_back(std::move(obj));
    for (auto& p : parts) s->items.push_back(std::move(p));
    return s;
  }

  Status parse_call_args(Expr& call) {
    GAVEL_TRY(expect_op("("));
    bool first = true;
    while (!is_op(")")) {
      if (!first) GAVEL_TRY(expect_op(","));
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) return fail("*args / **kwargs in calls are not supported");
      if (cur().type == Tok::kName && peek().type == Tok::kOp && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        GAVEL_ASSIGN(auto v, parse_expression(true));
        call.kwargs.emplace_back(key, std::move(v));
      } else {
        if (!call.kwargs.empty()) return fail("positional argument follows keyword argument");
        GAVEL_ASSIGN(auto v, parse_expression(true));
        call.items.push_back(std::move(v));
      }
    }
    next();
    return Status::Ok();
  }

  Result<ExprPtr> parse_call(ExprPtr callee) {
    auto c = node(ExprKind::kCall, cur());
    c->items.push_back(std::move(callee));
    GAVEL_TRY(parse_call_args(*c));
    return c;
  }

  Result<ExprPtr> parse_filter_expr(ExprPtr n) {
    while (true) {
      if (is_op("|")) {
        GAVEL_ASSIGN(n, parse_filter(std::move(n), false));
      } else if (is_name("is")) {
        GAVEL_ASSIGN(n, parse_test(std::move(n)));
      } else if (is_op("(")) {
        GAVEL_ASSIGN(n, parse_call(std::move(n)));
      } else {
        return n;
      }
    }
  }

  Result<std::string> dotted_name() {
    GAVEL_ASSIGN(std::string name, expect_identifier());
    while (is_op(".")) {
      next();
      GAVEL_ASSIGN(std::string part, expect_identifier());
      name += "." + part;
    }
    return name;
  }

  Result<ExprPtr> parse_filter(ExprPtr n, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) next();
      start_inline = false;
      const Token at = cur();
      GAVEL_ASSIGN(std::string name, dotted_name());
      if (!is_jinja_filter(name) && soft_ == 0) {
        return fail_at("no filter named '" + name + "'", at);
      }
      auto f = node(ExprKind::kFilter, at);
      f->name = name;
      f->items.push_back(std::move(n));
      if (is_op("(")) GAVEL_TRY(parse_call_args(*f));
      n = std::move(f);
    }
    return n;
  }

  Result<ExprPtr> parse_test(ExprPtr n) {
    const Token is_tok = cur();
    next();  // is
    bool negated = false;
    if (is_name("not")) {
      negated = true;
      next();
    }
    const Token at = cur();
    GAVEL_ASSIGN(std::string name, dotted_name());
    if (!is_jinja_test(name) && soft_ == 0) return fail_at("no test named '" + name + "'", at);
    auto t = node(ExprKind::kTest, at);
    t->name = name;
    t->items.push_back(std::move(n));
    if (is_op("(")) {
      GAVEL_TRY(parse_call_args(*t));
    } else if ((cur().type == Tok::kName || cur().type == Tok::kString ||
                cur().type == Tok::kInt || cur().type == Tok::kFloat || is_op("(") ||
                is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) return fail("you cannot chain multiple tests with is");
      GAVEL_ASSIGN(auto arg, parse_primary());
      GAVEL_ASSIGN(arg, parse_postfix(std::move(arg)));
      t->items.push_back(std::move(arg));
    }
    if (negated) {
      auto notn = node(ExprKind::kNot, is_tok);
      notn->items.push_back(std::move(t));
      return notn;
    }
    return t;
  }
};

void Parser::scan_expr(const Expr* e, Stmt& m) {
  if (!e) return;
  if (e->kind == ExprKind::kName) {
    if (e->name == "caller") m.uses_caller = true;
    if (e->name == "kwargs") m.uses_kwargs = true;
    if (e->name == "varargs") m.uses_varargs = true;
  }
  for (const auto& x : e->items) scan_expr(x.get(), m);
  for (const auto& kv : e->kwargs) scan_expr(kv.second.get(), m);
}

void Parser::scan_names(const Body& body, Stmt& m) {
  for (const auto& s : body) {
    scan_expr(s->expr.get(), m);
    scan_expr(s->cond.get(), m);
    for (const auto& c : s->conds) scan_expr(c.get(), m);
    for (const auto& b : s->bodies) scan_names(b, m);
    // Nested macros and call blocks have their own caller; jinja2 still scans them.
    scan_names(s->body, m);
    scan_names(s->else_body, m);
    for (const auto& p : s->params) scan_expr(p.default_value.get(), m);
  }
}

}  // namespace

Result<Program> parse_template(std::string_view source) {
  GAVEL_ASSIGN(auto toks, tokenize(source));
  return Parser(std::move(toks)).run();
}

}  // namespace gavel::chat
