// Tree-walking evaluator for parsed chat templates, with jinja2's scoping rules: for-loop
// iterations, macros, call/filter/set blocks and {% generation %} get their own scope; `if`
// does not. A step budget and a depth limit stop runaway templates.
#include <cstdlib>
#include <ctime>
#include <unordered_map>

#include "chat/ast.h"
#include "chat/builtins.h"
#include "chat/chat.h"
#include "chat/parser.h"
#include "chat/template.h"

namespace gavel::chat {

namespace {

struct Scope {
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;

  Value* find_local(std::string_view name) {
    for (auto& [k, v] : vars) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  void set(const std::string& name, Value v) {
    if (Value* slot = find_local(name)) {
      *slot = std::move(v);
    } else {
      vars.emplace_back(name, std::move(v));
    }
  }
};
using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child(const ScopePtr& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  return s;
}

enum class Flow { kNone, kBreak, kContinue };

Result<std::tm> parse_now(const std::string& s) {
  std::tm tm{};
  int y, mo, d, h = 0, mi = 0, sec = 0;
  int n = std::sscanf(s.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
  if (n < 3) return Error{"bad fixed date '" + s + "' (want YYYY-MM-DD HH:MM:SS)"};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);  // normalise and fill weekday / yearday
  std::tm out{};
  gmtime_r(&t, &out);
  return out;
}

class Interp {
 public:
  explicit Interp(const RenderOptions& opt) : opt_(opt) { install_globals(); }

  Result<std::string> run(const Program& p, ScopePtr root) {
    std::string out;
    Flow flow = Flow::kNone;
    GAVEL_TRY(exec_body(p.body, root, out, flow));
    return out;
  }

 private:
  const RenderOptions& opt_;
  int64_t steps_ = 0;
  int depth_ = 0;
  std::unordered_map<std::string, Value> globals_;
  const Value* filter_input_ = nullptr;
  bool located_ = false;  // an error of this render already carries its location

  // An evaluation error, located at the innermost template position that raised it. Evaluation
  // stops at the first error, so once one is located every enclosing at()/locate() on the way
  // up passes it through unchanged (a macro's error keeps the macro body's line).
  Error at(int line, int col, const std::string& msg,
           StatusCode code = StatusCode::kInvalidArgument) {
    if (located_) return Error{msg, code};
    located_ = true;
    return Error{
        "error at line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + msg,
        code};
  }
  Error at(const Expr& e, const std::string& msg) { return at(e.line, e.col, msg); }
  // The error of a value operation, filter or call (a Status or Result), located at e.
  template <class R>
  Error locate(int line, int col, const R& r) {
    return at(line, col, r.message(),
              r.code() == StatusCode::kUnknown ? StatusCode::kInvalidArgument : r.code());
  }
  template <class R>
  Error locate(const Expr& e, const R& r) {
    return locate(e.line, e.col, r);
  }

  Status step(int line, int col) {
    if (++steps_ > opt_.max_steps) {
      return at(line, col,
                "template exceeded the step limit (" + std::to_string(opt_.max_steps) +
                    " evaluation steps)",
                StatusCode::kResourceExhausted);
    }
    return Status::Ok();
  }

  struct DepthGuard {
    int& d;
    explicit DepthGuard(int& x) : d(x) { ++d; }
    ~DepthGuard() { --d; }
  };

  // ------------------------------------------------------------ globals

  static Value builtin(std::string name, std::function<Result<Value>(CallArgs&)> fn) {
    auto c = std::make_shared<Callable>();
    c->name = std::move(name);
    c->fn = std::move(fn);
    return Value::make_callable(std::move(c));
  }

