#include "daemon/exec_guard.h"

#include <time.h>

#include <cmath>

#include "engine/classifier.h"
#include "engine/sampler.h"

namespace freezr::daemon {

using spdlog::level::level_enum;

namespace {
std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}
}  // namespace

void ExecGuard::on_event(const proc::ProcEvent& e) {
  if (!e.process_level() ||
      (e.kind != proc::ProcEvent::Kind::kExec && e.kind != proc::ProcEvent::Kind::kComm)) {
    return;
  }
  if (!d_.source.read_pid_file(e.tgid, "stat", buf_)) return;  // gone already
  auto st = proc::parse_stat(buf_);
  if (!st) return;
  const auto s = engine::sample_of(*st, d_.source.page_size());
  auto& info = d_.info();
  info.forget(s.id);  // a new program, or a new name: its command line may have changed too
  const auto& rules = d_.config().rules;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    if (!r.enabled || !r.on_exec || done_.count({i, s.id}) != 0U) continue;
    if (!engine::matches(r.match, s, info)) continue;
    const double delay_ms =
        e.timestamp_ns > 0 ? static_cast<double>(monotonic_ns() - e.timestamp_ns) / 1e6 : 0.0;
    act(i, s, e.kind == proc::ProcEvent::Kind::kExec ? "exec" : "rename", delay_ms);
    ++by_event_;
  }
}

void ExecGuard::on_scan(const ScanResult& r) {
  const auto& rules = d_.config().rules;
  std::set<std::pair<std::size_t, ProcessId>> still;
  for (std::size_t i = 0; i < rules.size() && i < r.cls.members.size(); ++i) {
    if (!rules[i].enabled || !rules[i].on_exec) continue;
    for (auto idx : r.cls.members[i]) {
      const auto& p = r.snap.processes[idx];
      if (done_.count({i, p.id}) == 0U) act(i, p, "scan", std::nullopt);
      still.insert({i, p.id});
    }
  }
  done_.swap(still);
}

void ExecGuard::act(std::size_t rule, const engine::ProcessSample& s, const char* via,
                    std::optional<double> delay_ms) {
  done_.insert({rule, s.id});
  const auto& r = d_.config().rules[rule];
  engine::Decision d;
  d.rule_index = rule;
  d.rule = r.name;
  d.action = *r.on_exec;
  d.entity = s.id;
  d.metric = "exec";
  const engine::TargetInfo t{s.id, s.comm, s.total_cpu(), s.rss_mb()};
  std::vector<Field> f = {{"rule", r.name}, {"action", std::string(engine::to_string(d.action.kind))},
                          {"via", std::string(via)}};
  const auto pf = process_fields(t);
  f.insert(f.end(), pf.begin(), pf.end());
  if (delay_ms) f.push_back({"delay_ms", std::round(*delay_ms * 1000) / 1000});
  if (d.action.touches_processes()) {
    if (auto why = d_.protection().reason(s)) {
      d_.log.event(level_enum::warn, "skip", f, "protected (" + *why + "), not acted on at exec");
      return;
    }
  }
  const std::string msg = fmt::format("{} matched rule '{}' at {}{}", s.comm, r.name, via,
                                      delay_ms ? fmt::format(" ({:.2f} ms after the kernel's event)",
                                                             *delay_ms)
                                               : std::string());
  d_.log.event(level_enum::warn, "exec", f, msg);
  d_.recorder.event({d_.wall(), "violation", r.name, s.id.pid, s.comm,
                     engine::to_string(d.action.kind), std::nullopt, msg});
  d.targets.push_back(t);
  d_.actuator().apply(d);
}

}  // namespace freezr::daemon
