#include "act/command_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace freezr::act {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kOutputMax = 4096;
constexpr const char* kPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The program to execute: argv[0] when it holds a '/', else its first match in kPath.
std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  std::string dirs = kPath;
  for (std::size_t at = 0; at <= dirs.size();) {
    const auto colon = dirs.find(':', at);
    const auto dir = dirs.substr(at, colon == std::string::npos ? std::string::npos : colon - at);
    const auto path = dir + "/" + program;
    if (::access(path.c_str(), X_OK) == 0) return path;
    if (colon == std::string::npos) break;
    at = colon + 1;
  }
  return {};
}

std::string number(double v) { return fmt::format("{:g}", v); }

}  // namespace

std::string CommandResult::describe() const {
  if (!started) return error;
  std::string out = timed_out ? fmt::format("timed out after {:.1f} s: killed", seconds)
                    : signal != 0
                        ? fmt::format("ended by signal {} after {:.2f} s", signal, seconds)
                        : fmt::format("exit {} in {:.2f} s", exit_status, seconds);
  auto first = output.substr(0, output.find('\n'));
  if (first.size() > 200) first = first.substr(0, 200) + "…";
  if (!first.empty()) out += ": " + first;
  return out;
}

Environment command_environment(const ActionOutcome& o, bool with_outcome) {
  Environment env = {{"FREEZR_RULE", o.rule},
                     {"FREEZR_ACTION", engine::to_string(o.action)},
                     {"FREEZR_REASON", o.reason}};
  if (o.target) {
    env.emplace_back("FREEZR_PID", std::to_string(o.target->id.pid));
    env.emplace_back("FREEZR_COMM", o.target->comm);
  }
  if (!o.service.empty()) env.emplace_back("FREEZR_SERVICE", o.service);
  if (!o.metric.empty()) {
    env.emplace_back("FREEZR_METRIC", o.metric);
    env.emplace_back("FREEZR_VALUE", number(o.value));
    env.emplace_back("FREEZR_THRESHOLD", number(o.threshold));
    env.emplace_back("FREEZR_STREAK", std::to_string(o.streak));
  }
  if (with_outcome) {
    env.emplace_back("FREEZR_OK", o.ok ? "1" : "0");
    env.emplace_back("FREEZR_DETAIL", o.detail);
  }
  return env;
}

struct CommandRunner::Running : std::enable_shared_from_this<Running> {
  Running(asio::io_context& io, int pidfd, int out)
      : exited(io, pidfd), output(io, out), timer(io) {}
  int pid = 0;
  asio::posix::stream_descriptor exited;
  asio::posix::stream_descriptor output;
  asio::steady_timer timer;
  std::array<char, 1024> chunk{};
  CommandResult result;
  Seconds started = 0;
  Done done;
  bool background = false;

  void keep(std::size_t n) {
    const auto room = kOutputMax - std::min(kOutputMax, result.output.size());
    result.output.append(chunk.data(), std::min(n, room));
  }
  // Its output, kept up to kOutputMax and read on (so it never blocks on a full pipe).
  void read_more() {
    output.async_read_some(asio::buffer(chunk),
                           [self = shared_from_this()](auto ec, std::size_t n) {
                             if (ec) return;
                             self->keep(n);
                             self->read_more();
                           });
  }
};

CommandRunner::CommandRunner(asio::io_context& io, const Clock& clock) : io_(io), clock_(clock) {}

CommandRunner::~CommandRunner() {
  for (auto& [pid, r] : running_) {
    ::kill(-pid, SIGKILL);  // the group: its leader is not reaped yet, so the number is ours
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
  }
}

