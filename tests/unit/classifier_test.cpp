#include "engine/classifier.h"

#include <gtest/gtest.h>

#include "engine_fixtures.h"

namespace freezr::engine {
namespace {

using testing::FakeInfo;
using testing::proc;
using testing::snap;

Rule rule(const std::string& name, Match m) {
  Rule r;
  r.name = name;
  r.match = std::move(m);
  Step st;
  st.cpu_percent = 50;
  r.steps = {st};
  return r;
}

TEST(Matches, CommIsExact) {
  FakeInfo info;
  Match m;
  m.comm = {"node"};
  EXPECT_TRUE(matches(m, proc(5, "node", 0, 0), info));
  EXPECT_FALSE(matches(m, proc(5, "nodejs", 0, 0), info));
  EXPECT_FALSE(matches(m, proc(5, "nod", 0, 0), info));
  EXPECT_EQ(info.reads, 0);  // comm alone needs no extra reads
}

TEST(Matches, ExeByBasenameOrAbsolutePath) {
  FakeInfo info;
  info.facts[5].exe = "/usr/bin/node";
  info.facts[6].exe = "/opt/other/node";
  Match base;
  base.exe = {"node"};
  EXPECT_TRUE(matches(base, proc(5, "x", 0, 0), info));
  EXPECT_TRUE(matches(base, proc(6, "x", 0, 0), info));
  Match full;
  full.exe = {"/usr/bin/node"};
  EXPECT_TRUE(matches(full, proc(5, "x", 0, 0), info));
  EXPECT_FALSE(matches(full, proc(6, "x", 0, 0), info));
  EXPECT_FALSE(matches(full, proc(7, "x", 0, 0), info));  // exe unknown
}

TEST(Matches, CmdlineRegexAndUserAreAnded) {
  FakeInfo info;
  info.facts[5] = {"node /srv/app/server.js", "/usr/bin/node", 1000};
  info.facts[6] = {"node /srv/other.js", "/usr/bin/node", 1000};
  info.facts[7] = {"node /srv/app/server.js", "/usr/bin/node", 0};
  Match m;
  m.cmdline = *Regex::compile("app/server\\.js$");
  m.uids = {1000};
  EXPECT_TRUE(matches(m, proc(5, "node", 0, 0), info));
  EXPECT_FALSE(matches(m, proc(6, "node", 0, 0), info));
  EXPECT_FALSE(matches(m, proc(7, "node", 0, 0), info));
}

TEST(Matches, ByUnitSliceAndContainerAndedWithTheRest) {
  FakeInfo info;
  info.facts[5].placement = proc::parse_placement(
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-7.scope\n");
  info.facts[6].placement = proc::parse_placement("0::/system.slice/kesl.service\n");
  info.facts[7].placement =
      proc::parse_placement("0::/system.slice/docker-0123456789abcdef0123456789abcdef.scope\n");
  Match unit;
  unit.unit = {"app-firefox-*.scope"};
  EXPECT_TRUE(matches(unit, proc(5, "firefox", 0, 0), info));
  EXPECT_FALSE(matches(unit, proc(6, "kesl", 0, 0), info));
  Match manager;  // the system manager's unit takes in every app of the user
  manager.unit = {"user@1000.service"};
  EXPECT_TRUE(matches(manager, proc(5, "firefox", 0, 0), info));
  Match slice;  // any slice above the process
  slice.slice = {"user.slice"};
  EXPECT_TRUE(matches(slice, proc(5, "firefox", 0, 0), info));
  EXPECT_FALSE(matches(slice, proc(6, "kesl", 0, 0), info));
  slice.comm = {"other"};
  EXPECT_FALSE(matches(slice, proc(5, "firefox", 0, 0), info));
  Match container;
  container.container = {"0123"};
  EXPECT_TRUE(matches(container, proc(7, "nginx", 0, 0), info));
  EXPECT_FALSE(matches(container, proc(6, "kesl", 0, 0), info));
  Match nowhere;
  nowhere.unit = {"*"};
  EXPECT_FALSE(matches(nowhere, proc(8, "x", 0, 0), info));  // no unit known: no match
}

TEST(Matches, CheapCriteriaFirst) {
  FakeInfo info;
  Match m;
  m.comm = {"kesl"};
  m.cmdline = *Regex::compile("x");
  EXPECT_FALSE(matches(m, proc(5, "bash", 0, 0), info));
  EXPECT_EQ(info.reads, 0);
}

TEST(Regex, RejectsBadPatternsAndSurvivesLongInput) {
  const auto bad = Regex::compile("(unclosed");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("missing )"), std::string::npos) << bad.error().message;
  auto re = Regex::compile("(a+)+b");
  ASSERT_TRUE(re);
  EXPECT_FALSE(re->search(std::string(proc::kMaxCmdline, 'a')));
}

TEST(Classifier, MembersPerRuleSkipsKernelThreadsAndZombies) {
  Match node;
  node.comm = {"node"};
  Match any_b;
  any_b.cmdline = *Regex::compile("b");
  std::vector<Rule> rules = {rule("node", node), rule("b", any_b)};
  FakeInfo info;
  info.facts[3].cmdline = "b";
  info.facts[4].cmdline = "b";
  auto k = proc(4, "node", 0, 0);
  k.kernel_thread = true;
  auto z = proc(5, "node", 0, 0);
  z.state = 'Z';
  auto s = snap(0, {proc(2, "node", 0, 0), proc(3, "node", 0, 0), k, z});
  Classifier c(&rules);
  auto cls = c.classify(s, info);
  EXPECT_EQ(cls.members[0], (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(cls.members[1], (std::vector<std::size_t>{1}));
  EXPECT_EQ(cls.first_rule, (std::vector<int>{0, 0, -1, -1}));
}

TEST(Classifier, CachesByIdentityAndReclassifiesAfterExec) {
  Match m;
  m.cmdline = *Regex::compile("worker");
  std::vector<Rule> rules = {rule("w", m)};
  FakeInfo info;
  info.facts[9].cmdline = "worker --x";
  Classifier c(&rules);
  auto s = snap(0, {proc(9, "python", 0, 0)});
  EXPECT_EQ(c.classify(s, info).members[0].size(), 1U);
  const int reads = info.reads;
  EXPECT_EQ(c.classify(s, info).members[0].size(), 1U);
  EXPECT_EQ(info.reads, reads);  // cached
  // exec: same identity, new name and command line
  info.facts[9].cmdline = "idle";
  auto s2 = snap(1, {proc(9, "sleep", 0, 0)});
  EXPECT_TRUE(c.classify(s2, info).members[0].empty());
  EXPECT_EQ(info.forgets, 1);
}

TEST(Classifier, AnExecUnderTheSameNameIsMatchedAfreshOnceForgotten) {
  Match m;
  m.cmdline = *Regex::compile("worker");
  std::vector<Rule> rules = {rule("w", m)};
  FakeInfo info;
  info.facts[9].cmdline = "idle";
  Classifier c(&rules);
  const auto s = snap(0, {proc(9, "python", 0, 0)});
  EXPECT_TRUE(c.classify(s, info).members[0].empty());
  info.facts[9].cmdline = "worker --x";                 // exec'd: same identity, same name
  EXPECT_TRUE(c.classify(s, info).members[0].empty());  // still the cached verdict
  c.forget(s.processes[0].id);
  EXPECT_EQ(c.classify(s, info).members[0].size(), 1U);
}

TEST(Regex, RefusesWhatCannotBeMatchedInLinearTimeOrIsLarge) {
  EXPECT_TRUE(Regex::compile("node .*server\\.js --port [0-9]{2,5}"));
  EXPECT_TRUE(Regex::compile("(a{50}){10}"));
  const auto backref = Regex::compile("(.*)(.*)\\2c");
  ASSERT_FALSE(backref);
  EXPECT_NE(backref.error().message.find("back-references are not supported"), std::string::npos)
      << backref.error().message;
  EXPECT_NE(backref.error().message.find("at character 9"), std::string::npos)
      << backref.error().message;
  for (const std::string large :
       {std::string("((((a{50}){50}){50}){50})"), std::string("a{1001}"),
        std::string("([a-z]{1000}){1000}"), std::string(kMaxPatternLength + 1, 'a')}) {
    EXPECT_FALSE(Regex::compile(large)) << large;
  }
  const auto empty = Regex::compile("");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  const auto nul = Regex::compile(std::string("x\0y", 3));
  ASSERT_FALSE(nul);
  EXPECT_NE(nul.error().message.find("NUL character at character 2"), std::string::npos);
}

TEST(Regex, MatchesHostileTextInLinearTime) {
  // 40 command lines of 4096 bytes against the classic exponential patterns.
  const std::string text(proc::kMaxCmdline, 'a');
  for (const char* p : {"(a+)+$x", "(a|aa)+$x", "(.*a){20}x", "^(a?){30}a{30}x"}) {
    const auto re = Regex::compile(p);
    ASSERT_TRUE(re) << p << ": " << re.error().message;
    for (int i = 0; i < 40; ++i) EXPECT_FALSE(re->search(text)) << p;
  }
}

TEST(Classifier, DisabledRulesMatchNothing) {
  Match m;
  m.comm = {"x"};
  auto r = rule("x", m);
  r.enabled = false;
  std::vector<Rule> rules = {r};
  FakeInfo info;
  Classifier c(&rules);
  EXPECT_TRUE(c.classify(snap(0, {proc(3, "x", 0, 0)}), info).members[0].empty());
}

}  // namespace
}  // namespace freezr::engine
