// Syntax tree of a parsed chat template (the jinja2 node types chat templates use).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/value.h"

namespace gavel::chat {

enum class ExprKind : uint8_t {
  kConst,     // constant
  kName,      // name
  kList,      // items
  kTuple,     // items
  kDict,      // items: key, value, key, value, ...
  kGetattr,   // items[0].name
  kGetitem,   // items[0][items[1]]
  kSlice,     // items[0][items[1]:items[2]:items[3]] (null = omitted)
  kCall,      // items[0](items[1..], kwargs)
  kFilter,    // items[0]|name(items[1..], kwargs); items[0] null inside a filter block
  kTest,      // items[0] is name(items[1..], kwargs)
  kNeg,       // -items[0]
  kPos,       // +items[0]
  kNot,       // not items[0]
  kAnd,       // items[0] and items[1]
  kOr,        // items[0] or items[1]
  kBinary,    // items[0] op items[1]; op in + - * / // % **
  kConcat,    // items[0] ~ items[1] ~ ...
  kCompare,   // items[0] ops[0] items[1] ops[1] items[2] ... (chained)
  kCondExpr,  // items[1] if items[0] else items[2] (items[2] may be null)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind;
  int line = 0;
  int col = 0;
  Value constant;
  std::string name;  // Name, Getattr attribute, Filter/Test name, Binary operator
  std::vector<ExprPtr> items;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // Compare operators: == != < <= > >= in notin
};

enum class StmtKind : uint8_t {
  kData,        // text
  kOutput,      // {{ expr }}
  kIf,          // conds[i] -> bodies[i]; else_body
  kFor,         // targets in expr [if cond] body [else else_body]
  kSet,         // targets (or ns.attr via attr) = expr
  kSetBlock,    // {% set target %}body{% endset %}, optional filter expr
  kMacro,       // name(params) body
  kCallBlock,   // {% call(params) expr %}body{% endcall %}
  kFilterBlock, // {% filter f %}body{% endfilter %}
  kGeneration,  // HF {% generation %}: renders its body as a caller would
  kBreak,
  kContinue,
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  int col = 0;
  std::string text;                  // Data text; Macro name; Set: namespace attribute
  ExprPtr expr;                      // Output/For iterable/Set value/CallBlock call/filter
  ExprPtr cond;                      // For inline filter
  std::vector<std::string> targets;  // For/Set names (several = tuple unpacking)
  std::vector<ExprPtr> conds;        // If/elif conditions
  std::vector<Body> bodies;          // If/elif bodies
  Body body;
  Body else_body;
  std::vector<MacroParam> params;  // Macro / CallBlock
  bool uses_caller = false;
  bool uses_kwargs = false;
  bool uses_varargs = false;
  bool recursive = false;
};

struct Program {
  Body body;
};

}  // namespace gavel::chat