  void install_globals() {
    globals_["range"] = builtin("range", [](CallArgs& a) -> Result<Value> {
      if (!a.kwargs.empty() || a.args.empty() || a.args.size() > 3) {
        return Error{"range expects 1 to 3 integer arguments"};
      }
      int64_t v[3] = {0, 0, 1};
      for (size_t k = 0; k < a.args.size(); ++k) {
        const Value& x = a.args[k];
        if (x.kind != Kind::kInt && x.kind != Kind::kBool) {
          return Error{"'" + type_name(x) + "' object cannot be interpreted as an integer"};
        }
        int64_t n = x.kind == Kind::kBool ? x.b : x.i;
        if (a.args.size() == 1) {
          v[1] = n;
        } else {
          v[k] = n;
        }
      }
      if (v[2] == 0) return Error{"range() arg 3 must not be zero"};
      List out;
      for (int64_t i = v[0]; v[2] > 0 ? i < v[1] : i > v[1]; i += v[2]) {
        if (out.size() >= 100000) return Error{"Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."};
        out.push_back(Value::integer(i));
      }
      return Value::make_list(std::move(out));
    });
    globals_["namespace"] = builtin("namespace", [](CallArgs& a) -> Result<Value> {
      auto o = std::make_shared<Object>();
      o->type_name = "Namespace";
      for (const Value& x : a.args) {
        if (!x.is_dict()) return Error{"namespace() positional argument must be a mapping"};
        for (const auto& [k, v] : x.dict->items) o->attrs.set(k, v);
      }
      for (const auto& [k, v] : a.kwargs) o->attrs.set(Value::string(k), v);
      return Value::make_object(std::move(o));
    });
    globals_["dict"] = builtin("dict", [](CallArgs& a) -> Result<Value> {
      Dict d;
      for (const Value& x : a.args) {
        if (!x.is_dict()) return Error{"dict() positional argument must be a mapping"};
        for (const auto& [k, v] : x.dict->items) d.set(k, v);
      }
      for (const auto& [k, v] : a.kwargs) d.set(Value::string(k), v);
      return Value::make_dict(std::move(d));
    });
    globals_["raise_exception"] = builtin("raise_exception", [](CallArgs& a) -> Result<Value> {
      std::string msg;
      if (!a.args.empty()) {
        auto s = to_str(a.args[0]);
        msg = s.ok() ? s.value() : "";
      }
      return Error{"raise_exception: " + msg};
    });
    globals_["strftime_now"] = builtin("strftime_now", [this](CallArgs& a) -> Result<Value> {
      if (a.args.size() != 1 || !a.args[0].is_string()) {
        return Error{"strftime_now expects one format string"};
      }
      std::tm tm{};
      std::string fixed = opt_.now;
      if (fixed.empty()) {
        if (const char* env = std::getenv("GAVEL_CHAT_NOW")) fixed = env;
      }
      if (!fixed.empty()) {
        GAVEL_ASSIGN(tm, parse_now(fixed));
      } else {
        std::time_t t = std::time(nullptr);
        localtime_r(&t, &tm);
      }
      const std::string& fmt = a.args[0].s;
      if (fmt.empty()) return Value::string("");
      std::string buf(256 + fmt.size() * 8, '\0');
      size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
      buf.resize(n);
      return Value::string(std::move(buf));
    });
    for (const char* name : {"lipsum", "cycler", "joiner"}) {
      std::string n = name;
      globals_[n] = builtin(n, [n](CallArgs&) -> Result<Value> {
        return Error{"the global '" + n + "' is not supported by gavel"};
      });
    }
  }

  Value lookup(const ScopePtr& scope, const std::string& name) const {
    for (Scope* s = scope.get(); s; s = s->parent.get()) {
      if (Value* v = s->find_local(name)) return *v;
    }
    auto it = globals_.find(name);
    if (it != globals_.end()) return it->second;
    return Value::undefined("'" + name + "' is undefined");
  }

  // ------------------------------------------------------------ statements

  Status exec_body(const Body& body, const ScopePtr& scope, std::string& out, Flow& flow) {
    for (const auto& s : body) {
      GAVEL_TRY(exec(*s, scope, out, flow));
      if (flow != Flow::kNone) return Status::Ok();
    }
    return Status::Ok();
  }

  Status render_child(const Body& body, const ScopePtr& parent, std::string& out) {
    DepthGuard g(depth_);
    if (depth_ > opt_.max_depth)
      return Error{"template recursion limit exceeded", StatusCode::kResourceExhausted};
    Flow flow = Flow::kNone;
    return exec_body(body, child(parent), out, flow);
  }

