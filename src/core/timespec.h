// Times written by users: "90s", "15m", "2h", "3d", "1w" or "-1h" (ago), "@1700000000" or plain
// Unix seconds, "now", "today", "yesterday" (local midnight), a local "YYYY-MM-DD[ HH:MM[:SS]]"
// / "YYYY-MM-DDTHH:MM[:SS]", or RFC 3339 with its offset ("2026-12-01T10:00:00Z",
// "2026-12-01T10:00:00.5+01:00"). Pure apart from the local time zone.
#pragma once

#include <optional>
#include <string>

namespace freezr {

// A duration such as "90s", "15m", "2h", "3d", "1w" or plain seconds "30". nullopt when bad.
std::optional<double> parse_duration(const std::string& text);

// A point in time, in any of the forms above; nullopt when text is none of them.
std::optional<double> parse_time(const std::string& text, double now);

// ts as RFC 3339 with its offset: local time ("2026-12-01T11:00:00.250+01:00") or UTC
// ("2026-12-01T10:00:00.250Z"); milliseconds when digits is 3, whole seconds when 0.
std::string rfc3339(double ts, bool local, int digits = 3);

}  // namespace freezr
