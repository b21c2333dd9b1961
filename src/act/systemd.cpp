#include "act/systemd.h"

#include <systemd/sd-bus.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>
#include <list>

namespace freezr::act {

namespace asio = boost::asio;

struct SystemdManager::Impl {
  struct Call {
    Impl* owner = nullptr;
    std::string unit;
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
    std::string detail;
    bool ok = e == nullptr;
    if (ok) {
      const char* job = nullptr;
      if (sd_bus_message_read(m, "o", &job) >= 0 && job != nullptr) {
        detail = std::string("restart job queued: ") + job;
      } else {
        detail = "restart requested";
      }
    } else {
      detail = std::string("D-Bus error ") + (e->name ? e->name : "?") + ": " +
               (e->message ? e->message : "");
    }
    call->owner->complete(call, ok, detail);
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

SystemdManager::SystemdManager(asio::io_context& io) : impl_(std::make_unique<Impl>(io)) {}
SystemdManager::~SystemdManager() = default;

std::size_t SystemdManager::pending() const { return impl_->calls.size(); }

void SystemdManager::restart(const std::string& unit, Done done) {
  std::string error;
  if (!impl_->connect(error)) {
    asio::post(impl_->io, [done, error] { done(false, error); });
    return;
  }
  auto& call = impl_->calls.emplace_back();
  call.owner = impl_.get();
  call.unit = unit;
  call.done = std::move(done);
  const int r = sd_bus_call_method_async(impl_->bus, &call.slot, "org.freedesktop.systemd1",
                                         "/org/freedesktop/systemd1",
                                         "org.freedesktop.systemd1.Manager", "RestartUnit",
                                         &Impl::on_reply, &call, "ss", unit.c_str(), "replace");
  if (r < 0) {
    auto failed = std::move(call.done);
    impl_->calls.pop_back();
    const std::string msg = std::string("RestartUnit could not be sent: ") + std::strerror(-r);
    asio::post(impl_->io, [failed, msg] { failed(false, msg); });
    // The connection is suspect: the other calls in flight fail too (each is completed, so
    // pending() falls), and the next restart connects afresh.
    impl_->fail_all("the system bus connection was dropped after a failed call");
    return;
  }
  sd_bus_flush(impl_->bus);
  impl_->pump();
}

}  // namespace freezr::act
