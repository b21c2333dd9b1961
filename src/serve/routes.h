// The HTTP API as one pure-ish function from Request to Response. It reads the published
// State, the history file (read-only), and calls the daemon only through ApiContext.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/result.h"
#include "serve/http.h"
#include "serve/state.h"

namespace freezr::serve {

struct ApiContext {
  std::function<std::shared_ptr<const State>()> state;
  // The state with its processes listed (a State may leave them out while nobody reads them),
  // for the routes that show them; when not given, state is used.
  std::function<std::shared_ptr<const State>()> state_with_processes;
  std::string token;         // empty: control endpoints are off
  std::string history_path;  // SQLite file, read-only here; empty when there is none
  std::string version;       // FreezR's, for the OpenAPI description
  int per_process_metrics = 0;
  std::function<double()> now;  // Unix seconds
  // Control. thaw: the PIDs thawed, or an error of kind gone (409) when pid is not frozen.
  std::function<Result<nlohmann::json>(std::optional<Pid>)> thaw;
  std::function<nlohmann::json()> reload;
  // PUT /api/v1/profile: manual with a name ("" none), or back to automatic (manual false).
  // The profile's JSON, or an error of kind config (404) for an unknown name.
  std::function<Result<nlohmann::json>(bool manual, const std::string& profile)> set_profile;
  // The dashboard's files, by path ("/", "/app.js"...). Null: no dashboard.
  std::function<std::optional<Response>(const std::string& path)> asset;
};

Response route(const Request& req, const ApiContext& ctx);

// Whether path is answered from the history file alone (on a worker thread, off the loop).
bool reads_history(const std::string& path);

// Whether a request at path shows the process table: /api/v1/processes, /ws, and /metrics when
// it carries per-process series.
bool reads_process_table(const std::string& path, int per_process_metrics);

// Constant-time comparison of a presented "Bearer <token>" header with the token.
bool authorized(const std::string& authorization, const std::string& token);

}  // namespace freezr::serve
