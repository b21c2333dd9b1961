#include "act/systemd.h"

#include <fmt/format.h>
#include <systemd/sd-bus.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <list>

namespace freezr::act {

namespace asio = boost::asio;

namespace {
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";

std::string describe(const sd_bus_error* e) {
  return std::string("D-Bus error ") + (e->name ? e->name : "?") + ": " +
         (e->message ? e->message : "");
}
}  // namespace

struct SystemdManager::Impl {
  struct Call {
    Impl* owner = nullptr;
    std::function<std::string(sd_bus_message*)> read;
    Done done;
    sd_bus_slot* slot = nullptr;
  };

  explicit Impl(asio::io_context& context) : io(context), timer(context) {}
  ~Impl() { close(); }

  bool connect(std::string& error) {
    if (bus != nullptr) return true;
    const int r = sd_bus_open_system(&bus);
    if (r < 0) {
      error = std::string("cannot connect to the system bus: ") + std::strerror(-r);
      bus = nullptr;
      return false;
    }
    fd = std::make_unique<asio::posix::stream_descriptor>(io, sd_bus_get_fd(bus));
    return true;
  }

  void close() {
    timer.cancel();
    if (fd) {
      boost::system::error_code ignored;
      fd->cancel(ignored);
      fd->release();  // the fd belongs to sd-bus
      fd.reset();
    }
    for (auto& c : calls) {
      sd_bus_slot_unref(c.slot);
      c.slot = nullptr;
    }
    if (bus != nullptr) bus = sd_bus_flush_close_unref(bus);
  }

  static int on_reply(sd_bus_message* m, void* userdata, sd_bus_error* /*err*/) {
    auto* call = static_cast<Call*>(userdata);
    const sd_bus_error* e = sd_bus_message_get_error(m);
    if (e == nullptr) {
      call->owner->complete(call, true, call->read(m));
    } else {
      call->owner->complete(call, false, describe(e));
    }
    return 0;
  }

  void complete(Call* call, bool ok, const std::string& detail) {
    auto done = std::move(call->done);
    sd_bus_slot_unref(call->slot);
    for (auto it = calls.begin(); it != calls.end(); ++it) {
      if (&*it == call) {
        calls.erase(it);
        break;
      }
    }
    // Run the callback from the loop, not from inside sd_bus_process.
    asio::post(io, [done, ok, detail] { done(ok, detail); });
  }

  void pump() {
    if (bus == nullptr) return;
    for (;;) {
      const int r = sd_bus_process(bus, nullptr);
      if (r < 0) {
        fail_all(std::string("system bus connection lost: ") + std::strerror(-r));
        return;
      }
      if (r == 0) break;
    }
    arm();
  }

  void fail_all(const std::string& why) {
    std::list<std::pair<Done, std::string>> failed;
    for (auto& c : calls) failed.emplace_back(std::move(c.done), why);
    calls.clear();
    close();
    for (auto& [done, msg] : failed) {
      asio::post(io, [done = std::move(done), msg = msg] { done(false, msg); });
    }
  }

  void arm() {
    if (bus == nullptr || calls.empty()) return;
    if (!waiting) {
      waiting = true;
      fd->async_wait(asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       waiting = false;
                       if (!ec) pump();
                     });
    }
    if (!ticking) {
      // sd-bus enforces call timeouts only while it is processed: tick it once a second.
      ticking = true;
      timer.expires_after(std::chrono::seconds(1));
      timer.async_wait([this](const boost::system::error_code& ec) {
        ticking = false;
        if (!ec) pump();
      });
    }
  }

  asio::io_context& io;
  asio::steady_timer timer;
  sd_bus* bus = nullptr;
  std::unique_ptr<asio::posix::stream_descriptor> fd;
  std::list<Call> calls;
  bool waiting = false;
  bool ticking = false;
};

struct SystemdManager::Request {
  std::string path = kManagerPath;
  std::string interface = kManagerInterface;
  std::string member;
  std::function<int(sd_bus_message*)> append;        // the arguments
  std::function<std::string(sd_bus_message*)> read;  // a successful reply in words
  Done done;
};

namespace {

// The D-Bus object of a unit, and the interface holding its resource-control properties.
std::string unit_path(const std::string& unit) {
  char* path = nullptr;
  if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit.c_str(), &path) < 0) return {};
  std::string out = path;
  std::free(path);
  return out;
}

