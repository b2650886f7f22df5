#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tournament/match_judge.h"
#include "tournament/responses.h"

namespace gavel::tournament {
namespace {

std::string write(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() /
           ("gavel_resp_" + std::to_string(getpid()) + "_" + name);
  std::ofstream(p) << text;
  return p.string();
}

std::string row(const std::string& w, const std::string& p, const std::string& it,
                const std::string& text = "t") {
  return nlohmann::json{{"writer_model", w},
                        {"prompt_id", p},
                        {"iteration", it},
                        {"writing_prompt", "do " + p},
                        {"response", text}}
             .dump() +
         "\n";
}

TEST(Responses, LoadsSelectsAndOrdersIterations) {
  auto path = write("ok.jsonl", row("a", "1", "10") + row("a", "1", "2") + row("b", "1", "1") +
                                    "\n" + row("c", "2", "1") + row("b", "2", "1"));
  LoadOptions o;
  auto s = load_responses(path, o);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(s->writers, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s->prompts, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(s->instructions[1], "do 2");
  ASSERT_EQ(s->responses[0][0].size(), 2u);
  EXPECT_EQ(s->responses[0][0][0].iteration, "2");  // numerically before "10"
  EXPECT_EQ(s->responses[0][0][0].line, 2);
  EXPECT_FALSE(s->has(0, 1));
  EXPECT_EQ(s->missing(), 2);
  o.writers = {"c", "b"};
  o.max_prompts = 1;
  s = load_responses(path, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->writers, (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(s->n_prompts(), 1);
  EXPECT_FALSE(s->has(0, 0));  // c has no response to prompt 1
  std::filesystem::remove(path);
}

TEST(Responses, MalformedLinesAreNamedOrSkipped) {
  auto path = write(
      "bad.jsonl",
      row("a", "1", "1") + "[1,2]\n" + row("b", "1", "1") +
          R"({"writer_model": "c", "prompt_id": "1", "writing_prompt": "do 1", "response": 5})"
          "\n");
  auto s = load_responses(path, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path + ":2: not a JSON object"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(path + ":4: field \"response\" is not a string"), std::string::npos);
  LoadOptions skip;
  skip.skip_bad_lines = true;
  s = load_responses(path, skip);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(s->skipped.size(), 2u);
  EXPECT_EQ(s->n_writers(), 2);
  std::filesystem::remove(path);
}

TEST(Responses, InconsistentInstructionsAndDuplicatesAreErrors) {
  std::string other = nlohmann::json{{"writer_model", "b"},
                                     {"prompt_id", "1"},
                                     {"writing_prompt", "something else"},
                                     {"response", "x"}}
                          .dump() +
                      "\n";
  auto path = write("inst.jsonl", row("a", "1", "1") + other);
  auto s = load_responses(path, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":2: prompt \"1\" has another instruction than on line 1"),
            std::string::npos)
      << s.message();
  auto dup = write("dup.jsonl", row("a", "1", "1") + row("b", "1", "1") + row("a", "1", "1"));
  s = load_responses(dup, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":3: writer \"a\" already has a response"), std::string::npos);
  ResponseFields f;
  EXPECT_FALSE(f.apply({"nonsense=x"}).ok());
  EXPECT_FALSE(f.apply({"writer"}).ok());
  EXPECT_TRUE(f.apply({"writer=model", "response=text"}).ok());
  EXPECT_EQ(f.writer, "model");
  std::filesystem::remove(path);
  std::filesystem::remove(dup);
}

TEST(Responses, IterationChoiceIsDeterministic) {
  std::string text;
  for (const char* w : {"a", "b"})
    for (const char* it : {"1", "2", "3"}) text += row(w, "1", it);
  auto path = write("it.jsonl", text);
  auto s = load_responses(path, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(pick_iteration(*s, 0, 0, IterationChoice::kFirst, 5, 0, 0), 0);
  int seeded = pick_iteration(*s, 0, 0, IterationChoice::kSeed, 5, 0, 0);
  for (int r = 0; r < 10; ++r)
    EXPECT_EQ(pick_iteration(*s, 0, 0, IterationChoice::kSeed, 5, 3, r), seeded);
  std::set<int> seen;
  for (int r = 0; r < 40; ++r)
    seen.insert(pick_iteration(*s, 0, 0, IterationChoice::kAll, 5, 0, r));
  EXPECT_EQ(seen.size(), 3u);  // all iterations come up
  EXPECT_TRUE(parse_iteration_choice("all").ok());
  EXPECT_FALSE(parse_iteration_choice("some").ok());
  std::filesystem::remove(path);
}

TEST(Texts, TrimsCutCharacters) {
  EXPECT_EQ(trim_partial_utf8("abc"), "abc");
  EXPECT_EQ(trim_partial_utf8("ab\xC3"), "ab");              // first byte of é
  EXPECT_EQ(trim_partial_utf8("ab\xC3\xA9"), "ab\xC3\xA9");  // é whole
  EXPECT_EQ(trim_partial_utf8("a\xE2\x86"), "a");            // 2 of 3 bytes of →
  EXPECT_EQ(trim_partial_utf8("a\xE2\x86\x92"), "a\xE2\x86\x92");
  EXPECT_EQ(trim_partial_utf8("a\xF0\x9F\x98"), "a");  // 3 of 4 bytes of an emoji
  EXPECT_EQ(trim_partial_utf8(""), "");
  EXPECT_EQ(utf8_length("a\xC3\xA9\xE2\x86\x92"), 3);
}

}  // namespace
}  // namespace gavel::tournament
