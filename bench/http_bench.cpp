// HTTP benchmark: starts the freezr binary (scanning every second) with the machine brought to
// N processes by idle children, then measures a /metrics scrape, and sustained requests per
// second on loopback from several keep-alive clients while FreezR scans, counting missed scans.
//   freezr_http_bench FREEZR_BINARY [--procs N] [--seconds S] [--clients C]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "children.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One keep-alive GET; returns the body size, or -1.
long get(int fd, const std::string& path) {
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return -1;
  std::string buf;
  char chunk[65536];
  std::size_t header_end = std::string::npos;
  long length = -1;
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return -1;
    buf.append(chunk, static_cast<std::size_t>(n));
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      const auto cl = buf.find("Content-Length: ");
      if (cl == std::string::npos) return -1;
      length = std::atol(buf.c_str() + cl + 16);
    }
    if (buf.size() >= header_end + 4 + static_cast<std::size_t>(length)) return length;
  }
}

long checks(const fs::path& status) {
  std::ifstream in(status);
  auto j = nlohmann::json::parse(in, nullptr, false);
  return j.is_discarded() ? -1 : j["totals"]["checks"].get<long>();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FREEZR_BINARY [--procs N] [--seconds S] [--clients C]\n",
                 argv[0]);
    return 2;
  }
  long procs = 1000;
  double seconds = 10;
  int clients = 4;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--procs") == 0) procs = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--clients") == 0) clients = std::atoi(argv[i + 1]);
  }
  const auto kids = freezr::bench::fill_to(static_cast<std::size_t>(procs));
  const fs::path dir = fs::temp_directory_path() / ("freezr-httpb-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const int port = 20000 + getpid() % 20000;
  std::ofstream(dir / "freezr.toml")
      << "[monitor]\ninterval = 1.0\n[logging]\ndir = \"" << (dir / "logs").string()
      << "\"\n[storage]\ndir = \"" << (dir / "data").string() << "\"\nruntime_dir = \""
      << (dir / "run").string() << "\"\n[http]\nlisten = \"127.0.0.1:" << port
      << "\"\n[[rule]]\nname = \"ghost\"\nmatch = { comm = [\"fzbenchnever\"] }\n"
      << "cpu_percent = 50\n";
  const pid_t freezr = fork();
  if (freezr == 0) {
    freopen("/dev/null", "w", stdout);
    execl(argv[1], argv[1], "--config", (dir / "freezr.toml").c_str(), "--dry-run", nullptr);
    _exit(127);
  }
  int fd = -1;
  for (int i = 0; i < 100 && fd < 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    fd = connect_to(port);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // 1. A /metrics scrape.
  double total = 0;
  long size = 0;
  const int scrapes = 50;
  for (int i = 0; i < scrapes; ++i) {
    const auto a = Clock::now();
    size = get(fd, "/metrics");
    total += std::chrono::duration<double, std::milli>(Clock::now() - a).count();
  }
  close(fd);
  // 2. Sustained requests while scanning.
  const auto status = dir / "run" / "status.json";
  const long checks_before = checks(status);
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      const int s = connect_to(port);
      while (!stop && s >= 0 && get(s, "/api/v1/status") >= 0) ++done;
      if (s >= 0) close(s);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const long scanned = checks(status) - checks_before;
  kill(freezr, SIGTERM);
  waitpid(freezr, nullptr, 0);
  freezr::bench::end_children(kids);
  fs::remove_all(dir);
  std::printf("http: /metrics at %ld processes: %.2f ms per scrape (%ld bytes, mean of %d)\n",
              procs, total / scrapes, size, scrapes);
  std::printf(
      "http: %d keep-alive clients on /api/v1/status: %.0f requests/s for %.1f s; "
      "scans %ld of %.0f expected at 1 s (missed: %ld)\n",
      clients, static_cast<double>(done) / elapsed, elapsed, scanned, elapsed,
      std::max(0L, static_cast<long>(elapsed) - 1 - scanned));
  return 0;
}
