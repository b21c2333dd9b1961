#include "proc/proc_events.h"

#include <gtest/gtest.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <cstring>

#include "config/config.h"
#include "config_errors.h"

namespace freezr::proc {
namespace {

// One netlink message carrying one proc_event, as the kernel sends it.
std::vector<std::uint8_t> message(std::uint32_t what, const void* data, std::size_t len,
                                  std::uint64_t ts = 123456789) {
  const std::size_t event_len = offsetof(proc_event, event_data) + len;
  const std::size_t total = NLMSG_HDRLEN + sizeof(cn_msg) + event_len;
  std::vector<std::uint8_t> out(NLMSG_ALIGN(total));
  nlmsghdr h{};
  h.nlmsg_len = static_cast<__u32>(total);
  h.nlmsg_type = NLMSG_DONE;
  cn_msg c{};
  c.id.idx = CN_IDX_PROC;
  c.id.val = CN_VAL_PROC;
  c.len = static_cast<__u16>(event_len);
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + NLMSG_HDRLEN, &c, sizeof c);
  std::uint8_t* ev = out.data() + NLMSG_HDRLEN + sizeof c;
  std::memcpy(ev + offsetof(proc_event, what), &what, sizeof what);
  std::memcpy(ev + offsetof(proc_event, timestamp_ns), &ts, sizeof ts);
  std::memcpy(ev + offsetof(proc_event, event_data), data, len);
  return out;
}

TEST(ProcEvents, ForkExecCommExitAreParsed) {
  std::vector<std::uint8_t> dgram;
  decltype(proc_event::event_data.fork) fork{};
  fork.parent_pid = 10;
  fork.parent_tgid = 10;
  fork.child_pid = 11;
  fork.child_tgid = 11;
  decltype(proc_event::event_data.exec) exec{};
  exec.process_pid = 11;
  exec.process_tgid = 11;
  decltype(proc_event::event_data.comm) comm{};
  comm.process_pid = 12;
  comm.process_tgid = 11;
  std::memcpy(comm.comm, "worker (1)\n", 11);
  decltype(proc_event::event_data.exit) exit{};
  exit.process_pid = 11;
  exit.process_tgid = 11;
  for (const auto& [what, data, len] :
       std::vector<std::tuple<std::uint32_t, const void*, std::size_t>>{
           {0x1, &fork, sizeof fork},
           {0x2, &exec, sizeof exec},
           {0x200, &comm, sizeof comm},
           {0x80000000, &exit, sizeof exit},
           {0x0, &exit, sizeof exit} /* ack: ignored */}) {
    const auto m = message(what, data, len);
    dgram.insert(dgram.end(), m.begin(), m.end());
  }
  std::vector<ProcEvent> out;
  EXPECT_EQ(parse_proc_events(dgram, out), 0U);
  ASSERT_EQ(out.size(), 4U);
  EXPECT_EQ(out[0].kind, ProcEvent::Kind::kFork);
  EXPECT_EQ(out[0].pid, 11);
  EXPECT_EQ(out[0].parent_tgid, 10);
  EXPECT_EQ(out[1].kind, ProcEvent::Kind::kExec);
  EXPECT_TRUE(out[1].process_level());
  EXPECT_EQ(out[1].timestamp_ns, 123456789U);
  EXPECT_EQ(out[2].kind, ProcEvent::Kind::kComm);
  EXPECT_EQ(out[2].comm, "worker (1)\n");
  EXPECT_FALSE(out[2].process_level()) << "a thread renamed itself";
  EXPECT_EQ(out[3].kind, ProcEvent::Kind::kExit);
}

TEST(ProcEvents, TruncatedAndForeignMessagesAreSkipped) {
  decltype(proc_event::event_data.exec) exec{};
  exec.process_pid = exec.process_tgid = 5;
  auto m = message(0x2, &exec, sizeof exec);
  std::vector<ProcEvent> out;
  // Cut in the middle of the event.
  EXPECT_EQ(parse_proc_events({m.data(), m.size() - 6}, out), 1U);
  EXPECT_TRUE(out.empty());
  // A netlink length beyond the datagram.
  auto bad = m;
  const __u32 huge = 100000;
  std::memcpy(bad.data(), &huge, sizeof huge);
  EXPECT_EQ(parse_proc_events(bad, out), 1U);
  // A cn_msg length beyond the message.
  auto lying = m;
  const __u16 long_len = 1000;
  std::memcpy(lying.data() + NLMSG_HDRLEN + offsetof(cn_msg, len), &long_len, sizeof long_len);
  EXPECT_EQ(parse_proc_events(lying, out), 1U);
  // Another connector's message is not ours.
  auto other = m;
  const __u32 idx = CN_IDX_PROC + 1;
  std::memcpy(other.data() + NLMSG_HDRLEN, &idx, sizeof idx);
  EXPECT_EQ(parse_proc_events(other, out), 0U);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(parse_proc_events({}, out), 0U);
}

TEST(OnExecConfig, ParsedRenderedAndValidated) {
  const auto c = config::parse_config(R"(
[[rule]]
name = "refuse"
match = { comm = ["cryptominer"] }
on_exec = { action = "kill" }
[[rule]]
name = "calm-builds"
match = { category = "build" }
on_exec = { action = "renice", nice = 10, ionice = "idle" }
cpu_percent = 300
action = "throttle"
cpu_limit = 150
)",
                                      "t.toml");
  ASSERT_EQ(c.rules.size(), 2U);
  EXPECT_TRUE(c.rules[0].steps.empty());
  EXPECT_EQ(c.rules[0].on_exec->kind, engine::ActionKind::kKill);
  EXPECT_EQ(engine::action_summary(c.rules[0]), "on_exec kill");
  ASSERT_EQ(c.rules[1].steps.size(), 1U);
  EXPECT_EQ(c.rules[1].on_exec->nice, 10);
  const auto again = config::parse_config(config::render_config(c), "r.toml");
  EXPECT_TRUE(engine::same_rule(again.rules[0], c.rules[0]));
  EXPECT_TRUE(engine::same_rule(again.rules[1], c.rules[1]));
  for (const auto& [text, what] : std::vector<std::pair<std::string, std::string>>{
           {"[[rule]]\nname=\"r\"\nmatch={comm=[\"x\"]}\non_exec={action=\"restart\"}\n",
            "not an exec-time action"},
           {"[[rule]]\nname=\"r\"\nmatch={comm=[\"x\"]}\non_exec={action=\"renice\", nice=50}\n",
            "nice"},
           {"[[rule]]\nname=\"r\"\nmatch={comm=[\"x\"]}\non_exec={action=\"kill\"}\naction="
            "\"kill\"\n",
            "action"},
           {"[[rule]]\nname=\"r\"\nmatch={comm=[\"x\"]}\n",
            "give at least one of cpu_percent, memory_mb"}}) {
    testing::expect_config_error(text, what);
  }
}

}  // namespace
}  // namespace freezr::proc