std::string unit_interface(const std::string& unit) {
  for (const char* type : {"scope", "slice", "socket", "mount", "swap"}) {
    if (unit.ends_with(std::string(".") + type)) {
      std::string name = type;
      name[0] = static_cast<char>(name[0] - 'a' + 'A');
      return "org.freedesktop.systemd1." + name;
    }
  }
  return "org.freedesktop.systemd1.Service";
}

int build(sd_bus* bus, const SystemdManager::Request& r, sd_bus_message** m) {
  int rc = sd_bus_message_new_method_call(bus, m, "org.freedesktop.systemd1", r.path.c_str(),
                                          r.interface.c_str(), r.member.c_str());
  if (rc >= 0 && r.append) rc = r.append(*m);
  return rc;
}

SystemdManager::Request unit_call(const char* member, const std::string& unit, std::string said) {
  SystemdManager::Request r;
  r.member = member;
  r.append = [unit](sd_bus_message* m) { return sd_bus_message_append(m, "s", unit.c_str()); };
  r.read = [said = std::move(said)](sd_bus_message*) { return said; };
  return r;
}

SystemdManager::Request quota_call(const std::string& unit, std::uint64_t usec) {
  SystemdManager::Request r;
  r.member = "SetUnitProperties";
  r.append = [unit, usec](sd_bus_message* m) {
    int rc = sd_bus_message_append(m, "sb", unit.c_str(), 1);  // runtime: gone at reboot
    if (rc >= 0) rc = sd_bus_message_open_container(m, 'a', "(sv)");
    if (rc >= 0) rc = sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t", usec);
    if (rc >= 0) rc = sd_bus_message_close_container(m);
    return rc;
  };
  r.read = [usec](sd_bus_message*) {
    return usec == ServiceManager::kNoQuota
               ? std::string("CPUQuota= removed")
               : "CPUQuota=" + std::to_string(usec / 10000) + "% set (runtime)";
  };
  return r;
}

Result<void> call_now(const SystemdManager::Request& r) {
  sd_bus* bus = nullptr;
  int rc = sd_bus_open_system(&bus);
  if (rc < 0)
    return Error{-rc, std::string("cannot connect to the system bus: ") + std::strerror(-rc)};
  sd_bus_message* m = nullptr;
  sd_bus_message* reply = nullptr;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  rc = build(bus, r, &m);
  if (rc >= 0) rc = sd_bus_call(bus, m, 5 * 1000 * 1000, &error, &reply);
  Result<void> out;
  if (rc < 0) {
    out = Error{-rc, r.member + " failed: " +
                         (sd_bus_error_is_set(&error) ? describe(&error) : std::strerror(-rc))};
  } else if (r.read) {
    (void)r.read(reply);
  }
  sd_bus_error_free(&error);
  sd_bus_message_unref(reply);
  sd_bus_message_unref(m);
  sd_bus_flush_close_unref(bus);
  return out;
}

}  // namespace

SystemdManager::SystemdManager(asio::io_context& io) : impl_(std::make_unique<Impl>(io)) {}
SystemdManager::~SystemdManager() = default;

std::size_t SystemdManager::pending() const { return impl_->calls.size(); }

void SystemdManager::send(Request request) {
  std::string error;
  if (!impl_->connect(error)) {
    asio::post(impl_->io, [done = std::move(request.done), error] { done(false, error); });
    return;
  }
  auto& call = impl_->calls.emplace_back();
  call.owner = impl_.get();
  call.read = std::move(request.read);
  call.done = std::move(request.done);
  sd_bus_message* m = nullptr;
  int r = build(impl_->bus, request, &m);
  if (r >= 0) r = sd_bus_call_async(impl_->bus, &call.slot, m, &Impl::on_reply, &call, 0);
  sd_bus_message_unref(m);
  if (r < 0) {
    auto failed = std::move(call.done);
    impl_->calls.pop_back();
    const std::string msg = request.member + " could not be sent: " + std::strerror(-r);
    asio::post(impl_->io, [failed, msg] { failed(false, msg); });
    // The connection is suspect: the other calls in flight fail too (each is completed, so
    // pending() falls), and the next call connects afresh.
    impl_->fail_all("the system bus connection was dropped after a failed call");
    return;
  }
  sd_bus_flush(impl_->bus);
  impl_->pump();
}

