// SystemdManager over a real D-Bus: a private dbus-daemon with the stand-in systemd on it
// (tests/helpers/fake_systemd.cpp), both started here and ended by PID.
#include "act/systemd.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace freezr::act {
namespace {

namespace stdfs = std::filesystem;

pid_t spawn(const std::vector<std::string>& argv, const std::string& bus = "",
            const std::string& fail = "") {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!bus.empty()) ::setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.c_str(), 1);
    if (!fail.empty()) ::setenv("FAKE_SYSTEMD_FAIL", fail.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

void end(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
}

bool wait_for(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class PrivateBus : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = stdfs::temp_directory_path() / ("freezr-bus-" + std::to_string(::getpid()));
    stdfs::create_directories(dir_);
    const auto socket = (dir_ / "bus").string();
    address_ = "unix:path=" + socket;
    bus_ = spawn({"dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=" + address_});
    ASSERT_TRUE(wait_for([&] { return stdfs::exists(socket); }));
    calls_ = (dir_ / "calls.log").string();
    old_ = std::getenv("DBUS_SYSTEM_BUS_ADDRESS") ? std::getenv("DBUS_SYSTEM_BUS_ADDRESS") : "";
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", address_.c_str(), 1);
  }
  void TearDown() override {
    end(fake_);
    end(bus_);
    if (old_.empty()) {
      ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    } else {
      ::setenv("DBUS_SYSTEM_BUS_ADDRESS", old_.c_str(), 1);
    }
    stdfs::remove_all(dir_);
  }
  void start_fake(const std::string& fail = "") {
    fake_ = spawn({FREEZR_FAKE_SYSTEMD_BIN, calls_}, address_, fail);
    ASSERT_TRUE(wait_for([&] {  // owns its name once it answered a first call
      return ::system(("dbus-send --bus=" + address_ +
                       " --print-reply --dest=org.freedesktop.DBus / "
                       "org.freedesktop.DBus.GetNameOwner string:org.freedesktop.systemd1 "
                       ">/dev/null 2>&1")
                          .c_str()) == 0;
    }));
  }
  // Runs io until every restart answered (or a few seconds passed); an answer may be posted
  // to the loop without a call in flight, so the loop runs at least once.
  void run(boost::asio::io_context& io, const SystemdManager& m) {
    int i = 0;
    do {
      io.run_for(std::chrono::milliseconds(20));
      io.restart();
    } while (m.pending() > 0 && ++i < 300);
  }

  stdfs::path dir_;
  std::string address_, calls_, old_;
  pid_t bus_ = -1, fake_ = -1;
};

struct Answer {
  bool done = false, ok = false;
  std::string detail;
};

TEST_F(PrivateBus, RestartsArriveAndEveryCallIsAnswered) {
  start_fake("broken.service");
  boost::asio::io_context io;
  SystemdManager manager(io);
  Answer good, bad;
  manager.restart("kesl.service", [&](bool ok, const std::string& d) { good = {true, ok, d}; });
  manager.restart("broken.service", [&](bool ok, const std::string& d) { bad = {true, ok, d}; });
  run(io, manager);
  EXPECT_EQ(manager.pending(), 0U);
  ASSERT_TRUE(good.done && bad.done);
  EXPECT_TRUE(good.ok);
  EXPECT_NE(good.detail.find("/org/freedesktop/systemd1/job/42"), std::string::npos) << good.detail;
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.detail.find("not loaded"), std::string::npos) << bad.detail;
  std::ifstream log(calls_);
  std::string first, second;
  std::getline(log, first);
  std::getline(log, second);
  EXPECT_EQ(first, "RestartUnit kesl.service replace");
  EXPECT_EQ(second, "RestartUnit broken.service replace");
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_F(PrivateBus, AUnitIsFrozenThrottledAndKilledAsAWholeAndUndoneTheSameWay) {
  start_fake("gone.service");
  boost::asio::io_context io;
  SystemdManager manager(io);
  std::vector<Answer> a(7);
  std::uint64_t before = 0, after = 0;
  manager.freeze_unit("kesl.service", true, [&](bool ok, const std::string& d) {
    a[0] = {true, ok, d};
  });
  manager.cpu_quota("kesl.service", [&](bool ok, const std::string& d, std::uint64_t v) {
    a[1] = {true, ok, d};
    before = v;
  });
  manager.set_cpu_quota("kesl.service", 250000, [&](bool ok, const std::string& d) {
    a[2] = {true, ok, d};
  });
  run(io, manager);
  manager.cpu_quota("kesl.service", [&](bool ok, const std::string& d, std::uint64_t v) {
    a[3] = {true, ok, d};
    after = v;
  });
  manager.kill_unit("kesl.service", SIGTERM, [&](bool ok, const std::string& d) {
    a[4] = {true, ok, d};
  });
  manager.freeze_unit("kesl.service", false, [&](bool ok, const std::string& d) {
    a[5] = {true, ok, d};
  });
  manager.freeze_unit("gone.service", true, [&](bool ok, const std::string& d) {
    a[6] = {true, ok, d};
  });
  run(io, manager);
  EXPECT_EQ(manager.pending(), 0U);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(a[i].done && a[i].ok) << i << ": " << a[i].detail;
  }
  EXPECT_EQ(before, ServiceManager::kNoQuota);
  EXPECT_EQ(after, 250000U);
  EXPECT_EQ(a[0].detail, "frozen by systemd (FreezeUnit kesl.service)");
  EXPECT_EQ(a[2].detail, "CPUQuota=25% set (runtime)");
  EXPECT_EQ(a[4].detail, "SIGTERM sent to every process of kesl.service (KillUnit)");
  EXPECT_FALSE(a[6].ok);
  EXPECT_NE(a[6].detail.find("NoSuchUnit"), std::string::npos) << a[6].detail;
  const std::vector<std::string> want = {
      "FreezeUnit kesl.service",
      "Get kesl.service org.freedesktop.systemd1.Service CPUQuotaPerSecUSec",
      "SetUnitProperties kesl.service CPUQuotaPerSecUSec=250000",
      "Get kesl.service org.freedesktop.systemd1.Service CPUQuotaPerSecUSec",
      "KillUnit kesl.service all 15",
      "ThawUnit kesl.service",
      "FreezeUnit gone.service"};
  EXPECT_EQ(lines_of(calls_), want);
}

