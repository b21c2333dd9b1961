// How decisions and action outcomes are written to the log.
#pragma once

#include "act/actuator.h"
#include "report/log_lines.h"

namespace freezr::report {

void log_decision(LogLines& log, const engine::Decision& d, double cooldown);
void log_outcome(LogLines& log, const act::ActionOutcome& o);

}  // namespace freezr::report
