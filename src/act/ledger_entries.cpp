#include "act/ledger_entries.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "act/systemd.h"
#include "core/text.h"

namespace freezr::act {

using nlohmann::json;

namespace {

json data_of(const store::LedgerEntry& e) { return json::parse(e.data, nullptr, false); }

bool nice_value(const json& v) {
  return v.is_number_integer() && v.get<long long>() >= -20 && v.get<long long>() <= 19;
}

// A raw ioprio value: class 0-3 in the top bits, level 0-7.
bool ioprio_value(const json& v) {
  if (!v.is_number_integer()) return false;
  const long long x = v.get<long long>();
  return x >= 0 && (x >> 13) <= 3 && (x & 0x1fff) <= 7;
}

// The scheduling part of a thread's priorities: a class FreezR may put back (other, batch,
// idle: never a realtime one from a file), no realtime priority, and a CPU list ("" when
// the affinity was not read).
bool sched_values(const json& v) {
  if (!v[2].is_number_integer() || !v[3].is_number_integer() || !v[4].is_string()) return false;
  const auto policy = v[2].get<long>();
  const bool known =
      policy == -1 || policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE;
  const auto& cpus = v[4].get_ref<const std::string&>();
  return known && v[3].get<long>() == 0 && (cpus.empty() || parse_cpu_list(cpus));
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// True when path lies strictly under dir (no "." or ".." anywhere).
bool under(const std::string& path, const std::string& dir) {
  if (dir.empty() || path.size() <= dir.size() || path.compare(0, dir.size(), dir) != 0 ||
      path[dir.size()] != '/') {
    return false;
  }
  for (std::size_t at = 0; at != std::string::npos;) {
    const auto next = path.find('/', at + 1);
    const auto part = path.substr(at + 1, next == std::string::npos ? next : next - at - 1);
    if (part.empty() || part == "." || part == "..") return false;
    at = next;
  }
  return true;
}

// Why the group and origin of a throttle or cgroup freeze entry are not FreezR's, or "".
std::string group_problem(const json& d, const std::string& kind, const Cgroups& cgroups) {
  if (!d.contains("group") || !d["group"].is_string() || !d.contains("origin") ||
      !d["origin"].is_string()) {
    return "no group or origin";
  }
  const auto group = d["group"].get<std::string>(), origin = d["origin"].get<std::string>();
  for (const bool v2 : {true, false}) {
    if (kind == kFreezeCgroup && !v2) break;
    for (const auto& base : cgroups.bases(v2)) {
      if (!under(group, base)) continue;
      const std::string leaf = group.substr(base.size() + 1);
      const std::string prefix = kind == kFreezeCgroup ? "frz-" : "thr-";
      if (leaf.rfind(prefix, 0) != 0 || safe_name(leaf) != leaf) {
        return "group " + group + " is not one FreezR names";
      }
      const std::string& root = v2 ? cgroups.roots().v2 : cgroups.roots().v1_cpu;
      if (origin != root && (!under(origin, root) || origin == base || under(origin, base))) {
        return "origin " + origin + " is not a group of the same hierarchy outside FreezR's";
      }
      return {};
    }
  }
  return "group " + group + " is not under FreezR's own cgroup directory";
}

// The processes under pid (its children, theirs, ...) started at or after since, found through
// the kernel's per-thread lists of children.
std::vector<proc::StatFields> descendants(proc::ProcSource& source, ProcessControl& control,
                                          Pid pid, std::uint64_t since) {
  std::vector<Pid> parents = {pid};
  std::vector<proc::StatFields> out;
  std::string buf;
  for (std::size_t i = 0; i < parents.size() && parents.size() < 100000; ++i) {
    for (const auto& [tid, prio] : control.priorities(parents[i])) {
      const std::string children = "task/" + std::to_string(tid) + "/children";
      if (!source.read_pid_file(parents[i], children.c_str(), buf)) continue;
      std::istringstream list(buf);
      std::string stat;
      for (long child = 0; list >> child;) {
        const auto c = static_cast<Pid>(child);
        if (!source.read_pid_file(c, "stat", stat)) continue;
        const auto st = proc::parse_stat(stat);
        if (!st || st->ppid != parents[i] || st->start_time < since) continue;
        out.push_back(*st);
        parents.push_back(c);
      }
    }
  }
  return out;
}

// Runs f(pidfd) on exactly id, pinned so that its PID cannot pass to another process meanwhile.
template <typename F>
Result<void> pinned(ProcessControl& control, const ProcessId& id, F f) {
  auto fd = control.open(id);
  if (!fd) return fd.error().gone() ? Result<void>() : Result<void>(fd.error());
  Result<void> r = f(*fd);
  ::close(*fd);
  return r;
}

// Puts the oom_score_adj back where the value FreezR set still stands.
void undo_oom_score_adj(const store::LedgerEntry& e, const json& data, ProcessControl& control) {
  if (!data.contains("oom_score_adj")) return;
  const int before = data["oom_score_adj"][0].get<int>();
  const int set = data["oom_score_adj"][1].get<int>();
  (void)pinned(control, e.process, [&](int) -> Result<void> {
    const auto now = control.oom_score_adj(e.process.pid);
    if (now && *now == set) return control.set_oom_score_adj(e.process.pid, before);
    return {};
  });
}

Result<void> undo_renice(const store::LedgerEntry& e, const json& data, proc::ProcSource& source,
                         ProcessControl& control) {
  std::map<Pid, ThreadPriority> before;
  for (const auto& [tid, v] : data["threads"].items()) {
    ThreadPriority p;
    p.nice = v[0].get<int>();
    p.ioprio = v[1].get<int>();
    if (v.size() == 5) {
      p.policy = v[2].get<int>();
      p.rt_priority = v[3].get<int>();
      p.cpus = parse_cpu_list(v[4].get<std::string>()).value_or(std::vector<int>{});
    }
    before[static_cast<Pid>(std::stol(tid))] = std::move(p);
  }
  undo_oom_score_adj(e, data, control);
  // The nice value FreezR set: where another stands now, someone else changed it since.
  const bool set = data.contains("nice");
  const int set_to = set ? data["nice"].get<int>() : 0;
  const auto main =
      before.count(e.process.pid) != 0 ? before[e.process.pid] : before.begin()->second;
  const std::uint64_t since = data.value("since", std::uint64_t{0});
  if (set && since > 0) {
    for (const auto& child : descendants(source, control, e.process.pid, since)) {
      if (child.nice != set_to) continue;
      (void)pinned(control, {child.pid, child.start_time}, [&](int) -> Result<void> {
        control.restore_priorities(child.pid, {{child.pid, main}});
        return {};
      });
    }
  }
  return pinned(control, e.process, [&](int) -> Result<void> {
    const auto now = control.priorities(e.process.pid);
    const auto main_now = now.find(e.process.pid);
    if (set && main_now != now.end() && main_now->second.nice != set_to) return {};
    control.restore_priorities(e.process.pid, before);
    return {};
  });
}

}  // namespace

bool is_freeze(const store::LedgerEntry& e) {
  return e.kind == kFreezeSignal || e.kind == kFreezeCgroup || e.kind == kFreezeUnit;
}

bool is_unit_hold(const store::LedgerEntry& e) {
  return e.kind == kFreezeUnit || e.kind == kThrottleUnit;
}

engine::ActionKind kind_of(const store::LedgerEntry& e) {
  return e.kind == kRenice                                ? engine::ActionKind::kRenice
         : e.kind == kThrottle || e.kind == kThrottleUnit ? engine::ActionKind::kThrottle
                                                          : engine::ActionKind::kFreeze;
}

std::string unit_data(const std::string& unit, std::optional<std::uint64_t> quota_before) {
  json out = {{"unit", unit}};
  if (quota_before) out["quota_before"] = *quota_before;
  return out.dump();
}

bool holdable_unit(const std::string& name) {
  const bool chars = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '_' || c == '.' ||
           c == '-' || c == '@' || c == '\\';
  });
  return chars && !name.empty() && name.size() <= 255 && name[0] != '-' && name[0] != '.' &&
         (name.ends_with(".service") || name.ends_with(".scope"));
}