void SystemdManager::restart(const std::string& unit, Done done) {
  Request r;
  r.member = "RestartUnit";
  r.append = [unit](sd_bus_message* m) {
    return sd_bus_message_append(m, "ss", unit.c_str(), "replace");
  };
  r.read = [](sd_bus_message* m) {
    const char* job = nullptr;
    if (sd_bus_message_read(m, "o", &job) >= 0 && job != nullptr) {
      return std::string("restart job queued: ") + job;
    }
    return std::string("restart requested");
  };
  r.done = std::move(done);
  send(std::move(r));
}

void SystemdManager::freeze_unit(const std::string& unit, bool freeze, Done done) {
  auto r = freeze ? unit_call("FreezeUnit", unit, "frozen by systemd (FreezeUnit " + unit + ")")
                  : unit_call("ThawUnit", unit, "thawed by systemd (ThawUnit " + unit + ")");
  r.done = std::move(done);
  send(std::move(r));
}

void SystemdManager::cpu_quota(const std::string& unit, QuotaDone done) {
  auto value = std::make_shared<std::uint64_t>(kNoQuota);
  Request r;
  r.path = unit_path(unit);
  r.interface = "org.freedesktop.DBus.Properties";
  r.member = "Get";
  r.append = [iface = unit_interface(unit)](sd_bus_message* m) {
    return sd_bus_message_append(m, "ss", iface.c_str(), "CPUQuotaPerSecUSec");
  };
  r.read = [value](sd_bus_message* m) {
    if (sd_bus_message_read(m, "v", "t", value.get()) < 0) *value = kNoQuota;
    return std::string("read");
  };
  r.done = [done = std::move(done), value](bool ok, const std::string& detail) {
    done(ok, detail, *value);
  };
  if (r.path.empty()) {
    asio::post(impl_->io, [d = std::move(r.done), unit] { d(false, "no such unit: " + unit); });
    return;
  }
  send(std::move(r));
}

void SystemdManager::set_cpu_quota(const std::string& unit, std::uint64_t usec, Done done) {
  auto r = quota_call(unit, usec);
  r.done = std::move(done);
  send(std::move(r));
}

void SystemdManager::kill_unit(const std::string& unit, int signal, Done done) {
  Request r;
  r.member = "KillUnit";
  r.append = [unit, signal](sd_bus_message* m) {
    return sd_bus_message_append(m, "ssi", unit.c_str(), "all", signal);
  };
  r.read = [unit, signal](sd_bus_message*) {
    return fmt::format("SIG{} sent to every process of {} (KillUnit)", sigabbrev_np(signal), unit);
  };
  r.done = std::move(done);
  send(std::move(r));
}

Result<void> thaw_unit_now(const std::string& unit) {
  return call_now(unit_call("ThawUnit", unit, ""));
}

Result<void> set_cpu_quota_now(const std::string& unit, std::uint64_t usec) {
  return call_now(quota_call(unit, usec));
}

namespace {
// A unit's property of a basic D-Bus type ('b' as int, 'u'), read at once.
template <typename T>
Result<T> property_now(const std::string& unit, const char* name, const char* type) {
  SystemdManager::Request r;
  r.path = unit_path(unit);
  if (r.path.empty()) return Error{EINVAL, "no such unit: " + unit};
  r.interface = "org.freedesktop.DBus.Properties";
  r.member = "Get";
  r.append = [iface = unit_interface(unit), name](sd_bus_message* m) {
    return sd_bus_message_append(m, "ss", iface.c_str(), name);
  };
  auto value = std::make_shared<T>();
  r.read = [value, type](sd_bus_message* m) {
    if (sd_bus_message_read(m, "v", type, value.get()) < 0) *value = T{};
    return std::string("read");
  };
  if (auto done = call_now(r); !done) return done.error();
  return *value;
}
}  // namespace

Result<bool> delegated_to(const std::string& unit, Pid pid) {
  const auto delegated = property_now<int>(unit, "Delegate", "b");
  if (!delegated) return delegated.error();
  if (*delegated == 0) return false;
  const auto main = property_now<std::uint32_t>(unit, "MainPID", "u");
  if (!main) return main.error();
  return static_cast<Pid>(*main) == pid;
}

Result<void> SystemdManager::thaw_unit_now(const std::string& unit) {
  return act::thaw_unit_now(unit);
}

Result<void> SystemdManager::set_cpu_quota_now(const std::string& unit, std::uint64_t usec) {
  return act::set_cpu_quota_now(unit, usec);
}

}  // namespace freezr::act
