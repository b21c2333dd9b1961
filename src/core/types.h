// Vocabulary types shared by every layer. Standard library only.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace freezr {

using Pid = std::int32_t;

// A process is identified by its PID together with its start time (clock ticks after boot,
// /proc/PID/stat field 22). A PID reused by a new process yields a different ProcessId.
struct ProcessId {
  Pid pid = 0;
  std::uint64_t start_time = 0;

  auto operator<=>(const ProcessId&) const = default;
};

struct ProcessIdHash {
  std::size_t operator()(const ProcessId& id) const noexcept {
    return std::hash<std::uint64_t>{}((static_cast<std::uint64_t>(id.pid) << 40) ^ id.start_time);
  }
};

// Monotonic time in seconds. Comes into the pure core as a value, never read there.
using Seconds = double;

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace freezr
