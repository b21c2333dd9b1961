// Reversibles' renice: nice, ionice, scheduling class, CPU affinity and oom_score_adj, recorded
// in the ledger before they are made and undone together.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>

#include "act/ledger_entries.h"
#include "act/reversible.h"
#include "core/text.h"

namespace freezr::act {

namespace {

// Clock ticks since boot, as /proc/PID/stat counts start times (0 when unknown).
std::uint64_t boot_ticks(proc::ProcSource& source) {
  const auto uptime = source.read_system_file("uptime");
  if (!uptime) return 0;
  char* end = nullptr;
  const double seconds = std::strtod(uptime->c_str(), &end);
  if (end == uptime->c_str() || seconds <= 0) return 0;
  return static_cast<std::uint64_t>(seconds * static_cast<double>(source.clock_ticks()));
}

// What a renice sets, in words: "nice 10, ionice class 3, sched idle, cpus 0-1".
std::string priority_words(const engine::Action& a) {
  std::vector<std::string> parts;
  if (a.nice) parts.push_back(fmt::format("nice {}", *a.nice));
  if (a.ionice) parts.push_back(fmt::format("ionice class {}", a.ionice->io_class));
  if (a.sched) parts.push_back(a.sched == engine::SchedClass::kIdle ? "sched idle" : "sched batch");
  if (!a.cpus.empty()) parts.push_back("cpus " + format_cpu_list(a.cpus));
  if (a.oom_score_adj) parts.push_back(fmt::format("oom_score_adj {}", *a.oom_score_adj));
  return fmt::format("{}", fmt::join(parts, ", "));
}
}  // namespace

void Reversibles::renice(const engine::Decision& d) {
  const auto change = PriorityChange::of(d.action);
  for (const auto& t : d.targets) {
    auto fd = control_.open(t.id);
    if (!fd) {
      report(d, t, fd.error().gone(), fd.error().gone() ? "already gone" : fd.error().message);
      continue;
    }
    const Pin pin(*fd);
    const auto before = control_.priorities(t.id.pid);
    std::optional<OomChange> oom;
    if (d.action.oom_score_adj) {
      auto now = control_.oom_score_adj(t.id.pid);
      if (!now) {
        report(d, t, now.error().gone(), "oom_score_adj not readable: " + now.error().message);
        continue;
      }
      oom = OomChange{*now, *d.action.oom_score_adj};
    }
    auto recorded =
        record(d, t, kRenice, renice_data(before, d.action.nice, boot_ticks(source_), oom));
    if (!recorded) {
      report(d, t, false,
             "not reniced: the ledger refused the entry (" + recorded.error().message + ")");
      continue;
    }
    const auto h = *recorded;
    auto r = apply_priorities(t.id.pid, change, oom);
    if (!r) {
      held_.remove(h);
      ledger_.remove(h->entry.id);
      report(d, t, r.error().gone(), "renice failed: " + r.error().message);
      continue;
    }
    report(d, t, true, fmt::format("{} on {} thread(s)", priority_words(d.action), *r));
  }
}

Result<std::size_t> Reversibles::apply_priorities(Pid pid, const PriorityChange& change,
                                                  const std::optional<OomChange>& oom) {
  std::map<Pid, ThreadPriority> before;
  if (change.nice || change.ionice || change.policy || !change.cpus.empty()) {
    auto r = control_.set_priorities(pid, change);
    if (!r) return r.error();
    before = std::move(*r);
  }
  if (oom) {
    auto w = control_.set_oom_score_adj(pid, oom->set);
    if (!w) {
      if (!before.empty()) control_.restore_priorities(pid, before);
      return w.error();
    }
  }
  return before.empty() ? std::size_t{1} : before.size();
}

}  // namespace freezr::act
