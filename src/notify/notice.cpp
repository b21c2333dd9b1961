#include "notify/notice.h"

#include <fmt/format.h>

#include <cmath>

#include "core/timespec.h"

namespace freezr::notify {

using nlohmann::json;

namespace {

// What happened to the process, in the words of a sentence about it: "was frozen for 5 s".
std::string happened(const act::ActionOutcome& o) {
  using engine::ActionKind;
  if (o.undo) {
    switch (o.action) {
      case ActionKind::kFreeze:
        return "was thawed";
      case ActionKind::kRenice:
        return "has its priority back";
      case ActionKind::kThrottle:
        return "is no longer limited";
      default:
        return "was released";
    }
  }
  switch (o.action) {
    case ActionKind::kKill:
      return "was killed";
    case ActionKind::kFreeze:
      return fmt::format("was frozen for {:g} s", o.duration);
    case ActionKind::kRenice:
      return "was given a lower priority";
    case ActionKind::kThrottle:
      return "was limited in CPU";
    case ActionKind::kRestart:
      return "was restarted";
    case ActionKind::kExec:
      return "had a command run for it";
    case ActionKind::kLog:
      return "broke its rule";
  }
  return "was acted on";
}

// The same, as what could not be done or would be done: "be frozen for 5 s".
std::string infinitive(const std::string& happened_words) {
  if (happened_words.rfind("was ", 0) == 0) return "be " + happened_words.substr(4);
  if (happened_words.rfind("has ", 0) == 0) return "have " + happened_words.substr(4);
  if (happened_words.rfind("had ", 0) == 0) return "have " + happened_words.substr(4);
  if (happened_words.rfind("is ", 0) == 0) return "be " + happened_words.substr(3);
  if (happened_words == "broke its rule") return "break its rule";
  return happened_words;
}

}  // namespace

Notice action_notice(double ts, const act::ActionOutcome& o) {
  Notice n;
  n.ts = ts;
  n.kind = "action";
  n.rule = o.rule;
  n.action = std::string(o.undo ? "undo " : "") + engine::to_string(o.action);
  n.ok = o.ok;
  n.dry_run = o.dry_run;
  if (o.target) {
    n.pid = o.target->id.pid;
    n.comm = o.target->comm;
  } else {
    n.comm = o.unit;  // a unit held as a whole
  }
  n.service = o.service;
  n.reason = o.undo ? std::string() : o.reason;
  n.detail = o.detail;
  const std::string who = !o.service.empty() && o.action == engine::ActionKind::kRestart ? o.service
                          : !n.comm.empty()                                              ? n.comm
                          : n.pid != 0 ? fmt::format("pid {}", n.pid)
                                       : "a process";
  const auto words = happened(o);
  n.title = o.dry_run ? who + " would " + infinitive(words) + " (dry-run)"
            : o.ok    ? who + " " + words
                      : who + " could not " + infinitive(words);
  n.message = n.title;
  if (n.pid != 0 && !n.comm.empty()) n.message += fmt::format(" (pid {})", n.pid);
  if (!n.reason.empty()) n.message += ": " + n.reason;
  if (!o.ok && !n.detail.empty()) n.message += " — " + n.detail;
  const bool drastic =
      o.action == engine::ActionKind::kKill || o.action == engine::ActionKind::kRestart;
  n.severity = !o.ok || (drastic && o.origin == engine::Origin::kPressure) ? "critical"
               : drastic || o.action == engine::ActionKind::kFreeze        ? "warning"
                                                                           : "info";
  if (o.undo || o.dry_run) n.severity = o.ok ? "info" : "warning";
  if (o.ok && !o.undo && !o.dry_run && o.action == engine::ActionKind::kFreeze) {
    n.thaw_for = o.duration;
  }
  return n;
}

Notice pressure_notice(double ts, const std::string& to, const std::string& message) {
  Notice n;
  n.ts = ts;
  n.kind = "pressure";
  n.action = to;
  n.severity = to == "critical" ? "critical" : to == "warning" ? "warning" : "info";
  n.title = to == "none" ? "Memory pressure is over" : "Memory pressure is " + to;
  n.reason = message;
  n.message = n.title + ": " + message;
  return n;
}

Notice kernel_oom_notice(double ts, const std::string& comm, Pid pid, const std::string& message) {
  Notice n;
  n.ts = ts;
  n.kind = "pressure";
  n.action = "kernel_oom";
  n.severity = "critical";
  n.pid = pid;
  n.comm = comm;
  n.title = "The kernel killed a process for memory";
  n.reason = message;
  n.message = message;
  return n;
}

Notice prediction_notice(double ts, const std::string& rule, Pid pid, const std::string& comm,
                         const std::string& action, double seconds, const std::string& reason) {
  Notice n;
  n.ts = ts;
  n.kind = "prediction";
  n.severity = "warning";
  n.rule = rule;
  n.action = action;
  n.pid = pid;
  n.comm = comm;
  n.reason = reason;
  act::ActionOutcome o;
  o.action = engine::ActionKind::kLog;
  for (const auto kind :
       {engine::ActionKind::kKill, engine::ActionKind::kFreeze, engine::ActionKind::kRenice,
        engine::ActionKind::kThrottle, engine::ActionKind::kRestart, engine::ActionKind::kExec}) {
    if (action == engine::to_string(kind)) o.action = kind;
  }
  const double minutes = std::round(seconds / 60);
  const std::string when =
      seconds < 90 ? fmt::format("{:.0f} seconds", seconds) : fmt::format("{:g} minutes", minutes);
  auto words = infinitive(happened(o));
  if (o.action == engine::ActionKind::kFreeze) words = "be frozen";
  n.title = fmt::format("{} will {} in about {} if memory keeps growing",
                        comm.empty() ? "rule " + rule : comm, words, when);
  n.message = n.title + (reason.empty() ? "" : ": " + reason);
  return n;
}

Notice lifecycle_notice(double ts, const std::string& what, bool ok, const std::string& message) {
  Notice n;
  n.ts = ts;
  n.kind = "lifecycle";
  n.action = what;
  n.ok = ok;
  n.severity = ok ? "info" : "warning";
  n.title = message;
  n.message = message;
  return n;
}

json notice_json(const Notice& n, const std::string& host) {
  json j = {{"version", 1},
            {"source", "freezr"},
            {"host", host},
            {"ts", n.ts},
            {"time", rfc3339(n.ts, false)},
            {"kind", n.kind},
            {"severity", n.severity},
            {"rule", n.rule},
            {"action", n.action},
            {"dry_run", n.dry_run},
            {"pid", n.pid},
            {"name", n.comm},
            {"service", n.service},
            {"reason", n.reason},
            {"detail", n.detail},
            {"title", n.title},
            {"message", n.message}};
  j["ok"] = n.ok ? json(*n.ok) : json(nullptr);
  return j;
}

}  // namespace freezr::notify