namespace {

// A child started: its PID, a pidfd that becomes readable when it exits, its output's pipe.
struct Spawned {
  pid_t pid = 0;
  int pidfd = -1;
  int output = -1;
};

// Forks and executes program (prepared argv and environment) as c says; the reason in words
// when it cannot be started.
Result<Spawned> spawn(const engine::Command& c, const std::string& program,
                      std::vector<char*>& args, std::vector<char*>& vars) {
  int out[2], status[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return Error(errno, std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(status, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    return Error(e, std::string("pipe: ") + std::strerror(e));
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid == 0) {  // from here to execve, only async-signal-safe calls
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const int sig : {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGCHLD})
      ::signal(sig, SIG_DFL);
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    int err = 0;
    if (c.gid && (::setgroups(0, nullptr) != 0 || ::setgid(*c.gid) != 0)) err = errno;
    if (err == 0 && c.uid && ::setuid(*c.uid) != 0) err = errno;
    if (err == 0) {
      ::execve(program.c_str(), args.data(), vars.data());
      err = errno;
    }
    (void)!::write(status[1], &err, sizeof err);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(out[1]);
  ::close(status[1]);
  if (devnull >= 0) ::close(devnull);
  if (pid < 0) {
    ::close(out[0]);
    ::close(status[0]);
    return Error(fork_errno, std::string("fork: ") + std::strerror(fork_errno));
  }
  int err = 0;
  const bool failed = ::read(status[0], &err, sizeof err) == sizeof err;  // nothing: it ran
  ::close(status[0]);
  const int pidfd = failed ? -1 : static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    if (!failed) err = errno;
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
    ::close(out[0]);
    return Error(err, std::strerror(err));
  }
  return Spawned{pid, pidfd, out[0]};
}

}  // namespace

void CommandRunner::run(const engine::Command& c, const Environment& env, Done done,
                        bool background) {
  std::vector<std::string> argv =
      c.shell ? std::vector<std::string>{"/bin/sh", "-c", c.argv[0]} : c.argv;
  const auto fail = [&](const std::string& why) {
    CommandResult r;
    r.error = "cannot run '" + argv[0] + "'" + (c.user.empty() ? "" : " as " + c.user) + ": " + why;
    asio::post(io_, [done, r] { done(r); });
  };
  const std::string program = resolve(argv[0]);
  if (program.empty()) return fail(std::string("not found in ") + kPath);
  std::vector<std::string> envs = {std::string("PATH=") + kPath, "LANG=C.UTF-8",
                                   "HOME=" + (c.home.empty() ? std::string("/") : c.home)};
  if (!c.user.empty()) envs.push_back("USER=" + c.user);
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> args, vars;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& v : envs) vars.push_back(v.data());
  vars.push_back(nullptr);
  const auto child = spawn(c, program, args, vars);
  if (!child) return fail(child.error().message);
  auto r = std::make_shared<Running>(io_, child->pidfd, child->output);
  r->pid = child->pid;
  r->started = clock_.monotonic();
  r->done = std::move(done);
  r->result.started = true;
  r->background = background;
  background_ += background ? 1 : 0;
  running_.emplace(child->pid, r);
  r->read_more();
  r->timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(c.timeout)));
  r->timer.async_wait([r](const boost::system::error_code& ec) {
    if (ec) return;
    r->result.timed_out = true;
    ::kill(-r->pid, SIGKILL);  // the group: its leader is not reaped yet, so the number is ours
  });
  r->exited.async_wait(asio::posix::stream_descriptor::wait_read,
                       [this, pid = child->pid](const boost::system::error_code& ec) {
                         if (!ec) finish(pid);
                       });
}

void CommandRunner::finish(int pid) {
  const auto it = running_.find(pid);
  if (it == running_.end()) return;
  auto r = it->second;
  running_.erase(it);
  background_ -= r->background ? 1 : 0;
  siginfo_t info{};
  ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
  r->result.seconds = clock_.monotonic() - r->started;
  if (info.si_code == CLD_EXITED) {
    r->result.exit_status = info.si_status;
  } else {
    r->result.signal = info.si_status;
  }
  r->timer.cancel();
  // What it wrote just before it exited, if the pipe still holds it.
  boost::system::error_code ec;
  r->output.cancel(ec);
  r->output.non_blocking(true, ec);
  while (!ec && r->result.output.size() < kOutputMax) {
    const auto n = r->output.read_some(asio::buffer(r->chunk), ec);
    if (ec || n == 0) break;
    r->keep(n);
  }
  r->output.close(ec);
  r->done(r->result);
}

}  // namespace freezr::act