TEST_F(PrivateBus, TheUndoCallsMadeAtOnceReachSystemdOrSayWhyNot) {
  start_fake("gone.scope");
  ASSERT_TRUE(thaw_unit_now("app-web\\x2d1.scope").ok());
  ASSERT_TRUE(set_cpu_quota_now("kesl.service", ServiceManager::kNoQuota).ok());
  const auto refused = thaw_unit_now("gone.scope");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("ThawUnit failed: D-Bus error"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(lines_of(calls_),
            (std::vector<std::string>{
                "ThawUnit app-web\\x2d1.scope",
                "SetUnitProperties kesl.service CPUQuotaPerSecUSec=18446744073709551615",
                "ThawUnit gone.scope"}));
  end(fake_);
  fake_ = -1;
  const auto nobody = thaw_unit_now("kesl.service");
  EXPECT_FALSE(nobody.ok());
}

TEST_F(PrivateBus, WhetherAUnitIsDelegatedIsReadFromItsProperties) {
  start_fake("gone.service");
  const auto kesl = delegated_to("kesl.service", ::getpid());
  ASSERT_TRUE(kesl.ok()) << kesl.error().message;
  EXPECT_FALSE(*kesl);  // the stand-in delegates no unit
  const auto gone = delegated_to("gone.service", ::getpid());
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message.find("Get failed: D-Bus error"), std::string::npos)
      << gone.error().message;
  EXPECT_TRUE(lines_of(calls_).empty());  // reads, not calls
  end(fake_);
  fake_ = -1;
  EXPECT_FALSE(delegated_to("kesl.service", ::getpid()).ok());
}

TEST_F(PrivateBus, WithoutSystemdOnTheBusEveryCallFailsAndNoneIsLeftPending) {
  boost::asio::io_context io;
  SystemdManager manager(io);
  std::vector<Answer> answers(3);
  for (auto& a : answers) {
    manager.restart("x.service", [&a](bool ok, const std::string& d) { a = {true, ok, d}; });
  }
  run(io, manager);
  EXPECT_EQ(manager.pending(), 0U);
  for (const auto& a : answers) {
    EXPECT_TRUE(a.done);
    EXPECT_FALSE(a.ok);
  }
}

TEST_F(PrivateBus, ABusThatGoesAwayWithCallsInFlightAnswersThemAll) {
  boost::asio::io_context io;
  SystemdManager manager(io);
  std::vector<Answer> answers(3);
  for (auto& a : answers) {
    manager.restart("y.service", [&a](bool ok, const std::string& d) { a = {true, ok, d}; });
  }
  io.run_for(std::chrono::milliseconds(5));  // sent: systemd1 is being looked for
  io.restart();
  end(bus_);
  bus_ = -1;
  run(io, manager);
  EXPECT_EQ(manager.pending(), 0U);  // none dropped: each one completed
  for (const auto& a : answers) {
    EXPECT_TRUE(a.done);
    EXPECT_FALSE(a.ok);
  }
}

TEST_F(PrivateBus, WhenTheBusCannotBeReachedTheFailureSaysSo) {
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", ("unix:path=" + (dir_ / "nobody").string()).c_str(), 1);
  boost::asio::io_context io;
  SystemdManager manager(io);
  Answer a;
  manager.restart("x.service", [&](bool ok, const std::string& d) { a = {true, ok, d}; });
  run(io, manager);
  EXPECT_EQ(manager.pending(), 0U);
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.ok);
  EXPECT_NE(a.detail.find("system bus"), std::string::npos) << a.detail;
}

}  // namespace
}  // namespace freezr::act
