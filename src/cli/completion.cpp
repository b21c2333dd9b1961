#include "cli/completion.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace freezr::cli {
namespace {

struct Flag {
  std::string name;  // "--format" or "-c"
  std::string help;
  bool takes_value = false;
};

struct Command {
  std::string name;
  std::string help;
  std::vector<Flag> flags;    // its own options, and those of its subcommands
  std::vector<Command> subs;  // its subcommands (one level: `config check`)
};

std::vector<Flag> flags_of(const CLI::App& app) {
  std::vector<Flag> out;
  for (const auto* o : app.get_options()) {
    if (o->get_positional()) continue;
    const bool value = o->get_expected_min() > 0;
    for (const auto& l : o->get_lnames()) out.push_back({"--" + l, o->get_description(), value});
    for (const auto& s : o->get_snames()) out.push_back({"-" + s, o->get_description(), value});
  }
  return out;
}

// Adds to flags those of more it does not have yet.
void add_flags(std::vector<Flag>& flags, const std::vector<Flag>& more) {
  for (const auto& f : more) {
    if (std::none_of(flags.begin(), flags.end(), [&](const Flag& g) { return g.name == f.name; })) {
      flags.push_back(f);
    }
  }
}

// With merge, the options of the subcommands count as the command's own (`config check
// --print`); the top level offers only its own.
Command command_of(const CLI::App& app, bool merge) {
  Command c{app.get_name(), app.get_description(), flags_of(app), {}};
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    auto child = command_of(*sub, true);
    if (merge) add_flags(c.flags, child.flags);
    c.subs.push_back(std::move(child));
  }
  return c;
}

// The top level's options (but --help and --version) go after any command too: `freezr check
// --config FILE`.
void add_global_flags(Command& top) {
  std::vector<Flag> global;
  for (const auto& f : top.flags) {
    if (f.name != "--help" && f.name != "-h" && f.name != "--version" && f.name != "-V") {
      global.push_back(f);
    }
  }
  for (auto& s : top.subs) add_flags(s.flags, global);
}

// Text safe inside single quotes in all three shells.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::string words(const Command& c, bool with_subs) {
  std::string out;
  if (with_subs) {
    for (const auto& s : c.subs) out += s.name + " ";
  }
  for (const auto& f : c.flags) out += f.name + " ";
  if (!out.empty()) out.pop_back();
  return out;
}

std::string bash(const Command& top) {
  std::string names, cases;
  for (const auto& s : top.subs) {
    names += (names.empty() ? "" : "|") + s.name;
    cases += fmt::format("    {}) words={} ;;\n", s.name, quoted(words(s, true)));
  }
  return fmt::format(
      "# bash completion for freezr (`freezr completion bash`)\n"
      "_freezr() {{\n"
      "  local cur=\"${{COMP_WORDS[COMP_CWORD]}}\" sub=\"\" words i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    case \"${{COMP_WORDS[i]}}\" in\n"
      "      {}) sub=\"${{COMP_WORDS[i]}}\"; break ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$sub\" in\n"
      "{}"
      "    *) words={} ;;\n"
      "  esac\n"
      "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "}}\n"
      "complete -o default -F _freezr freezr process-monitor\n",
      names, cases, quoted(words(top, true)));
}

std::string zsh_items(const Command& c) {
  std::string out;
  for (const auto& s : c.subs) out += "    " + quoted(s.name + ":" + s.help) + "\n";
  for (const auto& f : c.flags) out += "    " + quoted(f.name + ":" + f.help) + "\n";
  return out;
}

std::string zsh(const Command& top) {
  std::string cases;
  for (const auto& s : top.subs) {
    cases += fmt::format("    {})\n      items=(\n{}      ) ;;\n", s.name, zsh_items(s));
  }
  std::string names;
  for (const auto& s : top.subs) names += (names.empty() ? "" : "|") + s.name;
  return fmt::format(
      "#compdef freezr process-monitor\n"
      "# zsh completion for freezr (`freezr completion zsh`)\n"
      "_freezr() {{\n"
      "  local sub word\n"
      "  local -a items\n"
      "  for word in ${{words[2,CURRENT-1]}}; do\n"
      "    case $word in\n"
      "      {}) sub=$word; break ;;\n"
      "    esac\n"
      "  done\n"
      "  case $sub in\n"
      "{}"
      "    *)\n      items=(\n{}      ) ;;\n"
      "  esac\n"
      "  _describe -t commands freezr items\n"
      "}}\n"
      "compdef _freezr freezr process-monitor\n",
      names, cases, zsh_items(top));
}

std::string fish_flag(const std::string& condition, const Flag& f) {
  const bool is_long = f.name.rfind("--", 0) == 0;
  return fmt::format("complete -c freezr -n {} -{} {}{} -d {}\n", quoted(condition),
                     is_long ? "l" : "s", f.name.substr(is_long ? 2 : 1),
                     f.takes_value ? " -r" : "", quoted(f.help));
}

std::string fish(const Command& top) {
  std::string out = "# fish completion for freezr (`freezr completion fish`)\n";
  for (const auto& s : top.subs) {
    out += fmt::format("complete -c freezr -n __fish_use_subcommand -f -a {} -d {}\n",
                       quoted(s.name), quoted(s.help));
  }
  for (const auto& f : top.flags) out += fish_flag("__fish_use_subcommand", f);
  for (const auto& s : top.subs) {
    const std::string seen = "__fish_seen_subcommand_from " + s.name;
    for (const auto& n : s.subs) {
      out += fmt::format("complete -c freezr -n {} -f -a {} -d {}\n", quoted(seen), quoted(n.name),
                         quoted(n.help));
    }
    for (const auto& f : s.flags) out += fish_flag(seen, f);
  }
  out += "complete -c process-monitor -w freezr\n";
  return out;
}

}  // namespace

std::string completion_script(const CLI::App& app, const std::string& shell) {
  auto top = command_of(app, false);
  add_global_flags(top);
  if (shell == "zsh") return zsh(top);
  if (shell == "fish") return fish(top);
  return bash(top);
}

}  // namespace freezr::cli