  Status assign(const Stmt& s, const ScopePtr& scope, const std::vector<std::string>& targets,
                const Value& v) {
    if (targets.size() == 1) {
      scope->set(targets[0], v);
      return Status::Ok();
    }
    auto items = iterate(v);
    if (!items.ok()) return at(s.line, s.col, "cannot unpack " + items.message());
    if (items->size() != targets.size()) {
      return at(s.line, s.col,
                items->size() > targets.size()
                    ? "too many values to unpack (expected " + std::to_string(targets.size()) + ")"
                    : "not enough values to unpack (expected " + std::to_string(targets.size()) +
                          ", got " + std::to_string(items->size()) + ")");
    }
    for (size_t k = 0; k < targets.size(); ++k) scope->set(targets[k], (*items)[k]);
    return Status::Ok();
  }

  Status exec(const Stmt& s, const ScopePtr& scope, std::string& out, Flow& flow) {
    GAVEL_TRY(step(s.line, s.col));
    switch (s.kind) {
      case StmtKind::kData:
        out += s.text;
        return Status::Ok();
      case StmtKind::kOutput: {
        GAVEL_ASSIGN(Value v, eval(*s.expr, scope));
        auto str = to_str(v);
        if (!str.ok()) return locate(*s.expr, str);
        out += str.value();
        return Status::Ok();
      }
      case StmtKind::kIf:
        for (size_t k = 0; k < s.conds.size(); ++k) {
          GAVEL_ASSIGN(Value c, eval(*s.conds[k], scope));
          if (truthy(c)) return exec_body(s.bodies[k], scope, out, flow);
        }
        return exec_body(s.else_body, scope, out, flow);
      case StmtKind::kFor:
        return exec_for(s, scope, out);
      case StmtKind::kSet: {
        GAVEL_ASSIGN(Value v, eval(*s.expr, scope));
        if (!s.text.empty()) {
          Value ns = lookup(scope, s.targets[0]);
          if (ns.kind != Kind::kObject || ns.obj->type_name != "Namespace") {
            return at(s.line, s.col, "cannot assign attribute on non-namespace object");
          }
          ns.obj->attrs.set(Value::string(s.text), std::move(v));
          return Status::Ok();
        }
        return assign(s, scope, s.targets, v);
      }
      case StmtKind::kSetBlock: {
        std::string body;
        GAVEL_TRY(render_child(s.body, scope, body));
        Value v = Value::string(std::move(body));
        if (s.expr) {
          filter_input_ = &v;
          auto r = eval(*s.expr, scope);
          filter_input_ = nullptr;
          if (!r.ok()) return r.status();
          v = std::move(r).value();
        }
        scope->set(s.targets[0], std::move(v));
        return Status::Ok();
      }
      case StmtKind::kMacro:
        scope->set(s.text, make_macro(s, scope, s.text));
        return Status::Ok();
      case StmtKind::kCallBlock:
        return exec_call_block(s, scope, out);
      case StmtKind::kFilterBlock: {
        std::string body;
        GAVEL_TRY(render_child(s.body, scope, body));
        Value v = Value::string(std::move(body));
        filter_input_ = &v;
        auto r = eval(*s.expr, scope);
        filter_input_ = nullptr;
        if (!r.ok()) return r.status();
        auto str = to_str(r.value());
        if (!str.ok()) return locate(s.line, s.col, str);
        out += str.value();
        return Status::Ok();
      }
      case StmtKind::kGeneration:
        return render_child(s.body, scope, out);
      case StmtKind::kBreak:
        flow = Flow::kBreak;
        return Status::Ok();
      case StmtKind::kContinue:
        flow = Flow::kContinue;
        return Status::Ok();
    }
    return Status::Ok();
  }

