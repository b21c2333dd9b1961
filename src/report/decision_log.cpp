#include "report/decision_log.h"

#include <fmt/format.h>

namespace freezr::report {
namespace {

using spdlog::level::level_enum;

std::vector<Field> head(const std::string& rule, engine::ActionKind action) {
  return {{"rule", rule}, {"action", std::string(engine::to_string(action))}};
}

void append(std::vector<Field>& to, std::vector<Field> more) {
  for (auto& f : more) to.push_back(std::move(f));
}

std::vector<Field> measurement(const engine::Decision& d) {
  std::vector<Field> f;
  if (!d.entity_kind.empty()) f.push_back({d.entity_kind, d.entity_name});  // unit=, user=
  append(f, {{"metric", d.metric},
             {"value", d.value},
             {"threshold", d.threshold},
             {"streak", static_cast<long long>(d.streak)},
             {"reason", d.reason()}});
  return f;
}

}  // namespace

void log_decision(LogLines& log, const engine::Decision& d, double cooldown) {
  switch (d.verdict) {
    case engine::Verdict::kAct: {
      auto f = head(d.rule, d.action.kind);
      if (d.step > 0) f.push_back({"step", static_cast<long long>(d.step + 1)});
      if (!d.action.service.empty()) f.push_back({"service", d.action.service});
      if (d.targets.size() == 1) append(f, process_fields(d.targets[0]));
      if (d.targets.size() > 1)
        f.push_back({"processes", static_cast<long long>(d.targets.size())});
      append(f, measurement(d));
      log.line(level_enum::warn, "violation", f);
      return;
    }
    case engine::Verdict::kProtected:
      for (const auto& [t, why] : d.skipped) {
        auto f = head(d.rule, d.action.kind);
        append(f, process_fields(t));
        append(f, measurement(d));
        log.line(level_enum::warn, "skip", f, "protected (" + why + "), not acted on");
      }
      return;
    case engine::Verdict::kRateLimited: {
      auto f = head(d.rule, d.action.kind);
      append(f, measurement(d));
      log.line(level_enum::warn, "rate-limited", f,
               "the rule used up its max_actions for now; waiting");
      return;
    }
    case engine::Verdict::kRelease: {
      std::vector<Field> f = {{"rule", d.rule}};
      if (!d.entity_kind.empty()) {
        f.push_back({d.entity_kind, d.entity_name});
      } else if (d.entity != engine::kGroupEntity) {
        f.push_back({"pid", static_cast<long long>(d.entity.pid)});
      }
      log.line(level_enum::info, "release", f,
               d.streak > 0 ? d.reason() : "no longer under the rule");
      return;
    }
    case engine::Verdict::kCooldown: {
      auto f = head(d.rule, d.action.kind);
      if (d.targets.size() == 1) append(f, process_fields(d.targets[0]));
      append(f, measurement(d));
      log.line(level_enum::info, "cooldown", f,
               fmt::format("acted less than {:g}s ago, waiting", cooldown));
      return;
    }
  }
}

void log_outcome(LogLines& log, const act::ActionOutcome& o) {
  auto f = head(o.rule, o.action);
  if (o.target) {
    append(f, process_fields(*o.target));
  } else if (o.unit.empty()) {
    f.push_back({"service", o.service});
  }
  if (!o.unit.empty()) f.push_back({"unit", o.unit});
  if (o.dry_run) {
    log.line(level_enum::warn, "dry-run", f, o.detail);
  } else if (o.undo) {
    log.line(o.ok ? level_enum::info : level_enum::err, "undo", f, o.detail);
  } else if (!o.ok) {
    log.line(level_enum::err, "action_failed", f, o.detail);
  } else {
    log.line(level_enum::warn, "action", f, o.detail);
  }
}

}  // namespace freezr::report
