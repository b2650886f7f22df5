// gavel._gavel: the Python extension over the public C++ API (include/gavel/*.h) and nothing
// else. Model work runs with the GIL released; between batches the progress hook takes the GIL
// back to run Python's signal handlers (Ctrl-C) and the caller's progress callback, and stops
// the call when either raises. Errors become the exception classes of gavel.errors, chosen by
// the error's status code, with the C++ message.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gavel/judge.h"
#include "gavel/meta.h"
#include "gavel/store.h"
#include "gavel/tournament.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

// ---- errors ----

// The status code's name ("invalid argument", ...), or "unknown" for a Status without codes.
template <class S>
std::string code_of(const S& s) {
  if constexpr (requires { s.code(); })
    return std::string(code_name(s.code()));
  else
    return "unknown";
}

nb::object error_object(const std::string& code, const std::string& message) {
  nb::object cls = nb::module_::import_("gavel.errors").attr("error_class")(code);
  return cls(message);
}

[[noreturn]] void raise_error(const std::string& code, const std::string& message) {
  nb::object exc = error_object(code, message);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw nb::python_error();
}

void check(const gavel::Status& s) {
  if (!s.ok()) raise_error(code_of(s), s.message());
}

template <class T>
T unwrap(gavel::Result<T>&& r) {
  if (!r.ok()) raise_error(code_of(r.status()), r.message());
  return std::move(r).value();
}

// Runs between batches with the GIL released: takes it, lets Python handle pending signals
// (KeyboardInterrupt), calls the user's callback, and asks the call to stop on any exception.
// The exception is kept and re-raised once the call has returned.
class ProgressHook {
 public:
  explicit ProgressHook(nb::object callback) : callback_(std::move(callback)) {}

  bool operator()(const gavel::Progress& p) {
    nb::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
      error_.emplace();
      return false;
    }
    if (!callback_.is_none()) {
      try {
        callback_(p);
      } catch (nb::python_error& e) {
        error_.emplace(std::move(e));
        return false;
      }
    }
    return true;
  }

  // With the GIL held: re-raises what stopped the call, if anything did.
  void rethrow() {
    if (error_) {
      nb::python_error e = std::move(*error_);
      error_.reset();
      throw e;
    }
  }

 private:
  nb::object callback_;
  std::optional<nb::python_error> error_;
};

// One list entry per item: the result, or (errors="return") the exception for that item.
template <class T>
nb::list item_list(gavel::ItemResults<T>&& results, bool raise) {
  nb::list out;
  std::vector<std::string> failed;
  std::string first_code;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) {
      out.append(nb::cast(std::move(*results[i])));
    } else {
      if (failed.empty()) first_code = code_of(results[i].status());
      failed.push_back("item " + std::to_string(i + 1) + ": " + results[i].message());
      out.append(error_object(code_of(results[i].status()), results[i].message()));
    }
  }
  if (raise && !failed.empty()) {
    std::string msg =
        std::to_string(failed.size()) + " of " + std::to_string(results.size()) + " items failed";
    for (size_t i = 0; i < failed.size() && i < 10; ++i) msg += "\n  " + failed[i];
    if (failed.size() > 10) msg += "\n  ...";
    raise_error(first_code, msg);
  }
  return out;
}

// ---- results as dicts and reprs ----

nb::object plain(nb::handle v) {
  if (nb::hasattr(v, "to_dict")) return v.attr("to_dict")();
  if (nb::isinstance<nb::list>(v)) {
    nb::list out;
    for (nb::handle x : nb::borrow<nb::list>(v)) out.append(plain(x));
    return out;
  }
  return nb::borrow(v);
}

// Adds to_dict() (fields in order, nested results as dicts) and a repr showing `shown`.
template <class C>
void describe(nb::class_<C>& cls, std::vector<const char*> fields,
              std::vector<const char*> shown = {}) {
  cls.def(
      "to_dict",
      [fields](nb::handle self) {
        nb::dict d;
        for (const char* f : fields) d[f] = plain(self.attr(f));
        return d;
      },
      "The fields as a dict (nested results as dicts).");
  if (shown.empty()) shown = fields;
  const std::string name = nb::cast<std::string>(cls.attr("__name__"));
  cls.def("__repr__", [name, shown](nb::handle self) {
    std::string s = name + "(";
    for (size_t i = 0; i < shown.size(); ++i) {
      if (i) s += ", ";
      s += std::string(shown[i]) + "=" + nb::cast<std::string>(nb::repr(self.attr(shown[i])));
    }
    return s + ")";
  });
}