  Status exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
    GAVEL_ASSIGN(Value seq, eval(*s.expr, scope));
    auto listed = iterate(seq);
    if (!listed.ok()) return locate(*s.expr, listed);
    List items = std::move(listed).value();
    if (s.cond) {
      List kept;
      for (const Value& item : items) {
        auto fs = child(scope);
        GAVEL_TRY(assign(s, fs, s.targets, item));
        GAVEL_ASSIGN(Value c, eval(*s.cond, fs));
        if (truthy(c)) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      if (s.else_body.empty()) return Status::Ok();
      return render_child(s.else_body, scope, out);
    }
    DepthGuard g(depth_);
    if (depth_ > opt_.max_depth)
      return at(s.line, s.col, "template recursion limit exceeded", StatusCode::kResourceExhausted);
    auto index0 = std::make_shared<int64_t>(0);
    auto last_changed = std::make_shared<std::optional<List>>();
    Value cycle = builtin("loop.cycle", [index0](CallArgs& a) -> Result<Value> {
      if (a.args.empty()) return Error{"no items for cycling given"};
      return a.args[static_cast<size_t>(*index0) % a.args.size()];
    });
    Value changed = builtin("loop.changed", [last_changed](CallArgs& a) -> Result<Value> {
      bool same = last_changed->has_value() && (*last_changed)->size() == a.args.size();
      if (same) {
        for (size_t k = 0; k < a.args.size(); ++k) {
          if (!equals((**last_changed)[k], a.args[k])) same = false;
        }
      }
      *last_changed = a.args;
      return Value::boolean(!same);
    });
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      GAVEL_TRY(step(s.line, s.col));  // an empty body must still spend the budget
      *index0 = i;
      auto loop = std::make_shared<Object>();
      loop->type_name = "LoopContext";
      auto& at_ = loop->attrs.items;
      at_.reserve(13);
      at_.emplace_back(Value::string("index0"), Value::integer(i));
      at_.emplace_back(Value::string("index"), Value::integer(i + 1));
      at_.emplace_back(Value::string("revindex0"), Value::integer(n - i - 1));
      at_.emplace_back(Value::string("revindex"), Value::integer(n - i));
      at_.emplace_back(Value::string("first"), Value::boolean(i == 0));
      at_.emplace_back(Value::string("last"), Value::boolean(i == n - 1));
      at_.emplace_back(Value::string("length"), Value::integer(n));
      at_.emplace_back(Value::string("depth"), Value::integer(1));
      at_.emplace_back(Value::string("depth0"), Value::integer(0));
      if (i > 0) at_.emplace_back(Value::string("previtem"), items[static_cast<size_t>(i - 1)]);
      if (i < n - 1) at_.emplace_back(Value::string("nextitem"), items[static_cast<size_t>(i + 1)]);
      at_.emplace_back(Value::string("cycle"), cycle);
      at_.emplace_back(Value::string("changed"), changed);
      auto body_scope = child(scope);
      GAVEL_TRY(assign(s, body_scope, s.targets, items[static_cast<size_t>(i)]));
      body_scope->set("loop", Value::make_object(std::move(loop)));
      Flow flow = Flow::kNone;
      GAVEL_TRY(exec_body(s.body, body_scope, out, flow));
      if (flow == Flow::kBreak) break;
    }
    return Status::Ok();
  }

  // A macro (or a call block's caller) closes over the scope it was defined in.
  Value make_macro(const Stmt& s, const ScopePtr& defining, const std::string& name) {
    auto c = std::make_shared<Callable>();
    c->name = name;
    const Stmt* stmt = &s;
    std::weak_ptr<Scope> weak = defining;
    // The defining scope is kept alive by the caller chain during rendering; a shared_ptr
    // here would form a cycle (scope -> macro -> scope).
    c->fn = [this, stmt, weak, name](CallArgs& a) -> Result<Value> {
      ScopePtr def = weak.lock();
      if (!def) return Error{"macro '" + name + "' called after its scope ended"};
      return call_macro(*stmt, def, name, a);
    };
    return Value::make_callable(std::move(c));
  }

