#include "store/ledger.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace freezr::store {

using nlohmann::json;

namespace {

constexpr const char* kHeaderKey = "freezr_ledger";

// An entry from one line, or why the line is not one FreezR could have written.
Result<LedgerEntry> entry_of(const json& j) {
  if (!j.is_object()) return parse_error("not an object");
  const auto integer = [&](const char* key, std::int64_t min) -> std::optional<std::int64_t> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    const auto v = it->get<std::int64_t>();
    return v >= min ? std::optional<std::int64_t>(v) : std::nullopt;
  };
  const auto text = [&](const char* key) -> std::optional<std::string> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  LedgerEntry e;
  const auto id = integer("id", 1), pid = integer("pid", 0), start = integer("start_time", 1);
  const auto kind = text("kind"), rule = text("rule"), data = text("data");
  const auto at = j.find("applied_at");
  if (!id || !pid || *pid > 0x3fffffff || !start)
    return parse_error("no valid id, pid or start_time");
  if (!kind || !rule || !data) return parse_error("no kind, rule or data");
  if (at == j.end() || !at->is_number() || !std::isfinite(at->get<double>())) {
    return parse_error("no applied_at");
  }
  e.id = *id;
  e.process = ProcessId{static_cast<Pid>(*pid), static_cast<std::uint64_t>(*start)};
  e.kind = *kind;
  e.rule = *rule;
  e.data = *data;
  e.applied_at = at->get<double>();
  return e;
}

}  // namespace

LedgerFile parse_ledger(std::string_view text) {
  LedgerFile out;
  bool header = false;
  std::int64_t highest = 0;
  std::size_t line_no = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto end = std::min(text.find('\n', at), text.size());
    const auto line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, false);
    if (line_no == 1 && j.is_object() && j.contains(kHeaderKey)) {
      const auto next = j.find("next_id");
      if (next != j.end() && next->is_number_integer() && next->get<std::int64_t>() > 0) {
        out.next_id = next->get<std::int64_t>();
        header = true;
      }
      continue;
    }
    auto e = j.is_discarded() ? Result<LedgerEntry>(parse_error("not JSON")) : entry_of(j);
    const bool duplicate = e && std::any_of(out.entries.begin(), out.entries.end(),
                                            [&](const LedgerEntry& x) { return x.id == e->id; });
    if (!e || duplicate) {
      out.problems.push_back(
          "ledger line " + std::to_string(line_no) + " dropped: " +
          (e ? "a second entry with id " + std::to_string(e->id) : e.error().message));
      continue;
    }
    highest = std::max(highest, e->id);
    out.entries.push_back(std::move(e).value());
  }
  if (!header && !text.empty()) out.problems.push_back("the ledger's header is missing or damaged");
  if (text.empty()) out.problems.push_back("the ledger file is empty (it was truncated)");
  out.next_id = std::max(out.next_id, highest + 1);
  return out;
}

std::string render_ledger(const LedgerFile& ledger) {
  std::string out = json{{kHeaderKey, 1}, {"next_id", ledger.next_id}}.dump() + "\n";
  for (const auto& e : ledger.entries) {
    out += json{{"id", e.id},
                {"pid", e.process.pid},
                {"start_time", e.process.start_time},
                {"kind", e.kind},
                {"rule", e.rule},
                {"data", e.data},
                {"applied_at", e.applied_at}}
               .dump(-1, ' ', false, json::error_handler_t::replace) +
           "\n";
  }
  return out;
}

Result<LedgerFile> Ledger::load() {
  if (dir_ == nullptr) return memory_;
  auto fd = dir_->open_existing(kLedgerFile, O_RDONLY);
  if (!fd) {
    if (fd.error().gone()) return LedgerFile{};
    return fd.error();
  }
  auto text = fs::read_to_end(*fd, kMaxLedgerBytes);
  ::close(*fd);
  if (!text && text.error().code == EFBIG) {
    return error_of(ErrorKind::kParse, dir_->path_of(kLedgerFile) + " is larger than " +
                                           std::to_string(kMaxLedgerBytes >> 20) +
                                           " MiB: not a ledger FreezR wrote");
  }
  if (!text) return text.error();
  auto f = parse_ledger(*text);
  for (auto& p : f.problems) problems_.push_back(dir_->path_of(kLedgerFile) + ": " + p);
  f.problems.clear();
  return f;
}

Result<void> Ledger::save(const LedgerFile& f) {
  if (dir_ == nullptr) {
    memory_ = f;
    return {};
  }
  return dir_->write_atomically(kLedgerFile, render_ledger(f), 0600, true);
}

template <typename Change>
Result<void> Ledger::update(Change change) {
  std::optional<fs::Directory::Lock> lock;
  if (dir_ != nullptr) {
    auto l = dir_->lock();
    if (!l) return l.error();
    lock.emplace(std::move(*l));
  }
  auto f = load();
  if (!f) return f.error();
  if (!change(*f)) return {};
  return save(*f);
}

Result<std::int64_t> Ledger::add(const LedgerEntry& e) {
  std::int64_t id = 0;
  auto r = update([&](LedgerFile& f) {
    id = f.next_id++;
    LedgerEntry copy = e;
    copy.id = id;
    f.entries.push_back(std::move(copy));
    return true;
  });
  if (!r) return r.error();
  return id;
}

bool Ledger::remove(std::int64_t id) {
  bool found = false;
  auto r = update([&](LedgerFile& f) {
    const auto it = std::find_if(f.entries.begin(), f.entries.end(),
                                 [&](const LedgerEntry& e) { return e.id == id; });
    found = it != f.entries.end();
    if (found) f.entries.erase(it);
    return found;
  });
  return r && found;
}

bool Ledger::contains(std::int64_t id) {
  const auto entries = all();
  return std::any_of(entries.begin(), entries.end(),
                     [&](const LedgerEntry& e) { return e.id == id; });
}

std::vector<LedgerEntry> Ledger::all() {
  auto f = load();
  if (!f) {
    problems_.push_back(f.error().message);
    return {};
  }
  return f->entries;
}

std::vector<std::string> Ledger::take_problems() { return std::exchange(problems_, {}); }

Result<int> Ledger::import_from(Database& db) {
  std::vector<LedgerEntry> rows;
  {
    auto& st = db.prepare(
        "SELECT id, pid, start_time, kind, rule, data, applied_at FROM ledger ORDER BY id");
    while (st.step()) {
      LedgerEntry e;
      e.process = ProcessId{static_cast<Pid>(st.int64(1)), static_cast<std::uint64_t>(st.int64(2))};
      e.kind = st.text(3);
      e.rule = st.text(4);
      e.data = st.text(5);
      e.applied_at = st.real(6);
      rows.push_back(std::move(e));
    }
    st.reset();
  }
  if (rows.empty()) return 0;
  auto r = update([&](LedgerFile& f) {
    for (auto& e : rows) {
      e.id = f.next_id++;
      f.entries.push_back(e);
    }
    return true;
  });
  if (!r) return r.error();
  if (const auto err = db.exec("DELETE FROM ledger"); !err.empty()) {
    return error_of(ErrorKind::kIo, "the history's old ledger table was not emptied: " + err);
  }
  return static_cast<int>(rows.size());
}

}  // namespace freezr::store
