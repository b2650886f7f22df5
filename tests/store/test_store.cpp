#include "store/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

namespace gavel::store {
namespace {

std::string temp_db(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("gavel_store_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + ext);
  return p.string();
}

// Appending (not "c" + to_string) sidesteps a GCC 12 -Wrestrict false positive.
std::string ckey(int64_t i) {
  std::string k = "c";
  k += std::to_string(i);
  return k;
}

Judgment row(const std::string& key, const std::string& record) {
  std::string id = "item-";
  id += key;
  return Judgment{key, "critique", "fp", id, record, ""};
}

TEST(Store, PutGetAndNoDuplicates) {
  auto s = Store::open(temp_db("a.sqlite"));
  ASSERT_TRUE(s.ok()) << s.message();
  auto& st = **s;
  auto miss = st.get("k1");
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->has_value());
  ASSERT_TRUE(st.put(row("k1", R"({"v":1})")).ok());
  // Same key again, different record: the first one stays, nothing is duplicated.
  ASSERT_TRUE(st.put(row("k1", R"({"v":2})")).ok());
  std::vector<Judgment> batch{row("k2", "{}"), row("k3", "{}"), row("k2", "{}")};
  ASSERT_TRUE(st.put(batch).ok());
  auto hit = st.get("k1");
  ASSERT_TRUE(hit.ok());
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ(**hit, R"({"v":1})");
  EXPECT_EQ(*st.count(), 3);
  std::vector<std::string> keys;
  ASSERT_TRUE(st.for_each([&](const Judgment& j) {
                  keys.push_back(j.key);
                  EXPECT_FALSE(j.created_at.empty());
                  EXPECT_EQ(j.item_id.substr(5), j.key);
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"k1", "k2", "k3"}));
}

TEST(Store, RunsAndTheirItemsSurviveReopen) {
  const std::string path = temp_db("runs.sqlite");
  int64_t a = 0, b = 0;
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s.ok()) << s.message();
    auto& st = **s;
    auto r = st.create_run("judge", "pairs.jsonl", R"({"protocol":"pairwise-logprob"})");
    ASSERT_TRUE(r.ok()) << r.message();
    a = *r;
    b = *st.create_run("tournament", "job", "{}", "queued");
    EXPECT_NE(a, b);
    std::vector<RunItem> items{{"i1", R"(["k1"])", R"({"A":"x"})"}, {"i2", R"(["k2"])", "{}"}};
    auto added = st.add_run_items(a, items);
    ASSERT_TRUE(added.ok()) << added.message();
    ASSERT_TRUE(st.add_run_items(a, std::span(items).first(1)).ok());  // appended, seq 3
    ASSERT_TRUE(st.update_run(a, "done", R"({"accuracy":0.5})").ok());
    EXPECT_FALSE(st.update_run(999, "done", "{}").ok());
    std::vector<std::pair<std::string, std::string>> p{{"k1", R"(["p1","p2"])"}};
    ASSERT_TRUE(st.put_prompts(p).ok());
    p[0].second = "[]";  // a second put keeps the first prompts
    ASSERT_TRUE(st.put_prompts(p).ok());
  }
  auto s = Store::open(path);
  ASSERT_TRUE(s.ok());
  auto& st = **s;
  auto runs = st.runs();
  ASSERT_TRUE(runs.ok()) << runs.message();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].id, a);
  EXPECT_EQ((*runs)[0].kind, "judge");
  EXPECT_EQ((*runs)[0].status, "done");
  EXPECT_EQ((*runs)[0].summary, R"({"accuracy":0.5})");
  EXPECT_FALSE((*runs)[0].created_at.empty());
  EXPECT_EQ((*runs)[1].status, "queued");
  EXPECT_EQ((*runs)[1].summary, "");
  auto one = st.run(b);
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->kind, "tournament");
  EXPECT_FALSE(st.run(12345)->has_value());
  std::vector<std::string> ids;
  ASSERT_TRUE(st.for_each_run_item(a, [&](const RunItem& it) {
                  ids.push_back(it.item_id);
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"i1", "i2", "i1"}));
  auto pr = st.prompts("k1");
  ASSERT_TRUE(pr.ok() && pr->has_value());
  EXPECT_EQ(**pr, R"(["p1","p2"])");
  EXPECT_FALSE(st.prompts("k2")->has_value());
}