  Result<Value> call_macro(const Stmt& s, const ScopePtr& defining, const std::string& name,
                           CallArgs& a) {
    DepthGuard g(depth_);
    if (depth_ > opt_.max_depth)
      return Error{"template recursion limit exceeded (macro '" + name + "')",
                   StatusCode::kResourceExhausted};
    auto scope = child(defining);
    const size_t np = s.params.size();
    std::vector<bool> bound(np, false);
    List extra;
    for (size_t k = 0; k < a.args.size(); ++k) {
      if (k < np) {
        scope->set(s.params[k].name, a.args[k]);
        bound[k] = true;
      } else {
        extra.push_back(a.args[k]);
      }
    }
    if (!extra.empty() && !s.uses_varargs) {
      return Error{"macro '" + name + "' takes not more than " + std::to_string(np) +
                   " argument(s)"};
    }
    Dict extra_kw;
    bool has_caller = false;
    for (const auto& [k, v] : a.kwargs) {
      size_t idx = np;
      for (size_t p = 0; p < np; ++p) {
        if (s.params[p].name == k) idx = p;
      }
      if (idx < np) {
        if (bound[idx]) return Error{"macro '" + name + "' got multiple values for argument '" + k + "'"};
        scope->set(k, v);
        bound[idx] = true;
      } else if (k == "caller" && s.kind == StmtKind::kMacro && s.uses_caller) {
        scope->set("caller", v);
        has_caller = true;
      } else if (s.uses_kwargs) {
        extra_kw.set(Value::string(k), v);
      } else {
        return Error{"macro '" + name + "' takes no keyword argument '" + k + "'"};
      }
    }
    for (size_t p = 0; p < np; ++p) {
      if (bound[p]) continue;
      if (s.params[p].default_value) {
        GAVEL_ASSIGN(Value d, eval(*s.params[p].default_value, scope));
        scope->set(s.params[p].name, d);
      } else {
        scope->set(s.params[p].name,
                   Value::undefined("parameter '" + s.params[p].name + "' was not provided"));
      }
    }
    if (s.uses_caller && !has_caller && s.kind == StmtKind::kMacro) {
      scope->set("caller", Value::undefined("No caller defined"));
    }
    if (s.uses_varargs) scope->set("varargs", Value::make_list(std::move(extra), true));
    if (s.uses_kwargs) scope->set("kwargs", Value::make_dict(std::move(extra_kw)));
    std::string out;
    Flow flow = Flow::kNone;
    GAVEL_TRY(exec_body(s.body, scope, out, flow));
    return Value::string(std::move(out));
  }

  Status exec_call_block(const Stmt& s, const ScopePtr& scope, std::string& out) {
    const Expr& call = *s.expr;
    GAVEL_ASSIGN(Value callee, eval(*call.items[0], scope));
    CallArgs a;
    GAVEL_TRY(eval_args(call, scope, a));
    a.kwargs.emplace_back("caller", make_macro(s, scope, "caller"));
    GAVEL_ASSIGN(Value r, invoke(call, callee, a));
    auto str = to_str(r);
    if (!str.ok()) return locate(s.line, s.col, str);
    out += str.value();
    return Status::Ok();
  }

  // ------------------------------------------------------------ expressions

  Status eval_args(const Expr& e, const ScopePtr& scope, CallArgs& a) {
    for (size_t k = 1; k < e.items.size(); ++k) {
      GAVEL_ASSIGN(Value v, eval(*e.items[k], scope));
      a.args.push_back(std::move(v));
    }
    for (const auto& [k, x] : e.kwargs) {
      GAVEL_ASSIGN(Value v, eval(*x, scope));
      a.kwargs.emplace_back(k, std::move(v));
    }
    return Status::Ok();
  }

  Result<Value> invoke(const Expr& e, const Value& callee, CallArgs& a) {
    if (callee.is_undefined()) return at(e, undefined_error(callee).message);
    if (callee.kind != Kind::kCallable) {
      return at(e, "'" + type_name(callee) + "' object is not callable");
    }
    auto r = callee.fn->fn(a);
    if (!r.ok()) return locate(e, r);
    return r;
  }

  Result<Value> wrap(const Expr& e, Result<Value> r) {
    if (!r.ok()) return locate(e, r);
    return r;
  }

