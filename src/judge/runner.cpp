#include "judge/runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <span>
#include <sstream>
#include <thread>

#include "core/io.h"
#include "core/progress.h"
#include "judge/judge_items.h"
#include "store/store.h"

namespace gavel::judge {
namespace {

// The output file, locked for this run: a second run given the same --out fails instead of
// interleaving its records with ours (the store itself is safe to share). The lock is taken
// before truncating, so the failing run leaves the other run's file alone.
Result<std::unique_ptr<OutputFile>> open_locked_output(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return os_error(path + ": cannot create output file", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK)
      return Error{
          fmt::format("{}: another process is writing this output file (use another --out)", path),
          StatusCode::kUnavailable};
    return os_error(path + ": cannot lock output file", e);
  }
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);  // not /dev/null, a pipe
  if (regular && ::ftruncate(fd, 0) != 0) {
    const int e = errno;
    ::close(fd);
    return os_error(path + ": cannot truncate output file", e);
  }
  return OutputFile::adopt(fd, path);
}

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Whether a record states a value that is only an upper bound ("exact": false anywhere).
bool has_inexact(const Json& j) {
  if (j.is_object()) {
    auto it = j.find("exact");
    if (it != j.end() && it->is_boolean() && !it->get<bool>()) return true;
  }
  if (j.is_structured())
    for (const Json& v : j)
      if (has_inexact(v)) return true;
  return false;
}

class Runner {
 public:
  Runner(Backend& backend, const JudgeProtocol& protocol, store::Store& store, const RunConfig& cfg,
         std::FILE* log)
      : backend_(backend),
        protocol_(protocol),
        store_(store),
        cfg_(cfg),
        log_(log),
        tally_(protocol.make_tally()),
        worker_(cfg.worker.empty() ? default_worker() : cfg.worker) {}
  // Claims left by an error path go back at once rather than at their expiry.
  ~Runner() { (void)store_.release(worker_); }

  Result<RunSummary> run();

 private:
  // "host:pid:tag": names the process, so a run on the same host can tell that it is gone.
  static std::string default_worker();
  static bool worker_gone(std::string_view worker);
  Result<PlannedItem> prepare(std::string_view text, int64_t line);
  // Claims the judgments the items still need; those another run holds (or committed since
  // the lookup) are marked held, for that run to make.
  Status claim(std::vector<PlannedItem>& preps);
  // Judges, records and writes the items at `idx` (positions in lines_) as one batch; returns
  // the ones that wait for another run's judgments.
  Result<std::vector<size_t>> run_batch(std::span<const size_t> idx);
  void progress(bool final);
  // A failed write ends the run: what was judged is committed to the store already.
  Status output_failed(const Status& st) const {
    return Error{
        fmt::format("{} (every judgment made so far is committed to the store {}: a rerun takes "
                    "them from there)",
                    st.message(), store_.path()),
        st.code()};
  }

  Backend& backend_;
  const JudgeProtocol& protocol_;
  store::Store& store_;
  const RunConfig& cfg_;
  std::FILE* log_;
  std::unique_ptr<Tally> tally_;
  const std::string worker_;
  std::vector<std::pair<int64_t, std::string>> lines_;  // (line number, text) of input lines
  std::unique_ptr<OutputFile> out_;
  int64_t run_id_ = 0;
  std::set<std::string> awaited_;  // keys another run held when this one needed them
  int64_t waiting_ = 0;            // items waiting for another run's judgments
  RunSummary sum_;
  Clock::time_point start_ = Clock::now(), last_progress_{};
  int64_t last_shown_ = -1;  // items handled in the last progress line (a log shows each once)
  int64_t judged_items_ = 0;
};

std::string Runner::default_worker() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "host");
  std::random_device rd;
  return fmt::format("{}:{}:{:08x}", host, static_cast<long>(::getpid()), rd());
}

bool Runner::worker_gone(std::string_view worker) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return false;
  const size_t a = worker.find(':'), b = a == std::string_view::npos ? a : worker.find(':', a + 1);
  if (b == std::string_view::npos || worker.substr(0, a) != host) return false;
  long pid = 0;
  for (char c : worker.substr(a + 1, b - a - 1)) {
    if (c < '0' || c > '9' || pid > (1L << 40)) return false;
    pid = pid * 10 + (c - '0');
  }
  if (pid <= 0 || pid == static_cast<long>(::getpid())) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;  // EPERM: alive
}

Result<PlannedItem> Runner::prepare(std::string_view text, int64_t line) {
  GAVEL_ASSIGN(Item item, parse_item(text, line, protocol_.fields()));
  return plan_item(protocol_, store_, std::move(item));
}

