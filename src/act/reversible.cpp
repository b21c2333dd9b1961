#include "act/reversible.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "act/ledger_entries.h"
#include "act/priority.h"
#include "proc/placement.h"

namespace freezr::act {

namespace asio = boost::asio;

namespace {
// What an entry holds, in words: "PID 42", or a unit held as a whole.
std::string held_what(const store::LedgerEntry& e) {
  const auto unit = unit_of(e);
  return unit.empty() ? fmt::format("PID {}", e.process.pid) : unit;
}
}  // namespace

Reversibles::Pin::~Pin() { ::close(fd_); }

bool Reversibles::pin_with_cgroup(const engine::Decision& d, const engine::TargetInfo& t,
                                  std::optional<Pin>& pin, std::string& cgroup) {
  auto fd = control_.open(t.id);
  if (!fd) {
    report(d, t, fd.error().gone(), fd.error().gone() ? "already gone" : fd.error().message);
    return false;
  }
  pin.emplace(*fd);
  if (!source_.read_pid_file(t.id.pid, "cgroup", cgroup)) {
    report(d, t, true, "already gone");
    return false;
  }
  return true;
}

Reversibles::Reversibles(asio::io_context& io, proc::ProcSource& source, ProcessControl& control,
                         const Clock& clock, Cgroups& cgroups, store::Ledger& ledger,
                         OutcomeSink sink)
    : io_(io),
      source_(source),
      control_(control),
      clock_(clock),
      cgroups_(cgroups),
      ledger_(ledger),
      sink_(std::move(sink)) {}

Reversibles::~Reversibles() {
  for (auto& h : held_) {
    if (h->timer) h->timer->cancel();
  }
}

void Reversibles::report(const engine::Decision& d, const engine::TargetInfo& t, bool ok,
                         const std::string& detail) {
  auto o = outcome_of(d);
  if (d.verdict == engine::Verdict::kRelease) o.action = engine::ActionKind::kLog;
  o.target = t;
  o.ok = ok;
  o.detail = detail;
  sink_(o);
}

bool Reversibles::verified(const engine::TargetInfo& t, char* state) {
  auto st = same_process(source_, t.id);
  if (st && state != nullptr) *state = st->state;
  return st.has_value();
}

Result<std::shared_ptr<Reversibles::Held>> Reversibles::record(const engine::Decision& d,
                                                               const engine::TargetInfo& t,
                                                               const std::string& kind,
                                                               const std::string& data) {
  auto h = std::make_shared<Held>();
  h->entry = store::LedgerEntry{0, t.id, kind, d.rule, data, clock_.wall()};
  h->entity = d.entity;
  auto id = ledger_.add(h->entry);
  if (!id) return id.error();
  h->entry.id = *id;
  held_.push_back(h);
  return h;
}

void Reversibles::undo(const std::shared_ptr<Held>& h, const char* why) {
  held_.remove(h);
  if (h->timer) h->timer->cancel();
  // Someone (`freezr thaw`) may have undone it already: then it is not ours to undo again.
  if (!ledger_.contains(h->entry.id)) return;
  const auto r = undo_entry(h->entry, source_, control_, cgroups_,
                            others_in_group(ledger_.all(), h->entry), services_);
  ledger_.remove(h->entry.id);
  sink_(undo_outcome(*h, r.ok(),
                     r ? fmt::format("undone ({}): {}", why, h->entry.kind)
                       : "undo of " + h->entry.kind + " failed: " + r.error().message));
}

void Reversibles::throttle(const engine::Decision& d) {
  if (!d.whole_unit.empty() && services_ != nullptr) {
    throttle_unit(d);
    return;
  }
  const bool v2 = cgroups_.can_throttle_v2();
  if (!v2 && !cgroups_.can_throttle_v1()) {
    engine::Decision fallback = d;
    fallback.action.kind = engine::ActionKind::kRenice;
    fallback.action.nice = 19;
    renice(fallback);
    return;
  }
  const std::string leaf =
      cgroups_.leaf("thr", d.rule + "-" +
                               (d.entity == engine::kGroupEntity ? std::string("group")
                                : d.entity.pid == 0 ? fmt::format("{:x}", d.entity.start_time)
                                                    : std::to_string(d.entity.pid)));
  auto dir = cgroups_.make(v2, leaf);
  if (!dir) {
    for (const auto& t : d.targets) report(d, t, false, dir.error().message);
    return;
  }
  constexpr long kPeriod = 100000;
  const long quota = static_cast<long>(d.action.cpu_limit / 100.0 * kPeriod);
  auto set = v2 ? Cgroups::write(*dir, "cpu.max", fmt::format("{} {}", quota, kPeriod))
                : Cgroups::write(*dir, "cpu.cfs_period_us", std::to_string(kPeriod));
  if (set && !v2) set = Cgroups::write(*dir, "cpu.cfs_quota_us", std::to_string(quota));
  for (const auto& t : d.targets) {
    if (!set) {
      report(d, t, false, "cannot set the CPU limit: " + set.error().message);
      continue;
    }
    std::optional<Pin> pin;
    std::string buf;
    if (!pin_with_cgroup(d, t, pin, buf)) continue;
    const auto origin = cgroups_.origin(buf, v2);
    auto recorded = record(d, t, kThrottle, group_data(*dir, origin));
    if (!recorded) {
      report(d, t, false,
             "not throttled: the ledger refused the entry (" + recorded.error().message + ")");
      continue;
    }
    const auto h = *recorded;
    auto moved = Cgroups::move(*dir, t.id.pid);
    if (!moved) {
      forget(h);
      report(d, t, moved.error().gone(), "cannot move into " + *dir + ": " + moved.error().message);
      continue;
    }
    report(d, t, true, fmt::format("limited to {:g}% of a core in {}", d.action.cpu_limit, *dir));
  }
}

void Reversibles::freeze(const engine::Decision& d) {
  if (!d.whole_unit.empty() && services_ != nullptr) {
    freeze_unit(d);
    return;
  }
  if (cgroups_.can_freeze() && !prefer_signals_) {
    freeze_with_cgroup(d);
  } else {
    freeze_with_signals(d);
  }
}

void Reversibles::freeze_with_signals(const engine::Decision& d) {
  std::vector<std::shared_ptr<Held>> group;
  for (const auto& t : d.targets) {
    char state = '?';
    if (!verified(t, &state)) {
      report(d, t, true, "already gone");
      continue;
    }
    if (state == 'T' || state == 't') {
      report(d, t, true, "already stopped by someone else: not frozen, and never resumed");
      continue;
    }
    auto fd = control_.open(t.id);
    if (!fd) {
      report(d, t, fd.error().gone(), fd.error().message);
      continue;
    }
    auto recorded =
        record(d, t, kFreezeSignal, with_until("{}", clock_.wall() + d.action.duration));
    if (!recorded) {
      ::close(*fd);
      report(d, t, false,
             "not frozen: the ledger refused the entry (" + recorded.error().message + ")");
      continue;
    }
    const auto h = *recorded;
    const bool ok = control_.signal(*fd, SIGSTOP);
    ::close(*fd);
    if (!ok) {
      forget(h);
      report(d, t, errno == ESRCH, "SIGSTOP failed");
      continue;
    }
    report(d, t, true, fmt::format("frozen for {:g}s (SIGSTOP)", d.action.duration));
    group.push_back(h);
  }
  thaw_later(d, std::move(group));
}

void Reversibles::freeze_with_cgroup(const engine::Decision& d) {
  if (d.targets.empty()) return;
  auto dir = cgroups_.make(
      true, cgroups_.leaf("frz", d.rule + "-" + std::to_string(d.targets.front().id.pid)));
  if (!dir) {
    for (const auto& t : d.targets) report(d, t, false, dir.error().message);
    return;
  }
  std::vector<std::shared_ptr<Held>> group;
  for (const auto& t : d.targets) {
    std::optional<Pin> pin;
    std::string buf;
    if (!pin_with_cgroup(d, t, pin, buf)) continue;
    auto recorded = record(d, t, kFreezeCgroup,
                           with_until(group_data(*dir, cgroups_.origin(buf, true)),
                                      clock_.wall() + d.action.duration));
    if (!recorded) {
      report(d, t, false,
             "not frozen: the ledger refused the entry (" + recorded.error().message + ")");
      continue;
    }
    const auto h = *recorded;
    if (auto moved = Cgroups::move(*dir, t.id.pid); !moved) {
      forget(h);
      report(d, t, moved.error().gone(), "cannot move into " + *dir + ": " + moved.error().message);
      continue;
    }
    group.push_back(h);
  }
  if (group.empty()) {
    Cgroups::remove(*dir);
    return;
  }
  auto frozen = Cgroups::write(*dir, "cgroup.freeze", "1");
  for (const auto& h : group) {
    engine::TargetInfo t{h->entry.process, "", 0, 0};
    for (const auto& x : d.targets) {
      if (x.id == t.id) t = x;
    }
    report(d, t, frozen.ok(),
           frozen ? fmt::format("frozen for {:g}s (cgroup.freeze in {})", d.action.duration, *dir)
                  : "cgroup.freeze failed: " + frozen.error().message);
  }
  thaw_later(d, std::move(group));
}

void Reversibles::thaw_later(const engine::Decision& d, std::vector<std::shared_ptr<Held>> group) {
  if (group.empty()) return;
  auto timer = std::make_shared<asio::steady_timer>(io_);
  for (auto& h : group) h->timer = timer;
  timer->expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(d.action.duration)));
  timer->async_wait([this, group](const boost::system::error_code& ec) {
    if (ec) return;
    for (const auto& h : group) {
      h->timer.reset();
      undo(h, "freeze time over");
    }
  });
}

