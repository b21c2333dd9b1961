// The readers of the configuration's parts, shared by the files of the loader. Each throws
// ConfigError with the place of the problem.
#pragma once

#include <string>

#include "config/config.h"
#include "config/table_reader.h"

namespace freezr::config {

// "kesl" -> "kesl.service"; names with a suffix are kept.
std::string unit_name(std::string s);
void read_match(TableReader t, engine::Match& m);
// `action` and its parameters, from a rule, a step or a pressure level.
engine::Action read_action(TableReader& t);
engine::Rule read_rule(TableReader t);
void read_pressure(TableReader t, PressureSettings& p);

}  // namespace freezr::config
