// The `freezr` command line: parses arguments and dispatches to the subcommands.
#pragma once

#include "config/config.h"
#include "daemon/daemon.h"

namespace freezr::cli {

// How `freezr run` starts the guardian: the program's main passes daemon::run. The CLI library
// does not link the daemon itself.
using RunDaemon = int (*)(config::Config config, const daemon::RunOptions& options);

// Returns the process exit status: 0 success, 1 runtime failure, 2 usage or config error.
int main(int argc, char** argv, RunDaemon run_daemon);

}  // namespace freezr::cli
