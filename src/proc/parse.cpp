#include "proc/parse.h"

#include <charconv>
#include <cstdlib>
#include <vector>

namespace freezr::proc {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

template <typename T>
bool to_int(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool to_double(std::string_view s, double& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Splits on single spaces, skipping empty tokens, up to max tokens.
std::vector<std::string_view> split_ws(std::string_view s, std::size_t max) {
  std::vector<std::string_view> out;
  out.reserve(max);
  std::size_t i = 0;
  while (i < s.size() && out.size() < max) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\n' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Calls f(line) for every line of text (without the newline); stops early when f returns false.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (!f(text.substr(pos, end - pos))) return;
    pos = end + 1;
  }
}

}  // namespace

Result<StatFields> parse_stat(std::string_view text) {
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return parse_error("stat: no '(comm)'");
  }
  StatFields f;
  if (!to_int(trim(text.substr(0, open)), f.pid)) return parse_error("stat: bad pid");
  f.comm = std::string(text.substr(open + 1, close - open - 1));
  // Fields after comm, numbered from 3 (state) as in proc(5).
  const auto rest = split_ws(text.substr(close + 1), 22);
  if (rest.size() < 22) return parse_error("stat: truncated");
  if (rest[0].size() != 1) return parse_error("stat: bad state");
  f.state = rest[0][0];
  auto field = [&](int n) { return rest[static_cast<std::size_t>(n - 3)]; };
  bool ok = to_int(field(4), f.ppid) && to_int(field(5), f.pgrp) && to_int(field(6), f.session) &&
            to_int(field(9), f.flags) && to_int(field(14), f.utime) && to_int(field(15), f.stime) &&
            to_int(field(16), f.cutime) && to_int(field(17), f.cstime) &&
            to_int(field(19), f.nice) && to_int(field(20), f.num_threads) &&
            to_int(field(22), f.start_time) && to_int(field(23), f.vsize) &&
            to_int(field(24), f.rss_pages);
  if (!ok) return parse_error("stat: bad number");
  return f;
}

Result<std::uint32_t> parse_status_uid(std::string_view text) {
  std::optional<std::string_view> uid_line;
  for_each_line(text, [&](std::string_view line) {
    if (line.substr(0, 4) == "Uid:") uid_line = line.substr(4);
    return !uid_line;
  });
  if (!uid_line) return parse_error("status: no Uid line");
  auto toks = split_ws(*uid_line, 1);
  std::uint32_t uid = 0;
  if (toks.empty() || !to_int(toks[0], uid)) return parse_error("status: bad Uid line");
  return uid;
}

std::string join_cmdline(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string out(raw);
  for (auto& c : out) {
    if (c == '\0') c = ' ';
  }
  return out;
}

Result<MemInfo> parse_meminfo(std::string_view text) {
  MemInfo m;
  bool have_total = false, have_avail = false;
  for_each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return true;
    auto key = line.substr(0, colon);
    auto toks = split_ws(line.substr(colon + 1), 1);
    std::uint64_t v = 0;
    if (toks.empty() || !to_int(toks[0], v)) return true;
    if (key == "MemTotal") {
      m.total_kb = v;
      have_total = true;
    } else if (key == "MemAvailable") {
      m.available_kb = v;
      have_avail = true;
    } else if (key == "SwapTotal") {
      m.swap_total_kb = v;
    } else if (key == "SwapFree") {
      m.swap_free_kb = v;
    }
    return true;
  });
  if (!have_total || !have_avail) return parse_error("meminfo: MemTotal or MemAvailable missing");
  if (m.available_kb > m.total_kb) return parse_error("meminfo: MemAvailable > MemTotal");
  return m;
}

