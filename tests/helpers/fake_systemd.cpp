// A stand-in for systemd's manager on a private bus: owns org.freedesktop.systemd1 and answers
// Manager.RestartUnit(ss) -> o, FreezeUnit(s), ThawUnit(s), SetUnitProperties(sba(sv)) for
// CPUQuotaPerSecUSec, KillUnit(ssi), and Properties.Get of a unit's CPUQuotaPerSecUSec (and of
// Delegate and MainPID, answered false and 0 and not recorded). Each
// call is appended to the log file given as argv[1] ("RestartUnit <unit> <mode>", "FreezeUnit
// <unit>", "SetUnitProperties <unit> CPUQuotaPerSecUSec=<usec>", "KillUnit <unit> <who>
// <signal>"). Units listed in FAKE_SYSTEMD_FAIL (comma-separated) get a NoSuchUnit error
// instead. With FAKE_SYSTEMD_CGROUPS set to a cgroup v2 directory, a unit is the group of its
// name there and the calls take effect on it: cgroup.freeze, cpu.max, and the signal sent to
// each process in cgroup.procs. The bus is the one DBUS_SYSTEM_BUS_ADDRESS names.
#include <systemd/sd-bus.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

namespace {
const char* g_log = nullptr;
std::map<std::string, std::uint64_t> g_quota;

bool should_fail(const char* unit) {
  const char* list = std::getenv("FAKE_SYSTEMD_FAIL");
  if (list == nullptr) return false;
  std::string s = std::string(",") + list + ",";
  return s.find(std::string(",") + unit + ",") != std::string::npos;
}

void log_line(const std::string& line) {
  if (FILE* f = std::fopen(g_log, "a")) {
    std::fprintf(f, "%s\n", line.c_str());
    std::fclose(f);
  }
}

// The unit's group under FAKE_SYSTEMD_CGROUPS, or "" when the calls only are logged.
std::string group_of(const std::string& unit) {
  const char* root = std::getenv("FAKE_SYSTEMD_CGROUPS");
  if (root == nullptr || *root == '\0' || unit.find('/') != std::string::npos) return {};
  return std::string(root) + "/" + unit;
}

void put(const std::string& unit, const char* file, const std::string& value) {
  const auto dir = group_of(unit);
  if (dir.empty()) return;
  std::ofstream(dir + "/" + file) << value;
}

int no_such_unit(sd_bus_error* error, const char* unit) {
  return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.",
                           unit);
}

int restart_unit(sd_bus_message* m, void* /*userdata*/, sd_bus_error* error) {
  const char* unit = nullptr;
  const char* mode = nullptr;
  int r = sd_bus_message_read(m, "ss", &unit, &mode);
  if (r < 0) return r;
  log_line(std::string("RestartUnit ") + unit + " " + mode);
  if (should_fail(unit)) return no_such_unit(error, unit);
  return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/42");
}

int freeze_or_thaw(sd_bus_message* m, sd_bus_error* error, bool freeze) {
  const char* unit = nullptr;
  int r = sd_bus_message_read(m, "s", &unit);
  if (r < 0) return r;
  log_line(std::string(freeze ? "FreezeUnit " : "ThawUnit ") + unit);
  if (should_fail(unit)) return no_such_unit(error, unit);
  put(unit, "cgroup.freeze", freeze ? "1" : "0");
  return sd_bus_reply_method_return(m, "");
}

int freeze_unit(sd_bus_message* m, void*, sd_bus_error* error) {
  return freeze_or_thaw(m, error, true);
}

int thaw_unit(sd_bus_message* m, void*, sd_bus_error* error) {
  return freeze_or_thaw(m, error, false);
}

