#include "daemon/exec_watch.h"

#include <time.h>

#include <cmath>

#include "engine/exec_rules.h"
#include "engine/sampler.h"

namespace freezr::daemon {

using spdlog::level::level_enum;

namespace {
std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}
}  // namespace

void ExecWatch::on_event(const proc::ProcEvent& e) {
  if (!e.process_level() ||
      (e.kind != proc::ProcEvent::Kind::kExec && e.kind != proc::ProcEvent::Kind::kComm)) {
    return;
  }
  // Without an on_exec rule there is nothing to do at once: the next scan reads the process
  // and matches it afresh.
  if (!engine::acts_at_exec(d_.config().rules)) return;
  if (!d_.source.read_pid_file(e.tgid, "stat", buf_)) return;  // gone already
  auto st = proc::parse_stat(buf_);
  if (!st) return;
  const auto s = engine::sample_of(*st, d_.source.page_size());
  d_.forget(s.id);  // a new program, or a new name: read and matched afresh
  const double delay_ms =
      e.timestamp_ns > 0 ? static_cast<double>(monotonic_ns() - e.timestamp_ns) / 1e6 : 0.0;
  by_event_ += static_cast<std::uint64_t>(
      act(s, e.kind == proc::ProcEvent::Kind::kExec ? "exec" : "rename", delay_ms));
}

void ExecWatch::on_scan(const scan::ScanResult& r) {
  const auto& rules = d_.config().rules;
  std::set<std::pair<std::size_t, ProcessId>> still;
  std::set<std::size_t> seen;
  for (std::size_t i = 0; i < rules.size() && i < r.cls.members.size(); ++i) {
    if (!rules[i].enabled || !rules[i].on_exec) continue;
    for (auto idx : r.cls.members[i]) {
      const auto& p = r.snap.processes[idx];
      if (done_.count({i, p.id}) == 0U && seen.insert(idx).second) act(p, "scan", std::nullopt);
      still.insert({i, p.id});
    }
  }
  done_.swap(still);
}

int ExecWatch::act(const engine::ProcessSample& s, const char* via,
                   std::optional<double> delay_ms) {
  const auto decisions = engine::exec_decisions(
      d_.config().rules, s, d_.info(), d_.protection(),
      [&](std::size_t rule) {
        return done_.count({rule, s.id}) != 0U;
      },
      via);
  int acted = 0;
  for (const auto& d : decisions) {
    done_.insert({d.rule_index, s.id});
    const bool skipped = d.verdict == engine::Verdict::kProtected;
    const auto& t = skipped ? d.skipped.front().first : d.targets.front();
    std::vector<report::Field> f = {{"rule", d.rule},
                                    {"action", std::string(engine::to_string(d.action.kind))},
                                    {"via", std::string(via)}};
    const auto pf = report::process_fields(t);
    f.insert(f.end(), pf.begin(), pf.end());
    if (delay_ms) f.push_back({"delay_ms", std::round(*delay_ms * 1000) / 1000});
    if (skipped) {
      d_.log.line(level_enum::warn, "skip", f,
                  "protected (" + d.skipped.front().second + "), not acted on at exec");
    } else {
      d_.log.line(
          level_enum::warn, "exec", f,
          fmt::format("{} matched rule '{}' at {}{}", s.comm, d.rule, via,
                      delay_ms ? fmt::format(" ({:.2f} ms after the kernel's event)", *delay_ms)
                               : std::string()));
      ++acted;
    }
    d_.carry_out(d);
  }
  return acted;
}

}  // namespace freezr::daemon
