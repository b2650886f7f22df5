// EmbeddedBackend on tiny random-weight GGUFs with real vocabularies (tools/make_tiny_gguf.py,
// tools/make_tiny_qwen35.py; made on demand, a missing model fails): prefix reuse changes no
// number, candidates and generation agree with the engine driven by hand, sampling is seeded.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "backend/embedded_backend.h"
#include "engine/engine.h"
#include "tiny_models.h"

namespace {

namespace fs = std::filesystem;
using gavel::GenerateRequest;
using gavel::GenerateResult;
using gavel::ScoreRequest;
using gavel::backend::EmbeddedBackend;
using gavel::backend::EmbeddedOptions;
using gavel_test::tiny;

std::string qwen2_tiny() {
  return tiny("qwen2-f32.gguf", "make_tiny_gguf.py --variant qwen2 --type f32");
}
std::string qwen35_tiny() {
  return tiny("qwen35-tiny-f32.gguf", "make_tiny_qwen35.py --which tiny");
}

std::unique_ptr<EmbeddedBackend> open_or_fail(const std::string& path, EmbeddedOptions o = {}) {
  if (path.empty()) return nullptr;
  auto b = EmbeddedBackend::open(path, o);
  EXPECT_TRUE(b.ok()) << b.message();
  return b.ok() ? std::move(b).value() : nullptr;
}

std::string chat(const std::string& user) {
  return "<|im_start|>system\nYou are a fair judge of two answers.<|im_end|>\n<|im_start|>user\n" +
         user + "<|im_end|>\n<|im_start|>assistant\n";
}

std::vector<double> hand_logprobs(gavel::engine::LoadedModel& m, const std::vector<int32_t>& ids) {
  auto seq = m.new_sequence();
  const int last = int(ids.size()) - 1;
  auto l = m.eval(*seq, ids, std::span<const int>(&last, 1));
  EXPECT_TRUE(l.ok()) << l.message();
  return gavel::engine::log_softmax(l->row(0));
}

// Greedy decoding by hand: prefill the prompt once, then one token per eval.
std::vector<int32_t> hand_greedy(EmbeddedBackend& b, const std::string& prompt, int max_tokens,
                                 bool* hit_eog) {
  auto& m = b.model();
  auto ids = b.tokenizer().encode(prompt, false, true);
  auto seq = m.new_sequence();
  std::vector<int32_t> feed = ids, out;
  *hit_eog = false;
  while (int(out.size()) < max_tokens) {
    const int last = int(feed.size()) - 1;
    auto l = m.eval(*seq, feed, std::span<const int>(&last, 1));
    EXPECT_TRUE(l.ok()) << l.message();
    auto row = l->row(0);
    const int32_t next = int32_t(std::max_element(row.begin(), row.end()) - row.begin());
    if (b.tokenizer().is_eog(next)) {
      *hit_eog = true;
      break;
    }
    out.push_back(next);
    feed = {next};
  }
  return out;
}

}  // namespace

TEST(EmbeddedBackend, InfoAndStableFingerprint) {
  auto b = open_or_fail(qwen2_tiny(), {2, 512});
  ASSERT_TRUE(b);
  const auto& i = b->info();
  EXPECT_EQ(i.context_length, 512);
  EXPECT_EQ(i.fingerprint.rfind("gguf:", 0), 0u) << i.fingerprint;
  EXPECT_NE(i.fingerprint.find(gavel::backend::kNumericsVersion), std::string::npos);
  EXPECT_EQ(i.eos_token, b->tokenizer().token_text(b->tokenizer().eos()));
  auto again = open_or_fail(qwen2_tiny(), {1, 64});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->info().fingerprint, i.fingerprint);  // threads and ctx are not identity
  auto other = open_or_fail(qwen35_tiny(), {1, 64});
  ASSERT_TRUE(other);
  EXPECT_NE(other->info().fingerprint, i.fingerprint);
  EXPECT_FALSE(other->info().chat_template.empty());  // written from Qwen3.5-4B's template
}

