// The rules' on_exec actions as decisions: pure, like the policy. A process is acted on once
// per rule, as soon as it matches (at its exec or rename, or at the first scan that finds it).
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "engine/policy.h"
#include "engine/protection.h"
#include "proc/info_cache.h"

namespace freezr::engine {

// One decision per enabled rule with on_exec that s matches and that done(rule index) says
// has not acted on it yet. A protected process gets a kProtected decision, to be logged only.
// via says how the process was found: "exec", "rename" or "scan".
// Whether an enabled rule acts at exec (has on_exec).
bool acts_at_exec(const std::vector<Rule>& rules);

std::vector<Decision> exec_decisions(const std::vector<Rule>& rules, const ProcessSample& s,
                                     proc::InfoSource& info, const Protection& protection,
                                     const std::function<bool(std::size_t)>& done,
                                     std::string_view via);

}  // namespace freezr::engine