std::string renice_data(const std::map<Pid, ThreadPriority>& before, std::optional<int> nice,
                        std::uint64_t since_ticks, std::optional<OomChange> oom) {
  json threads = json::object();
  for (const auto& [tid, v] : before) {
    // A realtime class is not FreezR's to put back (its unit forbids realtime): -1 leaves the
    // class as it is at the undo.
    const bool plain = v.policy == SCHED_OTHER || v.policy == SCHED_BATCH || v.policy == SCHED_IDLE;
    threads[std::to_string(tid)] = {v.nice, v.ioprio, plain ? v.policy : -1, 0,
                                    format_cpu_list(v.cpus)};
  }
  json out = {{"threads", threads}};
  if (nice) out["nice"] = *nice;
  if (since_ticks > 0) out["since"] = since_ticks;
  if (oom) out["oom_score_adj"] = {oom->before, oom->set};
  return out.dump();
}

std::optional<int> reniced_to(const store::LedgerEntry& e) {
  const auto d = data_of(e);
  if (!d.is_object() || !d.contains("nice") || !d["nice"].is_number_integer()) return std::nullopt;
  return d["nice"].get<int>();
}

std::string group_data(const std::string& group, const std::string& origin) {
  return json{{"group", group}, {"origin", origin}}.dump();
}

