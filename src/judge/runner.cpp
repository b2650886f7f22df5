#include "judge/runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>

#include "judge/metrics.h"
#include "judge/templates.h"
#include "store/store.h"

namespace gavel::judge {
namespace {

// The output file, locked for this run: a second run given the same --out fails instead of
// interleaving its records with ours (the store itself is safe to share). The lock is taken
// before truncating, so the failing run leaves the other run's file alone.
Result<std::FILE*> open_locked_output(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return Error{fmt::format("{}: cannot create output file: {}", path, std::strerror(errno))};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK)
      return Error{
          fmt::format("{}: another process is writing this output file (use another --out)", path)};
    return Error{fmt::format("{}: cannot lock output file: {}", path, std::strerror(e))};
  }
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);  // not /dev/null, a pipe
  const char* failed = regular && ::ftruncate(fd, 0) != 0 ? "truncate" : nullptr;
  std::FILE* f = failed ? nullptr : ::fdopen(fd, "wb");
  if (!f) {
    const int e = errno;
    ::close(fd);
    return Error{fmt::format("{}: cannot {} output file: {}", path, failed ? failed : "open",
                             std::strerror(e))};
  }
  return f;
}

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Model output may hold invalid UTF-8 (a multi-byte character cut at max_tokens): replace
// rather than throw when serializing.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

constexpr const char* kSchema = "gavel-judge/1";

struct Task {
  int order = 0;  // 0: texts as given; 1: A and B swapped (critique pairwise, second order)
  std::string key;
  std::vector<std::string> prompts;  // pairwise-logprob: 2 passes; critique: 1
  std::optional<Json> record;        // stored or computed judgment
  bool cached = false;
  std::string error;
};

struct Prepared {
  Item item;
  std::vector<Task> tasks;
};

std::string finish_name(GenerateResult::Finish f) {
  switch (f) {
    case GenerateResult::Finish::kStop:
      return "stop";
    case GenerateResult::Finish::kEos:
      return "eos";
    case GenerateResult::Finish::kLength:
      return "length";
  }
  return "?";
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  auto t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{:02}:{:02}", t / 60, t % 60);
}

class Runner {
 public:
  Runner(Backend& backend, const ChatRenderer& render, store::Store& store, const RunConfig& cfg,
         std::FILE* log)
      : backend_(backend), render_(render), store_(store), cfg_(cfg), log_(log) {}

  Result<RunSummary> run();

 private:
  Result<Prepared> prepare(std::string_view text, int64_t line);
  Result<Task> pairwise_task(const Item& item);
  Result<Task> critique_task(const Item& item, int order);
  std::string task_key(const Task& t) const;
  Json params_json() const;

  void compute(std::vector<Task*>& tasks);
  Status compute_pairwise(std::vector<Task*>& tasks);
  Status compute_critique(std::vector<Task*>& tasks);
  Json item_record(const Prepared& p) const;
  void tally(const Prepared& p, const Json& rec);
  void progress(bool final);

  Backend& backend_;
  const ChatRenderer& render_;
  store::Store& store_;
  const RunConfig& cfg_;
  std::FILE* log_;
  RunSummary sum_;
  Clock::time_point start_ = Clock::now(), last_progress_{};
  int64_t judged_items_ = 0;
  PairwiseTally pairwise_tally_;
  ScoreTally score_tally_;
  int classify_n_ = 0, classify_correct_ = 0;
  std::map<std::string, int> outcomes_;
};

std::string Runner::task_key(const Task& t) const {
  store::KeyBuilder k;
  k.add("schema", kSchema)
      .add("model", backend_.info().fingerprint)
      .add("protocol", name(cfg_.protocol));
  if (cfg_.protocol == Protocol::kPairwiseLogprob) {
    std::string sys = cfg_.pairwise.system_prompt.empty()
                          ? std::string(*find_template("card_system"))
                          : cfg_.pairwise.system_prompt;
    k.add("template", "card_system").add("template_text", sys);
  } else {
    std::string tname = *critique_template_name(cfg_.critique.mode, cfg_.critique.format);
    k.add("template", tname).add("template_text", *find_template(tname));
  }
  for (const std::string& p : t.prompts) k.add("prompt", p);
  k.add("params", params_json().dump());
  return k.hex();
}

