// The public API's option structs (strings and numbers, as a user or a flag gives them) turned
// into the layers' configurations, checked with messages that name the option.
#pragma once

#include <set>
#include <string>

#include "gavel/judge.h"
#include "gavel/status.h"
#include "judge/judge_protocol.h"

namespace gavel::api {

Result<judge::ProtocolConfig> protocol_config(const PairwiseOptions& o);
// `vars`: template variables the items carry under their own names.
Result<judge::ProtocolConfig> protocol_config(const CritiqueOptions& o,
                                              const std::set<std::string>& vars);

// The error of a call the caller stopped (a progress callback returned false).
Status cancelled(std::string message);

}  // namespace gavel::api
