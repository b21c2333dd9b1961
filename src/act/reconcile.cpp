// Reversibles::reconcile: FreezR's holds checked against the machine once per scan.
#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>

#include "act/ledger_entries.h"
#include "act/reversible.h"

namespace freezr::act {

Reversibles::Ended Reversibles::ended_outside(const Held& h) {
  const auto& e = h.entry;
  if (!ledger_.contains(e.id))
    return {Ending::kForget, "undone outside the daemon (`freezr thaw`)"};
  if (is_unit_hold(e)) return {};  // systemd keeps it while the unit lives
  const auto st = same_process(source_, e.process);
  if (!st) return {Ending::kDrop, "the process exited"};
  if (e.kind == kFreezeSignal) {
    // D: a process in uninterruptible sleep stops once it wakes.
    if (std::string("TtD").find(st->state) != std::string::npos) return {};
    return {Ending::kDrop, "resumed by someone else (SIGCONT)"};
  }
  if (e.kind == kRenice) {
    const auto set = reniced_to(e);
    if (!set || st->nice == *set) return {};
    return {Ending::kDrop, fmt::format("reniced by someone else (now {})", st->nice)};
  }
  std::string buf;
  if (!source_.read_pid_file(e.process.pid, "cgroup", buf)) {
    return {Ending::kDrop, "the process exited"};
  }
  const auto group = group_of(e);
  const bool v2 = e.kind == kFreezeCgroup || cgroups_.can_throttle_v2();
  if (!group.empty() && cgroups_.origin(buf, v2) != group) {
    return {Ending::kDrop, "moved out of FreezR's group by someone else"};
  }
  if (e.kind == kFreezeCgroup && Cgroups::read(group, "cgroup.freeze").rfind('0', 0) == 0) {
    return {Ending::kUndo, "thawed by someone else"};
  }
  return {};
}

ActionOutcome Reversibles::undo_outcome(const Held& h, bool ok, std::string detail) const {
  ActionOutcome o;
  o.rule = h.entry.rule;
  o.action = kind_of(h.entry);
  o.unit = unit_of(h.entry);
  if (o.unit.empty()) o.target = engine::TargetInfo{h.entry.process, "", 0, 0};
  o.ok = ok;
  o.undo = true;
  o.detail = std::move(detail);
  return o;
}

void Reversibles::drop(const std::shared_ptr<Held>& h, const std::string& why, bool remove_group) {
  held_.remove(h);
  if (h->timer) h->timer->cancel();
  ledger_.remove(h->entry.id);
  if (remove_group) {
    // The process exited or was moved out; its children forked while held leave with it.
    if (const auto g = group_of(h->entry); !g.empty()) {
      release_group(g, origin_of(h->entry), others_in_group(ledger_.all(), h->entry), source_,
                    control_);
    }
  }
  sink_(undo_outcome(*h, true, "hold ended (" + h->entry.kind + "): " + why));
}

void Reversibles::reconcile() {
  const std::vector<std::shared_ptr<Held>> all(held_.begin(), held_.end());
  for (const auto& h : all) {
    const auto [how, why] = ended_outside(*h);
    switch (how) {
      case Ending::kHolds:
        break;
      case Ending::kUndo:  // back to its own cgroup, and the group removed
        undo(h, why.c_str());
        break;
      case Ending::kDrop:
        drop(h, why, true);
        break;
      case Ending::kForget:
        drop(h, why, false);
        break;
    }
  }
}

}  // namespace freezr::act
