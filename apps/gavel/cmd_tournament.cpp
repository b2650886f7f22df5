// `gavel tournament`: the model card's section-4 tournaments (Option A per-prompt Swiss,
// Option B bootstrapped global Swiss) with a judge model deciding every match, resumable
// through the store; leaderboard, separability and bias in --out-dir.
//   gavel tournament --model M.gguf --input samples.jsonl --out-dir out --max-writers 8
//       --max-prompts 4 --max-response-tokens 256
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "backend_options.h"
#include "command.h"
#include "core/io.h"
#include "rank/convergence.h"
#include "tournament/command.h"

namespace {

namespace tour = gavel::tournament;

struct Options {
  gavel::cli::BackendOptions backend;
  tour::CommandConfig cfg;
  std::string option = "A", pairing = "swiss", protocol = "pairwise-logprob",
              iteration_choice = "first", judge = "model", thinking = "default",
              on_bad_line = "error";
  std::vector<std::string> writers, prompts, fields, vars;
  bool no_progress = false;
  int max_tokens = 512;
};

int run(Options& o) {
  using gavel::cli::fail;
  tour::CommandConfig& c = o.cfg;
  auto option = tour::parse_option(o.option);
  if (!option.ok()) return fail(option.message());
  c.tournament.option = *option;
  auto pairing = gavel::rank::parse_pairing(o.pairing);
  if (!pairing.ok()) return fail("--pairing: " + pairing.message());
  c.tournament.pairing = *pairing;
  auto ic = tour::parse_iteration_choice(o.iteration_choice);
  if (!ic.ok()) return fail(ic.message());
  c.tournament.iteration_choice = *ic;
  auto jk = tour::parse_judge_kind(o.judge);
  if (!jk.ok()) return fail(jk.message());
  c.judge = *jk;
  auto proto = gavel::judge::parse_protocol(o.protocol);
  if (!proto.ok()) return fail(proto.message());
  c.protocol.protocol = *proto;
  auto thinking = gavel::judge::parse_thinking(o.thinking);
  if (!thinking.ok()) return fail(thinking.message());
  c.protocol.pairwise.thinking = c.protocol.critique.thinking = *thinking;
  c.protocol.critique.gen.max_tokens = o.max_tokens;
  gavel::Status st = c.protocol.fields.apply({}, o.vars);
  if (!st.ok()) return fail(st.message());
  st = c.load.fields.apply(o.fields);
  if (!st.ok()) return fail(st.message());
  if (o.on_bad_line != "error" && o.on_bad_line != "skip")
    return fail("--on-bad-line must be error or skip");
  c.load.skip_bad_lines = o.on_bad_line == "skip";
  c.load.writers = o.writers;
  c.load.prompts = o.prompts;
  c.progress = !o.no_progress;

  gavel::cli::OpenedBackend opened;
  if (c.judge == tour::JudgeKind::kModel || !o.backend.model.empty() || !o.backend.urls.empty()) {
    auto b = gavel::cli::open_backend(o.backend);
    if (!b.ok()) return fail(b.message());
    opened = std::move(*b);
  }
  gavel::Status done = tour::run_command(c, opened.backend.get(),
                                         opened.backend ? &opened.render : nullptr, stdout, stderr);
  if (!done.ok()) return fail(done.message());
  std::fputs(gavel::cli::prefix_reuse_summary(opened).c_str(), stderr);
  return 0;
}

gavel::cli::Register reg{
    {"tournament",
     "Swiss tournaments judged by a judge model (model card section 4, Option A/B): "
     "leaderboard, separability, bias; resumable",
     [](CLI::App& app) -> gavel::cli::Runner {
       auto o = std::make_shared<Options>();
       tour::CommandConfig& c = o->cfg;
       gavel::cli::add_backend_options(app, o->backend);
       app.add_option("--input,-i", c.input,
                      "responses JSONL (default fields: EQ-Bench creative-writing v3 samples)")
           ->required();
       app.add_option("--out-dir,-o", c.out_dir,
                      "output directory (matches.jsonl, leaderboard.*, separability.json, "
                      "bias.json)");
       app.add_option(
              "--option", o->option,
              "A: a tournament per prompt | B: bootstrapped global | global: one tournament over "
              "all prompts")
           ->capture_default_str();
       app.add_option("--pairing", o->pairing,
                      "swiss | round-robin | adaptive (pairs by expected information, read with "
                      "Bradley-Terry; ends a tournament once every pair is settled)")
           ->capture_default_str();
       app.add_option(
           "--rounds", c.tournament.rounds,
           "rounds per tournament (default A 5, B 20, global 5; with --until-stable the cap)");
       app.add_option("--prompts-per-match", c.tournament.prompts_per_match,
                      "matches per pairing, each on its own drawn prompt (outcome: their mean)")
           ->capture_default_str()
           ->check(CLI::Range(1, 16));
       app.add_option("--iterations", c.tournament.iterations, "option B bootstrap iterations")
           ->capture_default_str()
           ->check(CLI::Range(1, 100000));
       app.add_option("--seed", c.tournament.seed, "seed of pairings, draws and choices")
           ->capture_default_str();
       app.add_flag("--until-stable", c.tournament.stop.until_stable,
                    "end a tournament once the bootstrap rank intervals stop changing");
       app.add_option("--writers", o->writers, "only these writers (comma-separated)")
           ->delimiter(',');
       app.add_option("--max-writers", c.load.max_writers, "then the first N writers");
       app.add_option("--prompts", o->prompts, "only these prompt ids (comma-separated)")
           ->delimiter(',');
       app.add_option("--max-prompts", c.load.max_prompts, "then the first N prompts");
       app.add_option("--iteration-choice", o->iteration_choice,
                      "which of a writer's responses to a prompt: first | seed (one per writer "
                      "and prompt) | all (drawn per match)")
           ->capture_default_str();
       app.add_option("--field", o->fields,
                      "logical=input_field: writer, prompt, instruction, response, iteration, "
                      "score");
       app.add_option("--max-response-tokens", c.max_response_tokens,
                      "judge only each response's first N tokens (0 = whole)")
           ->check(CLI::Range(0, 1 << 24));
       app.add_option("--protocol", o->protocol,
                      "pairwise-logprob (the card's) | critique (Selene, pairwise, both orders)")
           ->capture_default_str();
       app.add_option("--thinking", o->thinking, "default | on | off (chat template switch)");
       app.add_option("--max-tokens", o->max_tokens, "critique: max generated tokens")
           ->check(CLI::Range(1, 1 << 20));
       app.add_option("--var", o->vars,
                      "name=value template constant (critique: rubric_objective)");
       app.add_option("--store", c.store, "SQLite store (default <out-dir>/gavel.sqlite)");
       app.add_option("--batch", c.batch, "judgments per backend call and store transaction")
           ->check(CLI::Range(1, 4096));
       app.add_option("--judge", o->judge,
                      "model | stand-in (item scores) | simulated (known truth and biases)")
           ->capture_default_str();
       app.add_option("--tau", c.tau, "stand-in judge temperature")->capture_default_str();
       app.add_option("--bt-bootstrap", c.tournament.bt_bootstrap,
                      "Bradley-Terry percentile CI resamples in leaderboard.json (0 = none)")
           ->capture_default_str()
           ->check(CLI::Range(0, 100000));
       app.add_option("--ci-bootstrap", c.tournament.ci_bootstrap, "separability CI resamples")
           ->capture_default_str();
       app.add_option("--leaderboard", c.leaderboard,
                      "public leaderboard CSV: report Kendall tau-b of the ratings to it");
       app.add_option("--leaderboard-name", c.leaderboard_name, "its name column");
       app.add_option("--leaderboard-value", c.leaderboard_value, "its rating column");
       app.add_option("--on-bad-line", o->on_bad_line, "error | skip malformed input lines");
       app.add_option("--summary-rows", c.summary_rows,
                      "leaderboard rows in the terminal summary (0 = all)");
       app.add_flag("--dry-run", c.dry_run,
                    "print the plan and a calibrated time estimate; judge nothing");
       app.add_flag("--no-progress", o->no_progress, "no progress on stderr");
       return [o]() { return run(*o); };
     }}};

}  // namespace
