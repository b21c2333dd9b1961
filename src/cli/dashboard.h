// `freezr dashboard`: the terminal dashboard.
#pragma once

#include "config/config.h"

namespace freezr::cli {

// Runs until q. It finds the daemon through cfg's [http] listen (or, when that port is 0, the
// address in the status snapshot). FREEZR_TOKEN enables thawing from the dashboard.
// colors: false draws in the terminal's own colours only (--color=never, NO_COLOR).
int cmd_dashboard(const config::Config& cfg, double interval, bool colors = true);

}  // namespace freezr::cli
