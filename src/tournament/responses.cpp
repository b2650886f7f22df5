#include "tournament/responses.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "core/random.h"
#include "meta/jsonl.h"

namespace gavel::tournament {
namespace {

// FNV-1a: a stable hash of names, so a choice by seed does not depend on input order.
uint64_t name_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// "2" < "10": numeric iterations compare as numbers, others as text.
bool iteration_less(const std::string& a, const std::string& b) {
  auto numeric = [](const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (numeric(a) && numeric(b) && a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

Result<std::vector<std::string>> select(const std::vector<std::string>& seen,
                                        const std::vector<std::string>& wanted, int max,
                                        const std::string& path, const char* what) {
  std::vector<std::string> out;
  if (wanted.empty()) {
    out = seen;
  } else {
    std::set<std::string> known(seen.begin(), seen.end()), taken;
    for (const std::string& w : wanted) {
      if (!known.count(w))
        return Error{fmt::format("{}: no {} \"{}\" in the input", path, what, w)};
      if (taken.insert(w).second) out.push_back(w);
    }
  }
  if (max > 0 && static_cast<int>(out.size()) > max) out.resize(max);
  return out;
}

}  // namespace

Status ResponseFields::apply(const std::vector<std::string>& specs) {
  for (const std::string& s : specs) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      return Error{fmt::format("--field '{}': expected logical=input_field", s)};
    std::string key = s.substr(0, eq), val = s.substr(eq + 1);
    if (key == "writer")
      writer = val;
    else if (key == "prompt")
      prompt = val;
    else if (key == "instruction")
      instruction = val;
    else if (key == "response")
      response = val;
    else if (key == "iteration")
      iteration = val;
    else if (key == "score")
      score = val;
    else
      return Error{fmt::format(
          "--field '{}': unknown field '{}' (writer, prompt, instruction, response, iteration, "
          "score)",
          s, key)};
  }
  return Status::Ok();
}

int ResponseSet::missing() const {
  int n = 0;
  for (int w = 0; w < n_writers(); ++w)
    for (int p = 0; p < n_prompts(); ++p) n += !has(w, p);
  return n;
}

Result<ResponseSet> load_responses(const std::string& path, const LoadOptions& opts) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open input", path)};
  const ResponseFields& f = opts.fields;
  meta::Jsonl js;
  js.path = path;
  struct Row {
    std::string writer, prompt, instruction;
    Response r;
  };
  std::vector<Row> rows;
  std::vector<LineError> bad;
  std::string text;
  for (int64_t n = 1; std::getline(in, text); ++n) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    meta::JsonlRow jr;
    jr.line = static_cast<int>(n);
    try {
      jr.value = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      bad.push_back({n, fmt::format("{}:{}: invalid JSON ({})", path, n, e.what())});
      continue;
    }
    if (!jr.value.is_object()) {
      bad.push_back({n, fmt::format("{}:{}: not a JSON object", path, n)});
      continue;
    }
    Row row;
    row.r.line = n;
    auto take = [&](const std::string& field, std::string& out) -> bool {
      auto v = js.text(jr, field);
      if (!v.ok()) {
        bad.push_back({n, v.message()});
        return false;
      }
      out = std::move(*v);
      return true;
    };
    if (!take(f.writer, row.writer) || !take(f.prompt, row.prompt) ||
        !take(f.instruction, row.instruction))
      continue;
    // The response must be text (an empty response is a response; a number is not).
    const auto* resp = jr.value.contains(f.response) ? &jr.value[f.response] : nullptr;
    if (!resp || !resp->is_string()) {
      bad.push_back({n, fmt::format("{}:{}: field \"{}\" is {}", path, n, f.response,
                                    resp ? "not a string" : "missing")});
      continue;
    }
    row.r.text = resp->get<std::string>();
    if (!f.iteration.empty() && js.has(jr, f.iteration) && !take(f.iteration, row.r.iteration))
      continue;
    if (!f.score.empty() && js.has(jr, f.score)) {
      auto s = js.number(jr, f.score);
      if (s.ok()) row.r.score = *s;
    }
    rows.push_back(std::move(row));
  }
  if (!bad.empty() && !opts.skip_bad_lines) {
    std::string msg = fmt::format("{} malformed line(s) in {}:", bad.size(), path);
    for (size_t i = 0; i < bad.size() && i < 10; ++i) msg += "\n  " + bad[i].message;
    if (bad.size() > 10) msg += fmt::format("\n  ... and {} more", bad.size() - 10);
    msg += "\n(fix them, or leave them out with --on-bad-line skip)";
    return Error{msg};
  }
  std::vector<std::string> writers_seen, prompts_seen;
  std::map<std::string, std::pair<std::string, int64_t>> instruction_of;  // prompt -> (text, line)
  for (const Row& r : rows) {
    if (std::find(writers_seen.begin(), writers_seen.end(), r.writer) == writers_seen.end())
      writers_seen.push_back(r.writer);
    auto [it, fresh] = instruction_of.emplace(r.prompt, std::make_pair(r.instruction, r.r.line));
    if (fresh)
      prompts_seen.push_back(r.prompt);
    else if (it->second.first != r.instruction)
      return Error{
          fmt::format("{}:{}: prompt \"{}\" has another instruction than on line {} (field \"{}\")",
                      path, r.r.line, r.prompt, it->second.second, f.instruction)};
  }
  ResponseSet set;
  set.path = path;
  set.skipped = std::move(bad);
  GAVEL_ASSIGN(set.writers, select(writers_seen, opts.writers, opts.max_writers, path, "writer"));
  GAVEL_ASSIGN(set.prompts, select(prompts_seen, opts.prompts, opts.max_prompts, path, "prompt"));
  if (set.writers.size() < 2)
    return Error{fmt::format("{}: a tournament needs at least 2 writers, {} selected", path,
                             set.writers.size())};
  if (set.prompts.empty()) return Error{fmt::format("{}: no prompt selected", path)};
  std::map<std::string, int> wi, pi;
  for (size_t i = 0; i < set.writers.size(); ++i) wi[set.writers[i]] = static_cast<int>(i);
  for (size_t i = 0; i < set.prompts.size(); ++i) {
    pi[set.prompts[i]] = static_cast<int>(i);
    set.instructions.push_back(instruction_of[set.prompts[i]].first);
  }
  set.responses.assign(set.writers.size(), std::vector<std::vector<Response>>(set.prompts.size()));
  for (Row& r : rows) {
    auto w = wi.find(r.writer);
    auto p = pi.find(r.prompt);
    if (w == wi.end() || p == pi.end()) continue;
    auto& cell = set.responses[w->second][p->second];
    for (const Response& other : cell)
      if (other.iteration == r.r.iteration)
        return Error{fmt::format(
            "{}:{}: writer \"{}\" already has a response to prompt \"{}\" iteration \"{}\" (line "
            "{})",
            path, r.r.line, r.writer, r.prompt, r.r.iteration, other.line)};
    cell.push_back(std::move(r.r));
  }
  for (auto& row : set.responses)
    for (auto& cell : row)
      std::sort(cell.begin(), cell.end(), [](const Response& a, const Response& b) {
        return iteration_less(a.iteration, b.iteration);
      });
  return set;
}

Result<IterationChoice> parse_iteration_choice(std::string_view s) {
  if (s == "first") return IterationChoice::kFirst;
  if (s == "seed") return IterationChoice::kSeed;
  if (s == "all") return IterationChoice::kAll;
  return Error{fmt::format("unknown iteration choice '{}' (expected first|seed|all)", s)};
}

std::string_view name(IterationChoice c) {
  switch (c) {
    case IterationChoice::kFirst:
      return "first";
    case IterationChoice::kSeed:
      return "seed";
    case IterationChoice::kAll:
      return "all";
  }
  return "?";
}

int pick_iteration(const ResponseSet& set, int writer, int prompt, IterationChoice choice,
                   uint64_t seed, int tournament, int round) {
  const auto& cell = set.responses[writer][prompt];
  if (cell.size() <= 1 || choice == IterationChoice::kFirst) return 0;
  uint64_t h = splitmix64(seed ^ name_hash(set.writers[writer]));
  h = splitmix64(h ^ name_hash(set.prompts[prompt]));
  if (choice == IterationChoice::kAll)
    h = splitmix64(h ^ (static_cast<uint64_t>(tournament) << 32 | static_cast<uint32_t>(round)));
  return static_cast<int>(h % cell.size());
}

}  // namespace gavel::tournament
