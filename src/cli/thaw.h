// `freezr thaw PID | --all`: undoes freezes recorded in the ledger, from outside the daemon.
#pragma once

#include <optional>
#include <string>

#include "core/types.h"

namespace freezr::cli {

// Thaws the frozen process pid (or every frozen process) recorded in <data_dir>/freezr.db.
// Returns 0 when something was thawed or (for --all) nothing was frozen; 1 when pid is not
// frozen by FreezR or the ledger cannot be read.
int cmd_thaw(const std::string& data_dir, std::optional<Pid> pid, const std::string& proc_root);

}  // namespace freezr::cli
