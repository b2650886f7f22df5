#include "backend/http_client.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <regex>
#include <thread>

namespace gavel::backend::http {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

Clock::duration from_seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

std::string error_message(const Json& j) {
  if (!j.is_object()) return {};
  const Json* e = j.contains("error") ? &j["error"] : &j;
  if (e->is_string()) return e->get<std::string>();
  for (const char* k : {"message", "detail", "msg"})
    if (e->is_object() && e->contains(k)) {
      const Json& m = (*e)[k];
      return m.is_string() ? m.get<std::string>() : m.dump();
    }
  return {};
}

namespace {

// The server's own words from an error body, else the start of the body.
std::string error_text(const std::string& body) {
  std::string s = error_message(Json::parse(body, nullptr, /*allow_exceptions=*/false));
  if (!s.empty()) return s;
  s = body.substr(0, 200);
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s.empty() ? "(empty body)" : s;
}

}  // namespace

Result<Url> parse_url(const std::string& url) {
  static const std::regex re(
      R"(^(https?)://(\[[0-9A-Fa-f:.]+\]|[^/:?#\[\]@]+)(:([0-9]{1,5}))?(/[^?#]*)?$)",
      std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, re))
    return Error{fmt::format("backend URL '{}': expected http[s]://host[:port][/path]", url)};
  Url u;
  u.text = url;
  u.scheme = m[1].str();
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(), ::tolower);
  u.host = m[2].str();
  if (m[4].matched) {
    u.port = std::stoi(m[4].str());
    if (u.port < 1 || u.port > 65535)
      return Error{fmt::format("backend URL '{}': port {} is out of range", url, u.port)};
  } else {
    u.port = u.scheme == "https" ? 443 : 80;
  }
  u.prefix = m[5].matched ? m[5].str() : "";
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  return u;
}

