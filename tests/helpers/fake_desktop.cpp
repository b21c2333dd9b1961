// Stand-ins for a desktop's D-Bus services, on private buses:
//   fake_desktop login1 UID       logind on the bus DBUS_SYSTEM_BUS_ADDRESS names: one active,
//                                 local x11 session of UID
//   fake_desktop notifications LOG  a notification server on the bus DBUS_SESSION_BUS_ADDRESS
//                                 names: each Notify call is appended to LOG as a JSON line;
//                                 Press(u id, s key) emits ActionInvoked(id, key), as a user
//                                 clicking the button would.
#include <systemd/sd-bus.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char* g_log = nullptr;
std::uint32_t g_uid = 0;
std::uint32_t g_next_id = 1;

std::string json_string(const char* s) {
  std::string out = "\"";
  for (const char* p = s; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

int list_sessions(sd_bus_message* m, void* /*userdata*/, sd_bus_error* /*error*/) {
  sd_bus_message* reply = nullptr;
  int r = sd_bus_message_new_method_return(m, &reply);
  if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(susso)");
  if (r >= 0) {
    r = sd_bus_message_append(reply, "(susso)", "c1", g_uid, "user", "seat0",
                              "/org/freedesktop/login1/session/c1");
  }
  if (r >= 0) r = sd_bus_message_close_container(reply);
  if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return r;
}

int get_type(sd_bus* /*bus*/, const char* /*path*/, const char* /*interface*/,
             const char* /*property*/, sd_bus_message* reply, void* /*userdata*/,
             sd_bus_error* /*error*/) {
  return sd_bus_message_append(reply, "s", "x11");
}

int get_true(sd_bus* /*bus*/, const char* /*path*/, const char* /*interface*/,
             const char* /*property*/, sd_bus_message* reply, void* /*userdata*/,
             sd_bus_error* /*error*/) {
  return sd_bus_message_append(reply, "b", 1);
}

int get_false(sd_bus* /*bus*/, const char* /*path*/, const char* /*interface*/,
              const char* /*property*/, sd_bus_message* reply, void* /*userdata*/,
              sd_bus_error* /*error*/) {
  return sd_bus_message_append(reply, "b", 0);
}

int notify(sd_bus_message* m, void* /*userdata*/, sd_bus_error* /*error*/) {
  const char *app = nullptr, *icon = nullptr, *summary = nullptr, *body = nullptr;
  std::uint32_t replaces = 0;
  int r = sd_bus_message_read(m, "susss", &app, &replaces, &icon, &summary, &body);
  if (r < 0) return r;
  std::string actions = "[";
  r = sd_bus_message_enter_container(m, 'a', "s");
  const char* a = nullptr;
  while (r >= 0 && (r = sd_bus_message_read(m, "s", &a)) > 0) {
    actions += (actions.size() > 1 ? "," : "") + json_string(a);
  }
  actions += "]";
  if (r >= 0) r = sd_bus_message_exit_container(m);
  int urgency = -1;
  if (r >= 0) r = sd_bus_message_enter_container(m, 'a', "{sv}");
  while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char* key = nullptr;
    r = sd_bus_message_read(m, "s", &key);
    if (r >= 0 && std::strcmp(key, "urgency") == 0) {
      std::uint8_t u = 0;
      r = sd_bus_message_read(m, "v", "y", &u);
      urgency = u;
    } else if (r >= 0) {
      r = sd_bus_message_skip(m, "v");
    }
    if (r >= 0) r = sd_bus_message_exit_container(m);
  }
  if (r >= 0) r = sd_bus_message_exit_container(m);
  std::int32_t expire = 0;
  if (r >= 0) r = sd_bus_message_read(m, "i", &expire);
  if (r < 0) return r;
  const std::uint32_t id = g_next_id++;
  if (FILE* f = std::fopen(g_log, "a")) {
    std::fprintf(f,
                 "{\"id\":%u,\"app\":%s,\"icon\":%s,\"summary\":%s,\"body\":%s,\"actions\":%s,"
                 "\"urgency\":%d,\"expire\":%d}\n",
                 id, json_string(app).c_str(), json_string(icon).c_str(),
                 json_string(summary).c_str(), json_string(body).c_str(), actions.c_str(), urgency,
                 expire);
    std::fclose(f);
  }
  return sd_bus_reply_method_return(m, "u", id);
}

int press(sd_bus_message* m, void* /*userdata*/, sd_bus_error* /*error*/) {
  std::uint32_t id = 0;
  const char* key = nullptr;
  int r = sd_bus_message_read(m, "us", &id, &key);
  if (r < 0) return r;
  r = sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/Notifications",
                         "org.freedesktop.Notifications", "ActionInvoked", "us", id, key);
  if (r < 0) return r;
  return sd_bus_reply_method_return(m, "");
}

const sd_bus_vtable kManager[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("ListSessions", "", "a(susso)", list_sessions, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

const sd_bus_vtable kSession[] = {
    SD_BUS_VTABLE_START(0), SD_BUS_PROPERTY("Type", "s", get_type, 0, 0),
    SD_BUS_PROPERTY("Active", "b", get_true, 0, 0), SD_BUS_PROPERTY("Remote", "b", get_false, 0, 0),
    SD_BUS_VTABLE_END};

const sd_bus_vtable kNotifications[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Notify", "susssasa{sv}i", "u", notify, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Press", "us", "", press, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("ActionInvoked", "us", 0), SD_BUS_VTABLE_END};

int serve(sd_bus* bus) {
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    const int r = sd_bus_process(bus, nullptr);
    if (r < 0) return 1;
    if (r > 0) continue;
    if (sd_bus_wait(bus, UINT64_MAX) < 0) return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s login1 UID | notifications LOG\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  sd_bus* bus = nullptr;
  int r = mode == "login1" ? sd_bus_open_system(&bus) : sd_bus_open_user(&bus);
  if (r < 0) {
    std::fprintf(stderr, "fake_desktop: connect: %s\n", std::strerror(-r));
    return 1;
  }
  if (mode == "login1") {
    g_uid = static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10));
    r = sd_bus_add_object_vtable(bus, nullptr, "/org/freedesktop/login1",
                                 "org.freedesktop.login1.Manager", kManager, nullptr);
    if (r >= 0) {
      r = sd_bus_add_object_vtable(bus, nullptr, "/org/freedesktop/login1/session/c1",
                                   "org.freedesktop.login1.Session", kSession, nullptr);
    }
    if (r >= 0) r = sd_bus_request_name(bus, "org.freedesktop.login1", 0);
  } else {
    g_log = argv[2];
    r = sd_bus_add_object_vtable(bus, nullptr, "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", kNotifications, nullptr);
    if (r >= 0) r = sd_bus_request_name(bus, "org.freedesktop.Notifications", 0);
  }
  if (r < 0) {
    std::fprintf(stderr, "fake_desktop: %s\n", std::strerror(-r));
    return 1;
  }
  return serve(bus);
}