nb::ndarray<nb::numpy, double, nb::ndim<1>> to_numpy(std::vector<double> v) {
  auto* owned = new std::vector<double>(std::move(v));
  nb::capsule del(owned, [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
  return nb::ndarray<nb::numpy, double, nb::ndim<1>>(owned->data(), {owned->size()}, del);
}

// ---- judge ----

struct NativeJudge {
  std::unique_ptr<gavel::Judge> judge;
};

using CritiqueTuple =
    std::tuple<std::optional<std::string>, std::optional<std::string>, std::optional<std::string>,
               std::optional<std::string>, std::optional<std::string>, std::optional<std::string>,
               std::map<std::string, std::string>, std::string>;

void bind_judge(nb::module_& m) {
  nb::class_<gavel::JudgeInfo> info(m, "JudgeInfo", "What the judge model is.");
  info.def_ro("fingerprint", &gavel::JudgeInfo::fingerprint,
              "Identity of the weights and engine numerics (part of every store key).")
      .def_ro("chat_template", &gavel::JudgeInfo::chat_template)
      .def_ro("context_length", &gavel::JudgeInfo::context_length);
  describe(info, {"fingerprint", "chat_template", "context_length"},
           {"fingerprint", "context_length"});

  nb::class_<gavel::Progress> prog(m, "Progress", "How far a batch call has come.");
  prog.def_ro("total", &gavel::Progress::total, "Items in the call.")
      .def_ro("done", &gavel::Progress::done, "Items with a result so far.")
      .def_ro("failed", &gavel::Progress::failed, "Items that failed so far.")
      .def_ro("judged", &gavel::Progress::judged, "Judgments computed so far.")
      .def_ro("cached", &gavel::Progress::cached, "Judgments read from the store so far.")
      .def_ro("seconds", &gavel::Progress::seconds, "Seconds since the call started.");
  describe(prog, {"total", "done", "failed", "judged", "cached", "seconds"});

  nb::class_<gavel::PairwisePass> pp(m, "PairwisePass",
                                     "One pass of the pairwise-logprob protocol.");
  pp.def_ro("text1_is_a", &gavel::PairwisePass::text1_is_a, "Text 1 sat in position A.")
      .def_ro("logprob_a", &gavel::PairwisePass::logprob_a, "Next-token log-prob of 'A'.")
      .def_ro("logprob_b", &gavel::PairwisePass::logprob_b, "Next-token log-prob of 'B'.")
      .def_ro("a_in_top_k", &gavel::PairwisePass::a_in_top_k)
      .def_ro("b_in_top_k", &gavel::PairwisePass::b_in_top_k)
      .def_ro("p_a", &gavel::PairwisePass::p_a, "P(A), normalised over A and B.")
      .def_ro("p_b", &gavel::PairwisePass::p_b, "P(B), normalised over A and B.")
      .def_ro("prompt_tokens", &gavel::PairwisePass::prompt_tokens);
  describe(pp,
           {"text1_is_a", "logprob_a", "logprob_b", "a_in_top_k", "b_in_top_k", "p_a", "p_b",
            "prompt_tokens"},
           {"text1_is_a", "p_a", "p_b"});

  nb::class_<gavel::PairwiseResult> pr(m, "PairwiseResult",
                                       "A pairwise-logprob judgment: both passes and P(text1).");
  pr.def_ro("id", &gavel::PairwiseResult::id)
      .def_ro("pass1", &gavel::PairwiseResult::pass1, "Text 1 in position A.")
      .def_ro("pass2", &gavel::PairwiseResult::pass2, "Text 2 in position A.")
      .def_ro("p_text1", &gavel::PairwiseResult::p_text1,
              "Swap-averaged P(text 1 better) = (pass1.p_a + pass2.p_b) / 2.")
      .def_ro("p_text2", &gavel::PairwiseResult::p_text2)
      .def_ro("key", &gavel::PairwiseResult::key, "Store key (content hash).")
      .def_ro("cached", &gavel::PairwiseResult::cached, "Read from the store, not computed.")
      .def_ro("record", &gavel::PairwiseResult::record,
              "The JSON record `gavel judge` writes for this item.");
  describe(pr, {"id", "pass1", "pass2", "p_text1", "p_text2", "key", "cached", "record"},
           {"id", "p_text1", "cached"});

  nb::class_<gavel::VerdictProbs> vp(m, "VerdictProbs",
                                     "The label distribution at the critique's verdict.");
  vp.def_ro("labels", &gavel::VerdictProbs::labels)
      .def_ro("logprobs", &gavel::VerdictProbs::logprobs)
      .def_ro("probs", &gavel::VerdictProbs::probs, "Normalised over the labels.")
      .def_ro("mass", &gavel::VerdictProbs::mass, "Sum of exp(logprobs).")
      .def_ro("expected", &gavel::VerdictProbs::expected, "Absolute modes: sum of k * P(k).");
  describe(vp, {"labels", "logprobs", "probs", "mass", "expected"}, {"labels", "probs"});

  nb::class_<gavel::CritiquePass> cp(m, "CritiquePass", "One generated critique and its verdict.");
  cp.def_ro("order", &gavel::CritiquePass::order, "Pairwise mode: 'AB' or 'BA'.")
      .def_ro("critique", &gavel::CritiquePass::critique)
      .def_ro("finish", &gavel::CritiquePass::finish, "'stop', 'eos' or 'length'.")
      .def_ro("generated_tokens", &gavel::CritiquePass::generated_tokens)
      .def_ro("prompt_tokens", &gavel::CritiquePass::prompt_tokens)
      .def_ro("outcome", &gavel::CritiquePass::outcome,
              "'valid', 'parse_error', 'invalid_label' or 'truncated'.")
      .def_ro("label", &gavel::CritiquePass::label)
      .def_ro("raw_label", &gavel::CritiquePass::raw_label)
      .def_ro("verdict", &gavel::CritiquePass::verdict)
      .def_ro("key", &gavel::CritiquePass::key)
      .def_ro("cached", &gavel::CritiquePass::cached);
  describe(cp,
           {"order", "critique", "finish", "generated_tokens", "prompt_tokens", "outcome", "label",
            "raw_label", "verdict", "key", "cached"},
           {"outcome", "label", "finish"});

  nb::class_<gavel::CritiqueResult> cr(m, "CritiqueResult", "A critique-protocol judgment.");
  cr.def_ro("id", &gavel::CritiqueResult::id)
      .def_ro("mode", &gavel::CritiqueResult::mode)
      .def_ro("format", &gavel::CritiqueResult::format)
      .def_ro("passes", &gavel::CritiqueResult::passes)
      .def_ro("score", &gavel::CritiqueResult::score, "Absolute modes: the parsed 1-5 score.")
      .def_ro("expected_score", &gavel::CritiqueResult::expected_score)
      .def_ro("verdict", &gavel::CritiqueResult::verdict, "Classify modes: 'Yes' or 'No'.")
      .def_ro("p_yes", &gavel::CritiqueResult::p_yes)
      .def_ro("preferences", &gavel::CritiqueResult::preferences,
              "Pairwise mode: 'text1' or 'text2' per pass.")
      .def_ro("preferred", &gavel::CritiqueResult::preferred)
      .def_ro("p_text1", &gavel::CritiqueResult::p_text1)
      .def_ro("record", &gavel::CritiqueResult::record);
  describe(cr,
           {"id", "mode", "format", "passes", "score", "expected_score", "verdict", "p_yes",
            "preferences", "preferred", "p_text1", "record"},
           {"id", "mode", "score", "verdict", "preferred"});

  nb::class_<gavel::BackendSpec>(m, "BackendSpec",
                                 "Where the judge model runs (use gavel.Judge's arguments).")
      .def(nb::init<>())
      .def_rw("model", &gavel::BackendSpec::model)
      .def_rw("threads", &gavel::BackendSpec::threads)
      .def_rw("ctx", &gavel::BackendSpec::ctx)
      .def_rw("prefix_cache", &gavel::BackendSpec::prefix_cache)
      .def_rw("decode_batch", &gavel::BackendSpec::decode_batch)
      .def_rw("urls", &gavel::BackendSpec::urls)
      .def_rw("kind", &gavel::BackendSpec::kind)
      .def_rw("tokenizer", &gavel::BackendSpec::tokenizer)
      .def_rw("served_model", &gavel::BackendSpec::served_model)
      .def_rw("concurrency", &gavel::BackendSpec::concurrency)
      .def_rw("request_timeout_s", &gavel::BackendSpec::request_timeout_s)
      .def_rw("retries", &gavel::BackendSpec::retries)
      .def_rw("down_timeout_s", &gavel::BackendSpec::down_timeout_s)
      .def_rw("api_key_env", &gavel::BackendSpec::api_key_env)
      .def_rw("headers", &gavel::BackendSpec::headers)
      .def_rw("ca_cert", &gavel::BackendSpec::ca_cert)
      .def_rw("server_prefix_cache", &gavel::BackendSpec::server_prefix_cache)
      .def_rw("top_n", &gavel::BackendSpec::top_n);

  nb::class_<NativeJudge>(m, "NativeJudge", "A judge model (use gavel.Judge).")
      .def(
          "__init__",
          [](NativeJudge* self, const gavel::BackendSpec& spec, const std::string& store) {
            gavel::JudgeOptions o;
            o.backend = spec;
            o.store = store;
            gavel::Result<std::unique_ptr<gavel::Judge>> j = gavel::Error{""};
            {
              nb::gil_scoped_release release;
              j = gavel::Judge::open(o);
            }
            new (self) NativeJudge{unwrap(std::move(j))};
          },
          "spec"_a, "store"_a)
      .def_prop_ro("info", [](const NativeJudge& j) { return j.judge->info(); })
      .def(
          "pairwise",
          [](NativeJudge& j,
             const std::vector<std::tuple<std::string, std::string, std::string, std::string>>&
                 items,
             const std::string& read, int top_k, const std::string& thinking, bool ensure_ascii,
             const std::string& system_prompt, int batch, nb::object progress, bool raise) {
            std::vector<gavel::PairItem> in;
            for (const auto& [instruction, a, b, id] : items) in.push_back({instruction, a, b, id});
            gavel::PairwiseOptions o{read, top_k, thinking, ensure_ascii, system_prompt};
            ProgressHook hook(std::move(progress));
            gavel::BatchOptions bo{batch, [&hook](const gavel::Progress& p) { return hook(p); }};
            gavel::Result<gavel::ItemResults<gavel::PairwiseResult>> r = gavel::Error{""};
            {
              nb::gil_scoped_release release;
              r = j.judge->pairwise(std::span<const gavel::PairItem>(in), o, bo);
            }
            hook.rethrow();
            return item_list(unwrap(std::move(r)), raise);
          },
          "items"_a, "read"_a, "top_k"_a, "thinking"_a, "ensure_ascii"_a, "system_prompt"_a,
          "batch"_a, "progress"_a.none(), "raise_errors"_a)
      .def(
          "critique",
          [](NativeJudge& j, const std::vector<CritiqueTuple>& items, const std::string& mode,
             const std::string& format, const std::string& thinking, int max_tokens, uint64_t seed,
             bool verdict_distribution, bool both_orders, int batch, nb::object progress,
             bool raise) {
            std::vector<gavel::CritiqueItem> in;
            for (const auto& [instruction, response, reference, rubric, a, b, vars, id] : items)
              in.push_back({instruction, response, reference, rubric, a, b, vars, id});
            gavel::CritiqueOptions o{
                mode, format, thinking, max_tokens, seed, verdict_distribution, both_orders};
            ProgressHook hook(std::move(progress));
            gavel::BatchOptions bo{batch, [&hook](const gavel::Progress& p) { return hook(p); }};
            gavel::Result<gavel::ItemResults<gavel::CritiqueResult>> r = gavel::Error{""};
            {
              nb::gil_scoped_release release;
              r = j.judge->critique(std::span<const gavel::CritiqueItem>(in), o, bo);
            }
            hook.rethrow();
            return item_list(unwrap(std::move(r)), raise);
          },
          "items"_a, "mode"_a, "format"_a, "thinking"_a, "max_tokens"_a, "seed"_a,
          "verdict_distribution"_a, "both_orders"_a, "batch"_a, "progress"_a.none(),
          "raise_errors"_a);
}

// ---- store ----

struct NativeStore {
  std::unique_ptr<gavel::JudgmentStore> store;
};

void bind_store(nb::module_& m) {
  nb::class_<gavel::StoredJudgment> sj(m, "StoredJudgment", "One row of the judgment store.");
  sj.def_ro("key", &gavel::StoredJudgment::key)
      .def_ro("protocol", &gavel::StoredJudgment::protocol)
      .def_ro("model", &gavel::StoredJudgment::model)
      .def_ro("item_id", &gavel::StoredJudgment::item_id)
      .def_ro("record", &gavel::StoredJudgment::record, "The judgment record, JSON text.")
      .def_ro("created_at", &gavel::StoredJudgment::created_at);
  describe(sj, {"key", "protocol", "model", "item_id", "record", "created_at"},
           {"key", "protocol", "item_id"});

  nb::class_<NativeStore>(m, "NativeStore", "A judgment store (use gavel.Store).")
      .def(
          "__init__",
          [](NativeStore* self, const std::string& path) {
            new (self) NativeStore{unwrap(gavel::JudgmentStore::open(path))};
          },
          "path"_a)
      .def_prop_ro("path", [](const NativeStore& s) { return s.store->path(); })
      .def("count", [](NativeStore& s) { return unwrap(s.store->count()); })
      .def("judgments", [](NativeStore& s) {
        std::vector<gavel::StoredJudgment> rows;
        check(s.store->for_each([&](const gavel::StoredJudgment& j) {
          rows.push_back(j);
          return gavel::Status::Ok();
        }));
        return rows;
      });
}

// ---- meta ----

void bind_meta(nb::module_& m) {
  nb::class_<gavel::SeparabilityResult> sr(m, "SeparabilityResult",
                                           "How cleanly a judge's scores separate the systems.");
  sr.def_ro("n_items", &gavel::SeparabilityResult::n_items)
      .def_ro("n_groups", &gavel::SeparabilityResult::n_groups)
      .def_ro("n_prompts", &gavel::SeparabilityResult::n_prompts)
      .def_ro("groups", &gavel::SeparabilityResult::groups)
      .def_ro("prompts", &gavel::SeparabilityResult::prompts)
      .def_ro("anova_f", &gavel::SeparabilityResult::anova_f)
      .def_ro("anova_p", &gavel::SeparabilityResult::anova_p)
      .def_ro("omega2", &gavel::SeparabilityResult::omega2)
      .def_ro("cliff_delta", &gavel::SeparabilityResult::cliff_delta)
      .def_ro("score", &gavel::SeparabilityResult::score)
      .def_ro("bootstrap", &gavel::SeparabilityResult::bootstrap)
      .def_ro("score_ci_low", &gavel::SeparabilityResult::score_ci_low)
      .def_ro("score_ci_high", &gavel::SeparabilityResult::score_ci_high)
      .def_ro("omega2_ci_low", &gavel::SeparabilityResult::omega2_ci_low)
      .def_ro("omega2_ci_high", &gavel::SeparabilityResult::omega2_ci_high)
      .def_ro("delta_ci_low", &gavel::SeparabilityResult::delta_ci_low)
      .def_ro("delta_ci_high", &gavel::SeparabilityResult::delta_ci_high);
  describe(sr,
           {"n_items", "n_groups", "n_prompts", "groups", "prompts", "anova_f", "anova_p", "omega2",
            "cliff_delta", "score", "bootstrap", "score_ci_low", "score_ci_high", "omega2_ci_low",
            "omega2_ci_high", "delta_ci_low", "delta_ci_high"},
           {"score", "score_ci_low", "score_ci_high", "omega2", "cliff_delta"});

  m.def(
      "separability",
      [](const std::vector<std::string>& groups, const std::vector<std::string>& prompts,
         const std::vector<double>& values, int bootstrap, uint64_t seed, double level) {
        if (groups.size() != prompts.size() || groups.size() != values.size())
          raise_error("invalid argument",
                      "separability: groups, prompts and values must have the same length");
        std::vector<gavel::ScoredItem> items;
        for (size_t i = 0; i < values.size(); ++i)
          items.push_back({groups[i], prompts[i], values[i]});
        gavel::Result<gavel::SeparabilityResult> r = gavel::Error{""};
        {
          nb::gil_scoped_release release;  // the bootstrap refits thousands of times
          r = gavel::separability(items, {bootstrap, seed, level});
        }
        return unwrap(std::move(r));
      },
      "groups"_a, "prompts"_a, "values"_a, "bootstrap"_a, "seed"_a, "level"_a);

  nb::class_<gavel::CorrelationResult> cr(m, "CorrelationResult", "A correlation coefficient.");
  cr.def_ro("r", &gavel::CorrelationResult::r)
      .def_ro("p", &gavel::CorrelationResult::p)
      .def_ro("ci_low", &gavel::CorrelationResult::ci_low)
      .def_ro("ci_high", &gavel::CorrelationResult::ci_high)
      .def_ro("n", &gavel::CorrelationResult::n);
  describe(cr, {"r", "p", "ci_low", "ci_high", "n"});
  m.def(
      "correlation",
      [](const std::vector<double>& x, const std::vector<double>& y, const std::string& method,
         double level) { return unwrap(gavel::correlation(x, y, method, level)); },
      "x"_a, "y"_a, "method"_a, "level"_a);

  nb::class_<gavel::PairwiseMetricsResult> pm(m, "PairwiseMetricsResult",
                                              "A pairwise judge against gold scores.");
  pm.def_ro("n", &gavel::PairwiseMetricsResult::n)
      .def_ro("filtered_out", &gavel::PairwiseMetricsResult::filtered_out)
      .def_ro("strict_accuracy", &gavel::PairwiseMetricsResult::strict_accuracy)
      .def_ro("positional_consistency", &gavel::PairwiseMetricsResult::positional_consistency)
      .def_ro("mean_target_mass", &gavel::PairwiseMetricsResult::mean_target_mass)
      .def_ro("mean_non_target_mass", &gavel::PairwiseMetricsResult::mean_non_target_mass)
      .def_ro("soft_accuracy", &gavel::PairwiseMetricsResult::soft_accuracy);
  describe(pm, {"n", "filtered_out", "strict_accuracy", "positional_consistency",
                "mean_target_mass", "mean_non_target_mass", "soft_accuracy"});
  m.def(
      "pairwise_metrics",
      [](const std::vector<std::tuple<double, double, double, double, double, double>>& pairs,
         double max_len_ratio, double min_diff, double max_diff, int sample, uint64_t seed) {
        std::vector<gavel::JudgedPair> in;
        for (const auto& [s1, s2, l1, l2, p1, p2] : pairs) in.push_back({s1, s2, l1, l2, p1, p2});
        return unwrap(
            gavel::pairwise_metrics(in, {max_len_ratio, min_diff, max_diff, sample, seed}));
      },
      "pairs"_a, "max_len_ratio"_a, "min_diff"_a, "max_diff"_a, "sample"_a, "seed"_a);

  nb::class_<gavel::BiasResult> br(m, "BiasResult", "Position, length and swap-flip bias.");
  br.def_ro("n", &gavel::BiasResult::n)
      .def_ro("position1_mean_prob", &gavel::BiasResult::position1_mean_prob)
      .def_ro("position2_mean_prob", &gavel::BiasResult::position2_mean_prob)
      .def_ro("position1_win_rate", &gavel::BiasResult::position1_win_rate)
      .def_ro("position_skew", &gavel::BiasResult::position_skew)
      .def_ro("length_n", &gavel::BiasResult::length_n)
      .def_ro("longer_win_rate", &gavel::BiasResult::longer_win_rate)
      .def_ro("longer_ev_margin", &gavel::BiasResult::longer_ev_margin)
      .def_ro("swap_pairs", &gavel::BiasResult::swap_pairs)
      .def_ro("swap_flip_rate", &gavel::BiasResult::swap_flip_rate);
  describe(
      br,
      {"n", "position1_mean_prob", "position2_mean_prob", "position1_win_rate", "position_skew",
       "length_n", "longer_win_rate", "longer_ev_margin", "swap_pairs", "swap_flip_rate"},
      {"n", "position1_mean_prob", "longer_win_rate", "swap_flip_rate"});
  m.def(
      "bias",
      [](const std::vector<std::tuple<std::string, std::string, double, double, double, int64_t>>&
             records) {
        std::vector<gavel::JudgedMatchRecord> in;
        for (const auto& [a, b, p, la, lb, id] : records) in.push_back({a, b, p, la, lb, id});
        return unwrap(gavel::bias(in));
      },
      "records"_a);

  nb::class_<gavel::ClassScore> cs(m, "ClassScore", "Precision, recall and F1 of one label.");
  cs.def_ro("label", &gavel::ClassScore::label)
      .def_ro("support", &gavel::ClassScore::support)
      .def_ro("predicted", &gavel::ClassScore::predicted)
      .def_ro("precision", &gavel::ClassScore::precision)
      .def_ro("recall", &gavel::ClassScore::recall)
      .def_ro("f1", &gavel::ClassScore::f1);
  describe(cs, {"label", "support", "predicted", "precision", "recall", "f1"});
  nb::class_<gavel::ClassificationResult> cl(m, "ClassificationResult",
                                             "Verdicts against gold labels.");
  cl.def_ro("n", &gavel::ClassificationResult::n)
      .def_ro("accuracy", &gavel::ClassificationResult::accuracy)
      .def_ro("macro_f1", &gavel::ClassificationResult::macro_f1)
      .def_ro("classes", &gavel::ClassificationResult::classes);
  describe(cl, {"n", "accuracy", "macro_f1", "classes"}, {"n", "accuracy", "macro_f1"});
  m.def(
      "classification",
      [](const std::vector<std::string>& gold, const std::vector<std::string>& pred) {
        return unwrap(gavel::classification(gold, pred));
      },
      "gold"_a, "predicted"_a);

  nb::class_<gavel::CalibrationResult> ca(m, "CalibrationResult", "ECE and Brier score.");
  ca.def_ro("n", &gavel::CalibrationResult::n)
      .def_ro("bins", &gavel::CalibrationResult::bins)
      .def_ro("ece", &gavel::CalibrationResult::ece)
      .def_ro("brier", &gavel::CalibrationResult::brier)
      .def_ro("bin_count", &gavel::CalibrationResult::bin_count)
      .def_prop_ro(
          "bin_confidence",
          [](const gavel::CalibrationResult& c) { return to_numpy(c.bin_confidence); },
          nb::rv_policy::move)
      .def_prop_ro(
          "bin_accuracy",
          [](const gavel::CalibrationResult& c) { return to_numpy(c.bin_accuracy); },
          nb::rv_policy::move);
  describe(ca, {"n", "bins", "ece", "brier", "bin_count", "bin_confidence", "bin_accuracy"},
           {"n", "ece", "brier"});
  m.def(
      "calibration",
      [](const std::vector<double>& p, const std::vector<double>& y, int bins) {
        return unwrap(gavel::calibration(p, y, bins));
      },
      "p"_a, "outcome"_a, "bins"_a);
}

// ---- tournament ----

void bind_tournament(nb::module_& m) {
  nb::class_<gavel::TournamentMatch> tm(m, "Match",
                                        "One question to the judge: is player a (position 1) "
                                        "better than player b on prompt?");
  tm.def_ro("a", &gavel::TournamentMatch::a)
      .def_ro("b", &gavel::TournamentMatch::b)
      .def_ro("prompt", &gavel::TournamentMatch::prompt, "-1 when no prompt applies.")
      .def_ro("round", &gavel::TournamentMatch::round, "1-based.");
  describe(tm, {"a", "b", "prompt", "round"});

  nb::class_<gavel::TournamentJudgment> tj(m, "MatchJudgment", "One judge call of a tournament.");
  tj.def_ro("match", &gavel::TournamentJudgment::match)
      .def_ro("p", &gavel::TournamentJudgment::p, "P(a better than b) as the judge answered.")
      .def_ro("pair_id", &gavel::TournamentJudgment::pair_id,
              "Shared by the two orientations of a pairing (both_orders); -1 otherwise.");
  describe(tj, {"match", "p", "pair_id"});

  nb::class_<gavel::TournamentResult> tr(m, "TournamentResult", nb::dynamic_attr(),
                                         "Ratings and the match log.");
  tr.def_prop_ro(
        "rating", [](const gavel::TournamentResult& r) { return to_numpy(r.rating); },
        nb::rv_policy::move, "Per player, by the rating method.")
      .def_prop_ro(
          "elo", [](const gavel::TournamentResult& r) { return to_numpy(r.elo); },
          nb::rv_policy::move, "Sequential Elo over the matches in play order.")
      .def_prop_ro(
          "outcomes",
          [](const gavel::TournamentResult& r) {
            nb::list out;
            for (const auto& o : r.outcomes) out.append(nb::make_tuple(o.a, o.b, o.score));
            return out;
          },
          "(a, b, score) per pairing in play order; score = how much a beat b.")
      .def_ro("judgments", &gavel::TournamentResult::judgments, "Every judge call in order.")
      .def_ro("rounds_played", &gavel::TournamentResult::rounds_played)
      .def_ro("stopped_early", &gavel::TournamentResult::stopped_early,
              "Ended before `rounds`: by until_stable, or adaptive pairing found every pair "
              "settled.")
      .def_prop_ro(
          "interval_change",
          [](const gavel::TournamentResult& r) { return to_numpy(r.interval_change); },
          nb::rv_policy::move,
          "until_stable: mean move of the bootstrap rank-interval ends after each checked round.");
  describe(tr,
           {"rating", "elo", "outcomes", "judgments", "rounds_played", "stopped_early",
            "interval_change"},
           {"rating", "rounds_played", "stopped_early"});

  m.def(
      "tournament",
      [](int n_players, nb::callable judge, const std::string& pairing, int rounds,
         bool both_orders, const std::vector<int>& prompts, int prompts_per_match,
         const std::string& rating, double elo_k, double elo_initial, double elo_scale,
         double bt_alpha, double bt_anchor, uint64_t seed, bool until_stable) {
        gavel::TournamentOptions o{pairing,   rounds, both_orders, prompts,   prompts_per_match,
                                   rating,    elo_k,  elo_initial, elo_scale, bt_alpha,
                                   bt_anchor, seed,   until_stable};
        // The judge is Python: the GIL stays held, and the first exception it raises stops
        // the tournament and is re-raised as it was.
        std::optional<nb::python_error> error;
        auto r = gavel::run_tournament(
            n_players, o, [&](const gavel::TournamentMatch& m) -> gavel::Result<double> {
              try {
                return nb::cast<double>(judge(m));
              } catch (nb::python_error& e) {
                error.emplace(std::move(e));
                return gavel::Error{"the judge raised an exception"};
              } catch (const std::exception& e) {
                return gavel::Error{std::string("the judge must return a float: ") + e.what()};
              }
            });
        if (error) throw std::move(*error);
        return unwrap(std::move(r));
      },
      "n_players"_a, "judge"_a, "pairing"_a, "rounds"_a, "both_orders"_a, "prompts"_a,
      "prompts_per_match"_a, "rating"_a, "elo_k"_a, "elo_initial"_a, "elo_scale"_a, "bt_alpha"_a,
      "bt_anchor"_a, "seed"_a, "until_stable"_a);

  nb::class_<gavel::RatingsResult> rr(m, "RatingsResult", "Bradley-Terry ratings.");
  rr.def_prop_ro(
        "rating", [](const gavel::RatingsResult& r) { return to_numpy(r.rating); },
        nb::rv_policy::move)
      .def_prop_ro(
          "theta", [](const gavel::RatingsResult& r) { return to_numpy(r.theta); },
          nb::rv_policy::move)
      .def_prop_ro(
          "std_error", [](const gavel::RatingsResult& r) { return to_numpy(r.std_error); },
          nb::rv_policy::move)
      .def_ro("iterations", &gavel::RatingsResult::iterations);
  describe(rr, {"rating", "theta", "std_error", "iterations"}, {"rating"});
  m.def(
      "bradley_terry",
      [](int n_players, const std::vector<std::tuple<int, int, double>>& outcomes, double alpha,
         double anchor) {
        std::vector<gavel::TournamentOutcome> in;
        for (const auto& [a, b, s] : outcomes) in.push_back({a, b, s});
        return unwrap(gavel::bradley_terry(n_players, in, alpha, anchor));
      },
      "n_players"_a, "outcomes"_a, "alpha"_a, "anchor"_a);
}

}  // namespace

NB_MODULE(_gavel, m) {
  m.doc() = "gavel's native extension (the public C++ API); use the gavel package.";
  bind_judge(m);
  bind_store(m);
  bind_meta(m);
  bind_tournament(m);
}
