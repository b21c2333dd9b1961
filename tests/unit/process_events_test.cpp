#include "os/process_events.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

namespace freezr::os {
namespace {

// Needs CAP_NET_ADMIN in the host's network namespace: CI runs the suite as root.
TEST(ProcessEvents, BatchedReadsWakeAtMostOncePerBatchAndLoseNothing) {
  boost::asio::io_context io;
  std::set<Pid> exited;
  ProcessEvents events(io, [&](const std::vector<proc::ProcEvent>& list) {
    for (const auto& e : list) {
      if (e.kind == proc::ProcEvent::Kind::kExit && e.process_level()) exited.insert(e.tgid);
    }
  });
  const auto started = events.start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  constexpr double kBatch = 0.1;
  events.set_batch_seconds(kBatch);
  std::vector<pid_t> kids;
  const auto t0 = std::chrono::steady_clock::now();
  std::thread starter([&] {
    for (int i = 0; i < 40; ++i) {  // 40 starts 5 ms apart: unbatched, about a wake-up each
      const pid_t pid = fork();
      if (pid == 0) _exit(0);
      kids.push_back(pid);
      waitpid(pid, nullptr, 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  io.run_for(std::chrono::milliseconds(600));  // reading while they start
  starter.join();
  io.run_for(std::chrono::milliseconds(200));  // the last batch
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  events.stop();
  for (const pid_t k : kids) EXPECT_EQ(exited.count(k), 1U) << k;
  EXPECT_LE(static_cast<double>(events.wakeups()), elapsed / kBatch + 1);
  EXPECT_GE(events.wakeups(), 1U);
}

}  // namespace
}  // namespace freezr::os