std::string with_until(const std::string& data, double until) {
  auto d = json::parse(data, nullptr, false);
  if (!d.is_object()) d = json::object();
  d["until"] = until;
  return d.dump();
}

std::optional<double> frozen_until(const store::LedgerEntry& e) {
  const auto d = data_of(e);
  if (!d.is_object() || !d.contains("until") || !d["until"].is_number()) return std::nullopt;
  return d["until"].get<double>();
}

const char* freeze_method(const store::LedgerEntry& e) {
  return e.kind == kFreezeSignal   ? "SIGSTOP"
         : e.kind == kFreezeCgroup ? "cgroup.freeze"
         : e.kind == kFreezeUnit   ? "FreezeUnit"
                                   : "dry-run";
}

namespace {
std::string text_of(const store::LedgerEntry& e, const char* key) {
  const auto d = data_of(e);
  if (!d.is_object() || !d.contains(key) || !d[key].is_string()) return {};
  return d[key].get<std::string>();
}
}  // namespace

std::string group_of(const store::LedgerEntry& e) { return text_of(e, "group"); }

std::string origin_of(const store::LedgerEntry& e) { return text_of(e, "origin"); }

std::string unit_of(const store::LedgerEntry& e) {
  return is_unit_hold(e) ? text_of(e, "unit") : std::string();
}

Result<void> validate(const store::LedgerEntry& e, const Cgroups& cgroups) {
  const auto refuse = [&](const std::string& why) {
    return parse_error("ledger entry " + std::to_string(e.id) + " (" + e.kind + " of PID " +
                       std::to_string(e.process.pid) + ") is not one FreezR writes: " + why);
  };
  const json d = data_of(e);
  if (is_unit_hold(e)) {
    if (e.process != kUnitHold) return refuse("a unit hold names a process");
    if (!d.is_object() || !d.contains("unit") || !d["unit"].is_string() ||
        !holdable_unit(d["unit"].get<std::string>())) {
      return refuse("no service or scope to hold");
    }
    if (e.kind == kThrottleUnit &&
        (!d.contains("quota_before") || !d["quota_before"].is_number_unsigned())) {
      return refuse("no CPU quota to put back");
    }
    return {};
  }
  if (e.process.pid <= 1 || e.process.start_time == 0) return refuse("no real process");
  if (!d.is_object()) return refuse("its data is not a JSON object");
  if (e.kind == kFreezeSignal) return {};
  if (e.kind == kRenice) {
    const auto threads = d.find("threads");
    if (threads == d.end() || !threads->is_object() || threads->empty())
      return refuse("no threads");
    for (const auto& [tid, v] : threads->items()) {
      if (!all_digits(tid) || !v.is_array() || (v.size() != 2 && v.size() != 5) ||
          !nice_value(v[0]) || !ioprio_value(v[1]) || (v.size() == 5 && !sched_values(v))) {
        return refuse("thread " + tid + " has no valid priorities");
      }
    }
    if (d.contains("nice") && !nice_value(d["nice"])) return refuse("a nice value out of range");
    if (d.contains("since") && !d["since"].is_number_unsigned()) return refuse("a bad time");
    if (d.contains("oom_score_adj")) {
      const auto& o = d["oom_score_adj"];
      const auto adj = [](const json& x) {
        return x.is_number_integer() && x.get<long>() >= -1000 && x.get<long>() <= 1000;
      };
      if (!o.is_array() || o.size() != 2 || !adj(o[0]) || !adj(o[1])) {
        return refuse("an oom_score_adj out of range");
      }
    }
    return {};
  }
  if (e.kind == kThrottle || e.kind == kFreezeCgroup) {
    if (const auto why = group_problem(d, e.kind, cgroups); !why.empty()) return refuse(why);
    return {};
  }
  return refuse("unknown kind");
}

