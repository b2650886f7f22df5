#include "tournament/command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/progress.h"
#include "rank/convergence.h"
#include "rank/leaderboard.h"
#include "store/store.h"
#include "tournament/report.h"

namespace gavel::tournament {
namespace {

using Clock = std::chrono::steady_clock;

// Progress on stderr: matches done/total, new vs stored judgments, tokens/s, ETA. Redrawn in
// place on a terminal (at most 5 per second), a line every 5 s otherwise.
class Progress {
 public:
  Progress(std::FILE* log, bool on, int64_t total, const MatchJudge& judge)
      : log_(on ? log : nullptr), total_(total), judge_(judge) {}
  void matches(int64_t done) {
    done_ = done;
    draw(false);
  }
  void draw(bool final) {
    if (!log_) return;
    auto now = Clock::now();
    bool tty = isatty(fileno(log_));
    if (!final && now - last_ < std::chrono::milliseconds(tty ? 200 : 5000)) return;
    last_ = now;
    const JudgeCounters& k = judge_.counters();
    double el = std::chrono::duration<double>(now - start_).count();
    std::string rate, eta = "--:--";
    if (judge_.is_model()) {
      rate = fmt::format(", {:.0f} prompt tok/s",
                         k.judge_seconds > 0 ? double(k.new_prompt_tokens) / k.judge_seconds : 0.0);
      // Worst case: every remaining match needs a new judgment at the rate so far.
      if (k.new_judgments > 0)
        eta = "<= " + format_duration(k.judge_seconds / double(k.new_judgments) *
                                      double(std::max<int64_t>(0, total_ - done_)));
    } else if (done_ > 0) {
      eta = format_duration(el / double(done_) * double(std::max<int64_t>(0, total_ - done_)));
    }
    int width = 24;
    int filled = total_ ? static_cast<int>(width * std::min(done_, total_) / total_) : width;
    std::fprintf(
        log_, "%stournament [%s%s] %lld/%lld matches, judgments %lld new / %lld stored%s, ETA %s%s",
        tty ? "\r" : "", std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
        static_cast<long long>(done_), static_cast<long long>(total_),
        static_cast<long long>(k.new_judgments), static_cast<long long>(k.stored_judgments),
        rate.c_str(), eta.c_str(), tty && !final ? "" : "\n");
    std::fflush(log_);
  }

