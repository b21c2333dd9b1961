// CommandRunner: runs FreezR's commands (the exec action, before and after hooks) without ever
// blocking the loop: each in its own process group, stdin from /dev/null, its output kept (the
// first 4 KiB), the facts of the decision in its environment, as another user when asked, and
// its whole group killed at its timeout. Never through a shell unless the command asks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "act/actuator.h"
#include "core/clock.h"
#include "engine/rule.h"

namespace freezr::act {

struct CommandResult {
  bool started = false;  // false: it could not be run (error says why)
  std::string error;
  bool timed_out = false;  // killed at its timeout
  int exit_status = -1;    // when it exited
  int signal = 0;          // when a signal ended it
  std::string output;      // the start of its standard output and error
  double seconds = 0;
  [[nodiscard]] bool ok() const { return started && !timed_out && signal == 0 && exit_status == 0; }
  // "exit 0 in 0.12 s", "exit 3 in 0.10 s: <its first line>", "timed out after 10 s: killed",
  // "cannot run 'x': No such file or directory".
  [[nodiscard]] std::string describe() const;
};

using Environment = std::vector<std::pair<std::string, std::string>>;

// The facts of an action for its commands: FREEZR_RULE, FREEZR_PID, FREEZR_COMM,
// FREEZR_ACTION, FREEZR_REASON, FREEZR_METRIC, FREEZR_VALUE, FREEZR_THRESHOLD, FREEZR_STREAK
// and, once the outcome is known (after hooks), FREEZR_OK and FREEZR_DETAIL.
Environment command_environment(const ActionOutcome& o, bool with_outcome);

class CommandRunner {
 public:
  using Done = std::function<void(const CommandResult&)>;
  CommandRunner(boost::asio::io_context& io, const Clock& clock);
  // Kills the process groups of the commands still running and reaps them.
  ~CommandRunner();
  CommandRunner(const CommandRunner&) = delete;
  CommandRunner& operator=(const CommandRunner&) = delete;

  // Starts c with env (besides PATH, HOME and LANG); done is called once, from the loop. A
  // background command (a desktop notification waiting for its button) is not waited for
  // when FreezR stops: it is killed.
  void run(const engine::Command& c, const Environment& env, Done done, bool background = false);
  // The commands running that FreezR waits for before it stops.
  [[nodiscard]] std::size_t running() const { return running_.size() - background_; }

 private:
  struct Running;
  void finish(int pid);
  boost::asio::io_context& io_;
  const Clock& clock_;
  std::map<int, std::shared_ptr<Running>> running_;
  std::size_t background_ = 0;
};

}  // namespace freezr::act
