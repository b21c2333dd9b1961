// The status document: what `GET /api/v1/status` answers and FreezR writes to status.json
// after every scan, rendered from the typed per-scan State.
#pragma once

#include <nlohmann/json.hpp>

#include "serve/state.h"

namespace freezr::serve {

nlohmann::json status_json(const State& s);
// The [[thermal]] sections: name, sensor, °C (null when unreadable), hot.
nlohmann::json thermal_json(const State& s);
// The profile in force and those on offer (GET /api/v1/profile, and "profile" in the status).
nlohmann::json profile_json(const ProfileRow& p);

// The "rules" member of the status document (also `GET /api/v1/rules`).
nlohmann::json rules_json(const State& s);

// The frozen processes: pid, name, rule, kind, how, since, until and seconds_left (as of the
// scan; null for a freeze without an end). `GET /api/v1/frozen` and the live feed.
nlohmann::json frozen_json(const State& s);

// {"leaks": [...], "exhaustion": {...} or null, "anomalies": [...recent], "anomaly_counts":
// {rule: n}}: `GET /api/v1/predictions` and the live feed.
nlohmann::json predictions_json(const State& s);

}  // namespace freezr::serve
