// `gavel judge`: batch LLM-as-a-judge over JSONL with the two judge protocols (the model
// card's pairwise logprob, Selene's critique-then-result), resumable through the SQLite store.
//   gavel judge --model M.gguf --input pairs.jsonl --out out.jsonl --protocol pairwise-logprob
//   gavel judge --model M.gguf --input abs.jsonl --protocol critique --mode absolute-ref
// `--backend fake:...` swaps in the deterministic dev backend (tests, no model needed).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "chat/chat.h"
#include "chat/model_template.h"
#include "command.h"
#include "core/io.h"
#include "engine/engine.h"
#include "judge/dev_backend.h"
#include "judge/runner.h"
#include "store/sha256.h"
#include "store/store.h"
#include "tokenizer/tokenizer.h"

namespace {

using gavel::Backend;
using gavel::Error;
using gavel::Result;

// Interim adapter from the Backend interface to the embedded engine, until src/backend's
// EmbeddedBackend lands: prompts are tokenized with specials parsed and no BOS added,
// candidates continue a clone of the prompt's state, generation is greedy.
class EngineBackend : public Backend {
 public:
  static Result<std::unique_ptr<Backend>> open(const std::string& path, int threads, int ctx) {
    auto b = std::unique_ptr<EngineBackend>(new EngineBackend());
    GAVEL_ASSIGN(b->model_, gavel::engine::load_model(path, {threads, ctx}));
    GAVEL_ASSIGN(auto tok, gavel::Tokenizer::from_gguf(b->model_->file()));
    b->tok_ = std::make_unique<gavel::Tokenizer>(std::move(tok));
    auto mt = gavel::chat::load_model_template(path);
    if (mt.ok()) {
      b->info_.chat_template = mt->source;
      if (mt->special_tokens.contains("bos_token") && mt->special_tokens["bos_token"].is_string())
        b->info_.bos_token = mt->special_tokens["bos_token"];
      if (mt->special_tokens.contains("eos_token") && mt->special_tokens["eos_token"].is_string())
        b->info_.eos_token = mt->special_tokens["eos_token"];
    }
    b->info_.context_length = b->model_->n_ctx();
    // Identity of the weights: file size plus a hash of the first 4 MiB (header, metadata,
    // first tensors) -- cheap, and changes with any re-quantization or different checkpoint.
    std::ifstream in(path, std::ios::binary);
    std::string head(4 << 20, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    gavel::store::Sha256 h;
    h.update(head);
    h.update(std::to_string(std::filesystem::file_size(path)));
    auto d = h.finish();
    b->info_.fingerprint = "gguf:" + gavel::store::to_hex(d.data(), 12) + "+gavel-engine-0";
    return std::unique_ptr<Backend>(std::move(b));
  }

  const gavel::BackendInfo& info() const override { return info_; }

  Result<std::vector<gavel::ScoreResult>> score(std::span<const gavel::ScoreRequest> reqs) override {
    std::vector<gavel::ScoreResult> out;
    for (const auto& r : reqs) {
      auto ids = tok_->encode(r.prompt, /*add_special=*/false, /*parse_special=*/true);
      if (ids.empty()) return Error{"empty prompt"};
      auto seq = model_->new_sequence();
      const int last = int(ids.size()) - 1;
      GAVEL_ASSIGN(auto logits, model_->eval(*seq, ids, std::span<const int>(&last, 1)));
      auto lp = gavel::engine::log_softmax(logits.row(0));
      gavel::ScoreResult s;
      s.prompt_tokens = int(ids.size());
      for (const auto& t : gavel::engine::top_k(lp, r.top_k))
        s.top.push_back({t.id, tok_->token_text(t.id), t.logprob});
      for (const std::string& c : r.candidates) {
        gavel::CandidateScore cs;
        cs.text = c;
        cs.tokens = tok_->encode(c, false, false);
        if (cs.tokens.empty()) return Error{fmt::format("candidate '{}' has no tokens", c)};
        cs.first_token_logprob = lp.at(size_t(cs.tokens[0]));
        cs.logprob = cs.first_token_logprob;
        if (cs.tokens.size() > 1) {
          auto cont = seq->clone();
          std::vector<int> at(cs.tokens.size() - 1);
          for (size_t k = 0; k < at.size(); ++k) at[k] = int(k);
          GAVEL_ASSIGN(auto cl, model_->eval(*cont, std::span(cs.tokens).first(at.size()), at));
          for (size_t k = 0; k < at.size(); ++k)
            cs.logprob += gavel::engine::log_softmax(cl.row(int(k))).at(size_t(cs.tokens[k + 1]));
        }
        s.candidates.push_back(std::move(cs));
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  Result<std::vector<gavel::GenerateResult>> generate(
      std::span<const gavel::GenerateRequest> reqs) override {
    std::vector<gavel::GenerateResult> out;
    for (const auto& r : reqs) {
      if (r.params.temperature != 0.0) return Error{"the interim engine adapter is greedy only"};
      auto ids = tok_->encode(r.prompt, false, true);
      if (ids.empty()) return Error{"empty prompt"};
      auto seq = model_->new_sequence();
      gavel::GenerateResult g;
      g.prompt_tokens = int(ids.size());
      g.finish = gavel::GenerateResult::Finish::kLength;
      std::vector<int32_t> feed = ids;
      for (int step = 0; step < r.params.max_tokens; ++step) {
        const int last = int(feed.size()) - 1;
        GAVEL_ASSIGN(auto logits, model_->eval(*seq, feed, std::span<const int>(&last, 1)));
        auto row = logits.row(0);
        int32_t next = int32_t(std::max_element(row.begin(), row.end()) - row.begin());
        if (tok_->is_eog(next)) {
          g.finish = gavel::GenerateResult::Finish::kEos;
          break;
        }
        g.tokens.push_back(next);
        g.text = tok_->decode(g.tokens);
        bool stop = false;
        for (const auto& s : r.params.stop)
          if (!s.empty() && g.text.find(s) != std::string::npos) stop = true;
        if (stop) {
          g.finish = gavel::GenerateResult::Finish::kStop;
          break;
        }
        feed = {next};
      }
      out.push_back(std::move(g));
    }
    return out;
  }

 private:
  EngineBackend() = default;
  std::unique_ptr<gavel::engine::LoadedModel> model_;
  std::unique_ptr<gavel::Tokenizer> tok_;
  gavel::BackendInfo info_;
};

struct Options {
  std::string model, backend, input, out, store, protocol = "pairwise-logprob", mode = "pairwise",
      format = "original", thinking = "default", read = "full", on_error = "skip", system_file;
  std::vector<std::string> fields, vars;
  int64_t limit = -1;
  uint64_t seed = 0;
  bool seed_given = false, both_orders = false, ensure_ascii_off = false, keep_prompts = false,
       no_verdict = false, no_progress = false;
  int threads = 2, ctx = 4096, batch = 4, top_k = 10, max_tokens = 512;
};

int run(const Options& o) {
  using gavel::cli::fail;
  namespace judge = gavel::judge;
  judge::RunConfig cfg;
  auto proto = judge::parse_protocol(o.protocol);
  if (!proto.ok()) return fail(proto.message());
  auto mode = judge::parse_mode(o.mode);
  if (!mode.ok()) return fail(mode.message());
  auto format = judge::parse_format(o.format);
  if (!format.ok()) return fail(format.message());
  auto thinking = judge::parse_thinking(o.thinking);
  if (!thinking.ok()) return fail(thinking.message());
  if (o.read != "full" && o.read != "top-k") return fail("--read must be full or top-k");
  if (o.on_error != "skip" && o.on_error != "stop") return fail("--on-error must be skip or stop");
  cfg.protocol = *proto;
  cfg.pairwise.thinking = *thinking;
  cfg.pairwise.ensure_ascii = !o.ensure_ascii_off;
  cfg.pairwise.read = o.read == "full" ? judge::PairwiseLogprobConfig::Read::kFull
                                       : judge::PairwiseLogprobConfig::Read::kTopK;
  cfg.pairwise.top_k = o.top_k;
  if (!o.system_file.empty()) {
    auto s = gavel::read_file(o.system_file);
    if (!s.ok()) return fail(s.message());
    cfg.pairwise.system_prompt = *s;
  }
  cfg.critique.mode = *mode;
  cfg.critique.format = *format;
  cfg.critique.thinking = *thinking;
  cfg.critique.gen.max_tokens = o.max_tokens;
  cfg.critique.gen.seed = o.seed;
  cfg.critique.verdict_distribution = !o.no_verdict;
  if (*proto == judge::Protocol::kCritique) {
    auto t = judge::critique_template_name(*mode, *format);
    if (!t.ok()) return fail(t.message());
  }
  gavel::Status st = cfg.fields.apply(o.fields, o.vars);
  if (!st.ok()) return fail(st.message());
  cfg.both_orders = o.both_orders;
  cfg.limit = o.limit;
  if (o.seed_given) cfg.shuffle_seed = o.seed;
  cfg.batch = o.batch;
  cfg.stop_on_error = o.on_error == "stop";
  cfg.keep_prompts = o.keep_prompts;
  cfg.input_path = o.input;
  cfg.out_path = o.out;
  cfg.progress = !o.no_progress;

  std::string store_path = o.store;
  if (store_path.empty()) {
    std::filesystem::path base = (o.out.empty() || o.out == "-") ? std::filesystem::path(".")
                                                                : std::filesystem::path(o.out).parent_path();
    store_path = (base.empty() ? std::filesystem::path(".") : base) / "gavel.sqlite";
  }
  auto store = gavel::store::Store::open(store_path);
  if (!store.ok()) return fail(store.message());

  Result<std::unique_ptr<Backend>> backend = Error{"give --model M.gguf or --backend fake:..."};
  if (o.backend.rfind("fake", 0) == 0) {
    std::string spec = o.backend.size() > 5 ? o.backend.substr(5) : "";
    backend = judge::make_dev_backend(spec);
  } else if (!o.backend.empty()) {
    return fail("unknown --backend '" + o.backend + "' (only fake:... besides --model)");
  } else if (!o.model.empty()) {
    backend = EngineBackend::open(o.model, o.threads, o.ctx);
  }
  if (!backend.ok()) return fail(backend.message());
  Backend& be = **backend;
  if (be.info().chat_template.empty()) return fail("the model has no chat template");
  std::string tmpl = be.info().chat_template;
  judge::ChatRenderer render = [tmpl](const nlohmann::json& messages, const nlohmann::json& vars) {
    return gavel::chat::render(tmpl, messages, vars);
  };
  std::fprintf(stderr, "gavel judge: %s, store %s, model %s\n", o.protocol.c_str(),
               store_path.c_str(), be.info().fingerprint.c_str());
  auto sum = judge::run_judge(be, render, **store, cfg, stderr);
  if (!sum.ok()) return fail(sum.message());
  std::fputs(judge::format_summary(*sum, cfg).c_str(), stderr);
  std::fprintf(stderr, "metrics: %s\n", sum->metrics.dump().c_str());
  if (sum->stopped) return 1;
  return sum->errors.empty() ? 0 : 3;
}

gavel::cli::Register reg{{"judge", "Judge JSONL items with a judge protocol (resumable, stored)",
  [](CLI::App& app) -> gavel::cli::Runner {
    auto o = std::make_shared<Options>();
    app.add_option("--model", o->model, "GGUF judge model");
    app.add_option("--backend", o->backend, "fake:opts = deterministic dev backend (testing)")
        ->group("");
    app.add_option("--input,-i", o->input, "Input JSONL")->required();
    app.add_option("--out,-o", o->out, "Output JSONL ('-' = stdout)");
    app.add_option("--store", o->store, "SQLite store (default: gavel.sqlite next to --out)");
    app.add_option("--protocol", o->protocol, "pairwise-logprob | critique");
    app.add_option("--mode", o->mode, "critique: absolute|absolute-ref|classify|classify-ref|pairwise");
    app.add_option("--format", o->format, "critique pairwise: original|markdown|json|prepair|simplified");
    app.add_option("--field", o->fields, "logical=input_field (instruction, A, B, response, reference, rubric, label, id)");
    app.add_option("--var", o->vars, "name=value constant template variable (e.g. rubric_objective)");
    app.add_option("--thinking", o->thinking, "default (template default, as the card) | on | off");
    app.add_option("--read", o->read, "pairwise-logprob: full (exact) | top-k (the card's vLLM code)");
    app.add_option("--top-k", o->top_k, "k for --read top-k (card: 10)")->check(CLI::Range(1, 1000));
    app.add_flag("--no-ensure-ascii", o->ensure_ascii_off, "json.dumps(..., ensure_ascii=False)");
    app.add_option("--system-file", o->system_file, "override the card's system prompt");
    app.add_option("--max-tokens", o->max_tokens, "critique: max generated tokens")->check(CLI::Range(1, 1 << 20));
    app.add_flag("--no-verdict-distribution", o->no_verdict, "critique: skip the verdict probabilities");
    app.add_flag("--both-orders", o->both_orders, "critique pairwise: judge A/B and B/A");
    app.add_option("--limit", o->limit, "judge only the first N items (after --seed shuffle)");
    app.add_option("--seed", o->seed, "shuffle the input with this seed (and seed generation)")
        ->each([o](const std::string&) { o->seed_given = true; });
    app.add_option("--threads", o->threads, "engine threads")->check(CLI::Range(1, 256));
    app.add_option("--ctx", o->ctx, "context size (tokens)")->check(CLI::Range(16, 1 << 24));
    app.add_option("--batch", o->batch, "items per backend call and store transaction")->check(CLI::Range(1, 4096));
    app.add_option("--on-error", o->on_error, "skip | stop");
    app.add_flag("--keep-prompts", o->keep_prompts, "include rendered prompts in the output");
    app.add_flag("--no-progress", o->no_progress, "no progress bar");
    return [o]() { return run(*o); };
  }}};

}  // namespace