Json Runner::params_json() const {
  if (cfg_.protocol == Protocol::kPairwiseLogprob) {
    bool topk = cfg_.pairwise.read == PairwiseLogprobConfig::Read::kTopK;
    return {{"read", topk ? "top-k" : "full"},
            {"top_k", topk ? cfg_.pairwise.top_k : 0},
            {"candidates", {"A", "B"}}};
  }
  const GenerateParams& g = cfg_.critique.gen;
  return {{"mode", name(cfg_.critique.mode)},
          {"max_tokens", g.max_tokens},
          {"temperature", g.temperature},
          {"top_p", g.top_p},
          {"seed", g.seed},
          {"stop", g.stop},
          {"verdict_distribution", cfg_.critique.verdict_distribution}};
}

Result<Task> Runner::pairwise_task(const Item& item) {
  const FieldMap& f = cfg_.fields;
  GAVEL_ASSIGN(std::string instruction, item_text(item, f, "instruction"));
  GAVEL_ASSIGN(std::string a, item_text(item, f, "A"));
  GAVEL_ASSIGN(std::string b, item_text(item, f, "B"));
  auto prompts = pairwise_prompts(instruction, a, b, cfg_.pairwise, backend_.info(), render_);
  if (!prompts.ok()) return Error{fmt::format("line {}: {}", item.line, prompts.message())};
  Task t;
  t.prompts = {(*prompts)[0], (*prompts)[1]};
  t.key = task_key(t);
  return t;
}

Result<Task> Runner::critique_task(const Item& item, int order) {
  auto vars = selene_vars(item, cfg_.fields, cfg_.critique.mode, cfg_.critique.format, order == 1);
  if (!vars.ok()) return Error{vars.message()};
  auto user = critique_user_content(cfg_.critique.mode, cfg_.critique.format, *vars);
  if (!user.ok()) return Error{fmt::format("line {}: {}", item.line, user.message())};
  auto prompt = critique_prompt(*user, cfg_.critique, backend_.info(), render_);
  if (!prompt.ok()) return Error{fmt::format("line {}: {}", item.line, prompt.message())};
  Task t;
  t.order = order;
  t.prompts = {std::move(*prompt)};
  t.key = task_key(t);
  return t;
}

Result<Prepared> Runner::prepare(std::string_view text, int64_t line) {
  Prepared p;
  GAVEL_ASSIGN(p.item, parse_item(text, line, cfg_.fields));
  if (cfg_.protocol == Protocol::kPairwiseLogprob) {
    GAVEL_ASSIGN(Task t, pairwise_task(p.item));
    p.tasks.push_back(std::move(t));
  } else {
    int orders = (cfg_.critique.mode == Mode::kPairwise && cfg_.both_orders) ? 2 : 1;
    for (int o = 0; o < orders; ++o) {
      GAVEL_ASSIGN(Task t, critique_task(p.item, o));
      p.tasks.push_back(std::move(t));
    }
  }
  for (Task& t : p.tasks) {
    GAVEL_ASSIGN(auto stored, store_.get(t.key));
    if (stored) {
      try {
        t.record = Json::parse(*stored);
        t.cached = true;
      } catch (const Json::exception&) {
        // An unreadable stored record is judged again; INSERT OR IGNORE keeps the old row.
      }
    }
  }
  return p;
}

Status Runner::compute_pairwise(std::vector<Task*>& tasks) {
  std::vector<ScoreRequest> reqs;
  for (Task* t : tasks)
    for (const std::string& p : t->prompts)
      reqs.push_back(pairwise_score_request(p, cfg_.pairwise));
  GAVEL_ASSIGN(auto results, backend_.score(reqs));
  if (results.size() != reqs.size())
    return Error{
        fmt::format("backend returned {} results for {} requests", results.size(), reqs.size())};
  for (size_t i = 0; i < tasks.size(); ++i) {
    GAVEL_ASSIGN(PairwisePass p1, read_pass(results[2 * i], cfg_.pairwise));
    GAVEL_ASSIGN(PairwisePass p2, read_pass(results[2 * i + 1], cfg_.pairwise));
    PairwiseLogprobJudgment j = combine_passes(std::move(p1), std::move(p2));
    Json rec = to_json(j, false);
    rec["prompt_tokens"] = {results[2 * i].prompt_tokens, results[2 * i + 1].prompt_tokens};
    tasks[i]->record = std::move(rec);
  }
  return Status::Ok();
}