namespace {

// Reuse the spec allows for `ids` after `seen` (all still cached): an identical prompt whole,
// else the longest exact split within a common prefix and the earlier prompt's exact part.
int64_t expected_reuse(const std::vector<std::vector<int32_t>>& seen,
                       const std::vector<int32_t>& ids) {
  const gavel::engine::SplitRule rule = gavel::engine::split_rule();
  const int64_t n = int64_t(ids.size());
  int64_t best = 0;
  for (const auto& s : seen) {
    if (s == ids) return n;
    int64_t lcp = 0;
    while (lcp < int64_t(std::min(s.size(), ids.size())) && s[size_t(lcp)] == ids[size_t(lcp)])
      ++lcp;
    for (int64_t r = std::min({lcp, rule.exact_prefix(int64_t(s.size())), n - 1}); r > 0; --r)
      if (rule.exact_split(r, n)) {
        best = std::max(best, r);
        break;
      }
  }
  return best;
}

// Scores `prompts` through a caching backend and through one without a cache: every number
// must be bit-identical, and the reuse must be what the spec allows.
void check_reuse_is_exact(const std::string& path, const std::vector<std::string>& prompts) {
  auto cached = open_or_fail(path, {2, 2048, 16});
  auto fresh = open_or_fail(path, {2, 2048, 0});
  ASSERT_TRUE(cached && fresh);
  std::vector<ScoreRequest> reqs;
  for (const std::string& p : prompts) reqs.push_back({p, {"A", "B", " hello world"}, 5});
  auto a = cached->score(reqs);
  ASSERT_TRUE(a.ok()) << a.message();
  std::vector<std::vector<int32_t>> seen;
  int64_t want_reused = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    SCOPED_TRACE(testing::Message() << path << " prompt " << i);
    auto f = fresh->score(std::span(&reqs[i], 1));  // one call each: nothing can be shared
    ASSERT_TRUE(f.ok()) << f.message();
    const auto& x = (*a)[i];
    const auto& y = f->at(0);
    EXPECT_EQ(x.prompt_tokens, y.prompt_tokens);
    ASSERT_EQ(x.candidates.size(), 3u);
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_EQ(x.candidates[c].logprob, y.candidates[c].logprob);
      EXPECT_EQ(x.candidates[c].first_token_logprob, y.candidates[c].first_token_logprob);
    }
    ASSERT_EQ(x.top.size(), 5u);
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_EQ(x.top[k].id, y.top[k].id);
      EXPECT_EQ(x.top[k].logprob, y.top[k].logprob);
      EXPECT_EQ(x.top[k].token, cached->tokenizer().token_text(x.top[k].id));
    }
    const auto ids = cached->tokenizer().encode(reqs[i].prompt, false, true);
    want_reused += expected_reuse(seen, ids);
    seen.push_back(ids);
  }
  const auto& s = cached->stats();
  EXPECT_EQ(s.prompts, int64_t(prompts.size()));
  EXPECT_EQ(s.reused_tokens, want_reused);
  EXPECT_EQ(s.reused_tokens + s.evaluated_tokens, s.prompt_tokens);
  EXPECT_EQ(fresh->stats().reused_tokens, 0);
  EXPECT_GT(s.continuation_tokens, 0);
}

std::vector<std::string> reuse_prompts() {
  const std::string p1 = chat("Instruction: name a fruit.\nA: apple\nB: a car");
  const std::string p2 = chat("Instruction: name a fruit.\nA: a car\nB: apple");
  std::string essay;
  for (int i = 0; i < 70; ++i) essay += "Sentence " + std::to_string(i) + " of a long answer. ";
  const std::string l1 = chat("Instruction: judge.\nA: " + essay + "\nB: short");
  const std::string l2 = chat("Instruction: judge.\nA: " + essay + "\nB: a different reply");
  return {p1,
          p2,
          p1,                                 // identical: nothing evaluated
          p1.substr(0, p1.find("B: a car")),  // a prefix of a cached prompt
          p2 + "The better answer is",        // extends a cached prompt
          l1,                                 // > 512 tokens: two chunks
          l2,                                 // shares more than one chunk with l1
          l2 + "A"};                          // extends by one token: must back off
}

}  // namespace

TEST(EmbeddedBackend, PrefixReuseIsBitIdenticalToAFreshBackend) {
  check_reuse_is_exact(qwen2_tiny(), reuse_prompts());
}

