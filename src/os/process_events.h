// ProcessEvents: the kernel's process connector on the event loop. It subscribes to fork,
// exec, comm and exit events and hands them over as they come. Needs CAP_NET_ADMIN in the
// initial network namespace; where it cannot subscribe, start() gives the error and FreezR relies
// on its scans alone.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "proc/proc_events.h"

namespace freezr::os {

class ProcessEvents {
 public:
  using Handler = std::function<void(const std::vector<proc::ProcEvent>&)>;
  ProcessEvents(boost::asio::io_context& io, Handler handler);
  ~ProcessEvents();
  ProcessEvents(const ProcessEvents&) = delete;
  ProcessEvents& operator=(const ProcessEvents&) = delete;

  // Subscribes. On failure returns the reason and stays off.
  Result<void> start();
  void stop();
  [[nodiscard]] bool active() const { return active_; }
  // Datagrams lost because the socket's buffer overflowed (the kernel says ENOBUFS); after
  // a loss the caller should not trust its event-fed view until the next full scan.
  [[nodiscard]] std::uint64_t overruns() const { return overruns_; }
  [[nodiscard]] std::uint64_t received() const { return received_; }
  // After each read, wait this long before the next (0: hand events over as they come): the
  // events of a burst of program starts are read in one wake-up, not one each. Nothing that
  // must act at an exec may be waiting (on_exec rules).
  void set_batch_seconds(double s) { batch_seconds_ = s; }
  [[nodiscard]] std::uint64_t wakeups() const { return wakeups_; }

 private:
  void wait();
  void drain();

  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer pause_;
  int parked_ = -1;  // the socket while a batch pause holds it out of the reactor
  double batch_seconds_ = 0;
  std::uint64_t wakeups_ = 0;
  Handler handler_;
  bool active_ = false;
  std::uint64_t overruns_ = 0;
  std::uint64_t received_ = 0;
  std::vector<std::uint8_t> buf_;
  std::vector<proc::ProcEvent> events_;
};

}  // namespace freezr::os