std::optional<double> parse_retry_after(const std::string& retry_after,
                                        const std::string& retry_after_ms,
                                        std::chrono::system_clock::time_point now) {
  auto number = [](const std::string& s) -> std::optional<double> {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0' || !std::isfinite(v) || v < 0) return std::nullopt;
    return v;
  };
  if (auto ms = number(retry_after_ms)) return *ms / 1000.0;
  if (auto s = number(retry_after)) return *s;
  if (retry_after.empty()) return std::nullopt;
  std::tm tm{};  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  const char* end = strptime(retry_after.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  return std::max(0.0, std::chrono::duration<double>(at - now).count());
}

bool retryable_status(int status) {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

struct Pool::Endpoint {
  Url url;
  std::vector<std::unique_ptr<httplib::Client>> idle;  // keep-alive connections
  int in_flight = 0;
  int consecutive_failures = 0;
  bool probing = false;
  double probe_interval_s = 1;
  Clock::time_point next_probe{};
  Clock::time_point not_before{};  // a Retry-After in force
  EndpointStats stats;
};

struct Pool::Attempt {
  bool ok = false;
  int status = 0;
  bool retryable = false;
  bool endpoint_fault = false;  // counts towards eviction (the endpoint misbehaved)
  std::optional<double> retry_after;
  std::string error;
  Json body;
  double seconds = 0;
};

Pool::Pool(PoolOptions options) : opt_(std::move(options)) {
  rng_.seed(opt_.jitter_seed ? opt_.jitter_seed
                             : uint64_t(Clock::now().time_since_epoch().count()));
}

Pool::~Pool() = default;

Result<std::unique_ptr<Pool>> Pool::open(PoolOptions options) {
  if (options.urls.empty()) return Error{"no backend URL given"};
  if (options.concurrency < 1)
    return Error{fmt::format("concurrency must be >= 1 (got {})", options.concurrency)};
  if (!(options.timeout_s > 0)) return Error{"the request timeout must be > 0 seconds"};
  if (options.max_attempts < 1) return Error{"max attempts must be >= 1"};
  if (!options.ca_file.empty() && !std::ifstream(options.ca_file))
    return Error{fmt::format("{}: cannot read the CA bundle", options.ca_file)};
  auto p = std::unique_ptr<Pool>(new Pool(std::move(options)));
  for (const std::string& u : p->opt_.urls) {
    GAVEL_ASSIGN(Url url, parse_url(u));
    for (const auto& e : p->endpoints_)
      if (e->url.scheme == url.scheme && e->url.host == url.host && e->url.port == url.port &&
          e->url.prefix == url.prefix)
        return Error{fmt::format("backend URL '{}' is given twice", u)};
    auto e = std::make_unique<Endpoint>();
    e->url = std::move(url);
    e->stats.url = u;
    e->probe_interval_s = p->opt_.probe_interval_s;
    p->endpoints_.push_back(std::move(e));
  }
  return p;
}

const std::string& Pool::url(int i) const { return endpoints_.at(size_t(i))->url.text; }

void Pool::set_health_path(std::string path) {
  std::lock_guard lock(mu_);
  health_path_ = std::move(path);
}

double Pool::seconds_open() const { return seconds_between(opened_, Clock::now()); }

std::vector<EndpointStats> Pool::stats() const {
  std::lock_guard lock(mu_);
  std::vector<EndpointStats> out;
  for (const auto& e : endpoints_) out.push_back(e->stats);
  return out;
}

double Pool::backoff(int failures) {
  const double full =
      std::min(opt_.backoff_cap_s, opt_.backoff_base_s * std::pow(2.0, std::max(0, failures - 1)));
  std::lock_guard lock(mu_);
  // Up to 25% less, so that clients that failed together do not retry together.
  return full * (1.0 - 0.25 * std::uniform_real_distribution<double>(0, 1)(rng_));
}

Pool::Attempt Pool::send(int i, const std::string& method, const std::string& path,
                         const std::string& body) {
  Endpoint& e = *endpoints_[size_t(i)];
  std::unique_ptr<httplib::Client> cli;
  {
    std::lock_guard lock(mu_);
    if (!e.idle.empty()) {
      cli = std::move(e.idle.back());
      e.idle.pop_back();
    }
  }
  if (!cli) {
    cli = std::make_unique<httplib::Client>(
        fmt::format("{}://{}:{}", e.url.scheme, e.url.host, e.url.port));
    if (!cli->is_valid()) {
      Attempt a;
      a.error = e.url.scheme == "https" ? "https is not available in this build"
                                        : "cannot create an HTTP client";
      return a;
    }
    cli->set_keep_alive(true);
    const auto ct = std::chrono::duration<double>(opt_.connect_timeout_s);
    cli->set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(ct));
    if (!opt_.ca_file.empty()) cli->set_ca_cert_path(opt_.ca_file);
    cli->enable_server_certificate_verification(true);
    httplib::Headers h;
    for (const auto& [k, v] : opt_.headers) h.emplace(k, v);
    if (!opt_.api_key.empty()) h.emplace("Authorization", "Bearer " + opt_.api_key);
    cli->set_default_headers(std::move(h));
  }
  const auto start = Clock::now();
  const auto deadline = start + from_seconds(opt_.timeout_s);
  const auto tmo = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::duration<double>(opt_.timeout_s));
  cli->set_read_timeout(tmo);
  cli->set_write_timeout(tmo);
  httplib::Request req;
  req.method = method;
  req.path = e.url.prefix + path;
  if (method == "POST") {
    req.body = body;
    req.set_header("Content-Type", "application/json");
  }
  req.set_header("Accept", "application/json");
  // The whole exchange has one deadline, also when the server sends its answer slowly.
  req.progress = [deadline](uint64_t, uint64_t) { return Clock::now() < deadline; };
  httplib::Result res = cli->send(req);
  Attempt a;
  a.seconds = seconds_between(start, Clock::now());
  if (!res) {
    const httplib::Error err = res.error();
    a.retryable = true;
    a.endpoint_fault = true;
    if (err == httplib::Error::Canceled || Clock::now() >= deadline)
      a.error = fmt::format("no complete answer within the {:g} s request timeout", opt_.timeout_s);
    else if (err == httplib::Error::SSLServerVerification || err == httplib::Error::SSLConnection ||
             err == httplib::Error::SSLLoadingCerts) {
      a.error = fmt::format("TLS: {} (certificate not trusted? see --backend-ca-cert)",
                            httplib::to_string(err));
      a.retryable = false;  // a certificate does not fix itself
    } else
      a.error = httplib::to_string(err);
    return a;  // the connection is dropped with the client
  }
  const int status = res->status;
  a.status = status;
  if (status >= 200 && status < 300) {
    try {
      a.body = Json::parse(res->body);
      a.ok = true;
    } catch (const Json::exception& ex) {
      a.retryable = true;
      a.endpoint_fault = true;
      a.error = fmt::format("HTTP {} with a body that is not JSON ({} bytes): {}", status,
                            res->body.size(), ex.what());
    }
  } else {
    a.retryable = retryable_status(status);
    a.endpoint_fault = status >= 500 || status == 408;
    a.error = fmt::format("HTTP {}: {}", status, error_text(res->body));
    if (!a.retryable) a.body = Json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (status == 429 || status == 503)
      a.retry_after = parse_retry_after(res->get_header_value("Retry-After"),
                                        res->get_header_value("retry-after-ms"),
                                        std::chrono::system_clock::now());
  }
  std::lock_guard lock(mu_);
  e.idle.push_back(std::move(cli));
  return a;
}

bool Pool::probe(int i) {
  Endpoint& e = *endpoints_[size_t(i)];
  std::string path;
  {
    std::lock_guard lock(mu_);
    path = health_path_;
  }
  Attempt a = send(i, "GET", path, "");
  // Any 2xx will do: vLLM's and SGLang's /health answer with an empty body.
  a.ok = a.status >= 200 && a.status < 300;
  std::lock_guard lock(mu_);
  e.probing = false;
  if (a.ok) {
    e.stats.in_rotation = true;
    e.consecutive_failures = 0;
    e.probe_interval_s = opt_.probe_interval_s;
    all_down_since_.reset();
  } else {
    e.stats.last_error = "probe: " + a.error;
    e.next_probe = Clock::now() + from_seconds(e.probe_interval_s);
    e.probe_interval_s = std::min(30.0, e.probe_interval_s * 2);
  }
  cv_.notify_all();
  return a.ok;
}