TEST(EmbeddedBackend, PrefixReuseIsBitIdenticalOnQuantizedModels) {
  check_reuse_is_exact(
      tiny("qwen2-q4_k_m.gguf", "make_tiny_gguf.py --variant qwen2 --type f32 --type q4_k_m"),
      reuse_prompts());
  check_reuse_is_exact(
      tiny("qwen2-q8_0.gguf", "make_tiny_gguf.py --variant qwen2 --type f32 --type q8_0"),
      reuse_prompts());
}

TEST(EmbeddedBackend, MultiTokenCandidateIsTheSumOfItsTokenLogprobs) {
  auto b = open_or_fail(qwen2_tiny(), {2, 1024});
  ASSERT_TRUE(b);
  const std::string prompt = chat("Say something.");
  const std::string cand = " the quick brown fox";
  ScoreRequest r{prompt, {cand, "A"}, 0};
  auto s = b->score(std::span(&r, 1));
  ASSERT_TRUE(s.ok()) << s.message();
  const auto& cs = s->at(0).candidates.at(0);
  const auto ids = b->tokenizer().encode(prompt, false, true);
  const auto ct = b->tokenizer().encode(cand, false, false);
  ASSERT_GT(ct.size(), 2u);
  EXPECT_EQ(cs.tokens, ct);
  // One batch over prompt + candidate, the log-probability of each candidate token read off
  // the row before it.
  auto& m = b->model();
  auto seq = m.new_sequence();
  std::vector<int32_t> all = ids;
  all.insert(all.end(), ct.begin(), ct.end() - 1);
  std::vector<int> at;
  for (size_t k = 0; k < ct.size(); ++k) at.push_back(int(ids.size() - 1 + k));
  auto l = m.eval(*seq, all, at);
  ASSERT_TRUE(l.ok()) << l.message();
  double sum = 0;
  for (size_t k = 0; k < ct.size(); ++k) {
    const double v = gavel::engine::log_softmax(l->row(int(k)))[size_t(ct[k])];
    if (k == 0) {
      EXPECT_NEAR(cs.first_token_logprob, v, 1e-4);
    }
    sum += v;
  }
  EXPECT_NEAR(cs.logprob, sum, 1e-4);
  EXPECT_LT(cs.logprob, cs.first_token_logprob);
  const auto& a = s->at(0).candidates.at(1);
  EXPECT_EQ(a.logprob, a.first_token_logprob);
  EXPECT_NEAR(a.logprob, hand_logprobs(m, ids)[size_t(a.tokens[0])], 1e-4);
}

TEST(EmbeddedBackend, GreedyGenerationIsTheArgmaxChain) {
  auto b = open_or_fail(qwen2_tiny(), {2, 1024});
  ASSERT_TRUE(b);
  const std::string prompt = chat("Write a short poem.");
  bool eog = false;
  const auto want = hand_greedy(*b, prompt, 12, &eog);
  GenerateRequest r{prompt, {}};
  r.params.max_tokens = 12;
  auto g = b->generate(std::span(&r, 1));
  ASSERT_TRUE(g.ok()) << g.message();
  const GenerateResult& res = g->at(0);
  EXPECT_EQ(res.tokens, want);
  EXPECT_EQ(res.text, b->tokenizer().decode(want));
  EXPECT_EQ(res.finish, eog ? GenerateResult::Finish::kEos : GenerateResult::Finish::kLength);
  EXPECT_EQ(res.prompt_tokens, int(b->tokenizer().encode(prompt, false, true).size()));
  // max_tokens caps the same chain.
  r.params.max_tokens = 5;
  auto g5 = b->generate(std::span(&r, 1));
  ASSERT_TRUE(g5.ok()) << g5.message();
  if (!eog || want.size() >= 5) {
    EXPECT_EQ(g5->at(0).finish, GenerateResult::Finish::kLength);
    EXPECT_EQ(g5->at(0).tokens, std::vector<int32_t>(want.begin(), want.begin() + 5));
  }
  // The prompt came from the cache the second time; the prompt + generation is cached too.
  EXPECT_GE(b->stats().reused_tokens, int64_t(res.prompt_tokens));
}

