#include "act/ledger_entries.h"

#include <unistd.h>

#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>

#include "act/cgroups.h"

namespace freezr::act {

using nlohmann::json;

namespace {
std::map<Pid, ThreadPriority> priorities_from(const json& j) {
  std::map<Pid, ThreadPriority> out;
  for (const auto& [tid, v] : j.items()) {
    out[static_cast<Pid>(std::stol(tid))] = ThreadPriority{v.at(0).get<int>(), v.at(1).get<int>()};
  }
  return out;
}

json data_of(const store::LedgerEntry& e) { return json::parse(e.data, nullptr, false); }
}  // namespace

bool is_freeze(const store::LedgerEntry& e) {
  return e.kind == kFreezeSignal || e.kind == kFreezeCgroup;
}

engine::ActionKind kind_of(const store::LedgerEntry& e) {
  return e.kind == kRenice     ? engine::ActionKind::kRenice
         : e.kind == kThrottle ? engine::ActionKind::kThrottle
                               : engine::ActionKind::kFreeze;
}

std::string renice_data(const std::map<Pid, ThreadPriority>& before, std::optional<int> nice) {
  json threads = json::object();
  for (const auto& [tid, v] : before) threads[std::to_string(tid)] = {v.nice, v.ioprio};
  json out = {{"threads", threads}};
  if (nice) out["nice"] = *nice;
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

std::string group_of(const store::LedgerEntry& e) {
  const auto d = data_of(e);
  if (!d.is_object() || !d.contains("group") || !d["group"].is_string()) return {};
  return d["group"].get<std::string>();
}

Result<void> undo_entry(const store::LedgerEntry& e, proc::ProcSource& source,
                        ProcessControl& control) {
  json data = data_of(e);
  if (data.is_discarded()) {
    return parse_error("ledger entry " + std::to_string(e.id) + " is unreadable");
  }
  const auto alive = same_process(source, e.process);
  try {
    if (e.kind == kFreezeCgroup) {
      const auto group = data.at("group").get<std::string>();
      Cgroups::write(group, "cgroup.freeze", "0");
      if (alive) {
        auto r = Cgroups::move(data.at("origin").get<std::string>(), e.process.pid);
        if (!r && !r.error().gone()) return r.error();
      }
      Cgroups::remove(group);
      return {};
    }
    if (!alive) return {};  // gone, or its PID now belongs to another process: not touched
    if (e.kind == kFreezeSignal) {
      auto fd = control.open(e.process);
      if (!fd) return fd.error().gone() ? Result<void>() : Result<void>(fd.error());
      const bool ok = control.signal(*fd, SIGCONT);
      const int err = errno;
      ::close(*fd);
      if (ok || err == ESRCH) return {};
      return Error{err, std::string("SIGCONT failed: ") + std::strerror(err)};
    }
    if (e.kind == kRenice) {
      control.restore_priorities(e.process.pid, priorities_from(data.at("threads")));
      return {};
    }
    if (e.kind == kThrottle) {
      auto r = Cgroups::move(data.at("origin").get<std::string>(), e.process.pid);
      Cgroups::remove(data.at("group").get<std::string>());
      return r || r.error().gone() ? Result<void>() : r;
    }
  } catch (const std::exception& ex) {  // json errors, and std::stol on a bad thread id
    return parse_error("ledger entry " + std::to_string(e.id) + ": " + ex.what());
  }
  return parse_error("unknown ledger entry kind '" + e.kind + "'");
}

}  // namespace freezr::act