Status Runner::compute_critique(std::vector<Task*>& tasks) {
  const CritiqueConfig& c = cfg_.critique;
  std::vector<GenerateRequest> reqs;
  for (Task* t : tasks) reqs.push_back(GenerateRequest{t->prompts[0], c.gen});
  GAVEL_ASSIGN(auto gens, backend_.generate(reqs));
  if (gens.size() != reqs.size())
    return Error{
        fmt::format("backend returned {} generations for {} requests", gens.size(), reqs.size())};
  std::vector<ParsedVerdict> parsed;
  std::vector<ScoreRequest> vreqs;
  std::vector<size_t> vidx;
  for (size_t i = 0; i < tasks.size(); ++i) {
    parsed.push_back(
        parse_verdict(gens[i].text, c.mode, gens[i].finish == GenerateResult::Finish::kLength));
    if (c.verdict_distribution && parsed.back().has_marker) {
      vreqs.push_back(verdict_request(tasks[i]->prompts[0], gens[i].text, parsed.back(), c.mode));
      vidx.push_back(i);
    }
  }
  std::vector<std::optional<VerdictDistribution>> verdicts(tasks.size());
  if (!vreqs.empty()) {
    GAVEL_ASSIGN(auto scored, backend_.score(vreqs));
    if (scored.size() != vreqs.size())
      return Error{"backend returned a wrong number of verdict scores"};
    for (size_t k = 0; k < vidx.size(); ++k) {
      GAVEL_ASSIGN(VerdictDistribution v, read_verdict(scored[k], c.mode));
      verdicts[vidx[k]] = std::move(v);
    }
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    const ParsedVerdict& pv = parsed[i];
    Json rec = {{"critique", gens[i].text},
                {"finish", finish_name(gens[i].finish)},
                {"generated_tokens", gens[i].tokens.size()},
                {"prompt_tokens", gens[i].prompt_tokens},
                {"outcome", name(pv.outcome)},
                {"label", pv.outcome == Outcome::kValid ? Json(pv.label) : Json(nullptr)},
                {"raw_label", pv.has_marker ? Json(pv.raw_label) : Json(nullptr)},
                {"verdict", verdicts[i] ? to_json(*verdicts[i]) : Json(nullptr)}};
    if (c.mode == Mode::kPairwise) rec["order"] = tasks[i]->order == 0 ? "AB" : "BA";
    tasks[i]->record = std::move(rec);
  }
  return Status::Ok();
}

void Runner::compute(std::vector<Task*>& tasks) {
  if (tasks.empty()) return;
  auto attempt = [&](std::vector<Task*>& ts) {
    return cfg_.protocol == Protocol::kPairwiseLogprob ? compute_pairwise(ts)
                                                       : compute_critique(ts);
  };
  Status st = attempt(tasks);
  if (st.ok()) return;
  if (tasks.size() == 1) {
    tasks[0]->record.reset();
    tasks[0]->error = st.message();
    return;
  }
  // A batch failed (one prompt too long, say): judge one by one so only the culprit fails.
  for (Task* t : tasks) {
    t->record.reset();
    std::vector<Task*> one{t};
    Status s = attempt(one);
    if (!s.ok()) t->error = s.message();
  }
}