void Reversibles::release(const engine::Decision& d) {
  std::vector<std::shared_ptr<Held>> mine;
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) {  // newest first
    const auto& h = *it;
    if (h->entry.rule == d.rule && h->entity == d.entity && !is_freeze(h->entry)) {
      mine.push_back(h);
    }
  }
  for (const auto& h : mine) undo(h, "rule no longer applies");
}

std::vector<Pid> Reversibles::thaw(std::optional<Pid> pid) {
  // A unit frozen as a whole is thawed by any PID of it.
  std::string unit;
  if (std::string buf; pid && source_.read_pid_file(*pid, "cgroup", buf)) {
    unit = proc::parse_placement(buf).unit;
  }
  std::vector<std::shared_ptr<Held>> mine;
  for (const auto& h : held_) {
    const bool by_unit = !unit.empty() && unit_of(h->entry) == unit;
    if (is_freeze(h->entry) && (!pid || h->entry.process.pid == *pid || by_unit)) {
      mine.push_back(h);
    }
  }
  std::vector<Pid> out;
  for (const auto& h : mine) {
    undo(h, "thawed on request");
    out.push_back(pid ? *pid : h->entry.process.pid);
  }
  return out;
}

std::vector<store::LedgerEntry> Reversibles::frozen() const {
  std::vector<store::LedgerEntry> out;
  for (const auto& h : held_) {
    if (is_freeze(h->entry)) out.push_back(h->entry);
  }
  return out;
}

