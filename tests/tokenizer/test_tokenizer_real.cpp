// Real vocabularies from GGUF files: round trips, llama.cpp's test vectors (whose expected ids
// come from the Hugging Face tokenizers) and loader errors.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace gavel {
namespace {

const std::string kShared = GAVEL_SHARED_DIR;
const std::string kVectors = kShared + "/data/tokenizer_tests/";

std::string models_dir() {
  if (const char* m = std::getenv("GAVEL_MODELS")) return m;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/gavel/models";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Tokenizer load(const std::string& path) {
  auto f = gguf::File::open(path);
  EXPECT_TRUE(f.ok()) << f.message() << " (run scripts/setup.sh)";
  if (!f.ok()) std::abort();
  auto t = Tokenizer::from_gguf(**f);
  EXPECT_TRUE(t.ok()) << t.message();
  return std::move(t).value();
}

std::vector<std::string> read_inp(const std::string& path) {
  const std::string all = slurp(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find(sep, pos);
    if (end == std::string::npos) end = all.size();
    cases.push_back(all.substr(pos, end - pos));
    pos = end + sep.size();
  }
  return cases;
}

std::vector<std::vector<int32_t>> read_out(const std::string& path) {
  std::vector<std::vector<int32_t>> out;
  std::istringstream in(slurp(path));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    for (int32_t id; ls >> id;) ids.push_back(id);
    out.push_back(ids);
  }
  return out;
}

bool valid_utf8(const std::string& s) {
  std::string re;
  for (uint32_t c : tok::decode_utf8_lossy(s)) append_utf8(re, c);
  return re == s;
}

std::vector<std::string> corpus_texts() {
  std::vector<std::string> texts;
  auto j = nlohmann::json::parse(
      slurp(std::string(GAVEL_SOURCE_DIR) + "/tests/data/tokenizer/corpus.json"));
  for (const auto& c : j) {
    if (c.contains("text")) {
      texts.push_back(c["text"].get<std::string>());
    } else if (c.contains("repeat")) {
      std::string s;
      for (int i = 0; i < c["times"].get<int>(); ++i) s += c["repeat"].get<std::string>();
      texts.push_back(s);
    }
  }
  return texts;
}

// A test-name-safe name for a vocabulary file: its base name without directory, the
// "ggml-vocab-" prefix and ".gguf", other characters than letters and digits as '_'
// (".../qwen2.5-coder-0.5b-instruct.gguf" -> "qwen2_5_coder_0_5b_instruct").
std::string vocab_name(const std::string& path) {
  std::string s = path.substr(path.rfind('/') + 1);
  if (s.rfind("ggml-vocab-", 0) == 0) s = s.substr(11);
  if (s.ends_with(".gguf")) s.resize(s.size() - 5);
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class RealVocab : public ::testing::TestWithParam<std::string> {};

TEST_P(RealVocab, DecodeInvertsEncodeForValidUtf8) {
  const std::string path = GetParam();
  const Tokenizer t = load(path[0] == '/' ? path : kVectors + path);
  std::vector<std::string> texts = corpus_texts();
  for (const auto& s : read_inp(kVectors + "ggml-vocab-qwen35.gguf.inp")) texts.push_back(s);
  // Some vocabularies lack a few byte symbols (SmolLM2 has no token for 0x1D, ...): such bytes
  // are dropped, as by llama.cpp, so texts containing them cannot round-trip.
  auto representable = [&](const std::string& s) {
    for (unsigned char b : s) {
      if (t.find_token(tok::byte_to_unicode(b)) == kNoToken) return false;
    }
    return true;
  };
  int checked = 0;
  for (const auto& text : texts) {
    if (!valid_utf8(text) || !representable(text)) continue;
    const auto ids = t.encode(text, false, false);
    EXPECT_EQ(t.decode(ids), text) << path;
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

INSTANTIATE_TEST_SUITE_P(Vocabs, RealVocab,
                         ::testing::Values(models_dir() + "/qwen2.5-coder-0.5b-instruct.gguf",
                                           models_dir() + "/smollm2-135m-instruct-q4_1.gguf",
                                           "ggml-vocab-gpt-2.gguf", "ggml-vocab-starcoder.gguf",
                                           "ggml-vocab-deepseek-coder.gguf"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return vocab_name(info.param);
                         });

struct VectorCase {
  std::string vocab, vectors;
};

// What a failing case prints: the files, not the struct's bytes.
void PrintTo(const VectorCase& c, std::ostream* os) { *os << c.vectors << " on " << c.vocab; }

class TestVectors : public ::testing::TestWithParam<VectorCase> {};

TEST_P(TestVectors, MatchHuggingFaceIds) {
  const auto& p = GetParam();
  const Tokenizer t = load(p.vocab[0] == '/' ? p.vocab : kVectors + p.vocab);
  const auto inp = read_inp(kVectors + p.vectors + ".inp");
  const auto out = read_out(kVectors + p.vectors + ".out");
  ASSERT_LE(inp.size(), out.size());
  for (size_t i = 0; i < inp.size(); ++i) {
    EXPECT_EQ(t.encode(inp[i], false, false), out[i]) << p.vectors << " case " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Vocabs, TestVectors,
    ::testing::Values(
        VectorCase{"ggml-vocab-gpt-2.gguf", "ggml-vocab-gpt-2.gguf"},
        VectorCase{"ggml-vocab-starcoder.gguf", "ggml-vocab-starcoder.gguf"},
        VectorCase{"ggml-vocab-falcon.gguf", "ggml-vocab-falcon.gguf"},
        VectorCase{"ggml-vocab-deepseek-coder.gguf", "ggml-vocab-deepseek-coder.gguf"},
        VectorCase{models_dir() + "/qwen2.5-coder-0.5b-instruct.gguf", "ggml-vocab-qwen2.gguf"}),
    [](const ::testing::TestParamInfo<VectorCase>& info) {
      return vocab_name(info.param.vectors);
    });

TEST(RealQwen, ChatMarkersAndSpecialIds) {
  const Tokenizer t = load(models_dir() + "/qwen2.5-coder-0.5b-instruct.gguf");
  EXPECT_EQ(t.n_vocab(), 151936);
  EXPECT_EQ(t.encode("<|im_start|>user", true, true), (std::vector<int32_t>{151644, 872}));
  EXPECT_GT(t.encode("<|im_start|>user", true, false).size(), 3u);
  EXPECT_FALSE(t.add_bos());
  EXPECT_EQ(t.eos(), 151645);
  EXPECT_TRUE(t.is_eog(151645));
  EXPECT_TRUE(t.is_eog(151643));
  EXPECT_EQ(t.find_token("<tool_call>"), 151657);
  // A user-defined token is matched even without parse_special.
  EXPECT_EQ(t.encode("<tool_call>", false, false), (std::vector<int32_t>{151657}));
}

TEST(RealSmolLM, BytesWithoutASymbolAreDropped) {
  const Tokenizer t = load(models_dir() + "/smollm2-135m-instruct-q4_1.gguf");
  ASSERT_EQ(t.find_token(tok::byte_to_unicode(0x1D)), kNoToken);
  EXPECT_EQ(t.encode("a\x1d", false, false), t.encode("a", false, false));
}

TEST(Loader, RejectsNonBpeVocabulariesNamingTheModel) {
  auto f = gguf::File::open(kVectors + "ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(f.ok()) << f.message();
  auto t = Tokenizer::from_gguf(**f);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("'llama'"), std::string::npos) << t.message();
  EXPECT_NE(t.message().find("ggml-vocab-llama-spm.gguf"), std::string::npos) << t.message();
}

}  // namespace
}  // namespace gavel