Status Runner::claim(std::vector<PlannedItem>& preps) {
  std::vector<std::string> keys;
  for (const PlannedItem& p : preps)
    for (const Task& t : p.tasks)
      if (!t.record) keys.push_back(t.key);
  if (keys.empty()) return Status::Ok();
  auto c = store_.claim(keys, worker_, cfg_.claim_ttl, std::nullopt, worker_gone);
  if (!c.ok()) return c.status().prefixed("store: ");
  sum_.reclaimed += c->reclaimed;
  std::set<std::string> theirs(c->held.begin(), c->held.end());
  theirs.insert(c->judged.begin(), c->judged.end());
  for (PlannedItem& p : preps)
    for (Task& t : p.tasks)
      if (!t.record && theirs.count(t.key)) {
        t.held = true;
        awaited_.insert(t.key);
      }
  return Status::Ok();
}

Result<std::vector<size_t>> Runner::run_batch(std::span<const size_t> idx) {
  std::vector<PlannedItem> preps;
  std::vector<size_t> at;  // preps[i] is lines_[at[i]]
  for (size_t i : idx) {
    const auto& [line, txt] = lines_[i];
    auto p = prepare(txt, line);
    if (!p.ok()) {
      sum_.errors.push_back({line, p.message()});
      if (cfg_.stop_on_error) {
        sum_.stopped = true;
        break;
      }
      continue;
    }
    preps.emplace_back(std::move(*p));
    at.push_back(i);
  }
  GAVEL_TRY(claim(preps));
  GAVEL_TRY(complete_items(backend_, protocol_, store_, preps));
  // Committed judgments dropped their claims with the commit; failed ones are let go here.
  std::vector<std::string> failed;
  for (const PlannedItem& p : preps)
    for (const Task& t : p.tasks)
      if (!t.error.ok()) failed.push_back(t.key);
  if (!failed.empty()) {
    Status st = store_.release(worker_, failed);
    if (!st.ok()) return st.prefixed("store: ");
  }
  std::vector<size_t> deferred;
  std::vector<bool> waits(preps.size(), false);
  std::vector<store::RunItem> done;
  for (size_t i = 0; i < preps.size(); ++i) {
    for (const Task& t : preps[i].tasks) waits[i] = waits[i] || t.held;
    if (waits[i])
      deferred.push_back(at[i]);
    else if (item_error(preps[i]).ok())
      done.push_back(run_item(protocol_, preps[i]));
  }
  Status st = store_.add_run_items(run_id_, done);
  if (!st.ok()) return st.prefixed("store: ");
  for (size_t i = 0; i < preps.size(); ++i) {
    if (waits[i]) continue;
    PlannedItem& p = preps[i];
    std::string err;
    bool any_new = false;
    for (Task& t : p.tasks) {
      if (!t.error.ok() && err.empty()) err = t.error.message();
      if (t.record && !t.cached) any_new = true;
      if (t.record)
        (!t.cached ? sum_.judged : awaited_.count(t.key) ? sum_.by_others : sum_.cached)++;
    }
    if (!err.empty()) {
      sum_.errors.push_back({p.item.line, fmt::format("line {}: {}", p.item.line, err)});
      if (cfg_.stop_on_error) sum_.stopped = true;
      continue;
    }
    Json rec = item_record(protocol_, p, cfg_.keep_prompts);
    tally_->add(p.item, rec);
    if (has_inexact(rec)) ++sum_.inexact;
    if (data_special_count(p) > 0) ++sum_.data_special_items;
    ++sum_.done;
    if (any_new) ++judged_items_;
    if (out_) {
      Status w = out_->write(dump_record(rec) + '\n');
      if (w.ok()) w = out_->flush();
      if (!w.ok()) return output_failed(w);
    }
    if (sum_.stopped) break;
  }
  return deferred;
}

void Runner::progress(bool final) {
  if (!cfg_.progress || !log_) return;
  auto now = Clock::now();
  bool tty = isatty(fileno(log_));
  if (!final && now - last_progress_ < std::chrono::milliseconds(tty ? 200 : 5000)) return;
  int64_t handled = sum_.done + static_cast<int64_t>(sum_.errors.size());
  if (final && !tty && handled == last_shown_) return;  // that line is in the log already
  last_progress_ = now;
  last_shown_ = handled;
  double el = std::chrono::duration<double>(now - start_).count();
  double rate = el > 0 ? judged_items_ / el : 0;
  int64_t left = sum_.items - handled;
  double eta = rate > 0 ? left / rate : NAN;
  int width = 24;
  int filled = sum_.items ? static_cast<int>(width * handled / sum_.items) : width;
  std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  std::string extra = backend_.progress();  // e.g. per-endpoint throughput and retries
  if (!extra.empty()) extra = " | " + extra;
  if (waiting_ > 0) extra += fmt::format(" | waiting for {} item(s) other runs judge", waiting_);
  std::fprintf(log_, "%sjudge [%s] %lld/%lld %.2f it/s ETA %s (cached %lld, errors %zu)%s%s",
               tty ? "\r" : "", bar.c_str(), static_cast<long long>(handled),
               static_cast<long long>(sum_.items), rate, format_duration(eta).c_str(),
               static_cast<long long>(sum_.cached), sum_.errors.size(), extra.c_str(),
               tty && !final ? "" : "\n");
  std::fflush(log_);
}

