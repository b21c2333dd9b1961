// The configuration format of the Rust FreezR (process-monitor v0.1.0): [kesl], [node],
// [monitoring] and [logging] are translated into FreezR rules and settings.
#pragma once

#include "config/table_reader.h"

namespace freezr::config {

// Reads [logging] (both formats) and the Rust FreezR sections of `top` into c, adding rules
// and notes. Sections of that format that FreezR cannot express yet are errors.
void read_logging_and_legacy(TableReader& top, Config& c);

}  // namespace freezr::config
