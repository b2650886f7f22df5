// `gavel judge`: batch LLM-as-a-judge over JSONL with the two judge protocols (the model
// card's pairwise logprob, Selene's critique-then-result), resumable through the SQLite store.
//   gavel judge --model M.gguf --input pairs.jsonl --out out.jsonl --protocol pairwise-logprob
//   gavel judge --model M.gguf --input abs.jsonl --protocol critique --mode absolute-ref
//   gavel judge --backend http://host:8080 --backend http://host2:8080 --tokenizer M.gguf ...
// `--backend fake:OPTIONS` swaps in the deterministic scripted backend for gavel's own tests
// (backend/scripted_backend.h); it is refused unless GAVEL_TEST_BACKEND=1 is set.
#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <vector>

#include "backend_options.h"
#include "command.h"
#include "core/io.h"
#include "judge/runner.h"
#include "store/store.h"

namespace {

// SIGINT / SIGTERM during a run end it between batches: the batch in flight is finished and
// committed, the output file closed and the summary printed with how to resume. The handler
// is one-shot (SA_RESETHAND): a second signal stops the process at once, which the store
// survives too.
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_interrupt(int sig) {
  g_signal = sig;
  static const char kMsg[] =
      "\ngavel: interrupted: finishing the current batch (signal again to stop at once)\n";
  ssize_t n = ::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
  (void)n;
}

class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

struct Options {
  gavel::cli::BackendOptions backend;
  std::string input, out, store, protocol = "pairwise-logprob", mode = "pairwise",
                                 format = "original", thinking = "default", read = "full",
                                 on_error = "skip", system_file;
  std::vector<std::string> fields, vars;
  int64_t limit = -1;
  uint64_t seed = 0;
  bool seed_given = false, both_orders = false, ensure_ascii_off = false, keep_prompts = false,
       no_verdict = false, no_progress = false, parse_special_in_data = false;
  int batch = 4, top_k = 10, max_tokens = 512;
  double claim_ttl = 600;
  std::set<std::string> given;  // the flags on the command line
  bool batch_given = false;
};

using gavel::Error;
using gavel::Status;

// Flags that only one protocol reads: given with the other one, they would be ignored.
Status check_protocol_flags(const Options& o, gavel::judge::Protocol p) {
  const bool critique = p == gavel::judge::Protocol::kCritique;
  static const std::vector<std::string> kCritiqueOnly = {
      "--mode", "--format", "--both-orders", "--max-tokens", "--no-verdict-distribution"};
  static const std::vector<std::string> kPairwiseOnly = {"--read", "--top-k", "--no-ensure-ascii",
                                                         "--system-file"};
  for (const std::string& f : critique ? kPairwiseOnly : kCritiqueOnly)
    if (o.given.count(f))
      return Error{fmt::format("{} does not apply to --protocol {} (only to {})", f, o.protocol,
                               critique ? "pairwise-logprob" : "critique")};
  return Status::Ok();
}

// An output that is an input would be destroyed: the store is checked before it is opened,
// --out after the store is open (SQLite's companion files exist then) and before --out is.
std::vector<gavel::NamedPath> inputs(const Options& o) {
  return {{"input", o.input}, {"model", o.backend.model}, {"system prompt file", o.system_file}};
}

Status check_out(const Options& o, const std::string& store_path) {
  std::vector<gavel::NamedPath> in = inputs(o);
  for (auto& f : gavel::store::store_files(store_path)) in.push_back(std::move(f));
  return gavel::check_not_an_input({"--out", o.out}, in);
}

int run(const Options& o) {
  using gavel::cli::fail;
  namespace judge = gavel::judge;
  judge::ProtocolConfig pc;
  judge::RunConfig cfg;
  auto proto = judge::parse_protocol(o.protocol);
  if (!proto.ok()) return fail(proto.message());
  if (Status s = check_protocol_flags(o, *proto); !s.ok()) return fail(s.message());
  auto mode = judge::parse_mode(o.mode);
  if (!mode.ok()) return fail(mode.message());
  auto format = judge::parse_format(o.format);
  if (!format.ok()) return fail(format.message());
  auto thinking = judge::parse_thinking(o.thinking);
  if (!thinking.ok()) return fail(thinking.message());
  if (o.read != "full" && o.read != "top-k") return fail("--read must be full or top-k");
  if (o.on_error != "skip" && o.on_error != "stop") return fail("--on-error must be skip or stop");
  pc.protocol = *proto;
  pc.pairwise.thinking = *thinking;
  pc.pairwise.ensure_ascii = !o.ensure_ascii_off;
  pc.pairwise.read = o.read == "full" ? judge::PairwiseLogprobConfig::Read::kFull
                                      : judge::PairwiseLogprobConfig::Read::kTopK;
  pc.pairwise.top_k = o.top_k;
  if (!o.system_file.empty()) {
    auto s = gavel::read_file(o.system_file);
    if (!s.ok()) return fail(s.message());
    pc.pairwise.system_prompt = *s;
  }
  pc.critique.mode = *mode;
  pc.critique.format = *format;
  pc.critique.thinking = *thinking;
  pc.critique.gen.max_tokens = o.max_tokens;
  pc.critique.gen.seed = o.seed;
  pc.critique.verdict_distribution = !o.no_verdict;
  if (*proto == judge::Protocol::kCritique) {
    auto t = judge::critique_template_name(*mode, *format);
    if (!t.ok()) return fail(t.message());
  }
  gavel::Status st = pc.fields.apply(o.fields, o.vars);
  if (!st.ok()) return fail(st.message());
  pc.both_orders = o.both_orders;
  pc.parse_special_in_data = o.parse_special_in_data;
  cfg.limit = o.limit;
  if (o.seed_given) cfg.shuffle_seed = o.seed;
  cfg.batch = o.batch;
  // Enough items per call to keep every endpoint's slots busy.
  if (!o.batch_given)
    cfg.batch = std::max<int>(o.batch, int(o.backend.urls.size()) * o.backend.concurrency);
  cfg.stop_on_error = o.on_error == "stop";
  cfg.keep_prompts = o.keep_prompts;
  cfg.input_path = o.input;
  cfg.out_path = o.out;
  cfg.progress = !o.no_progress;
  cfg.claim_ttl = o.claim_ttl;

  std::string store_path = o.store;
  if (store_path.empty()) {
    std::filesystem::path base = (o.out.empty() || o.out == "-")
                                     ? std::filesystem::path(".")
                                     : std::filesystem::path(o.out).parent_path();
    store_path = (base.empty() ? std::filesystem::path(".") : base) / "gavel.sqlite";
  }
  if (Status s = gavel::check_not_an_input({"--store", store_path}, inputs(o)); !s.ok())
    return fail(s.message());
  if (Status s = check_out(o, store_path); !s.ok()) return fail(s.message());  // before loading

  auto opened = gavel::cli::open_backend(o.backend);
  if (!opened.ok()) return fail(opened.message());
  auto store = gavel::store::Store::open(store_path);  // after the model: no store for a typo
  if (!store.ok()) return fail(store.message());
  if (Status s = check_out(o, store_path); !s.ok()) return fail(s.message());
  gavel::Backend& be = *opened->backend;
  auto protocol = judge::make_protocol(pc, be.info(), opened->render);
  if (!protocol.ok()) return fail(protocol.message());
  std::fprintf(stderr, "gavel judge: %s, store %s, model %s\n", o.protocol.c_str(),
               store_path.c_str(), be.info().fingerprint.c_str());
  gavel::Result<judge::RunSummary> sum = Error{"not run"};
  {
    InterruptGuard interrupt;
    cfg.cancel = [] { return g_signal != 0; };
    sum = judge::run_judge(be, **protocol, **store, cfg, stderr);
  }
  if (!sum.ok()) return fail(sum.message());
  std::fputs(judge::format_summary(*sum, cfg).c_str(), stderr);
  std::fprintf(stderr, "metrics: %s\n", sum->metrics.dump().c_str());
  std::fputs(gavel::cli::prefix_reuse_summary(*opened).c_str(), stderr);
  if (sum->cancelled) return 128 + g_signal;  // 130 for SIGINT, 143 for SIGTERM
  if (sum->stopped) return 1;
  return sum->errors.empty() ? 0 : 3;
}

gavel::cli::Register reg{
    {"judge", "Judge JSONL items with a judge protocol (resumable, stored)",
     [](CLI::App& app) -> gavel::cli::Runner {
       auto o = std::make_shared<Options>();
       gavel::cli::add_backend_options(app, o->backend);
       app.add_option("--input,-i", o->input, "Input JSONL")->required();
       app.add_option("--out,-o", o->out, "Output JSONL ('-' = stdout)");
       app.add_option("--store", o->store, "SQLite store (default: gavel.sqlite next to --out)");
       app.add_option("--protocol", o->protocol, "pairwise-logprob | critique");
       app.add_option("--mode", o->mode,
                      "critique: absolute|absolute-ref|classify|classify-ref|pairwise");
       app.add_option("--format", o->format,
                      "critique pairwise: original|markdown|json|prepair|simplified");
       app.add_option(
           "--field", o->fields,
           "logical=input_field (instruction, A, B, response, reference, rubric, label, id)");
       app.add_option("--var", o->vars,
                      "name=value constant template variable (e.g. rubric_objective)");
       app.add_option("--thinking", o->thinking,
                      "default (template default, as the card) | on | off");
       app.add_option("--read", o->read,
                      "pairwise-logprob: full (exact) | top-k (the card's vLLM code)");
       app.add_option("--top-k", o->top_k, "k for --read top-k (card: 10)")
           ->check(CLI::Range(1, 1000));
       app.add_flag("--no-ensure-ascii", o->ensure_ascii_off,
                    "json.dumps(..., ensure_ascii=False)");
       app.add_option("--system-file", o->system_file, "override the card's system prompt");
       app.add_option("--max-tokens", o->max_tokens, "critique: max generated tokens")
           ->check(CLI::Range(1, 1 << 20));
       app.add_flag("--no-verdict-distribution", o->no_verdict,
                    "critique: skip the verdict probabilities");
       app.add_flag("--both-orders", o->both_orders, "critique pairwise: judge A/B and B/A");
       app.add_option("--limit", o->limit, "judge only the first N items (after --seed shuffle)")
           ->check(gavel::cli::integer_at_least(1))
           ->default_str("all");
       app.add_option("--seed", o->seed, "shuffle the input with this seed (and seed generation)")
           ->check(gavel::cli::integer_at_least(0))
           ->default_str("none")
           ->each([o](const std::string&) { o->seed_given = true; });
       app.add_option("--batch", o->batch,
                      "items per backend call and store transaction (default 4; with --backend "
                      "at least endpoints x concurrency)")
           ->check(CLI::Range(1, 4096))
           ->each([o](const std::string&) { o->batch_given = true; });
       app.add_option("--on-error", o->on_error, "skip | stop");
       app.add_option("--claim-ttl", o->claim_ttl,
                      "seconds a claim on an item lasts: runs sharing a store split the items, and "
                      "take over the claims of a run that died once they expire")
           ->check(CLI::Range(1.0, 86400.0 * 7))
           ->capture_default_str();
       app.add_flag("--parse-special-in-data", o->parse_special_in_data,
                    "parse special-token text in the judged data (e.g. <|im_end|> in a "
                    "response) as special tokens, as the model card's code does; by default it "
                    "is tokenized as text, so the judged text cannot act as chat markup");
       app.add_flag("--keep-prompts", o->keep_prompts, "include rendered prompts in the output");
       app.add_flag("--no-progress", o->no_progress, "no progress bar");
       return [o, &app]() {
         for (const CLI::Option* opt : app.get_options())
           if (opt->count()) o->given.insert(opt->get_name());
         return run(*o);
       };
     }}};

}  // namespace