Json Runner::item_record(const Prepared& p) const {
  Json out = {{"id", p.item.id}, {"line", p.item.line}, {"protocol", name(cfg_.protocol)}};
  if (p.item.label) out["label"] = *p.item.label;
  if (cfg_.protocol == Protocol::kPairwiseLogprob) {
    const Task& t = p.tasks[0];
    for (auto& [k, v] : t.record->items()) out[k] = v;
    if (cfg_.keep_prompts) {
      out["pass1"]["prompt"] = t.prompts[0];
      out["pass2"]["prompt"] = t.prompts[1];
    }
    out["key"] = t.key;
    out["cached"] = t.cached;
    return out;
  }
  const CritiqueConfig& c = cfg_.critique;
  out["mode"] = name(c.mode);
  out["format"] = name(c.format);
  Json passes = Json::array();
  for (const Task& t : p.tasks) {
    Json r = *t.record;
    r["key"] = t.key;
    r["cached"] = t.cached;
    if (cfg_.keep_prompts) r["prompt"] = t.prompts[0];
    passes.push_back(std::move(r));
  }
  const Json& first = passes[0];
  if (c.mode == Mode::kAbsolute || c.mode == Mode::kAbsoluteRef) {
    out["score"] = first["label"].is_string() ? Json(std::stoi(first["label"].get<std::string>()))
                                              : Json(nullptr);
    out["expected_score"] =
        first["verdict"].is_object() ? first["verdict"]["expected"] : Json(nullptr);
  } else if (c.mode == Mode::kClassify || c.mode == Mode::kClassifyRef) {
    out["verdict"] = first["label"];
    out["p_yes"] = first["verdict"].is_object() ? first["verdict"]["probs"]["Yes"] : Json(nullptr);
  } else {
    // Preferences in terms of the input's texts: text1 = the record's A field.
    std::vector<Json> pref;
    double p_sum = 0;
    bool all_p = true;
    for (const Json& r : passes) {
      bool swapped = r["order"] == "BA";
      if (r["label"].is_string()) {
        bool says_a = r["label"] == "A";
        pref.push_back((says_a != swapped) ? "text1" : "text2");
      } else {
        pref.push_back(nullptr);
      }
      if (r["verdict"].is_object()) {
        double pa = r["verdict"]["probs"]["A"].get<double>();
        p_sum += swapped ? 1.0 - pa : pa;
      } else {
        all_p = false;
      }
    }
    out["preferences"] = pref;
    bool agree = std::all_of(pref.begin(), pref.end(), [&](const Json& x) { return x == pref[0]; });
    out["preferred"] = agree ? pref[0] : Json(nullptr);
    out["p_text1"] = all_p ? Json(p_sum / passes.size()) : Json(nullptr);
  }
  out["passes"] = std::move(passes);
  return out;
}

std::optional<std::string> label_text(const Json& label) {
  if (label.is_string()) return label.get<std::string>();
  if (label.is_boolean()) return label.get<bool>() ? "Yes" : "No";
  return std::nullopt;
}

void Runner::tally(const Prepared& p, const Json& rec) {
  if (cfg_.protocol == Protocol::kCritique)
    for (const Json& r : rec["passes"]) outcomes_[r["outcome"].get<std::string>()]++;
  if (!p.item.label) return;
  const Json& gold = *p.item.label;
  Mode mode = cfg_.critique.mode;
  if (cfg_.protocol == Protocol::kPairwiseLogprob || mode == Mode::kPairwise) {
    auto g = label_text(gold);
    if (!g || (*g != "A" && *g != "B")) return;  // ties and odd labels are not scored
    bool gold1 = *g == "A";
    if (cfg_.protocol == Protocol::kPairwiseLogprob) {
      double pa1 = rec["pass1"]["p_A"], pb1 = rec["pass1"]["p_B"];
      double pa2 = rec["pass2"]["p_A"], pb2 = rec["pass2"]["p_B"];
      std::optional<bool> o1, o2;  // equal probabilities prefer neither
      if (pa1 != pb1) o1 = pa1 > pb1;
      if (pa2 != pb2) o2 = pb2 > pa2;
      pairwise_tally_.add(gold1, rec["p_text1"].get<double>(), o1, o2);
    } else {
      std::vector<std::optional<bool>> o;
      for (const Json& x : rec["preferences"])
        o.push_back(x.is_string() ? std::optional<bool>(x == "text1") : std::nullopt);
      std::optional<double> p1;
      if (rec["p_text1"].is_number()) {
        p1 = rec["p_text1"].get<double>();
      } else {
        double s = 0;
        bool all = true;
        for (auto& x : o) all = all && x.has_value(), s += x.value_or(false) ? 1.0 : 0.0;
        if (all) p1 = s / o.size();
      }
      pairwise_tally_.add(gold1, p1, o[0], o.size() > 1 ? o[1] : std::nullopt);
    }
  } else if (mode == Mode::kAbsolute || mode == Mode::kAbsoluteRef) {
    double g;
    if (gold.is_number())
      g = gold.get<double>();
    else if (gold.is_string()) {
      try {
        g = std::stod(gold.get<std::string>());
      } catch (...) {
        return;
      }
    } else
      return;
    std::optional<double> parsed, expected;
    if (rec["score"].is_number()) parsed = rec["score"].get<double>();
    if (rec["expected_score"].is_number()) expected = rec["expected_score"].get<double>();
    score_tally_.add(g, parsed, expected);
  } else {
    auto g = label_text(gold);
    if (!g) return;
    ++classify_n_;
    classify_correct_ += rec["verdict"].is_string() && rec["verdict"] == *g;
  }
}

