// A user of the public API: includes only include/gavel/*.h (built with nothing but include/ on
// its include path, see CMakeLists.txt) and calls each header's entry points.
#include <string>
#include <vector>

#include "gavel/backend.h"
#include "gavel/judge.h"
#include "gavel/meta.h"
#include "gavel/status.h"
#include "gavel/store.h"
#include "gavel/tournament.h"

namespace public_api {

// The error of opening `model`, "" when it opened.
std::string open_error(const std::string& model) {
  gavel::JudgeOptions o;
  o.backend.model = model;
  auto j = gavel::Judge::open(o);
  return j.ok() ? "" : j.message();
}

// Separability of a 2x2 design through the public struct types.
double separability_score(const std::vector<gavel::ScoredItem>& items) {
  auto r = gavel::separability(items, {0, 1, 0.95});
  return r.ok() ? r->score : -1;
}

// A round robin with a judge that always favours the lower index.
std::vector<double> round_robin(int n) {
  gavel::TournamentOptions o;
  o.pairing = "round-robin";
  o.rounds = 1;
  auto r =
      gavel::run_tournament(n, o, [](const gavel::TournamentMatch& m) -> gavel::Result<double> {
        return m.a < m.b ? 0.9 : 0.1;
      });
  return r.ok() ? r->rating : std::vector<double>{};
}

long long store_count(const std::string& path) {
  auto s = gavel::JudgmentStore::open(path);
  if (!s.ok()) return -1;
  auto n = (*s)->count();
  return n.ok() ? *n : -1;
}

}  // namespace public_api
