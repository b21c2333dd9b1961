// Times written by users: "90s", "15m", "2h", "3d", "1w" (ago), Unix seconds, or a local
// "YYYY-MM-DD[ HH:MM[:SS]]" / "YYYY-MM-DDTHH:MM[:SS]". Pure apart from the local time zone.
#pragma once

#include <optional>
#include <string>

namespace freezr {

// A duration such as "90s", "15m", "2h", "3d", "1w" or plain seconds "30". nullopt when bad.
std::optional<double> parse_duration(const std::string& text);

// A point in time: `now` minus a duration, Unix seconds, or a local date-time.
std::optional<double> parse_time(const std::string& text, double now);

}  // namespace freezr
