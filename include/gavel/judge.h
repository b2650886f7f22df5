// gavel's public judge API: open a judge model, judge pairs of responses with the model card's
// pairwise-logprob protocol and single responses (or pairs) with Selene's critique protocol,
// one at a time or in batches, with every judgment kept in an optional SQLite store so that a
// repeated call is answered from the store. The `gavel judge` command, the Python package and
// the server use the same protocols, so the same inputs give the same numbers bit for bit.
//
//   gavel::JudgeOptions o;
//   o.backend.model = "qwen2.5-0.5b-instruct.gguf";
//   auto judge = gavel::Judge::open(o);                    // Result<std::unique_ptr<Judge>>
//   if (!judge.ok()) { fprintf(stderr, "%s\n", judge.message().c_str()); return 1; }
//   auto r = (*judge)->pairwise({"Say hi", "Hello!", "Go away."});
//   if (r.ok()) printf("P(text1 better) = %f\n", r->p_text1);
//
// The model may instead run in serving engines (llama.cpp's server, vLLM, SGLang, Ollama):
//   o.backend.urls = {"http://gpu1:8080", "http://gpu2:8080"};  // replicas of one model
//   o.backend.model = "qwen2.5-0.5b-instruct.gguf";  // its tokenizer and chat template
//
// Conventions: every fallible call returns a Status or a Result<T> (gavel/status.h); nothing
// throws. Strings that name an option ("full", "absolute", ...) are checked and a bad one is
// an error naming the option and the allowed values. Returned structs are plain values owned
// by the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gavel/backend.h"
#include "gavel/status.h"