void Runner::progress(bool final) {
  if (!cfg_.progress || !log_) return;
  auto now = Clock::now();
  bool tty = isatty(fileno(log_));
  if (!final && now - last_progress_ < std::chrono::milliseconds(tty ? 200 : 5000)) return;
  last_progress_ = now;
  double el = std::chrono::duration<double>(now - start_).count();
  int64_t handled = sum_.done + static_cast<int64_t>(sum_.errors.size());
  double rate = el > 0 ? judged_items_ / el : 0;
  int64_t left = sum_.items - handled;
  double eta = rate > 0 ? left / rate : NAN;
  int width = 24;
  int filled = sum_.items ? static_cast<int>(width * handled / sum_.items) : width;
  std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  std::fprintf(log_, "%sjudge [%s] %lld/%lld %.2f it/s ETA %s (cached %lld, errors %zu)%s",
               tty ? "\r" : "", bar.c_str(), static_cast<long long>(handled),
               static_cast<long long>(sum_.items), rate, format_duration(eta).c_str(),
               static_cast<long long>(sum_.cached), sum_.errors.size(), tty && !final ? "" : "\n");
  std::fflush(log_);
}

Result<RunSummary> Runner::run() {
  std::ifstream in(cfg_.input_path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open input", cfg_.input_path)};
  std::vector<std::pair<int64_t, std::string>> lines;
  std::string text;
  for (int64_t n = 1; std::getline(in, text); ++n) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    bool blank = text.find_first_not_of(" \t") == std::string::npos;
    if (!blank) lines.emplace_back(n, std::move(text));
  }
  std::vector<size_t> order(lines.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (cfg_.shuffle_seed) shuffle_indices(order, *cfg_.shuffle_seed);
  if (cfg_.limit >= 0 && static_cast<size_t>(cfg_.limit) < order.size()) order.resize(cfg_.limit);
  sum_.items = static_cast<int64_t>(order.size());

  std::FILE* out = nullptr;
  if (cfg_.out_path == "-")
    out = stdout;
  else if (!cfg_.out_path.empty()) {
    GAVEL_ASSIGN(out, open_locked_output(cfg_.out_path));
  }
  auto close_out = [&] {
    if (out && out != stdout) std::fclose(out);
  };

  size_t batch = static_cast<size_t>(std::max(1, cfg_.batch));
  for (size_t pos = 0; pos < order.size() && !sum_.stopped; pos += batch) {
    std::vector<std::optional<Prepared>> preps;
    std::vector<Task*> pending;
    size_t end = std::min(order.size(), pos + batch);
    for (size_t i = pos; i < end; ++i) {
      const auto& [line, txt] = lines[order[i]];
      auto p = prepare(txt, line);
      if (!p.ok()) {
        sum_.errors.push_back({line, p.message()});
        preps.emplace_back();
        if (cfg_.stop_on_error) {
          sum_.stopped = true;
          break;
        }
        continue;
      }
      preps.emplace_back(std::move(*p));
    }
    for (auto& p : preps)
      if (p)
        for (Task& t : p->tasks)
          if (!t.record) pending.push_back(&t);
    compute(pending);
    // Commit every new judgment of the batch in one transaction before reporting any of it.
    std::vector<store::Judgment> rows;
    for (auto& p : preps) {
      if (!p) continue;
      for (Task& t : p->tasks)
        if (t.record && !t.cached)
          rows.push_back({t.key, std::string(name(cfg_.protocol)), backend_.info().fingerprint,
                          p->item.id, dump(*t.record), ""});
    }
    if (!rows.empty()) {
      Status st = store_.put(rows);
      if (!st.ok()) {
        close_out();
        return Error{"store: " + st.message()};
      }
    }
    for (auto& p : preps) {
      if (!p) continue;
      std::string err;
      bool any_new = false;
      for (Task& t : p->tasks) {
        if (!t.error.empty() && err.empty()) err = t.error;
        if (t.record && !t.cached) any_new = true;
        if (t.record) (t.cached ? sum_.cached : sum_.judged)++;
      }
      if (!err.empty()) {
        sum_.errors.push_back({p->item.line, fmt::format("line {}: {}", p->item.line, err)});
        if (cfg_.stop_on_error) sum_.stopped = true;
        continue;
      }
      Json rec = item_record(*p);
      tally(*p, rec);
      ++sum_.done;
      if (any_new) ++judged_items_;
      if (out) {
        std::string s = dump(rec);
        s += '\n';
        std::fwrite(s.data(), 1, s.size(), out);
        std::fflush(out);
      }
      if (sum_.stopped) break;
    }
    progress(false);
  }
  close_out();
  progress(true);
  sum_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  Json m;
  if (cfg_.protocol == Protocol::kPairwiseLogprob || cfg_.critique.mode == Mode::kPairwise)
    m = pairwise_tally_.report();
  else if (cfg_.critique.mode == Mode::kAbsolute || cfg_.critique.mode == Mode::kAbsoluteRef)
    m = score_tally_.report();
  else
    m = {{"n_labelled", classify_n_},
         {"accuracy", classify_n_ ? Json(double(classify_correct_) / classify_n_) : Json(nullptr)}};
  if (cfg_.protocol == Protocol::kCritique) m["outcomes"] = outcomes_;
  sum_.metrics = std::move(m);
  return sum_;
}

}  // namespace

