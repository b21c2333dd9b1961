#include "cli/cli.h"

int main(int argc, char** argv) { return freezr::cli::main(argc, argv); }