namespace {
// "Key:   value[ kB]" lines: calls f(key, value) for each whose value is a number.
template <typename F>
void for_each_number(std::string_view text, F&& f) {
  for_each_line(text, [&](std::string_view line) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return true;
    const auto toks = split_ws(line.substr(colon + 1), 2);
    std::uint64_t v = 0;
    if (!toks.empty() && to_int(toks[0], v)) f(line.substr(0, colon), v);
    return true;
  });
}
}  // namespace

Result<IoCounters> parse_io(std::string_view text) {
  IoCounters c;
  int found = 0;
  for_each_number(text, [&](std::string_view key, std::uint64_t v) {
    if (key == "read_bytes") c.read_bytes = v, found |= 1;
    if (key == "write_bytes") c.write_bytes = v, found |= 2;
  });
  if (found != 3) return parse_error("io: read_bytes or write_bytes missing");
  return c;
}

Result<SmapsRollup> parse_smaps_rollup(std::string_view text) {
  SmapsRollup m;
  int found = 0;
  for_each_number(text, [&](std::string_view key, std::uint64_t kb) {
    const std::uint64_t v = kb * 1024;
    if (key == "Rss") m.rss = v, found |= 1;
    if (key == "Pss") m.pss = v, found |= 2;
    if (key == "Private_Clean" || key == "Private_Dirty") m.private_bytes += v, found |= 4;
    if (key == "Swap") m.swap = v;
  });
  if (found != 7) return parse_error("smaps_rollup: Rss, Pss or Private_* missing");
  if (m.pss > m.rss + m.swap || m.private_bytes > m.rss) {
    return parse_error("smaps_rollup: figures that cannot hold together");
  }
  return m;
}

std::optional<KernelOomKill> parse_kmsg_oom_kill(std::string_view record) {
  const auto semi = record.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  auto msg = record.substr(semi + 1);
  constexpr std::string_view kKilled = "of memory: Killed process ";
  const auto at = msg.find(kKilled);
  if (at == std::string_view::npos) return std::nullopt;
  KernelOomKill k;
  k.cgroup_limit = msg.substr(0, at).find("cgroup") != std::string_view::npos;
  msg.remove_prefix(at + kKilled.size());
  const auto open = msg.find(" (");
  // The name is up to the last ") " before the fields: a process may put ") " in its name.
  const auto close = msg.rfind(") ");
  const auto close_end = msg.size() >= 1 && msg.back() == ')' ? msg.size() - 1 : close;
  const auto end = close == std::string_view::npos ? close_end : close;
  if (open == std::string_view::npos || end == std::string_view::npos || end <= open ||
      !to_int(msg.substr(0, open), k.pid) || k.pid <= 0) {
    return std::nullopt;
  }
  k.comm = std::string(msg.substr(open + 2, end - open - 2));
  for (auto tok : split_ws(msg.substr(end + 1), 32)) {
    if (!tok.empty() && tok.back() == ',') tok.remove_suffix(1);
    const auto colon = tok.find(':');
    if (colon == std::string_view::npos) continue;
    const auto key = tok.substr(0, colon);
    auto val = tok.substr(colon + 1);
    if (val.ends_with("kB")) val.remove_suffix(2);
    if (key == "anon-rss") {
      (void)to_int(val, k.anon_rss_kb);
    } else if (key == "UID") {
      std::uint32_t uid = 0;
      if (to_int(val, uid)) k.uid = uid;
    } else if (key == "oom_score_adj") {
      int adj = 0;
      if (to_int(val, adj)) k.oom_score_adj = adj;
    }
  }
  return k;
}

std::optional<std::uint64_t> parse_vmstat_oom_kills(std::string_view text) {
  std::optional<std::uint64_t> out;
  for_each_line(text, [&](std::string_view line) {
    if (!line.starts_with("oom_kill ")) return true;
    std::uint64_t v = 0;
    if (to_int(trim(line.substr(9)), v)) out = v;
    return false;
  });
  return out;
}