int set_unit_properties(sd_bus_message* m, void*, sd_bus_error* error) {
  const char* unit = nullptr;
  int runtime = 0;
  int r = sd_bus_message_read(m, "sb", &unit, &runtime);
  if (r < 0) return r;
  r = sd_bus_message_enter_container(m, 'a', "(sv)");
  if (r < 0) return r;
  std::string line = std::string("SetUnitProperties ") + unit + (runtime ? "" : " (persistent)");
  const std::string name = unit;
  while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
    const char* property = nullptr;
    if ((r = sd_bus_message_read(m, "s", &property)) < 0) return r;
    if (std::strcmp(property, "CPUQuotaPerSecUSec") == 0) {
      std::uint64_t usec = 0;
      if ((r = sd_bus_message_read(m, "v", "t", &usec)) < 0) return r;
      line += " CPUQuotaPerSecUSec=" + std::to_string(usec);
      g_quota[name] = usec;
      put(name, "cpu.max",
          usec == UINT64_MAX ? std::string("max 100000") : std::to_string(usec / 10) + " 100000");
    } else if ((r = sd_bus_message_skip(m, "v")) < 0) {
      return r;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  log_line(line);
  if (should_fail(unit)) return no_such_unit(error, unit);
  return sd_bus_reply_method_return(m, "");
}

int kill_unit(sd_bus_message* m, void*, sd_bus_error* error) {
  const char* unit = nullptr;
  const char* who = nullptr;
  int sig = 0;
  int r = sd_bus_message_read(m, "ssi", &unit, &who, &sig);
  if (r < 0) return r;
  log_line(std::string("KillUnit ") + unit + " " + who + " " + std::to_string(sig));
  if (should_fail(unit)) return no_such_unit(error, unit);
  if (const auto dir = group_of(unit); !dir.empty()) {
    std::ifstream procs(dir + "/cgroup.procs");
    for (long pid = 0; procs >> pid;) {
      if (pid > 1) ::kill(static_cast<pid_t>(pid), sig);
    }
  }
  return sd_bus_reply_method_return(m, "");
}

// Properties.Get on /org/freedesktop/systemd1/unit/<escaped name>.
int unit_object(sd_bus_message* m, void*, sd_bus_error* error) {
  if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Get")) return 0;
  char* unit = nullptr;
  if (sd_bus_path_decode(sd_bus_message_get_path(m), "/org/freedesktop/systemd1/unit", &unit) <=
      0) {
    return 0;
  }
  const std::string name = unit;
  std::free(unit);
  const char* iface = nullptr;
  const char* property = nullptr;
  int r = sd_bus_message_read(m, "ss", &iface, &property);
  if (r < 0) return r;
  // What FreezR asks of its own unit at start (no unit here is delegated) is not a call the
  // tests look for, so not recorded.
  const bool delegate = std::strcmp(property, "Delegate") == 0;
  const bool main_pid = std::strcmp(property, "MainPID") == 0;
  if (!delegate && !main_pid) log_line("Get " + name + " " + iface + " " + property);
  if (should_fail(name.c_str())) return no_such_unit(error, name.c_str());
  if (delegate) return sd_bus_reply_method_return(m, "v", "b", 0);
  if (main_pid) {
    return sd_bus_reply_method_return(m, "v", "u", static_cast<std::uint32_t>(0));
  }
  if (std::strcmp(property, "CPUQuotaPerSecUSec") != 0) {
    return sd_bus_error_setf(error, "org.freedesktop.DBus.Error.UnknownProperty", "%s", property);
  }
  const auto it = g_quota.find(name);
  return sd_bus_reply_method_return(m, "v", "t", it == g_quota.end() ? UINT64_MAX : it->second);
}

const sd_bus_vtable kManager[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("RestartUnit", "ss", "o", restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("FreezeUnit", "s", "", freeze_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ThawUnit", "s", "", thaw_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetUnitProperties", "sba(sv)", "", set_unit_properties,
                  SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("KillUnit", "ssi", "", kill_unit, SD_BUS_VTABLE_UNPRIVILEGED),
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
  if (r >= 0)
    r = sd_bus_add_fallback(bus, nullptr, "/org/freedesktop/systemd1/unit", unit_object, nullptr);
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
