// The category library: the shipped categories.toml and a configuration's [[category]] tables.
#include <set>

#include "config/readers.h"

namespace freezr::config {

namespace {

engine::Category read_category(TableReader t) {
  engine::Category c;
  auto name = t.string("name");
  if (!name || name->empty()) t.fail(t.raw().source(), t.where() + ": 'name' is required");
  c.name = *name;
  c.description = t.string("description").value_or("");
  // Each kind of pattern is one alternative: any of them makes a process of the category.
  engine::Match all, by_comm, by_exe, by_cmdline;
  read_patterns(t, all);
  by_comm.comm = std::move(all.comm);
  by_exe.exe = std::move(all.exe);
  by_cmdline.cmdline = std::move(all.cmdline);
  for (auto* m : {&by_comm, &by_exe, &by_cmdline}) {
    if (!m->comm.empty() || !m->exe.empty() || m->cmdline) c.any.push_back(std::move(*m));
  }
  if (c.any.empty()) {
    t.fail(t.raw().source(), t.where() + " '" + c.name + "': give comm, exe or cmdline");
  }
  t.finish();
  return c;
}

std::vector<engine::Category> read_list(TableReader& top) {
  std::vector<engine::Category> out;
  const toml::node* n = top.node("category");
  if (n == nullptr) return out;
  const auto* arr = n->as_array();
  if (arr == nullptr) {
    top.fail(n->source(), "'category' must be an array of tables: write [[category]]");
  }
  std::set<std::string> names;
  int index = 0;
  for (const auto& el : *arr) {
    ++index;
    const auto* t = el.as_table();
    if (t == nullptr) top.fail(el.source(), "each [[category]] entry must be a table");
    auto c = read_category(TableReader(*t, top.file(), "[[category]] #" + std::to_string(index)));
    if (!names.insert(c.name).second) {
      top.fail(t->source(),
               "[[category]] #" + std::to_string(index) + ": duplicate name '" + c.name + "'");
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::vector<engine::Category> shipped_categories(int* version) {
  static const auto kLibrary = [] {
    const std::string source = "(category library)";
    toml::table root = toml::parse(categories_text(), source);
    TableReader top(root, source, "the category library");
    const auto v = top.integer("version", 1, 1000000);
    auto list = read_list(top);
    top.finish();
    return std::pair<int, std::vector<engine::Category>>(static_cast<int>(v.value_or(0)), list);
  }();
  if (version != nullptr) *version = kLibrary.first;
  return kLibrary.second;
}

void read_categories(TableReader& top, Config& c) {
  c.categories = read_list(top);
  std::set<std::string> own;
  for (const auto& cat : c.categories) own.insert(cat.name);
  for (auto& cat : shipped_categories(&c.categories_version)) {
    if (own.count(cat.name) == 0U) c.categories.push_back(std::move(cat));
  }
}

}  // namespace freezr::config