  Result<Value> eval(const Expr& e, const ScopePtr& scope) {
    GAVEL_TRY(step(e.line, e.col));
    switch (e.kind) {
      case ExprKind::kConst:
        return e.constant;
      case ExprKind::kName:
        return lookup(scope, e.name);
      case ExprKind::kList:
      case ExprKind::kTuple: {
        List items;
        items.reserve(e.items.size());
        for (const auto& x : e.items) {
          GAVEL_ASSIGN(Value v, eval(*x, scope));
          items.push_back(std::move(v));
        }
        return Value::make_list(std::move(items), e.kind == ExprKind::kTuple);
      }
      case ExprKind::kDict: {
        Dict d;
        for (size_t k = 0; k + 1 < e.items.size(); k += 2) {
          GAVEL_ASSIGN(Value key, eval(*e.items[k], scope));
          GAVEL_ASSIGN(Value v, eval(*e.items[k + 1], scope));
          if (key.kind == Kind::kList && !key.flag) return at(e, "unhashable type: 'list'");
          if (key.is_dict()) return at(e, "unhashable type: 'dict'");
          d.set(std::move(key), std::move(v));
        }
        return Value::make_dict(std::move(d));
      }
      case ExprKind::kGetattr: {
        GAVEL_ASSIGN(Value obj, eval(*e.items[0], scope));
        return wrap(e, get_attr(obj, e.name));
      }
      case ExprKind::kGetitem: {
        GAVEL_ASSIGN(Value obj, eval(*e.items[0], scope));
        GAVEL_ASSIGN(Value key, eval(*e.items[1], scope));
        return wrap(e, get_item(obj, key));
      }
      case ExprKind::kSlice: {
        GAVEL_ASSIGN(Value obj, eval(*e.items[0], scope));
        Value parts[3] = {Value::none(), Value::none(), Value::none()};
        for (int k = 0; k < 3; ++k) {
          if (e.items[k + 1]) {
            GAVEL_ASSIGN(parts[k], eval(*e.items[k + 1], scope));
          }
        }
        return wrap(e, slice(obj, parts[0], parts[1], parts[2]));
      }
      case ExprKind::kCall: {
        GAVEL_ASSIGN(Value callee, eval(*e.items[0], scope));
        CallArgs a;
        GAVEL_TRY(eval_args(e, scope, a));
        return invoke(e, callee, a);
      }
      case ExprKind::kFilter: {
        Value input;
        if (e.items[0]) {
          GAVEL_ASSIGN(input, eval(*e.items[0], scope));
        } else if (filter_input_) {
          input = *filter_input_;
        }
        CallArgs a;
        GAVEL_TRY(eval_args(e, scope, a));
        if (!is_jinja_filter(e.name)) return at(e, "no filter named '" + e.name + "' found");
        return wrap(e, call_filter(e.name, input, a));
      }
      case ExprKind::kTest: {
        GAVEL_ASSIGN(Value input, eval(*e.items[0], scope));
        CallArgs a;
        GAVEL_TRY(eval_args(e, scope, a));
        if (!is_jinja_test(e.name)) return at(e, "no test named '" + e.name + "' found");
        auto r = call_test(e.name, input, a);
        if (!r.ok()) return locate(e, r);
        return Value::boolean(r.value());
      }
      case ExprKind::kNeg:
      case ExprKind::kPos: {
        GAVEL_ASSIGN(Value v, eval(*e.items[0], scope));
        return wrap(e, negate(v, e.kind == ExprKind::kNeg));
      }
      case ExprKind::kNot: {
        GAVEL_ASSIGN(Value v, eval(*e.items[0], scope));
        return Value::boolean(!truthy(v));
      }
      case ExprKind::kAnd:
      case ExprKind::kOr: {
        GAVEL_ASSIGN(Value l, eval(*e.items[0], scope));
        if (truthy(l) == (e.kind == ExprKind::kOr)) return l;
        return eval(*e.items[1], scope);
      }
      case ExprKind::kBinary: {
        GAVEL_ASSIGN(Value l, eval(*e.items[0], scope));
        GAVEL_ASSIGN(Value r, eval(*e.items[1], scope));
        return wrap(e, binary_op(e.name, l, r));
      }
      case ExprKind::kConcat: {
        std::string out;
        for (const auto& x : e.items) {
          GAVEL_ASSIGN(Value v, eval(*x, scope));
          auto s = to_str(v);
          if (!s.ok()) return locate(*x, s);
          out += s.value();
        }
        return Value::string(std::move(out));
      }
      case ExprKind::kCompare: {
        GAVEL_ASSIGN(Value left, eval(*e.items[0], scope));
        for (size_t k = 0; k < e.ops.size(); ++k) {
          GAVEL_ASSIGN(Value right, eval(*e.items[k + 1], scope));
          auto r = compare(e.ops[k], left, right);
          if (!r.ok()) return locate(e, r);
          if (!r.value()) return Value::boolean(false);
          left = std::move(right);
        }
        return Value::boolean(true);
      }
      case ExprKind::kCondExpr: {
        GAVEL_ASSIGN(Value c, eval(*e.items[0], scope));
        if (truthy(c)) return eval(*e.items[1], scope);
        if (e.items[2]) return eval(*e.items[2], scope);
        return Value::undefined(
            "the inline if-expression evaluated to false and no else section was defined.");
      }
    }
    return at(e, "unsupported expression");
  }