void shuffle_indices(std::vector<size_t>& v, uint64_t seed) {
  uint64_t s = seed;
  auto next = [&] {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
}

Result<RunSummary> run_judge(Backend& backend, const ChatRenderer& render, store::Store& store,
                             const RunConfig& cfg, std::FILE* log) {
  return Runner(backend, render, store, cfg, log).run();
}

std::string format_summary(const RunSummary& s, const RunConfig& cfg) {
  std::string out =
      fmt::format("judged {} of {} items in {:.1f} s ({} new judgments, {} from store)", s.done,
                  s.items, s.seconds, s.judged, s.cached);
  if (s.stopped) out += "; stopped at the first error (--on-error stop)";
  out += '\n';
  if (!s.errors.empty()) {
    out += fmt::format("{} item(s) failed:\n", s.errors.size());
    for (size_t i = 0; i < s.errors.size() && i < 20; ++i) out += "  " + s.errors[i].message + "\n";
    if (s.errors.size() > 20) out += fmt::format("  ... and {} more\n", s.errors.size() - 20);
  }
  const Json& m = s.metrics;
  auto pct = [](const Json& v) {
    return v.is_number() ? fmt::format("{:.1f}%", 100 * v.get<double>()) : std::string("n/a");
  };
  auto num = [](const Json& v) {
    return v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : std::string("n/a");
  };
  if (m.contains("strict_accuracy_both_orders")) {
    if (m["n_labelled"].get<int>() > 0)
      out += fmt::format(
          "pairwise vs labels (n={}): accuracy {}, strict accuracy (both orders) {} over {}, "
          "positional consistency {}, mean target probability {}\n",
          m["n_labelled"].get<int>(), pct(m["accuracy"]), pct(m["strict_accuracy_both_orders"]),
          m["n_both_orders"].get<int>(), pct(m["positional_consistency"]),
          pct(m["mean_target_probability"]));
  } else if (m.contains("pearson")) {
    if (m["n_labelled"].get<int>() > 0)
      out += fmt::format(
          "absolute vs labels (n={}): parsed score (n={}) Pearson {} Spearman {}; expected score "
          "(n={}) Pearson {} Spearman {}\n",
          m["n_labelled"].get<int>(), m["n_valid"].get<size_t>(), num(m["pearson"]),
          num(m["spearman"]), m["n_expected"].get<size_t>(), num(m["pearson_expected"]),
          num(m["spearman_expected"]));
  } else if (m.contains("accuracy") && m["n_labelled"].get<int>() > 0) {
    out += fmt::format("classification vs labels (n={}): accuracy {}\n", m["n_labelled"].get<int>(),
                       pct(m["accuracy"]));
  }
  if (m.contains("outcomes")) {
    out += "critique outcomes:";
    for (auto& [k, v] : m["outcomes"].items()) out += fmt::format(" {} {}", k, v.get<int>());
    out += '\n';
  }
  (void)cfg;
  return out;
}

}  // namespace gavel::judge