Result<LoadAvg> parse_loadavg(std::string_view text) {
  auto toks = split_ws(text, 4);
  LoadAvg l;
  if (toks.size() < 4 || !to_double(toks[0], l.one) || !to_double(toks[1], l.five) ||
      !to_double(toks[2], l.fifteen)) {
    return parse_error("loadavg: malformed");
  }
  auto slash = toks[3].find('/');
  if (slash == std::string_view::npos || !to_int(toks[3].substr(0, slash), l.running) ||
      !to_int(toks[3].substr(slash + 1), l.total)) {
    return parse_error("loadavg: malformed run queue");
  }
  return l;
}

namespace {
Result<PressureLine> parse_pressure_fields(std::string_view rest) {
  PressureLine p;
  bool a10 = false, a60 = false, a300 = false, tot = false;
  for (auto tok : split_ws(rest, 16)) {
    auto eq = tok.find('=');
    if (eq == std::string_view::npos) return parse_error("pressure: token without '='");
    auto key = tok.substr(0, eq);
    auto val = tok.substr(eq + 1);
    bool ok = true;
    if (key == "avg10") {
      ok = to_double(val, p.avg10), a10 = true;
    } else if (key == "avg60") {
      ok = to_double(val, p.avg60), a60 = true;
    } else if (key == "avg300") {
      ok = to_double(val, p.avg300), a300 = true;
    } else if (key == "total") {
      ok = to_int(val, p.total_us), tot = true;
    }  // unknown keys from newer kernels are ignored
    if (!ok) return parse_error("pressure: bad number");
  }
  if (!a10 || !a60 || !a300 || !tot) return parse_error("pressure: missing field");
  return p;
}
}  // namespace

Result<Pressure> parse_pressure(std::string_view text) {
  Pressure out;
  bool have_some = false;
  std::optional<Error> error;
  for_each_line(text, [&](std::string_view raw) {
    const auto line = trim(raw);
    if (line.empty()) return true;
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) {
      error = parse_error("pressure: malformed line");
      return false;
    }
    const auto kind = line.substr(0, sp);
    auto fields = parse_pressure_fields(line.substr(sp + 1));
    if (!fields) {
      error = fields.error();
    } else if (kind == "some") {
      out.some = *fields;
      have_some = true;
    } else if (kind == "full") {
      out.full = *fields;
    } else {
      error = parse_error("pressure: unknown line kind");
    }
    return !error;
  });
  if (error) return *error;
  if (!have_some) return parse_error("pressure: no 'some' line");
  return out;
}

namespace {
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::vector<Mount> parse_mountinfo(std::string_view text) {
  std::vector<Mount> out;
  for_each_line(text, [&](std::string_view line) {
    const auto sep = line.find(" - ");
    if (sep == std::string_view::npos) return true;
    const auto left = split_ws(line.substr(0, sep), 6);
    const auto right = split_ws(line.substr(sep + 3), 3);
    if (left.size() >= 5 && right.size() >= 3) {
      out.push_back(Mount{unescape_octal(left[3]), unescape_octal(left[4]), std::string(right[0]),
                          std::string(right[2])});
    }
    return true;
  });
  return out;
}

std::optional<std::string> parse_cgroup_path(std::string_view text, std::string_view controller) {
  std::optional<std::string> found;
  for_each_line(text, [&](std::string_view line) {
    const auto c1 = line.find(':');
    const auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) return true;
    const auto controllers = line.substr(c1 + 1, c2 - c1 - 1);
    const auto path = line.substr(c2 + 1);
    if (controller.empty()) {
      if (line.substr(0, c1) == "0" && controllers.empty()) found = std::string(path);
      return !found;
    }
    for (std::size_t p = 0; p <= controllers.size();) {
      auto comma = controllers.find(',', p);
      if (comma == std::string_view::npos) comma = controllers.size();
      if (controllers.substr(p, comma - p) == controller) found = std::string(path);
      p = comma + 1;
    }
    return !found;
  });
  return found;
}

}  // namespace freezr::proc
