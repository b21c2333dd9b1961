// Notice: one thing worth telling people and other programs — an action and its outcome, a
// change of the memory pressure level, an action a prediction says is coming, FreezR starting,
// stopping or reloading — with its facts and the same in plain words.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "act/actuator.h"
#include "core/types.h"

namespace freezr::notify {

struct Notice {
  double ts = 0;         // Unix seconds
  std::string kind;      // "action", "pressure", "prediction" or "lifecycle"
  std::string severity;  // "info", "warning" or "critical"
  std::string rule;      // empty for pressure levels and lifecycle events
  std::string action;    // "kill", "freeze", ... ("undo freeze" for a thaw); the level for pressure
  std::optional<bool> ok;  // for actions
  bool dry_run = false;
  Pid pid = 0;
  std::string comm;
  std::string service;  // the unit, for restarts
  std::string reason;   // why, e.g. "cpu 310.0% > 80.0% for 3 scans"
  std::string detail;   // what came of it, e.g. "exited 0.31 s after SIGTERM"
  std::string title;    // plain words: "firefox was frozen for 5 s"
  std::string message;  // the title with the reason and the outcome
  // For the desktop: the process's user (unknown: no session sees it, but memory pressure
  // goes to every session), and how long a "Thaw now" button is worth offering (0: none).
  std::optional<std::uint32_t> uid;
  double thaw_for = 0;
};

// The notice of an action's final (or failed) outcome.
Notice action_notice(double ts, const act::ActionOutcome& o);
// Pressure entering a level ("none", "warning", "critical"); message: what was measured.
Notice pressure_notice(double ts, const std::string& to, const std::string& message);
// The kernel's OOM killer killed comm (PID pid; 0 when unknown): heard with "pressure".
Notice kernel_oom_notice(double ts, const std::string& comm, Pid pid, const std::string& message);
// An action a prediction says will come: "node will be killed in about 2 minutes if memory
// keeps growing".
Notice prediction_notice(double ts, const std::string& rule, Pid pid, const std::string& comm,
                         const std::string& action, double seconds, const std::string& reason);
Notice lifecycle_notice(double ts, const std::string& what, bool ok, const std::string& message);

// The documented JSON document of a notice (what a "json" webhook receives).
nlohmann::json notice_json(const Notice& n, const std::string& host);

}  // namespace freezr::notify