  static Result<bool> compare(const std::string& op, const Value& a, const Value& b) {
    if (op == "==") return equals(a, b);
    if (op == "!=") return !equals(a, b);
    if (op == "in") return contains(b, a);
    if (op == "notin") {
      GAVEL_ASSIGN(bool in, contains(b, a));
      return !in;
    }
    bool less = false;
    if (op == "<") {
      GAVEL_TRY(less_than(a, b, &less));
      return less;
    }
    if (op == ">") {
      GAVEL_TRY(less_than(b, a, &less));
      return less;
    }
    if (op == "<=") {
      GAVEL_TRY(less_than(b, a, &less));
      return !less;
    }
    GAVEL_TRY(less_than(a, b, &less));  // >=
    return !less;
  }
};

Value to_value(const nlohmann::ordered_json& j) { return from_json(j); }

}  // namespace

Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

Result<Template> Template::compile(std::string_view source) {
  GAVEL_ASSIGN(Program p, parse_template(source));
  Template t;
  t.program_ = std::make_unique<Program>(std::move(p));
  return t;
}

Result<std::string> Template::render(const nlohmann::ordered_json& messages,
                                     const nlohmann::ordered_json& vars,
                                     const RenderOptions& opt) const {
  if (!vars.is_null() && !vars.is_object()) return Error{"template variables must be a JSON object"};
  auto root = std::make_shared<Scope>();
  // transformers always passes these four; tools/documents are None when not given.
  root->set("messages", to_value(messages));
  root->set("tools", Value::none());
  root->set("documents", Value::none());
  root->set("add_generation_prompt", Value::boolean(false));
  if (vars.is_object()) {
    for (auto it = vars.begin(); it != vars.end(); ++it) {
      if (it.key() == "messages") continue;
      root->set(it.key(), to_value(it.value()));
    }
  }
  Interp interp(opt);
  return interp.run(*program_, root);
}

Result<std::string> render_ordered(std::string_view template_source,
                                   const nlohmann::ordered_json& messages,
                                   const nlohmann::ordered_json& vars, const RenderOptions& opt) {
  GAVEL_ASSIGN(Template t, Template::compile(template_source));
  return t.render(messages, vars, opt);
}

Result<std::string> render(std::string_view template_source, const nlohmann::json& messages,
                           const nlohmann::json& vars) {
  // nlohmann::json objects are key-sorted; convert preserving what order they have.
  nlohmann::ordered_json m = nlohmann::ordered_json::parse(messages.dump());
  nlohmann::ordered_json v = nlohmann::ordered_json::parse(vars.is_null() ? "{}" : vars.dump());
  return render_ordered(template_source, m, v);
}

}  // namespace gavel::chat