std::vector<Pid> others_in_group(const std::vector<store::LedgerEntry>& all,
                                 const store::LedgerEntry& e) {
  std::vector<Pid> out;
  const auto group = group_of(e);
  if (group.empty()) return out;
  for (const auto& x : all) {
    if (x.id != e.id && group_of(x) == group) out.push_back(x.process.pid);
  }
  return out;
}

int release_group(const std::string& dir, const std::string& origin, const std::vector<Pid>& others,
                  proc::ProcSource& source, ProcessControl& control) {
  int moved = 0;
  std::string buf;
  for (const Pid pid : Cgroups::members(dir)) {
    if (std::find(others.begin(), others.end(), pid) != others.end()) continue;
    if (!source.read_pid_file(pid, "stat", buf)) continue;
    const auto st = proc::parse_stat(buf);
    if (!st) continue;
    (void)pinned(control, {pid, st->start_time}, [&](int) -> Result<void> {
      // Pinned, and still in FreezR's group: the number reaches this process.
      const auto members = Cgroups::members(dir);
      if (std::find(members.begin(), members.end(), pid) == members.end()) return {};
      if (Cgroups::move(origin, pid)) ++moved;
      return {};
    });
  }
  if (Cgroups::members(dir).empty()) Cgroups::remove(dir);
  return moved;
}

Result<void> undo_entry(const store::LedgerEntry& e, proc::ProcSource& source,
                        ProcessControl& control, const Cgroups& cgroups,
                        const std::vector<Pid>& others, ServiceManager* services) {
  if (auto valid = validate(e, cgroups); !valid) return valid;
  const json data = data_of(e);
  if (e.kind == kFreezeUnit) {
    const auto unit = data["unit"].get<std::string>();
    return services != nullptr ? services->thaw_unit_now(unit) : thaw_unit_now(unit);
  }
  if (e.kind == kThrottleUnit) {
    const auto unit = data["unit"].get<std::string>();
    const auto before = data["quota_before"].get<std::uint64_t>();
    return services != nullptr ? services->set_cpu_quota_now(unit, before)
                               : set_cpu_quota_now(unit, before);
  }
  if (e.kind == kFreezeCgroup || e.kind == kThrottle) {
    const auto group = data["group"].get<std::string>();
    if (e.kind == kFreezeCgroup) (void)Cgroups::write(group, "cgroup.freeze", "0");
    release_group(group, data["origin"].get<std::string>(), others, source, control);
    return {};
  }
  if (e.kind == kRenice) return undo_renice(e, data, source, control);
  return pinned(control, e.process, [&](int fd) -> Result<void> {
    if (control.signal(fd, SIGCONT) || errno == ESRCH) return {};
    return Error{errno, std::string("SIGCONT failed: ") + std::strerror(errno)};
  });
}

}  // namespace freezr::act