Result<RunSummary> Runner::run() {
  {
    GAVEL_ASSIGN(std::string input, read_file(cfg_.input_path));  // a directory is an error
    std::istringstream in(std::move(input));
    std::string text;
    for (int64_t n = 1; std::getline(in, text); ++n) {
      if (!text.empty() && text.back() == '\r') text.pop_back();
      bool blank = text.find_first_not_of(" \t") == std::string::npos;
      if (!blank) lines_.emplace_back(n, std::move(text));
    }
  }
  std::vector<size_t> order(lines_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (cfg_.shuffle_seed) shuffle_indices(order, *cfg_.shuffle_seed);
  if (cfg_.limit >= 0 && static_cast<size_t>(cfg_.limit) < order.size()) order.resize(cfg_.limit);
  sum_.items = static_cast<int64_t>(order.size());
  sum_.data_specials_parsed = protocol_.parse_special_in_data();

  if (cfg_.out_path == "-") {
    GAVEL_ASSIGN(out_, OutputFile::create("-"));
  } else if (!cfg_.out_path.empty()) {
    GAVEL_ASSIGN(out_, open_locked_output(cfg_.out_path));
  }
  // The run is recorded with its items so reports can evaluate the judge on them.
  Json run_config = protocol_.describe();
  run_config["input"] = cfg_.input_path;
  auto run_id = store_.create_run("judge", cfg_.input_path, dump_record(run_config));
  if (!run_id.ok()) return run_id.status().prefixed("store: ");
  run_id_ = *run_id;

  // One batch: judged, recorded, written; items other runs are judging wait in `waiting`.
  std::vector<size_t> waiting;
  auto batch_of = [&](std::span<const size_t> idx) -> Status {
    GAVEL_ASSIGN(std::vector<size_t> deferred, run_batch(idx));
    waiting.insert(waiting.end(), deferred.begin(), deferred.end());
    return Status::Ok();
  };
  const size_t batch = static_cast<size_t>(std::max(1, cfg_.batch));
  for (size_t pos = 0; pos < order.size() && !sum_.stopped; pos += batch) {
    if (cfg_.cancel && cfg_.cancel()) {
      sum_.cancelled = true;
      break;
    }
    GAVEL_TRY(batch_of(std::span(order).subspan(pos, std::min(batch, order.size() - pos))));
    waiting_ = static_cast<int64_t>(waiting.size());
    progress(false);
  }
  // The items other runs were judging: poll until their judgments are in the store, or their
  // claims expire and this run takes them over.
  for (int idle = 0; !waiting.empty() && !sum_.stopped && !sum_.cancelled;) {
    if (cfg_.cancel && cfg_.cancel()) {
      sum_.cancelled = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 20 << std::min(idle, 6))));
    std::vector<size_t> again;
    again.swap(waiting);
    for (size_t pos = 0; pos < again.size() && !sum_.stopped; pos += batch)
      GAVEL_TRY(batch_of(std::span(again).subspan(pos, std::min(batch, again.size() - pos))));
    idle = waiting.size() < again.size() ? 0 : idle + 1;
    waiting_ = static_cast<int64_t>(waiting.size());
    progress(false);
  }
  if (out_) {
    Status c = out_->close();
    if (!c.ok()) return output_failed(c);
  }
  progress(true);
  sum_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  Json m = tally_->report();
  sum_.metrics = std::move(m);
  const Json summary = {{"items", sum_.items},
                        {"done", sum_.done},
                        {"judged", sum_.judged},
                        {"cached", sum_.cached},
                        {"by_other_runs", sum_.by_others},
                        {"reclaimed", sum_.reclaimed},
                        {"errors", sum_.errors.size()},
                        {"seconds", sum_.seconds},
                        {"data_special_items", sum_.data_special_items},
                        {"metrics", sum_.metrics}};
  Status st = store_.update_run(*run_id, sum_.stopped ? "stopped" : "done", dump_record(summary));
  if (!st.ok()) return st.prefixed("store: ");
  return sum_;
}

}  // namespace

