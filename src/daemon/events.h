// How decisions and action outcomes are written to the log.
#pragma once

#include "act/actuator.h"
#include "daemon/eventlog.h"

namespace freezr::daemon {

void log_decision(EventLog& log, const engine::Decision& d, double cooldown);
void log_outcome(EventLog& log, const act::ActionOutcome& o);

}  // namespace freezr::daemon
