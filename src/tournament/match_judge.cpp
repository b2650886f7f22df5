#include "tournament/match_judge.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <set>

namespace gavel::tournament {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

int64_t sum_prompt_tokens(const Json& rec) {
  auto it = rec.find("prompt_tokens");
  if (it == rec.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  int64_t s = 0;
  if (it->is_array())
    for (const Json& v : *it)
      if (v.is_number_integer()) s += v.get<int64_t>();
  return s;
}

std::string match_name(const ResponseSet& set, const MatchSpec& m) {
  return fmt::format("match {} vs {} on prompt {}", set.writers[m.writer1], set.writers[m.writer2],
                     set.prompts[m.prompt]);
}

class ModelMatchJudge : public MatchJudge {
 public:
  ModelMatchJudge(Backend& backend, const judge::JudgeProtocol& protocol, store::Store& store,
                  const ResponseSet& set, TextBook& texts, ModelJudgeOptions opts)
      : backend_(backend),
        protocol_(protocol),
        store_(store),
        set_(set),
        texts_(texts),
        opts_(opts) {}

  bool is_model() const override { return true; }
  std::string description() const override {
    return fmt::format("{} on {}", protocol_.name(), backend_.info().fingerprint);
  }

  Result<std::vector<MatchResult>> judge(std::span<const MatchSpec> ms) override {
    struct Pending {
      std::vector<judge::Task> tasks;
      bool swapped = false;
      judge::Item item;
    };
    std::vector<Pending> ps(ms.size());
    std::vector<judge::Task*> todo;
    std::map<std::string, std::vector<judge::Task*>> waiting;  // key -> tasks that need it
    std::map<const judge::Task*, size_t> owner;                // task -> its match
    std::set<const judge::Task*> from_store;
    for (size_t i = 0; i < ms.size(); ++i) {
      Pending& p = ps[i];
      auto ci = canonical_item(set_, texts_, ms[i]);
      if (!ci.ok()) return Error{fmt::format("{}: {}", match_name(set_, ms[i]), ci.message())};
      p.swapped = ci->second;
      p.item.line = set_.responses[ms[i].writer1][ms[i].prompt][ms[i].iteration1].line;
      p.item.id = fmt::format("{}|{}|{}", set_.prompts[ms[i].prompt],
                              set_.writers[p.swapped ? ms[i].writer2 : ms[i].writer1],
                              set_.writers[p.swapped ? ms[i].writer1 : ms[i].writer2]);
      p.item.record = std::move(ci->first);
      auto tasks = protocol_.plan(p.item);
      if (!tasks.ok())
        return Error{fmt::format("{}: {}", match_name(set_, ms[i]), tasks.message())};
      p.tasks = std::move(*tasks);
      for (judge::Task& t : p.tasks) {
        owner[&t] = i;
        if (auto m = memo_.find(t.key); m != memo_.end()) {
          t.record = m->second.record;
          t.cached = true;
          if (m->second.from_store) from_store.insert(&t);
          ++counters_.reused_judgments;
          continue;
        }
        GAVEL_ASSIGN(auto stored, store_.get(t.key));
        if (stored) {
          try {
            t.record = Json::parse(*stored);
            t.cached = true;
            memo_[t.key] = {*t.record, true};
            from_store.insert(&t);
            ++counters_.stored_judgments;
            continue;
          } catch (const Json::exception&) {
            // unreadable stored record: judged again (the store keeps the old row)
          }
        }
        auto& w = waiting[t.key];
        if (w.empty())
          todo.push_back(&t);
        else
          ++counters_.reused_judgments;
        w.push_back(&t);
      }
    }
    const size_t batch = static_cast<size_t>(std::max(1, opts_.batch));
    for (size_t at = 0; at < todo.size(); at += batch) {
      std::vector<judge::Task*> chunk(todo.begin() + at,
                                      todo.begin() + std::min(todo.size(), at + batch));
      auto t0 = Clock::now();
      Status st = protocol_.compute(backend_, chunk);
      if (!st.ok() && chunk.size() > 1) {
        // Judge one by one so the error names the culprit.
        for (judge::Task* t : chunk) {
          t->record.reset();
          judge::Task* one[] = {t};
          st = protocol_.compute(backend_, one);
          if (!st.ok()) break;
        }
      }
      counters_.judge_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      if (!st.ok()) return Error{fmt::format("judging failed: {}", st.message())};
      std::vector<store::Judgment> rows;
      for (judge::Task* t : chunk) {
        std::string text = dump(*t->record);
        // What later runs read back from the store, bit for bit.
        t->record = Json::parse(text);
        rows.push_back({t->key, std::string(protocol_.name()), backend_.info().fingerprint,
                        ps[owner[t]].item.id, text, ""});
      }
      GAVEL_TRY(store_.put(rows));
      for (judge::Task* t : chunk) {
        memo_[t->key] = {*t->record, false};
        ++counters_.new_judgments;
        counters_.new_prompt_tokens += sum_prompt_tokens(*t->record);
        for (judge::Task* other : waiting[t->key])
          if (other != t) other->record = t->record, other->cached = true;
      }
      if (on_judged_) on_judged_();
    }
    std::vector<MatchResult> out;
    for (size_t i = 0; i < ms.size(); ++i) {
      Pending& p = ps[i];
      MatchResult r;
      Json rec = Json::object();
      protocol_.fill_record(rec, p.tasks, false);
      auto v = protocol_.pair_verdict(rec);
      if (!v.ok()) return Error{fmt::format("{}: {}", match_name(set_, ms[i]), v.message())};
      if (v->p_text1) {
        r.p_writer1 = p.swapped ? 1.0 - *v->p_text1 : *v->p_text1;
      } else {
        r.has_verdict = false;
        ++counters_.no_verdict;
      }
      for (const judge::PassVerdict& pv : v->passes)
        r.passes.push_back({pv.text1_is_a != p.swapped, pv.p_a, pv.logprob_a, pv.logprob_b});
      r.source = MatchResult::Source::kRun;
      for (const judge::Task& t : p.tasks) r.keys.push_back(t.key);
      for (const judge::Task& t : p.tasks)
        if (from_store.count(&t)) r.source = MatchResult::Source::kStore;
      for (const judge::Task& t : p.tasks)
        if (!t.cached) {
          r.source = MatchResult::Source::kNew;
          r.prompt_tokens += sum_prompt_tokens(*t.record);
        }
      out.push_back(std::move(r));
    }
    counters_.matches += static_cast<int64_t>(ms.size());
    return out;
  }

 private:
  Backend& backend_;
  const judge::JudgeProtocol& protocol_;
  store::Store& store_;
  const ResponseSet& set_;
  TextBook& texts_;
  ModelJudgeOptions opts_;
  struct Seen {
    Json record;
    bool from_store;
  };
  std::map<std::string, Seen> memo_;  // judgments seen in this run, by key
};

// Both passes from a judge of "position 1 better": pass 1 has writer 1 as A.
MatchResult two_pass(double p1, double p2, std::string key) {
  MatchResult r;
  r.p_writer1 = (p1 + (1 - p2)) / 2;
  r.passes = {{true, p1, std::nullopt, std::nullopt}, {false, p2, std::nullopt, std::nullopt}};
  r.keys = {std::move(key)};
  return r;
}

std::string reference_key(const char* kind, const ResponseSet& set, const MatchSpec& m) {
  bool swap = set.writers[m.writer2] < set.writers[m.writer1];
  int a = swap ? m.writer2 : m.writer1, b = swap ? m.writer1 : m.writer2;
  int ia = swap ? m.iteration2 : m.iteration1, ib = swap ? m.iteration1 : m.iteration2;
  return fmt::format("{}:{}|{}#{}|{}#{}", kind, set.prompts[m.prompt], set.writers[a], ia,
                     set.writers[b], ib);
}

class StandInJudge : public MatchJudge {
 public:
  StandInJudge(const ResponseSet& set, rank::DenseJudge dense, double tau)
      : set_(set), dense_(std::move(dense)), tau_(tau) {}
  std::string description() const override {
    return fmt::format(
        "stand-in judge: P(a better) = 1/(1+exp(-(s_a-s_b)/{})) over mean item scores", tau_);
  }
  Result<std::vector<MatchResult>> judge(std::span<const MatchSpec> ms) override {
    std::vector<MatchResult> out;
    for (const MatchSpec& m : ms)
      out.push_back(two_pass(dense_.get(m.prompt, m.writer1, m.writer2),
                             dense_.get(m.prompt, m.writer2, m.writer1),
                             reference_key("stand-in", set_, m)));
    counters_.matches += static_cast<int64_t>(ms.size());
    return out;
  }

 private:
  const ResponseSet& set_;
  rank::DenseJudge dense_;
  double tau_;
};

class SimulatedMatchJudge : public MatchJudge {
 public:
  SimulatedMatchJudge(const ResponseSet& set, rank::SimulatedJudge sim, SimulatedSpec spec)
      : set_(set), sim_(std::move(sim)), spec_(spec) {}
  std::string description() const override {
    return fmt::format(
        "simulated judge: strength = (mean item score - grand mean)/{}, prompt noise {}, judge "
        "noise {}, position bias {}, length bias {} x ln(length ratio), seed {}",
        spec_.strength_scale, spec_.prompt_noise, spec_.judge_noise, spec_.position_bias,
        spec_.length_bias, spec_.seed);
  }
  Result<std::vector<MatchResult>> judge(std::span<const MatchSpec> ms) override {
    std::vector<MatchResult> out;
    for (const MatchSpec& m : ms) {
      GAVEL_ASSIGN(double p1, sim_(rank::Match{m.writer1, m.writer2, m.prompt, m.round}));
      GAVEL_ASSIGN(double p2, sim_(rank::Match{m.writer2, m.writer1, m.prompt, m.round}));
      out.push_back(two_pass(p1, p2, reference_key("simulated", set_, m)));
    }
    counters_.matches += static_cast<int64_t>(ms.size());
    return out;
  }

 private:
  const ResponseSet& set_;
  rank::SimulatedJudge sim_;
  SimulatedSpec spec_;
};

}  // namespace

std::string_view name(MatchResult::Source s) {
  switch (s) {
    case MatchResult::Source::kNew:
      return "new";
    case MatchResult::Source::kStore:
      return "store";
    case MatchResult::Source::kRun:
      return "run";
    case MatchResult::Source::kReference:
      return "reference";
  }
  return "?";
}

std::string trim_partial_utf8(std::string s) {
  // Walk back over at most 3 continuation bytes to the last lead byte; drop it and what
  // follows when the sequence it starts is incomplete.
  size_t n = s.size(), i = n;
  int cont = 0;
  while (i > 0 && cont < 4 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i, ++cont;
  if (i == 0) return cont ? std::string() : s;
  unsigned char lead = static_cast<unsigned char>(s[i - 1]);
  int need = lead < 0x80           ? 1
             : (lead >> 5) == 0x6  ? 2
             : (lead >> 4) == 0xE  ? 3
             : (lead >> 3) == 0x1E ? 4
                                   : 0;
  if (need == 0) {  // a stray continuation run or invalid lead: drop it
    s.resize(i - 1);
    return s;
  }
  if (cont + 1 < need) s.resize(i - 1);
  return s;
}

int64_t utf8_length(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

TextBook::TextBook(const ResponseSet& set, Backend* tokenizer, int max_tokens)
    : set_(set), tokenizer_(tokenizer), max_tokens_(max_tokens) {}

Result<const JudgedText*> TextBook::get(int writer, int prompt, int iteration) {
  auto key = std::make_tuple(writer, prompt, iteration);
  if (auto it = cache_.find(key); it != cache_.end()) return &it->second;
  const Response& r = set_.responses[writer][prompt][iteration];
  JudgedText t;
  t.text = r.text;
  if (tokenizer_) {
    auto ids = tokenizer_->tokenize(r.text);
    if (!ids.ok()) return Error{fmt::format("{}:{}: {}", set_.path, r.line, ids.message())};
    t.full_tokens = t.tokens = static_cast<int64_t>(ids->size());
    if (max_tokens_ > 0 && t.tokens > max_tokens_) {
      auto text = tokenizer_->detokenize(std::span(ids->data(), static_cast<size_t>(max_tokens_)));
      if (!text.ok()) return Error{fmt::format("{}:{}: {}", set_.path, r.line, text.message())};
      t.text = trim_partial_utf8(std::move(*text));
      t.truncated = true;
      auto again = tokenizer_->tokenize(t.text);
      if (!again.ok()) return Error{again.message()};
      t.tokens = static_cast<int64_t>(again->size());
    }
  } else if (max_tokens_ > 0) {
    return Error{"--max-response-tokens needs a judge backend that can tokenize"};
  }
  t.chars = utf8_length(t.text);
  return &cache_.emplace(key, std::move(t)).first->second;
}

Result<std::pair<nlohmann::json, bool>> canonical_item(const ResponseSet& set, TextBook& texts,
                                                       const MatchSpec& m) {
  GAVEL_ASSIGN(const JudgedText* t1, texts.get(m.writer1, m.prompt, m.iteration1));
  GAVEL_ASSIGN(const JudgedText* t2, texts.get(m.writer2, m.prompt, m.iteration2));
  bool swapped = set.writers[m.writer2] < set.writers[m.writer1];
  const judge::FieldMap fields = judge::FieldMap::defaults();
  Json item = {{fields.field_for("instruction"), set.instructions[m.prompt]},
               {fields.field_for("A"), swapped ? t2->text : t1->text},
               {fields.field_for("B"), swapped ? t1->text : t2->text}};
  return std::make_pair(std::move(item), swapped);
}

std::unique_ptr<MatchJudge> make_model_judge(Backend& backend, const judge::JudgeProtocol& protocol,
                                             store::Store& store, const ResponseSet& set,
                                             TextBook& texts, ModelJudgeOptions opts) {
  return std::make_unique<ModelMatchJudge>(backend, protocol, store, set, texts, opts);
}

Result<Calibration> calibrate(Backend& backend, const judge::JudgeProtocol& protocol,
                              const ResponseSet& set, TextBook& texts, const MatchSpec& m) {
  GAVEL_ASSIGN(auto ci, canonical_item(set, texts, m));
  judge::Item item;
  item.id = "calibration";
  item.record = std::move(ci.first);
  GAVEL_ASSIGN(auto tasks, protocol.plan(item));
  std::vector<judge::Task*> ptrs;
  for (judge::Task& t : tasks) ptrs.push_back(&t);
  auto t0 = Clock::now();
  GAVEL_TRY(protocol.compute(backend, ptrs));
  Calibration c;
  c.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (const judge::Task& t : tasks) c.prompt_tokens += sum_prompt_tokens(*t.record);
  return c;
}

Result<std::vector<std::vector<double>>> mean_scores(const ResponseSet& set) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::vector<double>> s(set.n_writers(), std::vector<double>(set.n_prompts(), nan));
  for (int w = 0; w < set.n_writers(); ++w) {
    double tot = 0;
    int cnt = 0;
    for (int p = 0; p < set.n_prompts(); ++p) {
      double sum = 0;
      int n = 0;
      for (const Response& r : set.responses[w][p])
        if (r.score) sum += *r.score, ++n;
      if (n) s[w][p] = sum / n, tot += s[w][p], ++cnt;
    }
    if (!cnt)
      return Error{fmt::format("{}: writer \"{}\" has no scored response (stand-in judge)",
                               set.path, set.writers[w])};
    for (double& v : s[w])
      if (std::isnan(v)) v = tot / cnt;
  }
  return s;
}

Result<std::unique_ptr<MatchJudge>> make_stand_in_judge(const ResponseSet& set, double tau) {
  GAVEL_ASSIGN(auto s, mean_scores(set));
  GAVEL_ASSIGN(auto dense, rank::score_difference_judge(s, tau));
  return std::unique_ptr<MatchJudge>(std::make_unique<StandInJudge>(set, std::move(dense), tau));
}

Result<std::unique_ptr<MatchJudge>> make_simulated_judge(const ResponseSet& set, TextBook& texts,
                                                         const SimulatedSpec& spec) {
  GAVEL_ASSIGN(auto s, mean_scores(set));
  rank::SimulatedJudgeConfig c;
  double grand = 0;
  for (const auto& row : s)
    for (double v : row) grand += v;
  grand /= static_cast<double>(set.n_writers() * set.n_prompts());
  for (const auto& row : s) {
    double m = 0;
    for (double v : row) m += v;
    c.strength.push_back((m / static_cast<double>(row.size()) - grand) / spec.strength_scale);
  }
  c.n_prompts = set.n_prompts();
  c.prompt_noise = spec.prompt_noise;
  c.judge_noise = spec.judge_noise;
  c.position_bias = spec.position_bias;
  c.length_bias = spec.length_bias;
  c.seed = spec.seed;
  c.length.assign(set.n_writers(), std::vector<double>(set.n_prompts(), 1.0));
  for (int w = 0; w < set.n_writers(); ++w)
    for (int p = 0; p < set.n_prompts(); ++p) {
      double sum = 0;
      int n = 0;
      for (int i = 0; i < static_cast<int>(set.responses[w][p].size()); ++i) {
        GAVEL_ASSIGN(const JudgedText* t, texts.get(w, p, i));
        sum += static_cast<double>(std::max<int64_t>(1, t->tokens >= 0 ? t->tokens : t->chars));
        ++n;
      }
      if (n) c.length[w][p] = sum / n;
    }
  return std::unique_ptr<MatchJudge>(
      std::make_unique<SimulatedMatchJudge>(set, rank::SimulatedJudge(c), spec));
}

}  // namespace gavel::tournament
