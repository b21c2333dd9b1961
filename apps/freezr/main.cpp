#include "cli/cli.h"
#include "daemon/daemon.h"

int main(int argc, char** argv) { return freezr::cli::main(argc, argv, &freezr::daemon::run); }
