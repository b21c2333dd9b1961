// How decisions and action outcomes are written to the log.
#pragma once

#include "act/actuator.h"
#include "report/event_log.h"

namespace freezr::report {

void log_decision(EventLog& log, const engine::Decision& d, double cooldown);
void log_outcome(EventLog& log, const act::ActionOutcome& o);

}  // namespace freezr::report