TEST(Store, SurvivesReopen) {
  std::string path = temp_db("b.sqlite");
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->put(row("x", "{\"a\":\"\\u00e9\"}")).ok());
  }
  auto s = Store::open(path);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*(*s)->count(), 1);
  EXPECT_EQ(**(*s)->get("x"), "{\"a\":\"\\u00e9\"}");
}

TEST(Store, OpenFailsWithPath) {
  auto s = Store::open("/nonexistent-dir-gavel/x.sqlite");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir-gavel/x.sqlite"), std::string::npos);
}

TEST(Store, NotADatabaseIsAnError) {
  std::string path = temp_db("c.sqlite");
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::string junk(4096, 'z');
  fwrite(junk.data(), 1, junk.size(), f);
  fclose(f);
  auto s = Store::open(path);
  EXPECT_FALSE(s.ok());
}

// A writer killed with SIGKILL at an arbitrary point loses nothing it committed and leaves
// no partial row: keys form a gap-free prefix c0..c(n-1) and each record is complete.
TEST(Store, SigkillLeavesCommittedPrefix) {
  std::string path = temp_db("d.sqlite");
  ASSERT_TRUE(Store::open(path).ok());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto s = Store::open(path);
    if (!s.ok()) _exit(2);
    std::string payload(2000, 'p');
    for (int i = 0;; ++i) {
      std::vector<Judgment> two{row(ckey(2 * i), payload),
                                row(ckey(2 * i + 1), payload)};
      if (!(*s)->put(two).ok()) _exit(3);
    }
  }
  auto s = Store::open(path);
  ASSERT_TRUE(s.ok());
  for (int tries = 0; tries < 2000 && *(*s)->count() < 40; ++tries) usleep(5000);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  int64_t n = *(*s)->count();
  EXPECT_GE(n, 40);
  EXPECT_EQ(n % 2, 0) << "a two-row transaction was split";
  int64_t i = 0;
  ASSERT_TRUE((*s)->for_each([&](const Judgment& j) {
                  EXPECT_EQ(j.key, ckey(i++));
                  EXPECT_EQ(j.record.size(), 2000u);
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(i, n);
}

// Two connections on one file, as two processes would have.
TEST(StoreClaims, WorkersSplitKeysAndExpiredClaimsAreTakenOver) {
  const std::string path = temp_db("claims.sqlite");
  auto s1 = Store::open(path);
  auto s2 = Store::open(path);
  ASSERT_TRUE(s1.ok() && s2.ok());
  Store& w1 = **s1;
  Store& w2 = **s2;
  ASSERT_TRUE(w1.put(row("done", "{}")).ok());
  const std::vector<std::string> keys = {"k1", "k2", "done"};
  auto c1 = w1.claim(keys, "w1", 60, 1000.0);
  ASSERT_TRUE(c1.ok()) << c1.message();
  EXPECT_EQ(c1->granted, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(c1->judged, (std::vector<std::string>{"done"}));
  EXPECT_TRUE(c1->held.empty());
  EXPECT_EQ(c1->reclaimed, 0);

  // The other worker gets none of them while the claims are live; a new key it gets.
  const std::vector<std::string> keys2 = {"k1", "k2", "k3"};
  auto c2 = w2.claim(keys2, "w2", 60, 1059.0);
  ASSERT_TRUE(c2.ok()) << c2.message();
  EXPECT_EQ(c2->held, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(c2->granted, (std::vector<std::string>{"k3"}));

  // The owner may claim its own keys again (renewal), and committing a key drops its claim.
  auto again = w1.claim(std::vector<std::string>{"k1"}, "w1", 60, 1059.0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->granted, (std::vector<std::string>{"k1"}));
  EXPECT_EQ(again->reclaimed, 0);
  ASSERT_TRUE(w1.put(row("k1", "{}")).ok());
  EXPECT_EQ(*w1.claim_count(), 2);  // k2 (w1), k3 (w2)

  // k1 is judged now; k2's claim (made at 1000, ttl 60) has expired at 1060.5: it is w2's.
  auto c3 = w2.claim(keys, "w2", 60, 1060.5);
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(c3->judged, (std::vector<std::string>{"k1", "done"}));
  EXPECT_EQ(c3->granted, (std::vector<std::string>{"k2"}));
  EXPECT_EQ(c3->reclaimed, 1);
  auto c4 = w1.claim(std::vector<std::string>{"k2"}, "w1", 60, 1061.0);
  ASSERT_TRUE(c4.ok());
  EXPECT_EQ(c4->held, (std::vector<std::string>{"k2"}));

  // A worker known to be gone holds nothing, however live its claim.
  auto gone = [](std::string_view w) { return w == "w2"; };
  auto c4b = w1.claim(std::vector<std::string>{"k2"}, "w1", 60, 1061.0, gone);
  ASSERT_TRUE(c4b.ok());
  EXPECT_EQ(c4b->granted, (std::vector<std::string>{"k2"}));
  EXPECT_EQ(c4b->reclaimed, 1);
  auto back = w2.claim(std::vector<std::string>{"k2"}, "w2", 60, 1061.0);  // w1's now
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->held, (std::vector<std::string>{"k2"}));
  ASSERT_TRUE(w1.release("w1", std::vector<std::string>{"k2"}).ok());
  ASSERT_TRUE(w2.claim(std::vector<std::string>{"k2"}, "w2", 60, 1061.0).ok());

  // Releasing some keys, then all of a worker's claims.
  ASSERT_TRUE(w2.release("w2", std::vector<std::string>{"k3"}).ok());
  EXPECT_EQ(*w2.claim_count(), 1);
  ASSERT_TRUE(w1.release("w1").ok());  // w1 holds none: w2's claim stays
  EXPECT_EQ(*w2.claim_count(), 1);
  ASSERT_TRUE(w2.release("w2").ok());
  EXPECT_EQ(*w2.claim_count(), 0);
  auto c5 = w1.claim(std::vector<std::string>{"k2"}, "w1", 60, 1061.0);
  ASSERT_TRUE(c5.ok());
  EXPECT_EQ(c5->granted, (std::vector<std::string>{"k2"}));
  EXPECT_EQ(c5->reclaimed, 0);  // released, not expired
}

// Threads racing to claim the same keys through their own connections: each key is granted
// to exactly one of them (the claim is one write transaction).
TEST(StoreClaims, RacingClaimsGrantEachKeyOnce) {
  const std::string path = temp_db("race.sqlite");
  ASSERT_TRUE(Store::open(path).ok());
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back(ckey(i));
  constexpr int kWorkers = 4;
  std::vector<std::vector<std::string>> granted(kWorkers);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w)
    threads.emplace_back([&, w] {
      auto s = Store::open(path);
      ASSERT_TRUE(s.ok());
      for (size_t i = 0; i < keys.size(); i += 10) {
        std::vector<std::string> part(keys.begin() + i, keys.begin() + i + 10);
        auto c = (*s)->claim(part, "w" + std::to_string(w), 600);
        ASSERT_TRUE(c.ok()) << c.message();
        for (auto& k : c->granted) granted[w].push_back(k);
      }
    });
  for (auto& t : threads) t.join();
  std::multiset<std::string> all;
  for (auto& g : granted) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), keys.size());
  for (const auto& k : keys) EXPECT_EQ(all.count(k), 1u) << k;
}

TEST(KeyBuilder, LengthPrefixingSeparatesParts) {
  EXPECT_NE(KeyBuilder().add("p", "ab").add("q", "c").hex(),
            KeyBuilder().add("p", "a").add("q", "bc").hex());
  EXPECT_EQ(KeyBuilder().add("p", "ab").hex(), KeyBuilder().add("p", "ab").hex());
  EXPECT_EQ(KeyBuilder().add("p", "x").hex().size(), 64u);
}

}  // namespace
}  // namespace gavel::store