 private:
  std::FILE* log_;
  int64_t total_, done_ = 0;
  const MatchJudge& judge_;
  Clock::time_point start_ = Clock::now(), last_{};
};

// The pairs of one prompt's field, and the median-length pair (calibration).
struct PromptStats {
  int field = 0;
  double mean_tokens = 0;  // mean judged-text length (tokens, or chars without a tokenizer)
  int64_t pairings = 0;    // distinct judgments possible on this prompt
};

Result<std::vector<PromptStats>> prompt_stats(const ResponseSet& set, TextBook& texts,
                                              IterationChoice choice) {
  std::vector<PromptStats> out(set.n_prompts());
  for (int p = 0; p < set.n_prompts(); ++p) {
    double sum = 0;
    int n = 0;
    std::vector<int64_t> k;
    for (int w = 0; w < set.n_writers(); ++w) {
      int cnt = static_cast<int>(set.responses[w][p].size());
      if (!cnt) continue;
      ++out[p].field;
      int use = choice == IterationChoice::kAll ? cnt : 1;
      k.push_back(use);
      for (int i = 0; i < use; ++i) {
        int it = choice == IterationChoice::kAll ? i : pick_iteration(set, w, p, choice, 0, 0, 0);
        GAVEL_ASSIGN(const JudgedText* t, texts.get(w, p, it));
        sum += static_cast<double>(t->tokens >= 0 ? t->tokens : t->chars);
        ++n;
      }
    }
    out[p].mean_tokens = n ? sum / n : 0;
    for (size_t i = 0; i < k.size(); ++i)
      for (size_t j = i + 1; j < k.size(); ++j) out[p].pairings += k[i] * k[j];
  }
  return out;
}

Status dry_run(const CommandConfig& cfg, const ResponseSet& set, TextBook& texts, Backend* backend,
               const judge::JudgeProtocol* protocol, const std::string& store_path,
               std::FILE* out) {
  const Config& tc = cfg.tournament;
  const int rounds = tc.rounds > 0 ? tc.rounds : default_rounds(tc.option);
  const int64_t matches = planned_matches(set, tc);
  GAVEL_ASSIGN(auto stats, prompt_stats(set, texts, tc.iteration_choice));
  int64_t pairings = 0;
  for (const auto& s : stats) pairings += s.pairings;
  std::string plan = fmt::format(
      "plan: Option {}, {} pairing, {} rounds per tournament, {}; {} writers x {} prompts ({} "
      "missing responses), iterations used: {}\n",
      name(tc.option), rank::pairing_name(tc.pairing), rounds,
      tc.option == Option::kA   ? fmt::format("one tournament per prompt")
      : tc.option == Option::kB ? fmt::format("{} bootstrap iterations", tc.iterations)
                                : fmt::format("one tournament over all prompts"),
      set.n_writers(), set.n_prompts(), set.missing(), name(tc.iteration_choice));
  plan +=
      fmt::format("matches: {}{}; at most {} new judgments ({} distinct pairings exist)\n", matches,
                  tc.stop.until_stable ? " at most (--until-stable may stop earlier)" : "",
                  std::min(matches, pairings), pairings);
  if (!protocol) {
    plan += "judge: a reference judge (no model): nothing to calibrate\n";
    std::fputs(plan.c_str(), out);
    return Status::Ok();
  }
  // Overhead of a judgment on each prompt: its prompts with empty texts.
  std::vector<double> overhead(set.n_prompts(), 0);
  int prompts_per_judgment = 0;
  for (int p = 0; p < set.n_prompts(); ++p) {
    judge::Item item;
    const judge::FieldMap& f = protocol->fields();
    item.record = {{f.field_for("instruction"), set.instructions[p]},
                   {f.field_for("A"), ""},
                   {f.field_for("B"), ""}};
    GAVEL_ASSIGN(auto tasks, protocol->plan(item));
    prompts_per_judgment = 0;
    for (const judge::Task& t : tasks)
      for (const std::string& pr : t.prompts) {
        ++prompts_per_judgment;
        auto ids =
            texts.has_tokens() ? backend->tokenize(pr) : Result<std::vector<int32_t>>(Error{""});
        overhead[p] +=
            ids.ok() ? static_cast<double>(ids->size()) : static_cast<double>(pr.size()) / 4;
      }
    overhead[p] /= std::max(1, prompts_per_judgment);
  }
  // Expected prompt tokens of all matches: per match, each prompt holds the overhead and both
  // texts; option B draws prompts uniformly.
  double tokens = 0;
  auto per_match = [&](int p) {
    return prompts_per_judgment * (overhead[p] + 2 * stats[p].mean_tokens);
  };
  if (tc.option == Option::kA) {
    for (int p = 0; p < set.n_prompts(); ++p)
      if (stats[p].field >= 2)
        tokens +=
            rounds *
            (tc.pairing == rank::Pairing::kRoundRobin ? stats[p].field * (stats[p].field - 1) / 2
                                                      : stats[p].field / 2) *
            per_match(p);
  } else {
    double avg = 0;
    for (int p = 0; p < set.n_prompts(); ++p) avg += per_match(p);
    tokens = static_cast<double>(matches) * avg / set.n_prompts();
  }
  double mean_len = 0;
  for (const auto& s : stats) mean_len += s.mean_tokens;
  mean_len /= set.n_prompts();
  plan += fmt::format("judged texts: mean {:.0f} {} per response{}\n", mean_len,
                      texts.has_tokens() ? "tokens" : "chars (no tokenizer)",
                      cfg.max_response_tokens > 0
                          ? fmt::format(" after truncation to {} tokens", cfg.max_response_tokens)
                          : std::string());
  plan += fmt::format(
      "prompt tokens: about {:.0f} per judgment ({} prompts each), {:.0f} for all {} matches if "
      "every one were new; the backend reuses each prompt's shared prefix (system prompt, "
      "instruction)\n",
      tokens / std::max<int64_t>(1, matches), prompts_per_judgment, tokens, matches);
  if (std::filesystem::exists(store_path)) {
    GAVEL_ASSIGN(auto st, store::Store::open(store_path));
    int64_t mine = 0, all = 0;
    std::string fp = backend->info().fingerprint;
    std::string proto(protocol->name());
    GAVEL_TRY(st->for_each([&](const store::Judgment& j) -> Status {
      ++all;
      mine += j.model == fp && j.protocol == proto;
      return Status::Ok();
    }));
    plan += fmt::format(
        "store {}: {} judgments, {} by this judge model and protocol (reused when "
        "the same pair comes up)\n",
        store_path, all, mine);
  } else {
    plan += fmt::format("store {}: new\n", store_path);
  }
  // Calibration: one judgment of a median-length pair on the first prompt with a field.
  int cp = 0;
  while (cp < set.n_prompts() && stats[cp].field < 2) ++cp;
  if (cp == set.n_prompts()) return Error{"no prompt has two writers: nothing to play"};
  std::vector<std::pair<double, int>> by_len;
  for (int w = 0; w < set.n_writers(); ++w)
    if (set.has(w, cp)) {
      GAVEL_ASSIGN(const JudgedText* t, texts.get(w, cp, 0));
      by_len.push_back({static_cast<double>(t->tokens >= 0 ? t->tokens : t->chars), w});
    }
  std::sort(by_len.begin(), by_len.end());
  size_t mid = by_len.size() / 2;
  MatchSpec m;
  m.prompt = cp;
  m.writer1 = by_len[mid - 1].second;
  m.writer2 = by_len[mid].second;
  GAVEL_ASSIGN(Calibration cal, calibrate(*backend, *protocol, set, texts, m));
  double rate = cal.seconds > 0 ? static_cast<double>(cal.prompt_tokens) / cal.seconds : 0;
  plan += fmt::format(
      "calibration: 1 judgment ({} vs {}, prompt {}, {} prompt tokens) in {:.2f} s = {:.0f} "
      "prompt tokens/s on {}\n",
      set.writers[m.writer1], set.writers[m.writer2], set.prompts[cp], cal.prompt_tokens,
      cal.seconds, rate, backend->info().fingerprint);
  double est = rate > 0 ? tokens / rate : NAN;
  plan += fmt::format(
      "estimated time: {} if every match needs a new judgment (repeated pairs and stored "
      "judgments cost nothing)\n",
      format_duration(est));
  std::fputs(plan.c_str(), out);
  return Status::Ok();
}

}  // namespace

Result<JudgeKind> parse_judge_kind(std::string_view s) {
  if (s == "model") return JudgeKind::kModel;
  if (s == "stand-in") return JudgeKind::kStandIn;
  if (s == "simulated") return JudgeKind::kSimulated;
  return Error{fmt::format("unknown judge '{}' (expected model|stand-in|simulated)", s)};
}

Status run_command(const CommandConfig& cfg, Backend* backend, const judge::ChatRenderer* render,
                   std::FILE* out, std::FILE* log) {
  const auto t0 = Clock::now();
  if (cfg.out_dir.empty() && !cfg.dry_run) return Error{"give --out-dir"};
  GAVEL_ASSIGN(ResponseSet set, load_responses(cfg.input, cfg.load));
  if (!set.skipped.empty() && log) {
    std::fprintf(log, "gavel tournament: %zu malformed line(s) left out:\n", set.skipped.size());
    for (size_t i = 0; i < set.skipped.size() && i < 10; ++i)
      std::fprintf(log, "  %s\n", set.skipped[i].message.c_str());
  }
  Backend* tokenizer = nullptr;
  std::unique_ptr<judge::JudgeProtocol> protocol;
  if (cfg.judge == JudgeKind::kModel) {
    if (!backend || !render) return Error{"the model judge needs a backend (--model M.gguf)"};
    if (backend->tokenize("probe").ok()) tokenizer = backend;
    judge::ProtocolConfig pc = cfg.protocol;
    if (pc.protocol == judge::Protocol::kCritique) {
      pc.critique.mode = judge::Mode::kPairwise;  // a match is a pair, judged in both orders
      pc.both_orders = true;
      if (!pc.fields.constants.count("rubric_objective") &&
          !pc.fields.input_name.count("rubric_objective"))
        pc.fields.constants["rubric_objective"] =
            "Which response is the better piece of creative writing for the instruction?";
    }
    GAVEL_ASSIGN(protocol, judge::make_protocol(pc, backend->info(), *render));
    if (!protocol->pairwise())
      return Error{fmt::format("protocol {} does not judge pairs", protocol->name())};
  } else {
    // Reference judges need no model; token counts only when a backend is at hand anyway.
    if (backend && backend->tokenize("probe").ok()) tokenizer = backend;
  }
  if (cfg.max_response_tokens > 0 && !tokenizer)
    return Error{"--max-response-tokens needs a judge backend that can tokenize (--model)"};
  TextBook texts(set, tokenizer, cfg.max_response_tokens);
  const std::string store_path =
      !cfg.store.empty() ? cfg.store
                         : (std::filesystem::path(cfg.out_dir) / "gavel.sqlite").string();
  if (cfg.dry_run) return dry_run(cfg, set, texts, backend, protocol.get(), store_path, out);

  std::error_code ec;
  std::filesystem::create_directories(cfg.out_dir, ec);
  if (ec)
    return Error{fmt::format("{}: cannot create output directory: {}", cfg.out_dir, ec.message())};
  std::unique_ptr<store::Store> store;
  std::unique_ptr<MatchJudge> judge;
  switch (cfg.judge) {
    case JudgeKind::kModel: {
      GAVEL_ASSIGN(store, store::Store::open(store_path));
      judge = make_model_judge(*backend, *protocol, *store, set, texts, {cfg.batch});
      break;
    }
    case JudgeKind::kStandIn: {
      GAVEL_ASSIGN(judge, make_stand_in_judge(set, cfg.tau));
      break;
    }
    case JudgeKind::kSimulated: {
      GAVEL_ASSIGN(judge, make_simulated_judge(set, texts, cfg.simulated));
      break;
    }
  }
  if (log)
    std::fprintf(log, "gavel tournament: Option %s, %d writers x %d prompts, judge %s%s\n",
                 std::string(name(cfg.tournament.option)).c_str(), set.n_writers(), set.n_prompts(),
                 judge->description().c_str(),
                 judge->is_model() ? (", store " + store_path).c_str() : "");
  Progress progress(log, cfg.progress, planned_matches(set, cfg.tournament), *judge);
  Config tc = cfg.tournament;
  tc.on_round = [&](int64_t done) { progress.matches(done); };
  judge->on_judged([&] { progress.draw(false); });
  GAVEL_ASSIGN(Outcome outcome, run(set, *judge, tc));
  progress.draw(true);
  GAVEL_ASSIGN(Analysis analysis, analyze(set, texts, outcome));
  ReportContext rc{set,
                   texts,
                   outcome,
                   analysis,
                   judge->description(),
                   cfg.max_response_tokens,
                   std::nullopt,
                   cfg.leaderboard};
  if (!cfg.leaderboard.empty()) {
    GAVEL_ASSIGN(auto board, rank::read_leaderboard(cfg.leaderboard, cfg.leaderboard_name,
                                                    cfg.leaderboard_value));
    GAVEL_ASSIGN(rc.board, rank::leaderboard_agreement(board, set.writers, outcome.mean));
  }
  GAVEL_TRY(write_outputs(cfg.out_dir, rc));
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fputs(summary_text(rc, judge->counters(), seconds, cfg.summary_rows).c_str(), out);
  std::fprintf(out,
               "outputs: %s/{matches.jsonl, leaderboard.json, leaderboard.csv, leaderboard.md, "
               "separability.json, bias.json}\n",
               cfg.out_dir.c_str());
  return Status::Ok();
}

}  // namespace gavel::tournament
