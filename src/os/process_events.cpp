#include "os/process_events.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace freezr::os {

namespace {
constexpr int kReceiveBuffer = 4 << 20;  // room for bursts of thousands of forks

Error errno_error(const char* what) {
  return Error(errno, std::string(what) + ": " + std::strerror(errno));
}
}  // namespace

ProcessEvents::ProcessEvents(boost::asio::io_context& io, Handler handler)
    : socket_(io), pause_(io), handler_(std::move(handler)), buf_(64 * 1024) {}

ProcessEvents::~ProcessEvents() { stop(); }

Result<void> ProcessEvents::start() {
  const int fd = ::socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (fd < 0) return errno_error("netlink socket");
  auto fail = [fd](const char* what) {
    auto why = errno_error(what);
    ::close(fd);
    return why;
  };
  // SO_RCVBUFFORCE passes the rmem_max cap with CAP_NET_ADMIN; fall back to the capped one.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBuffer, sizeof kReceiveBuffer) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer);
  }
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return fail("bind");
  // nlmsghdr, cn_msg, then the operation: built in a byte buffer (cn_msg ends in a flexible
  // array member).
  std::uint8_t listen[NLMSG_HDRLEN + sizeof(cn_msg) + sizeof(std::uint32_t)]{};
  nlmsghdr header{};
  header.nlmsg_len = sizeof listen;
  header.nlmsg_type = NLMSG_DONE;
  header.nlmsg_pid = static_cast<__u32>(::getpid());
  cn_msg message{};
  message.id.idx = CN_IDX_PROC;
  message.id.val = CN_VAL_PROC;
  message.len = sizeof(std::uint32_t);
  const std::uint32_t op = PROC_CN_MCAST_LISTEN;
  std::memcpy(listen, &header, sizeof header);
  std::memcpy(listen + NLMSG_HDRLEN, &message, sizeof message);
  std::memcpy(listen + NLMSG_HDRLEN + sizeof message, &op, sizeof op);
  if (::send(fd, listen, sizeof listen, 0) < 0) return fail("subscribe");
  socket_.assign(fd);
  active_ = true;
  wait();
  return {};
}

void ProcessEvents::stop() {
  if (!active_) return;
  active_ = false;
  boost::system::error_code ec;
  pause_.cancel();
  socket_.cancel(ec);
  socket_.close(ec);
  if (parked_ >= 0) ::close(parked_);
  parked_ = -1;
}

void ProcessEvents::wait() {
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec || !active_) return;
                       drain();
                       if (!active_) return;
                       if (batch_seconds_ <= 0) {
                         wait();
                         return;
                       }
                       // Out of the reactor while paused: arrivals wake nothing until then.
                       parked_ = socket_.release();
                       pause_.expires_after(std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::duration<double>(batch_seconds_)));
                       pause_.async_wait([this](const boost::system::error_code& e) {
                         if (e || !active_ || parked_ < 0) return;
                         socket_.assign(parked_);
                         parked_ = -1;
                         wait();
                       });
                     });
}

void ProcessEvents::drain() {
  ++wakeups_;
  events_.clear();
  for (;;) {
    const ssize_t n = ::recv(socket_.native_handle(), buf_.data(), buf_.size(), 0);
    if (n < 0) {
      if (errno == ENOBUFS) {
        ++overruns_;
        continue;
      }
      break;  // EAGAIN: drained
    }
    if (n == 0) break;
    ++received_;
    proc::parse_proc_events({buf_.data(), static_cast<std::size_t>(n)}, events_);
    if (events_.size() >= 4096) break;  // let the loop breathe; the rest comes next round
  }
  if (!events_.empty()) handler_(events_);
}

}  // namespace freezr::os
