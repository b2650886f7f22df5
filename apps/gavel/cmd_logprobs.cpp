// `gavel logprobs MODEL --prompt TEXT [--top-k 20] [--special] [--threads N] [--ctx N]`:
// next-token log-probabilities after a prompt, as JSON.
// `--batch-file FILE` reads JSONL (one request per line: {"prompt": TEXT} or {"tokens": [ids]},
// optionally "score_ids": [ids] whose log-probs are reported too, and "prefill": k to evaluate
// only the first k tokens as one batch and the rest one token at a time, as generation does)
// and prints one JSON line per request, so many prompts share one model load.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "command.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::json;

struct Options {
  std::string model, prompt, batch_file;
  int top_k = 20, threads = 2, ctx = 4096;
  bool special = false;
};

gavel::Result<json> run_one(gavel::engine::LoadedModel& m, const gavel::Tokenizer* tok,
                            const std::vector<int32_t>& ids, const std::vector<int32_t>& score_ids,
                            int top_k, int prefill) {
  if (ids.empty()) return gavel::Error{"the prompt has no tokens"};
  if (prefill < 1 || prefill > int(ids.size()))
    return gavel::Error{
        fmt::format("prefill {} must be within 1..{} (the token count)", prefill, ids.size())};
  auto seq = m.new_sequence();
  const std::span<const int32_t> all(ids);
  int last = prefill - 1;
  GAVEL_ASSIGN(auto logits,
               m.eval(*seq, all.first(size_t(prefill)), std::span<const int>(&last, 1)));
  for (size_t i = size_t(prefill); i < ids.size(); ++i) {
    last = 0;
    GAVEL_ASSIGN(logits, m.eval(*seq, all.subspan(i, 1), std::span<const int>(&last, 1)));
  }
  const std::vector<double> lp = gavel::engine::log_softmax(logits.row(0));
  json out;
  out["n_prompt_tokens"] = ids.size();
  json top = json::array();
  for (const auto& t : gavel::engine::top_k(lp, top_k)) {
    json e = {{"id", t.id}, {"logprob", t.logprob}};
    if (tok) e["token"] = tok->token_text(t.id);
    top.push_back(e);
  }
  out["top"] = top;
  if (!score_ids.empty()) {
    json s = json::array();
    for (int32_t id : score_ids) {
      if (id < 0 || size_t(id) >= lp.size())
        return gavel::Error{fmt::format("score id {} is outside the vocabulary", id)};
      s.push_back(lp[size_t(id)]);
    }
    out["score_logprobs"] = s;
  }
  return out;
}

int run(const Options& o) {
  auto m = gavel::engine::load_model(o.model, {o.threads, o.ctx});
  if (!m.ok()) return gavel::cli::fail(m.message());
  std::optional<gavel::Tokenizer> tok;
  auto t = gavel::Tokenizer::from_gguf((*m)->file());
  if (t.ok()) tok.emplace(std::move(*t));
  auto encode = [&](const std::string& text) -> gavel::Result<std::vector<int32_t>> {
    if (!tok) return gavel::Error{"cannot tokenize: " + t.message()};
    return tok->encode(text, /*add_special=*/true, o.special);
  };
  if (o.batch_file.empty()) {
    auto ids = encode(o.prompt);
    if (!ids.ok()) return gavel::cli::fail(ids.message());
    auto out = run_one(**m, tok ? &*tok : nullptr, *ids, {}, o.top_k, int(ids->size()));
    if (!out.ok()) return gavel::cli::fail(out.message());
    std::cout << out->dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::ifstream in(o.batch_file);
  if (!in) return gavel::cli::fail("cannot open batch file: " + o.batch_file);
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", o.batch_file, lineno);
    json req = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!req.is_object()) return gavel::cli::fail(where + ": not a JSON object");
    std::vector<int32_t> ids, score_ids;
    int prefill = 0;
    try {
      if (req.contains("tokens")) {
        ids = req["tokens"].get<std::vector<int32_t>>();
      } else if (req.contains("prompt")) {
        auto e = encode(req["prompt"].get<std::string>());
        if (!e.ok()) return gavel::cli::fail(where + ": " + e.message());
        ids = *e;
      } else {
        return gavel::cli::fail(where + ": needs \"tokens\" or \"prompt\"");
      }
      if (req.contains("score_ids")) score_ids = req["score_ids"].get<std::vector<int32_t>>();
      prefill = req.contains("prefill") ? req["prefill"].get<int>() : int(ids.size());
    } catch (const json::exception& e) {
      return gavel::cli::fail(where + ": " + e.what());
    }
    auto out = run_one(**m, tok ? &*tok : nullptr, ids, score_ids, o.top_k, prefill);
    if (!out.ok()) return gavel::cli::fail(where + ": " + out.message());
    std::cout << out->dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
  }
  return 0;
}

gavel::cli::Register reg{
    {"logprobs", "Next-token log-probabilities of a prompt (JSON)",
     [](CLI::App& app) -> gavel::cli::Runner {
       auto o = std::make_shared<Options>();
       app.add_option("model", o->model, "GGUF model file")->required();
       auto* p = app.add_option("--prompt", o->prompt, "Prompt text");
       auto* b = app.add_option("--batch-file", o->batch_file,
                                "JSONL requests, one JSON result per line");
       p->excludes(b);
       app.add_option("--top-k", o->top_k, "How many top tokens")->check(CLI::Range(0, 1000000));
       app.add_flag("--special", o->special, "Parse special tokens written in the prompt");
       app.add_option("--threads", o->threads, "Threads")->check(CLI::Range(1, 256));
       app.add_option("--ctx", o->ctx, "Context size (tokens)")->check(CLI::Range(1, 1 << 24));
       return [o]() -> int {
         if (o->prompt.empty() && o->batch_file.empty())
           return gavel::cli::fail("give --prompt or --batch-file");
         return run(*o);
       };
     }}};

}  // namespace