TEST(EmbeddedBackend, StopStringsEndTheTextBeforeThem) {
  auto b = open_or_fail(qwen2_tiny(), {2, 1024});
  ASSERT_TRUE(b);
  GenerateRequest r{chat("Write a short poem."), {}};
  r.params.max_tokens = 16;
  auto full = b->generate(std::span(&r, 1));
  ASSERT_TRUE(full.ok()) << full.message();
  const auto& toks = full->at(0).tokens;
  ASSERT_GE(toks.size(), 8u) << "the greedy chain of the tiny model ended early";
  // A stop string that starts inside token 4 and ends inside token 5 (when pieces allow).
  const std::string text = full->at(0).text;
  const std::string head = b->tokenizer().decode(std::span(toks).first(4));
  std::string stop = text.substr(head.size() > 1 ? head.size() - 1 : head.size(), 3);
  ASSERT_FALSE(stop.empty());
  r.params.stop = {"never-generated-\x01", stop};
  auto g = b->generate(std::span(&r, 1));
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->at(0).finish, GenerateResult::Finish::kStop);
  EXPECT_EQ(g->at(0).text, text.substr(0, text.find(stop)));
  EXPECT_LT(g->at(0).tokens.size(), toks.size());
}

TEST(EmbeddedBackend, SampledGenerationIsReproduciblePerSeed) {
  auto b = open_or_fail(qwen2_tiny(), {2, 1024});
  ASSERT_TRUE(b);
  GenerateRequest r{chat("Tell a story."), {}};
  r.params.max_tokens = 10;
  r.params.temperature = 1.0;
  r.params.top_p = 0.95;
  r.params.seed = 42;
  std::vector<GenerateRequest> reqs = {r, r};
  reqs[1].params.seed = 43;
  auto a = b->generate(reqs);
  auto again = b->generate(std::span(&r, 1));
  ASSERT_TRUE(a.ok() && again.ok());
  EXPECT_EQ(a->at(0).tokens, again->at(0).tokens);
  EXPECT_EQ(a->at(0).text, again->at(0).text);
  EXPECT_NE(a->at(0).tokens, a->at(1).tokens);  // near-flat distribution: seeds differ
  // A nucleus smaller than the top token's probability leaves only the argmax.
  r.params.top_p = 1e-9;
  auto narrow = b->generate(std::span(&r, 1));
  r.params.temperature = 0;
  auto greedy = b->generate(std::span(&r, 1));
  ASSERT_TRUE(narrow.ok() && greedy.ok());
  EXPECT_EQ(narrow->at(0).tokens, greedy->at(0).tokens);
}

TEST(EmbeddedBackend, SamplerFollowsTemperatureAndTopP) {
  const std::vector<float> logits = {1.f, 2.f, 3.f};  // softmax: 0.090, 0.245, 0.665
  std::mt19937_64 rng(7);
  EXPECT_EQ(gavel::backend::sample_token(logits, 0.0, 1.0, rng), 2);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(gavel::backend::sample_token(logits, 1.0, 0.5, rng), 2);
  std::map<int32_t, int> n;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) n[gavel::backend::sample_token(logits, 1.0, 0.8, rng)]++;
  EXPECT_EQ(n[0], 0);  // outside the 0.8 nucleus {2, 1}
  EXPECT_NEAR(double(n[2]) / draws, 0.665 / (0.665 + 0.245), 0.02);
  n.clear();
  for (int i = 0; i < draws; ++i) n[gavel::backend::sample_token(logits, 2.0, 1.0, rng)]++;
  const double z = std::exp(0.5) + std::exp(1.0) + std::exp(1.5);
  EXPECT_NEAR(double(n[0]) / draws, std::exp(0.5) / z, 0.02);
}