int Reversibles::undo_all() {
  stopping_ = true;
  const std::vector<std::shared_ptr<Held>> all(held_.rbegin(), held_.rend());  // newest first
  for (const auto& h : all) undo(h, "FreezR is stopping");
  return static_cast<int>(all.size());
}

int Reversibles::undo_rules(const std::set<std::string>& rules, const char* why) {
  std::vector<std::shared_ptr<Held>> theirs;
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) {  // newest first
    if (rules.count((*it)->entry.rule) != 0U) theirs.push_back(*it);
  }
  for (const auto& h : theirs) undo(h, why);
  return static_cast<int>(theirs.size());
}

std::vector<std::string> Reversibles::leftovers() {
  std::vector<std::string> lines;
  for (const auto& e : ledger_.all()) {
    lines.push_back(
        fmt::format("{} of {} by rule '{}' left by an earlier run", e.kind, held_what(e), e.rule));
  }
  return lines;
}

std::vector<std::string> Reversibles::recover() {
  std::vector<std::string> lines;
  auto entries = ledger_.all();
  std::reverse(entries.begin(), entries.end());  // newest first, as they were applied
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::vector<store::LedgerEntry> rest(entries.begin() + static_cast<long>(i) + 1,
                                               entries.end());
    const auto r = undo_entry(e, source_, control_, cgroups_, others_in_group(rest, e), services_);
    ledger_.remove(e.id);
    lines.push_back(fmt::format("{} of {} by rule '{}' left by an earlier run: {}", e.kind,
                                held_what(e), e.rule, r ? "undone" : r.error().message));
  }
  for (auto& line : release_orphan_groups()) lines.push_back(std::move(line));
  return lines;
}

std::vector<std::string> Reversibles::release_orphan_groups() {
  std::vector<std::string> lines;
  for (const bool v2 : {true, false}) {
    const std::string& root = v2 ? cgroups_.roots().v2 : cgroups_.roots().v1_cpu;
    for (const auto& base : cgroups_.bases(v2)) {
      std::error_code ec;
      if (!std::filesystem::is_directory(base, ec)) continue;
      for (const auto& d : std::filesystem::directory_iterator(base, ec)) {
        const auto leaf = d.path().filename().string();
        const bool frozen = cgroups_.ours(leaf, "frz");
        if (!d.is_directory(ec) || (!frozen && !cgroups_.ours(leaf, "thr"))) continue;
        const std::string dir = d.path().string();
        if (frozen) (void)Cgroups::write(dir, "cgroup.freeze", "0");
        const int moved = release_group(dir, root, {}, source_, control_);
        lines.push_back(fmt::format(
            "{} had no ledger entry (a damaged ledger?): {} process(es) {} and moved to {}", dir,
            moved, frozen ? "thawed" : "released from its limit", root));
      }
    }
  }
  return lines;
}

}  // namespace freezr::act
