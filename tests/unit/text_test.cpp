// Text from processes made terminal-safe, and UTF-8 checked, byte by byte.
#include "core/text.h"

#include <gtest/gtest.h>

#include "report/log_lines.h"

namespace freezr {
namespace {

TEST(TerminalSafe, EscapesC0C1AndBidiButKeepsOtherScripts) {
  EXPECT_EQ(terminal_safe("node"), "node");
  EXPECT_EQ(terminal_safe("\x1b[2Jwiped"), "\\x1b[2Jwiped");
  EXPECT_EQ(terminal_safe("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  EXPECT_EQ(terminal_safe("a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
  EXPECT_EQ(terminal_safe("a\nb", true), "a\nb");
  EXPECT_EQ(terminal_safe("\xc2\x9b"
                          "2J"),
            "\\u009b2J");  // C1 CSI, as UTF-8
  EXPECT_EQ(terminal_safe("\xc2\x9d"
                          "0;x"),
            "\\u009d0;x");  // C1 OSC
  EXPECT_EQ(terminal_safe("\xe2\x80\xae"
                          "gpj.exe"),
            "\\u202egpj.exe");  // right-to-left override
  EXPECT_EQ(terminal_safe("Телеграм 🚀"), "Телеграм 🚀");
  EXPECT_EQ(terminal_safe(std::string("a\0b", 3)), "a\\x00b");
}

TEST(TerminalSafe, UnicodeEscapesAreWhatTomlReads) {
  EXPECT_EQ(unicode_escaped("\x1b[2J\xc2\x9bok\x7f"), "\\u001b[2J\\u009bok\\u007f");
  EXPECT_EQ(unicode_escaped("日本"), "日本");
}

TEST(TerminalSafe, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(terminal_safe("\x9b"
                          "2J"),
            "\\x9b2J");                                         // a raw C1 byte
  EXPECT_EQ(terminal_safe("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(terminal_safe("\xf5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80");
  EXPECT_EQ(terminal_safe("ok\xe2\x82"), "ok\\xe2\\x82");  // cut short
}

TEST(Utf8, ValidityAndReplacement) {
  EXPECT_TRUE(valid_utf8("plain, Ünïcödé, 日本語, 🚀"));
  for (const char* bad : {"\xc0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf",
                          "\xff", "\x80", "\xe2\x82"}) {
    EXPECT_FALSE(valid_utf8(bad)) << bad;
    EXPECT_TRUE(valid_utf8(valid_utf8_or_replaced(bad)));
  }
  EXPECT_EQ(valid_utf8_or_replaced("a\xff"
                                   "b"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(TerminalSafe, LogLinesEscapeNamesInFieldsAndMessages) {
  const std::string line = report::render_text("action", {{"name", std::string("\x1b[2J\xc2\x9b")}},
                                               "sent SIGTERM to \x1b]0;pwned\x07");
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos) << line;
  EXPECT_NE(line.find("name=\"\\x1b[2J\\u009b\""), std::string::npos) << line;
  EXPECT_NE(line.find("to \\x1b]0;pwned\\x07"), std::string::npos) << line;
}

TEST(ConstantTimeEqual, EqualOnlyWhenEveryByteAndTheLengthAgree) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("s3cret", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cre"));
  EXPECT_FALSE(constant_time_equal("s3cre", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3cret", "S3cret"));
  EXPECT_FALSE(constant_time_equal(std::string("a\0", 2), "a"));
  EXPECT_FALSE(constant_time_equal("", "x"));
}

}  // namespace
TEST(CpuList, ParsesAndFormatsTheKernelsForm) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("3,1,1"), (std::vector<int>{1, 3}));
  EXPECT_EQ(format_cpu_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(format_cpu_list({}), "");
  for (const char* bad : {"", "-1", "3-1", "1,", ",1", "a", "1-", "0-99999", "1 2"}) {
    EXPECT_FALSE(parse_cpu_list(bad)) << bad;
  }
}

}  // namespace freezr