TEST(EmbeddedBackend, ClearErrors) {
  auto b = open_or_fail(qwen2_tiny(), {1, 16});
  ASSERT_TRUE(b);
  std::string long_prompt;
  for (int i = 0; i < 40; ++i) long_prompt += " word";
  const size_t n = b->tokenizer().encode(long_prompt, false, true).size();
  ScoreRequest r{long_prompt, {"A"}, 0};
  auto s = b->score(std::span(&r, 1));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(std::to_string(n)), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("16"), std::string::npos) << s.message();

  GenerateRequest g{"one two three", {}};
  g.params.max_tokens = 100;
  auto full = b->generate(std::span(&g, 1));
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.message().find("context size 16"), std::string::npos) << full.message();

  r = {"", {"A"}, 0};
  EXPECT_NE(b->score(std::span(&r, 1)).message().find("empty prompt"), std::string::npos);
  r = {"hello", {"A", ""}, 0};
  EXPECT_NE(b->score(std::span(&r, 1)).message().find("candidate '' has no tokens"),
            std::string::npos);
  g = {"hello", {}};
  g.params.top_p = 0;
  EXPECT_NE(b->generate(std::span(&g, 1)).message().find("top_p"), std::string::npos);
  g.params.top_p = 1;
  g.params.temperature = -1;
  EXPECT_NE(b->generate(std::span(&g, 1)).message().find("temperature"), std::string::npos);
  g.params.temperature = 0;
  g.params.stop = {""};
  EXPECT_NE(b->generate(std::span(&g, 1)).message().find("stop string 0 is empty"),
            std::string::npos);
  auto missing = EmbeddedBackend::open("/nonexistent/judge.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("/nonexistent/judge.gguf"), std::string::npos);
}

// Recurrent layers cannot rewind: only a cached sequence that is a whole prefix is continued.
TEST(EmbeddedBackend, RecurrentStateReusesWholePrefixesOnly) {
  const std::string path = qwen35_tiny();
  auto cached = open_or_fail(path, {2, 1024, 4});
  auto fresh = open_or_fail(path, {2, 1024, 0});
  ASSERT_TRUE(cached && fresh);
  // p1's whole state is reusable only when it is an exact prefix (a multiple of 4 tokens).
  std::string user = "Instruction: name a fruit.";
  while (gavel::engine::split_rule().exact_prefix(
             int64_t(cached->tokenizer().encode(chat(user), false, true).size())) !=
         int64_t(cached->tokenizer().encode(chat(user), false, true).size()))
    user += " x";
  const std::string p1 = chat(user);
  const std::string p2 = p1 + "The answer, in my considered opinion, is clear";  // extends p1
  const std::string p3 = chat("Instruction: name a car.");  // shares only the start
  // One call each, so that no prompt sees the next one coming (see the snapshot test below).
  for (const std::string& p : {p1, p2, p3}) {
    const ScoreRequest req{p, {"A", " yes please"}, 3};
    auto a = cached->score(std::span(&req, 1));
    auto f = fresh->score(std::span(&req, 1));
    ASSERT_TRUE(a.ok() && f.ok()) << a.message() << f.message();
    for (size_t c = 0; c < 2; ++c)
      EXPECT_EQ(a->at(0).candidates[c].logprob, f->at(0).candidates[c].logprob) << p;
  }
  const size_t n1 = cached->tokenizer().encode(p1, false, true).size();
  // p2 continued p1 whole; p3 shares only the start with them, so it started afresh (and left
  // a snapshot there for the next prompt).
  EXPECT_EQ(cached->stats().reused_tokens, int64_t(n1));
  EXPECT_EQ(cached->stats().snapshots, 1);
}