Result<int> Pool::acquire(int pinned) {
  std::unique_lock lock(mu_);
  while (true) {
    const auto now = Clock::now();
    // The least busy endpoint in rotation with a free slot and no Retry-After in force.
    int best = -1, to_probe = -1;
    bool any_in = false;
    Clock::time_point wake = now + std::chrono::seconds(1);
    for (int step = 0; step < size(); ++step) {
      const int i = (next_ + step) % size();  // ties go round-robin
      if (pinned >= 0 && i != pinned) continue;
      Endpoint& e = *endpoints_[size_t(i)];
      if (!e.stats.in_rotation) {
        if (!e.probing && e.next_probe <= now) {
          to_probe = i;
          break;
        }
        if (!e.probing) wake = std::min(wake, e.next_probe);
        continue;
      }
      any_in = true;
      if (e.not_before > now) {
        wake = std::min(wake, e.not_before);
        continue;
      }
      if (e.in_flight >= opt_.concurrency) continue;
      if (best < 0 || e.in_flight < endpoints_[size_t(best)]->in_flight) best = i;
    }
    if (to_probe >= 0) {  // this caller probes it; the others go on waiting
      endpoints_[size_t(to_probe)]->probing = true;
      lock.unlock();
      probe(to_probe);
      lock.lock();
      continue;
    }
    if (best >= 0) {
      endpoints_[size_t(best)]->in_flight++;
      next_ = (best + 1) % size();
      return best;
    }
    if (any_in) {
      all_down_since_.reset();
    } else {
      if (!all_down_since_) all_down_since_ = now;
      if (seconds_between(*all_down_since_, now) >= opt_.down_timeout_s) {
        std::string why;
        for (int i = 0; i < size(); ++i)
          if (pinned < 0 || i == pinned)
            why += fmt::format("; {}: {}", endpoints_[size_t(i)]->url.text,
                               endpoints_[size_t(i)]->stats.last_error);
        return Error{fmt::format("every backend endpoint has been down for {:g} s{}",
                                 opt_.down_timeout_s, why)};
      }
    }
    cv_.wait_until(lock, wake);
  }
}

void Pool::release(int i, bool ok, const std::string& error) {
  std::lock_guard lock(mu_);
  Endpoint& e = *endpoints_[size_t(i)];
  e.in_flight--;
  if (ok) {
    e.consecutive_failures = 0;
  } else if (!error.empty()) {
    e.stats.last_error = error;
    if (++e.consecutive_failures >= opt_.evict_after && e.stats.in_rotation) {
      e.stats.in_rotation = false;
      e.stats.evictions++;
      e.next_probe = Clock::now() + from_seconds(e.probe_interval_s);
    }
  }
  cv_.notify_all();
}

Result<Reply> Pool::call(const std::string& method, const std::string& path,
                         const std::string& body, CallOptions c) {
  const int attempts = c.max_attempts > 0 ? c.max_attempts : opt_.max_attempts;
  std::string last;
  for (int n = 1; n <= attempts; ++n) {
    GAVEL_ASSIGN(int i, acquire(c.pinned));
    Attempt a = send(i, method, path, body);
    {
      std::lock_guard lock(mu_);
      EndpointStats& s = endpoints_[size_t(i)]->stats;
      s.sent++;
      s.busy_s += a.seconds;
      if (n > 1) s.retried++;
      if (a.ok)
        s.ok++;
      else if (a.retryable)
        s.failed++;
      if (a.retry_after)
        endpoints_[size_t(i)]->not_before =
            Clock::now() + from_seconds(std::min(*a.retry_after, opt_.retry_after_cap_s));
    }
    release(i, a.ok, a.endpoint_fault ? a.error : std::string());
    const std::string& u = endpoints_[size_t(i)]->url.text;
    if (a.ok) return Reply{a.status, std::move(a.body), i, a.seconds, n};
    last = fmt::format("{} {}{}: {}", method, u, path, a.error);
    if (!a.retryable) {
      if (c.client_errors && a.status >= 400 && a.status < 500) {
        if (a.body.is_discarded()) a.body = nullptr;
        return Reply{a.status, std::move(a.body), i, a.seconds, n};
      }
      return Error{last};
    }
    // A Retry-After holds that endpoint back (acquire waits for it, or takes another one);
    // other failures wait here, with jitter.
    if (n < attempts && !a.retry_after) std::this_thread::sleep_for(from_seconds(backoff(n)));
  }
  return Error{fmt::format("gave up after {} attempts; last: {}", attempts, last)};
}

Result<Reply> PoolTransport::send(const std::string& method, const std::string& path,
                                  const Json* body, bool client_errors) {
  CallOptions c = c_;
  c.client_errors = client_errors;
  const std::string text =
      body ? body->dump(-1, ' ', false, Json::error_handler_t::replace) : std::string();
  return pool_.call(method, path, text, c);
}

}  // namespace gavel::backend::http
