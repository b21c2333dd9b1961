// The systemd journal, spoken natively: one entry per log line with its priority and FreezR's
// fields (FREEZR_RULE=node, FREEZR_PID=4242, ...), so `journalctl -u freezr -p warning` and
// `journalctl FREEZR_RULE=node` work.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace freezr::os {

// Whether standard error is the journal's stream for this service ($JOURNAL_STREAM names the
// device and inode of the stream systemd connected; a redirected stderr no longer matches).
bool stderr_is_journal();

// Sends one entry: MESSAGE, PRIORITY (syslog: 3 error, 4 warning, 6 info, 7 debug),
// SYSLOG_IDENTIFIER=freezr, and each field as FREEZR_<KEY> (upper case). False when the journal
// did not take it.
bool journal_send(int priority, std::string_view message,
                  const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace freezr::os
