// Parsing the kernel's process connector messages (netlink, NETLINK_CONNECTOR, CN_IDX_PROC).
// Pure: bytes in, events out; the socket lives in the daemon.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/types.h"

namespace freezr::proc {

struct ProcEvent {
  enum class Kind { kFork, kExec, kComm, kExit };
  Kind kind = Kind::kExec;
  Pid pid = 0;   // the thread the event is about
  Pid tgid = 0;  // its process
  Pid parent_tgid = 0;            // fork: the parent process
  std::uint64_t timestamp_ns = 0; // CLOCK_MONOTONIC when the kernel sent it
  std::string comm;               // comm: the new name

  // Whether the event concerns a whole process (its main thread), not another thread.
  [[nodiscard]] bool process_level() const { return pid == tgid; }
};

// Appends the events of one datagram (possibly several netlink messages) to out. Malformed
// or truncated messages are skipped; returns how many were.
std::size_t parse_proc_events(std::span<const std::uint8_t> datagram, std::vector<ProcEvent>& out);

}  // namespace freezr::proc
