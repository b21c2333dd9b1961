// Which [profile.NAME] is in force: the one a user chose (kept in the data directory, so it
// outlives a restart), else the automatic one whose conditions hold, else [monitor] profile.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/result.h"

namespace freezr::config {

// The file in the data directory that keeps a user's choice.
inline constexpr const char* kProfileFile = "profile.json";

struct ProfileChoice {
  // Chosen by `freezr profile NAME|--off` or PUT /api/v1/profile; false: automatic.
  bool manual = false;
  std::string profile;  // when manual: the name ("" for none)
  bool operator==(const ProfileChoice&) const = default;
};

// {"mode":"manual","profile":"gaming"}, {"mode":"manual","profile":null}, {"mode":"auto"}.
std::string choice_text(const ProfileChoice& c);
Result<ProfileChoice> parse_choice(std::string_view text);

struct ChosenProfile {
  std::string profile;  // "" for none
  std::string why;  // "chosen by hand", "steam (PID 4242) runs", "on battery", "[monitor] profile"
  bool operator==(const ChosenProfile&) const = default;
};

// The profile base (the configuration as loaded) should run under: of the automatic profiles
// whose conditions hold, the one of highest priority (on a tie, the first by name). running
// names a process matching a profile's `when.running` ("steam (PID 4242)"), nullopt when none
// runs; on_battery is the machine's power (nullopt:
// unknown, so no on_battery condition holds). A manual choice of a name base does not have
// falls back to the automatic choice.
// The names of c's profiles, "a, b" ("none" without any): for messages.
std::string profile_names(const Config& c);
// Whether a choice by hand stands: it names no profile, or one c has.
bool stands(const Config& c, const ProfileChoice& choice);

ChosenProfile choose_profile(
    const Config& base, const ProfileChoice& choice,
    const std::function<std::optional<std::string>(const engine::Match&)>& running,
    std::optional<bool> on_battery);

}  // namespace freezr::config
