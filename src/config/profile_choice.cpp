#include "config/profile_choice.h"

#include <nlohmann/json.hpp>

namespace freezr::config {

std::string choice_text(const ProfileChoice& c) {
  nlohmann::json j{{"mode", c.manual ? "manual" : "auto"}};
  if (c.manual)
    j["profile"] = c.profile.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.profile);
  return j.dump() + "\n";
}

Result<ProfileChoice> parse_choice(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  const auto bad = [] {
    return parse_error(R"(expected {"mode":"auto"} or {"mode":"manual","profile":NAME|null})");
  };
  if (!j.is_object() || !j.contains("mode") || !j["mode"].is_string()) return bad();
  ProfileChoice c;
  const auto mode = j["mode"].get<std::string>();
  if (mode == "auto") return c;
  if (mode != "manual") return bad();
  c.manual = true;
  const auto& p = j.value("profile", nlohmann::json(nullptr));
  if (p.is_string()) {
    c.profile = p.get<std::string>();
  } else if (!p.is_null()) {
    return bad();
  }
  return c;
}

std::string profile_names(const Config& c) {
  std::string names;
  for (const auto& p : c.profiles) names += (names.empty() ? "" : ", ") + p.name;
  return names.empty() ? "none" : names;
}

bool stands(const Config& c, const ProfileChoice& choice) {
  return choice.manual && (choice.profile.empty() || find_profile(c, choice.profile) != nullptr);
}

ChosenProfile choose_profile(
    const Config& base, const ProfileChoice& choice,
    const std::function<std::optional<std::string>(const engine::Match&)>& running,
    std::optional<bool> on_battery) {
  if (stands(base, choice)) return {choice.profile, "chosen by hand"};
  const ProfileSpec* best = nullptr;
  std::string why;
  for (const auto& p : base.profiles) {
    if (!p.automatic()) continue;
    if (p.on_battery && on_battery != *p.on_battery) continue;
    const auto process = p.running ? running(*p.running) : std::nullopt;
    if (p.running && !process) continue;
    if (best != nullptr && p.priority <= best->priority) continue;
    best = &p;
    why.clear();
    if (process) why = *process + " runs";
    if (p.on_battery) {
      why += (why.empty() ? "" : " and ") +
             std::string(*p.on_battery ? "on battery" : "on mains power");
    }
  }
  if (best != nullptr) return {best->name, why};
  if (!base.monitor.profile.empty()) return {base.monitor.profile, "[monitor] profile"};
  return {"", "no profile chosen"};
}

}  // namespace freezr::config
