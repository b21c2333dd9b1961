// Protection: the processes FreezR never signals, and why.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "engine/snapshot.h"

namespace freezr::engine {

// Names protected unless the configuration says otherwise: init systems, session and login
// managers, display servers, remote shells, the D-Bus and journal daemons.
const std::vector<std::string>& default_protected_names();

class Protection {
 public:
  // self: FreezR's own PID. names: the [protect] list.
  Protection(Pid self, std::vector<std::string> names);

  // Recomputes FreezR's ancestors from the snapshot. Call once per scan before reason().
  void refresh(const Snapshot& snap);

  // Why s must not be acted on, or nullopt when it may be.
  [[nodiscard]] std::optional<std::string> reason(const ProcessSample& s) const;

  [[nodiscard]] const std::unordered_set<Pid>& ancestors() const { return ancestors_; }

 private:
  Pid self_;
  std::unordered_set<std::string> names_;
  std::unordered_set<Pid> ancestors_;
};

}  // namespace freezr::engine