void shuffle_indices(std::vector<size_t>& v, uint64_t seed) {
  uint64_t s = seed;
  auto next = [&] {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
}

Result<RunSummary> run_judge(Backend& backend, const JudgeProtocol& protocol, store::Store& store,
                             const RunConfig& cfg, std::FILE* log) {
  return Runner(backend, protocol, store, cfg, log).run();
}

std::string format_summary(const RunSummary& s, const RunConfig& cfg) {
  std::string out =
      fmt::format("judged {} of {} items in {:.1f} s ({} new judgments, {} from store", s.done,
                  s.items, s.seconds, s.judged, s.cached);
  if (s.by_others > 0) out += fmt::format(", {} by other runs on this store", s.by_others);
  out += ')';
  if (s.reclaimed > 0)
    out += fmt::format(
        "; {} judgment(s) taken over from claims of runs that stopped (their process is gone) "
        "or expired (a run slower than --claim-ttl may have made such a judgment too: the first "
        "one stored is kept)",
        s.reclaimed);
  if (s.stopped) out += "; stopped at the first error (--on-error stop)";
  if (s.cancelled)
    out += fmt::format(
        "; interrupted before the other {} items: every judgment made so far is committed to the "
        "store, and rerunning the same command resumes from there",
        s.items - s.done - static_cast<int64_t>(s.errors.size()));
  out += '\n';
  if (s.inexact > 0)
    out += fmt::format(
        "{} item(s) hold a log-probability that is only an upper bound (a label outside the "
        "engine's top-k; \"exact\": false in the record)\n",
        s.inexact);
  if (s.data_special_items > 0)
    out += s.data_specials_parsed
               ? fmt::format(
                     "{} item(s) hold special-token text in their data (\"data_special_tokens\" "
                     "in the record), parsed as special tokens as the model card's code does "
                     "(--parse-special-in-data): the judged text can act as chat-template "
                     "markup\n",
                     s.data_special_items)
               : fmt::format(
                     "{} item(s) hold special-token text in their data (\"data_special_tokens\" "
                     "in the record), tokenized as text; --parse-special-in-data parses it as "
                     "the model card's code does\n",
                     s.data_special_items);
  if (!s.errors.empty()) {
    out += fmt::format("{} item(s) failed:\n", s.errors.size());
    for (size_t i = 0; i < s.errors.size() && i < 20; ++i) out += "  " + s.errors[i].message + "\n";
    if (s.errors.size() > 20) out += fmt::format("  ... and {} more\n", s.errors.size() - 20);
  }
  const Json& m = s.metrics;
  auto pct = [](const Json& v) {
    return v.is_number() ? fmt::format("{:.1f}%", 100 * v.get<double>()) : std::string("n/a");
  };
  auto num = [](const Json& v) {
    return v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : std::string("n/a");
  };
  if (m.contains("strict_accuracy_both_orders")) {
    if (m["n_labelled"].get<int>() > 0)
      out += fmt::format(
          "pairwise vs labels (n={}): accuracy {}, strict accuracy (both orders) {} over {}, "
          "positional consistency {}, mean target probability {}\n",
          m["n_labelled"].get<int>(), pct(m["accuracy"]), pct(m["strict_accuracy_both_orders"]),
          m["n_both_orders"].get<int>(), pct(m["positional_consistency"]),
          pct(m["mean_target_probability"]));
  } else if (m.contains("pearson")) {
    if (m["n_labelled"].get<int>() > 0)
      out += fmt::format(
          "absolute vs labels (n={}): parsed score (n={}) Pearson {} Spearman {}; expected score "
          "(n={}) Pearson {} Spearman {}\n",
          m["n_labelled"].get<int>(), m["n_valid"].get<size_t>(), num(m["pearson"]),
          num(m["spearman"]), m["n_expected"].get<size_t>(), num(m["pearson_expected"]),
          num(m["spearman_expected"]));
  } else if (m.contains("accuracy") && m["n_labelled"].get<int>() > 0) {
    out += fmt::format("classification vs labels (n={}): accuracy {}\n", m["n_labelled"].get<int>(),
                       pct(m["accuracy"]));
  }
  if (m.contains("outcomes")) {
    out += "critique outcomes:";
    for (auto& [k, v] : m["outcomes"].items()) out += fmt::format(" {} {}", k, v.get<int>());
    out += '\n';
  }
  (void)cfg;
  if (m.contains("labels_not_scored")) {
    const Json& u = m["labels_not_scored"];
    std::string values;
    for (const Json& v : u["values"]) values += (values.empty() ? "" : ", ") + v.dump();
    out += fmt::format("{} label(s) not in the figures above (unreadable, or a tie): {}{}\n",
                       u["count"].get<int>(), values,
                       u["count"].get<int>() > static_cast<int>(u["values"].size()) ? ", ..." : "");
  }
  return out;
}

}  // namespace gavel::judge
