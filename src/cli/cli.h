// The `freezr` command line: parses arguments and dispatches to the subcommands.
#pragma once

namespace freezr::cli {

// Returns the process exit status: 0 success, 1 runtime failure, 2 usage or config error.
int main(int argc, char** argv);

}  // namespace freezr::cli
