// Text from processes (names, command lines) made safe to show: a process chooses its own name,
// and a name holding ESC[2J or an OSC title sequence must not reach a terminal as such.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace freezr {

// Whether s is well-formed UTF-8 (no overlong forms, surrogates or code points over U+10FFFF).
bool valid_utf8(std::string_view s);

// s with every byte that could steer a terminal or mislead a reader escaped: C0 controls and
// DEL as \xHH (a newline kept as is when keep_newlines), C1 controls (U+0080–U+009F) and the
// bidirectional overrides and line separators (U+200E/F, U+2028–U+202E, U+2066–U+2069) as
// \uHHHH, and bytes that are not UTF-8 as \xHH. Everything else, other scripts and emoji
// included, passes unchanged.
std::string terminal_safe(std::string_view s, bool keep_newlines = false);

// The same escapes, C0 controls too as \uHHHH: what a TOML or JSON string may hold. s is
// expected to be UTF-8 (bytes that are not are escaped as \xHH, which neither format reads).
std::string unicode_escaped(std::string_view s);

// s with every byte sequence that is not UTF-8 replaced by U+FFFD: what label values and JSON
// need.
std::string valid_utf8_or_replaced(std::string_view s);

// Whether a and b are equal, in a time that depends on their lengths only: how secrets (a token,
// a password hash) are compared, so that timing cannot tell how much of a guess was right.
bool constant_time_equal(std::string_view a, std::string_view b);

// A CPU list as the kernel writes one ("0-3,8,10-11"): the CPUs in increasing order, without
// repeats; nullopt when malformed or naming a CPU over 4095.
std::optional<std::vector<int>> parse_cpu_list(std::string_view s);
// The list in the same form, ranges joined.
std::string format_cpu_list(const std::vector<int>& cpus);

}  // namespace freezr
