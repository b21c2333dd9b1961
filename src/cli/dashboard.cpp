// `freezr dashboard`: a full-screen ncurses view of a running FreezR, fed by its HTTP API.
#include "cli/dashboard.h"

#include <curses.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <clocale>
#include <cstdlib>
#include <fstream>

#include "cli/http_client.h"
#include "ui/dashboard_model.h"

namespace freezr::cli {

using nlohmann::json;

namespace {

std::optional<json> get_json(HttpClient& client, const std::string& path) {
  auto answer = client.request("GET", path);
  if (!answer || answer->status / 100 != 2) return std::nullopt;
  auto j = json::parse(answer->body, nullptr, false);
  return j.is_discarded() ? std::nullopt : std::optional<json>(j);
}

double now_wall() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Where the daemon listens: [http] listen, or the address its status snapshot records when
// the configured port is 0.
std::string address_of(const config::Config& cfg) {
  std::string listen = cfg.http.listen;
  if (listen.substr(listen.rfind(':') + 1) == "0") {
    std::ifstream in(cfg.storage.runtime_dir + "/status.json");
    auto j = json::parse(in, nullptr, false);
    if (!j.is_discarded() && !j.value("http", std::string()).empty()) listen = j["http"];
  }
  return listen;
}

void draw(const ui::DashboardModel& m) {
  erase();
  const int rows = LINES;
  int y = 0;
  for (const auto& l : m.lines) {
    if (y >= rows) break;
    int attr = A_NORMAL;
    switch (l.style) {
      case ui::Line::Style::kTitle:
        attr = A_BOLD;
        break;
      case ui::Line::Style::kWarn:
        attr = COLOR_PAIR(1);
        break;
      case ui::Line::Style::kBad:
        attr = COLOR_PAIR(2) | A_BOLD;
        break;
      case ui::Line::Style::kSelected:
        attr = A_REVERSE;
        break;
      case ui::Line::Style::kNormal:
        break;
    }
    attron(attr);
    mvaddnstr(y++, 0, l.text.c_str(), COLS);
    attroff(attr);
  }
  refresh();
}

std::string read_filter() {
  echo();
  curs_set(1);
  mvaddstr(LINES - 1, 0, "filter: ");
  clrtoeol();
  char buf[128] = {0};
  timeout(-1);
  getnstr(buf, sizeof buf - 1);
  noecho();
  curs_set(0);
  return buf;
}

// Asks the daemon to thaw pid; what to tell the user.
std::string thaw(HttpClient& client, int pid) {
  const auto answer = client.request("POST", fmt::format("/api/v1/thaw?pid={}", pid));
  if (answer && answer->status == 200) return fmt::format("thawed PID {}", pid);
  if (answer && answer->status == 409) return fmt::format("PID {} is not frozen by FreezR", pid);
  return fmt::format("thaw of PID {} failed: {}", pid,
                     answer ? "HTTP " + std::to_string(answer->status) : answer.error().message);
}

// What a key does; true for quit. note: what to tell the user under the view.
bool on_key(int key, ui::DashboardInput& in, const ui::DashboardModel& model, HttpClient& client,
            const std::string& token, std::string& note) {
  switch (key) {
    case 'q':
      return true;
    case 's':
      in.sort = ui::next(in.sort);
      break;
    case '/':
      in.filter = read_filter();
      in.selected = 0;
      break;
    case KEY_DOWN:
      in.selected = std::min(in.selected + 1, std::max(0, static_cast<int>(model.pids.size()) - 1));
      break;
    case KEY_UP:
      in.selected = std::max(0, in.selected - 1);
      break;
    case 'w':
      in.why_pid = in.why_pid > 0 || model.pids.empty()
                       ? 0
                       : model.pids[static_cast<std::size_t>(in.selected)];
      break;
    case 27:  // Esc
      in.why_pid = 0;
      break;
    case 't': {
      const bool allowed = in.status && in.status->value("control", false) && !token.empty();
      if (!allowed || model.pids.empty()) {
        note = "thaw needs control endpoints on the daemon and FREEZR_TOKEN set here";
        break;
      }
      note = thaw(client, model.pids[static_cast<std::size_t>(in.selected)]);
      break;
    }
    default:
      break;
  }
  return false;
}

}  // namespace

int cmd_dashboard(const config::Config& cfg, double interval, bool colors) {
  if (::isatty(STDIN_FILENO) == 0 || ::isatty(STDOUT_FILENO) == 0) {
    std::fprintf(stderr,
                 "freezr: the dashboard needs a terminal (standard input and output); "
                 "use the web dashboard or `freezr ps` instead\n");
    return 2;
  }
  const char* token_env = std::getenv("FREEZR_TOKEN");
  const std::string token = token_env != nullptr ? token_env : "";
  HttpClient client(address_of(cfg), token);
  std::setlocale(LC_ALL, "");
  initscr();
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  set_escdelay(25);  // Esc closes the why view at once
  curs_set(0);
  if (colors && has_colors()) {
    start_color();
    use_default_colors();
    init_pair(1, COLOR_YELLOW, -1);
    init_pair(2, COLOR_RED, -1);
  }
  ui::DashboardInput in;
  in.address = client.address();
  in.interval = interval;
  ui::DashboardModel model;
  std::string note;
  for (bool quit = false; !quit;) {
    in.status = get_json(client, "/api/v1/status");
    in.processes =
        in.status ? get_json(client, "/api/v1/processes?sort=cpu&limit=200") : std::nullopt;
    in.events = in.status ? get_json(client, "/api/v1/events?since=15m&limit=100&order=desc")
                          : std::nullopt;
    in.why = in.status && in.why_pid > 0
                 ? get_json(client, fmt::format("/api/v1/why?pid={}&limit=20", in.why_pid))
                 : std::nullopt;
    in.frozen = in.status ? get_json(client, "/api/v1/frozen") : std::nullopt;
    in.predictions = in.status ? get_json(client, "/api/v1/predictions") : std::nullopt;
    in.now = now_wall();
    in.process_rows = std::max(5, LINES - 24);
    model = ui::build_dashboard(in, COLS);
    if (!note.empty()) model.lines.push_back({note, ui::Line::Style::kWarn});
    draw(model);
    timeout(static_cast<int>(interval * 1000));
    const int key = getch();
    note.clear();
    quit = on_key(key, in, model, client, token, note);
  }
  endwin();
  return 0;
}

}  // namespace freezr::cli
