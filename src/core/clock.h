// Clock: the only way the daemon learns the time. Tests use a fake.
#pragma once

#include <chrono>

#include "core/types.h"

namespace freezr {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic seconds since an arbitrary origin.
  virtual Seconds monotonic() const = 0;
  // Wall-clock seconds since the Unix epoch.
  virtual double wall() const = 0;
};

class SystemClock final : public Clock {
 public:
  Seconds monotonic() const override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  double wall() const override {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace freezr
