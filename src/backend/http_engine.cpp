#include "backend/http_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "backend/http_engines.h"

namespace gavel::backend::http {

using Json = nlohmann::json;

std::string_view kind_name(EngineKind k) {
  switch (k) {
    case EngineKind::kLlamaCpp:
      return "llama.cpp";
    case EngineKind::kVllm:
      return "vllm";
    case EngineKind::kSglang:
      return "sglang";
    case EngineKind::kOllama:
      return "ollama";
    case EngineKind::kOpenAI:
      return "openai";
  }
  return "?";
}

Result<EngineKind> parse_kind(std::string_view s) {
  if (s == "llama.cpp" || s == "llamacpp" || s == "llama-server") return EngineKind::kLlamaCpp;
  if (s == "vllm") return EngineKind::kVllm;
  if (s == "sglang") return EngineKind::kSglang;
  if (s == "ollama") return EngineKind::kOllama;
  if (s == "openai") return EngineKind::kOpenAI;
  return Error{
      fmt::format("unknown backend kind '{}' (llama.cpp, vllm, sglang, ollama, openai)", s)};
}

Result<EngineKind> detect_kind(Transport& t) {
  // Each probe is a GET that another engine answers with 404 (not retried) or a body of
  // another shape; connection failures are retried by the transport and reported.
  std::vector<std::string> tried;
  auto try_get = [&](const std::string& path) -> Result<std::optional<Json>> {
    GAVEL_ASSIGN(Reply r, t.get(path, /*client_errors=*/true));
    if (r.status == 401 || r.status == 403)  // the key, not the route: say so
      return Error{fmt::format("GET {}: HTTP {} (check --backend-api-key-env and --backend-header)",
                               path, r.status)};
    if (r.status >= 400) {
      const std::string why = error_message(r.body);
      tried.push_back(
          fmt::format("{} (HTTP {}{}{})", path, r.status, why.empty() ? "" : ": ", why));
      return std::optional<Json>();
    }
    tried.push_back(path);
    return std::optional<Json>(std::move(r.body));
  };
  GAVEL_ASSIGN(auto props, try_get("/props"));
  if (props && props->is_object() &&
      (props->contains("default_generation_settings") || props->contains("total_slots")))
    return EngineKind::kLlamaCpp;
  GAVEL_ASSIGN(auto info, try_get("/get_model_info"));
  if (info && info->is_object() && info->contains("model_path")) return EngineKind::kSglang;
  GAVEL_ASSIGN(auto version, try_get("/api/version"));
  if (version && version->is_object() && version->contains("version")) return EngineKind::kOllama;
  GAVEL_ASSIGN(auto models, try_get("/v1/models"));
  if (models && models->is_object() && models->contains("data") && (*models)["data"].is_array()) {
    const Json& d = (*models)["data"];
    const std::string owner =
        !d.empty() && d[0].is_object() ? d[0].value("owned_by", std::string()) : std::string();
    if (owner == "vllm") return EngineKind::kVllm;
    if (owner == "sglang") return EngineKind::kSglang;
    if (owner == "llamacpp") return EngineKind::kLlamaCpp;
    return EngineKind::kOpenAI;
  }
  return Error{
      fmt::format("cannot tell which engine this server is (tried GET {}); give --backend-kind",
                  fmt::join(tried, ", "))};
}

VocabIndex::VocabIndex(const Tokenizer& tok) : tok_(tok) {
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    std::string b = bytes(id);
    if (b.empty()) continue;
    auto [it, fresh] = by_bytes_.emplace(std::move(b), id);
    if (!fresh && tok.is_control(it->second) && !tok.is_control(id)) it->second = id;
  }
}

std::string VocabIndex::bytes(int32_t id) const {
  if (id < 0 || id >= tok_.n_vocab()) return {};
  return tok_.decode(std::span<const int32_t>(&id, 1), /*special=*/true);
}

int32_t VocabIndex::find(const std::string& b) const {
  auto it = by_bytes_.find(b);
  return it == by_bytes_.end() ? -1 : it->second;
}

std::unique_ptr<Engine> make_engine(EngineKind kind, const Tokenizer& tok, const VocabIndex& vocab,
                                    EngineOptions options) {
  switch (kind) {
    case EngineKind::kLlamaCpp:
      return detail::make_llamacpp(tok, vocab, std::move(options));
    case EngineKind::kVllm:
      return detail::make_openai(tok, vocab, std::move(options), /*vllm=*/true);
    case EngineKind::kOpenAI:
      return detail::make_openai(tok, vocab, std::move(options), /*vllm=*/false);
    case EngineKind::kSglang:
      return detail::make_sglang(tok, vocab, std::move(options));
    case EngineKind::kOllama:
      return detail::make_ollama(tok, vocab, std::move(options));
  }
  return nullptr;
}

namespace detail {

double read_logprob(const Json& v) {
  if (!v.is_number()) return -std::numeric_limits<double>::infinity();
  const double x = v.get<double>();
  if (!std::isfinite(x) || x <= -9999.0) return -std::numeric_limits<double>::infinity();
  return std::min(x, 0.0);  // rounding can give +1e-7 for a certain token
}

std::vector<TopToken> make_top(std::vector<TopToken> all, int k) {
  std::stable_sort(all.begin(), all.end(), [](const TopToken& a, const TopToken& b) {
    return a.logprob != b.logprob ? a.logprob > b.logprob : a.id < b.id;
  });
  std::vector<TopToken> out;
  std::unordered_set<int32_t> seen;
  std::unordered_set<std::string> seen_text;  // id -1 entries (text-only engines)
  for (TopToken& t : all) {
    if (int(out.size()) >= k) break;
    if (t.id >= 0 ? !seen.insert(t.id).second : !seen_text.insert(t.token).second) continue;
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<TokenLogprob> pick(const std::vector<int32_t>& wanted,
                               const std::vector<TopToken>& alts) {
  double floor = 0;
  for (const TopToken& a : alts) floor = std::min(floor, a.logprob);
  std::vector<TokenLogprob> out;
  for (int32_t w : wanted) {
    auto it = std::find_if(alts.begin(), alts.end(), [&](const TopToken& a) { return a.id == w; });
    if (it != alts.end())
      out.push_back({it->logprob, true});
    else
      out.push_back({alts.empty() ? 0.0 : floor, false});
  }
  return out;
}

Result<Json> field(const Json& j, std::string_view path, const char* what) {
  const Json* cur = &j;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string part(path.substr(start, end - start));
    bool ok = false;
    if (cur->is_array() && !part.empty() && part.size() < 10 &&
        std::all_of(part.begin(), part.end(), ::isdigit)) {
      const size_t i = std::stoul(part);
      if (i < cur->size()) cur = &(*cur)[i], ok = true;
    } else if (cur->is_object() && cur->contains(part)) {
      cur = &(*cur)[part];
      ok = true;
    }
    if (!ok)
      return Error{fmt::format("the {} answer has no '{}' (at '{}'): {}", what, path, part,
                               j.dump().substr(0, 300))};
    start = end + 1;
  }
  return *cur;
}

}  // namespace detail
}  // namespace gavel::backend::http