// Judge-like traffic on a recurrent model: one call per pair with both passes, as the runner
// sends them. The backend snapshots the state where prompts stop sharing tokens with cached or
// upcoming ones (system prompt, instruction) and continues those snapshots; every number stays
// bit-identical to a backend without cache.
TEST(EmbeddedBackend, RecurrentSnapshotsAreBitIdentical) {
  std::string essay;
  for (int i = 0; i < 60; ++i) essay += "Sentence " + std::to_string(i) + " of a long answer. ";
  auto pair = [](const std::string& instr, const std::string& x, const std::string& y) {
    std::vector<ScoreRequest> r;
    for (const auto& [a, b] : {std::pair{x, y}, std::pair{y, x}})
      r.push_back(
          {chat("Instruction: " + instr + "\nA: " + a + "\nB: " + b), {"A", "B", " the first"}, 5});
    return r;
  };
  const std::vector<std::vector<ScoreRequest>> pairs = {
      pair("name a fruit that is red and grows on trees.", "apple", "a car"),
      pair("write one line about the sea at night, please.", "waves", essay),
      pair("write one line about the sea at night, please.", essay, "foam"),
      pair("what is two plus two? Answer with a number.", "4", "5")};
  for (const std::string name :
       {"qwen35-tiny-f32.gguf", "qwen35-tiny-q8_0.gguf", "qwen35-tiny-q4_k.gguf"}) {
    SCOPED_TRACE(name);
    const std::string path = tiny(name, "make_tiny_qwen35.py --which tiny");
    auto cached = open_or_fail(path, {2, 2048, 4});
    auto fresh = open_or_fail(path, {2, 2048, 0});
    ASSERT_TRUE(cached && fresh);
    std::vector<int64_t> reused;
    for (size_t p = 0; p < pairs.size(); ++p) {
      SCOPED_TRACE(testing::Message() << "pair " << p);
      const int64_t before = cached->stats().reused_tokens;
      auto a = cached->score(pairs[p]);
      ASSERT_TRUE(a.ok()) << a.message();
      reused.push_back(cached->stats().reused_tokens - before);
      for (size_t i = 0; i < 2; ++i) {
        auto f = fresh->score(std::span(&pairs[p][i], 1));
        ASSERT_TRUE(f.ok()) << f.message();
        for (size_t c = 0; c < 3; ++c)
          EXPECT_EQ(a->at(i).candidates[c].logprob, f->at(0).candidates[c].logprob) << i;
        for (size_t k = 0; k < 5; ++k) {
          EXPECT_EQ(a->at(i).top[k].id, f->at(0).top[k].id) << i;
          EXPECT_EQ(a->at(i).top[k].logprob, f->at(0).top[k].logprob) << i;
        }
      }
    }
    const auto& s = cached->stats();
    EXPECT_EQ(s.reused_tokens + s.evaluated_tokens, s.prompt_tokens);
    // The first pass of a pair snapshots at the end of the instruction, which the second pass
    // continues; from the second pair on, the first pass also continues the system prompt's
    // snapshot (made by the second pair), or its instruction's when the pair before had it.
    EXPECT_GE(s.snapshots, 5);
    EXPECT_GT(reused[0], 0);
    EXPECT_GT(reused[2], reused[1]);  // same instruction as pair 1
    EXPECT_GT(reused[3], reused[0]);  // system prompt snapshot + its instruction's
    EXPECT_EQ(fresh->stats().reused_tokens, 0);
    EXPECT_EQ(fresh->stats().snapshots, 0);
  }
}

// A critique on a recurrent model: the prompt is snapshotted near its end before generation,
// so the verdict request (prompt + critique + "**Result:**") continues it, with the same bits.
TEST(EmbeddedBackend, RecurrentCritiqueVerdictContinuesThePromptSnapshot) {
  const std::string path = tiny("qwen35-tiny-q4_k.gguf", "make_tiny_qwen35.py --which tiny");
  auto cached = open_or_fail(path, {2, 2048, 4});
  auto fresh = open_or_fail(path, {2, 2048, 0});
  ASSERT_TRUE(cached && fresh);
  const std::string prompt =
      chat("Score the response from 1 to 5.\nResponse: The sea is calm tonight, the tide is full.");
  GenerateRequest g{prompt, {}};
  g.params.max_tokens = 10;
  auto a = cached->generate(std::span(&g, 1));
  auto f = fresh->generate(std::span(&g, 1));
  ASSERT_TRUE(a.ok() && f.ok()) << a.message() << f.message();
  EXPECT_EQ(a->at(0).tokens, f->at(0).tokens);
  EXPECT_EQ(cached->stats().snapshots, 1);
  const ScoreRequest v{prompt + a->at(0).text + "\n**Result:** ", {"1", "3", "5"}, 5};
  const int64_t before = cached->stats().reused_tokens;
  auto sa = cached->score(std::span(&v, 1));
  auto sf = fresh->score(std::span(&v, 1));
  ASSERT_TRUE(sa.ok() && sf.ok()) << sa.message() << sf.message();
  for (size_t c = 0; c < 3; ++c)
    EXPECT_EQ(sa->at(0).candidates[c].logprob, sf->at(0).candidates[c].logprob) << c;
  const int64_t n = int64_t(cached->tokenizer().encode(prompt, false, true).size());
  const int64_t reused = cached->stats().reused_tokens - before;
  EXPECT_GT(reused, n - 12);  // the snapshot ends within the prompt's last 12 tokens
  EXPECT_LE(reused, n);
}