namespace gavel {

struct JudgeOptions {
  BackendSpec backend;  // where the model runs (gavel/backend.h): a GGUF here, or HTTP servers
  // SQLite judgment store ("" = none: nothing outlives the call). With a store, every
  // judgment is committed before it is returned, and a judgment already stored (same model,
  // protocol, prompts, parameters) is read back instead of computed: `gavel judge --store`
  // with the same file shares the work.
  std::string store;
};

// What the model is (from its GGUF metadata; HTTP: the served model, its fingerprint naming
// the engine kind, model id, tokenizer check and log-probability mode).
struct JudgeInfo {
  std::string fingerprint;    // identity of weights + engine numerics (part of every store key)
  std::string chat_template;  // the checkpoint's own Jinja chat template
  int context_length = 0;     // the model's trained context
};

// ---- pairwise-logprob: the Qwen3.5 creative-writing judge's protocol ----

struct PairwiseOptions {
  std::string read = "full";         // "full": exact log-probs | "top-k": the card's vLLM code
  int top_k = 10;                    // k for read = "top-k" (the card: 10), 1..1000
  std::string thinking = "default";  // "default" (template default) | "on" | "off"
  bool ensure_ascii = true;          // json.dumps(..., ensure_ascii=...) of the user message
  std::string system_prompt;         // "" = the card's system prompt
};

struct PairItem {
  std::string instruction;
  std::string a, b;  // text1 and text2; text1 sits in position A in pass 1, text2 in pass 2
  std::string id;    // "" = "item-<n>", n the 1-based position in the batch
};

struct PairwisePass {
  bool text1_is_a = true;  // pass 1: true; pass 2: false
  double logprob_a = 0,
         logprob_b = 0;  // next-token log-probs of "A" and "B" (top-k: -100 if absent)
  bool a_in_top_k = true, b_in_top_k = true;
  double p_a = 0.5, p_b = 0.5;  // normalised over A and B
  int prompt_tokens = 0;
};

struct PairwiseResult {
  std::string id;
  PairwisePass pass1, pass2;
  double p_text1 = 0.5, p_text2 = 0.5;  // swap-averaged: (pass1.p_a + pass2.p_b) / 2
  std::string key;                      // store key (content hash) of this judgment
  bool cached = false;                  // read from the store, not computed by this call
  std::string record;                   // the JSON record `gavel judge` writes for this item
};

// ---- critique: Atla Selene Mini's critique-then-result protocol ----

struct CritiqueOptions {
  // "absolute" | "absolute-ref" | "classify" | "classify-ref" | "pairwise"
  std::string mode = "absolute";
  // Prompt format, pairwise mode only: "original" | "markdown" | "json" | "prepair" | "simplified"
  std::string format = "original";
  std::string thinking = "default";  // "default" | "on" | "off"
  int max_tokens = 512;  // generated tokens at most; an unfinished critique is "truncated"
  uint64_t seed = 0;     // generation seed (greedy decoding does not use it)
  bool verdict_distribution = true;  // also read the probabilities of every label at the verdict
  bool both_orders = false;          // pairwise mode: judge A/B and B/A
};

// The fields a mode needs: absolute/classify: instruction, response, rubric; *-ref: and
// reference; pairwise: instruction, a, b. A needed field that is absent is an error naming it.
struct CritiqueItem {
  std::optional<std::string> instruction, response, reference, rubric, a, b;
  // Further template variables by their template name (e.g. rubric_objective), which take
  // the place of what the rubric would give.
  std::map<std::string, std::string> vars;
  std::string id;  // "" = "item-<n>"
};

struct VerdictProbs {
  std::vector<std::string> labels;  // the mode's labels: "1".."5", "Yes"/"No" or "A"/"B"
  std::vector<double> logprobs;     // log-probability of each label at the verdict position
  std::vector<double> probs;        // normalised over the labels
  double mass = 0;                  // sum of exp(logprobs): how much of the distribution they hold
  std::optional<double> expected;   // absolute modes: sum of k * P(k)
};

struct CritiquePass {
  std::string order;     // pairwise mode: "AB" or "BA"; otherwise ""
  std::string critique;  // the generated text
  std::string finish;    // "stop" | "eos" | "length"
  int generated_tokens = 0, prompt_tokens = 0;
  std::string outcome;                   // "valid" | "parse_error" | "invalid_label" | "truncated"
  std::optional<std::string> label;      // canonical label, when the outcome is valid
  std::optional<std::string> raw_label;  // what followed the last **Result:** marker
  std::optional<VerdictProbs> verdict;   // when asked for and a marker was written
  std::string key;
  bool cached = false;
};

struct CritiqueResult {
  std::string id, mode, format;
  std::vector<CritiquePass> passes;      // one, or two for pairwise mode with both orders
  std::optional<int> score;              // absolute modes: the parsed 1-5 score
  std::optional<double> expected_score;  // absolute modes: the verdict distribution's mean
  std::optional<std::string> verdict;    // classify modes: "Yes" | "No"
  std::optional<double> p_yes;           // classify modes
  // Pairwise mode, in terms of the item's texts: "text1" (a) or "text2" (b) per pass,
  // nullopt where the pass has no valid label; `preferred` when all passes agree.
  std::vector<std::optional<std::string>> preferences;
  std::optional<std::string> preferred;
  std::optional<double> p_text1;  // mean over passes of P(text1) from the verdict distribution
  std::string record;             // the JSON record `gavel judge` writes for this item
};

// ---- batches ----

struct Progress {
  int64_t total = 0;   // items in the call
  int64_t done = 0;    // items with a result so far
  int64_t failed = 0;  // items that failed so far
  int64_t judged = 0;  // judgments computed so far
  int64_t cached = 0;  // judgments read from the store so far
  double seconds = 0;  // since the call started
};

struct BatchOptions {
  int batch = 4;  // items per backend call and store transaction, 1..4096
  // Called after every batch (and once before the first). Returning false stops the call
  // before the next batch: it then fails with a "cancelled" error; judgments of the finished
  // batches are in the store. May be empty.
  std::function<bool(const Progress&)> progress;
};

// One item's outcome in a batch: its result, or the error that item alone met (a missing
// field, a prompt longer than the context).
template <class T>
using ItemResults = std::vector<Result<T>>;

class Judge {
 public:
  // Opens the model (and the store, if given). Fails when the file is missing or not a GGUF
  // the engine runs, when the model has no chat template, or when the store cannot be opened;
  // the message names the file. The caller owns the returned judge.
  static Result<std::unique_ptr<Judge>> open(const JudgeOptions& options);
  ~Judge();
  Judge(const Judge&) = delete;
  Judge& operator=(const Judge&) = delete;

  const JudgeInfo& info() const;

  // Judges one pair with the pairwise-logprob protocol (two passes, positions swapped). Fails
  // on a bad option, an input the model cannot take (longer than the context) or a store
  // error. Calls on one Judge are serialized (it is safe to share, but not parallel).
  Result<PairwiseResult> pairwise(const PairItem& item, const PairwiseOptions& options = {});
  // Judges one item with the critique protocol: generates the critique, parses the verdict
  // (a verdict that cannot be parsed is an outcome, not an error) and reads the verdict
  // distribution.
  Result<CritiqueResult> critique(const CritiqueItem& item, const CritiqueOptions& options = {});

  // Batch forms: results in input order, one per item. The whole call fails on a bad option,
  // a store write error, or when `batch.progress` returned false (cancelled).
  Result<ItemResults<PairwiseResult>> pairwise(std::span<const PairItem> items,
                                               const PairwiseOptions& options,
                                               const BatchOptions& batch);
  Result<ItemResults<CritiqueResult>> critique(std::span<const CritiqueItem> items,
                                               const CritiqueOptions& options,
                                               const BatchOptions& batch);

  struct Impl;

 private:
  explicit Judge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gavel
