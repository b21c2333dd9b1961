// A stand-in for systemd's manager on a private bus: owns org.freedesktop.systemd1 and answers
// Manager.RestartUnit(ss) -> o. Each call is appended to the log file given as argv[1]
// ("RestartUnit <unit> <mode>"). Units listed in FAKE_SYSTEMD_FAIL (comma-separated) get a
// NoSuchUnit error instead. The bus is the one DBUS_SYSTEM_BUS_ADDRESS names.
#include <systemd/sd-bus.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {
const char* g_log = nullptr;

bool should_fail(const char* unit) {
  const char* list = std::getenv("FAKE_SYSTEMD_FAIL");
  if (list == nullptr) return false;
  std::string s = std::string(",") + list + ",";
  return s.find(std::string(",") + unit + ",") != std::string::npos;
}

int restart_unit(sd_bus_message* m, void* /*userdata*/, sd_bus_error* error) {
  const char* unit = nullptr;
  const char* mode = nullptr;
  int r = sd_bus_message_read(m, "ss", &unit, &mode);
  if (r < 0) return r;
  if (FILE* f = std::fopen(g_log, "a")) {
    std::fprintf(f, "RestartUnit %s %s\n", unit, mode);
    std::fclose(f);
  }
  if (should_fail(unit)) {
    return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.",
                             unit);
  }
  return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/42");
}

const sd_bus_vtable kManager[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("RestartUnit", "ss", "o", restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s LOGFILE\n", argv[0]);
    return 2;
  }
  g_log = argv[1];
  sd_bus* bus = nullptr;
  int r = sd_bus_open_system(&bus);
  if (r < 0) {
    std::fprintf(stderr, "fake_systemd: connect: %s\n", std::strerror(-r));
    return 1;
  }
  r = sd_bus_add_object_vtable(bus, nullptr, "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", kManager, nullptr);
  if (r >= 0) r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
  if (r < 0) {
    std::fprintf(stderr, "fake_systemd: %s\n", std::strerror(-r));
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    r = sd_bus_process(bus, nullptr);
    if (r < 0) return 1;
    if (r > 0) continue;
    if (sd_bus_wait(bus, UINT64_MAX) < 0) return 1;
  }
}
