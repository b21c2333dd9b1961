"""Graduated, reversible actions observed from outside: nice values, cgroups, stopped states."""
import json
import os
import signal
import subprocess
import time
import unittest
import urllib.request

from harness import FREEZR, TestCase, cgroup_mounts, monitor, rule, wait_until


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def nice_of(pid):
    return int(stat_fields(pid)[16])


def state_of(pid):
    return stat_fields(pid)[0]


def cgroup_of(pid, controller):
    """The cgroup path of pid in the v2 hierarchy (controller "") or a v1 one."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f.read().splitlines():
            _, controllers, path = line.split(":", 2)
            if (controller == "" and controllers == "") or controller in controllers.split(","):
                return path
    return None


def mounts():
    v2 = next((m for t, m, _ in cgroup_mounts() if t == "cgroup2"), None)
    v1_cpu = next((m for t, m, o in cgroup_mounts() if t == "cgroup" and "cpu" in o), None)
    return v2, v1_cpu


def ledger_rows(workdir):
    """(pid, kind) of each entry of the ledger file (after its header line)."""
    try:
        with open(os.path.join(workdir, "data", "ledger.jsonl")) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    assert json.loads(lines[0])["freezr_ledger"] == 1, lines
    return [(e["pid"], e["kind"]) for e in map(json.loads, lines[1:])]


def frozen_pids(f):
    """The PIDs the daemon's API says it holds frozen, after one more scan."""
    port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    f.wait_scans(2)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/frozen", timeout=10) as r:
        return [e["pid"] for e in json.load(r)["frozen"]]


def freeze_method(method):
    return f'freeze_method = "{method}"\n'


class LedgerCase(TestCase):
    def assert_ledger_empties(self):
        """The ledger file loses its entries once the undo is done, a moment after the process
        is seen restored."""
        self.assertTrue(wait_until(lambda: ledger_rows(self.workdir) == [], 10),
                        ledger_rows(self.workdir))


class ReniceTest(LedgerCase):
    def test_renice_applies_and_is_undone_when_the_rule_no_longer_applies_and_on_exit(self):
        hog = self.hog(cpu=True)
        self.assertEqual(nice_of(hog.pid), 0)
        f = self.freezr(monitor(interval=0.2) +
                        rule("nice", [hog.name], cpu_percent=10, violations=2, action="renice",
                             nice=10))
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 10, 10), f.output())
        self.assertEqual(ledger_rows(self.workdir), [(hog.pid, "renice")])
        # The test stops its hog: no CPU, so the rule no longer applies and the nice is undone.
        os.kill(hog.pid, signal.SIGSTOP)
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 0, 10), f.output())
        f.wait_for(rf"RELEASE rule=nice pid={hog.pid}")
        self.assert_ledger_empties()
        os.kill(hog.pid, signal.SIGCONT)
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 10, 10), f.output())
        self.assertEqual(f.stop(), 0)
        self.assertEqual(nice_of(hog.pid), 0)  # restored on exit
        self.assert_ledger_empties()


def overwrite(path):
    with open(path, "r+b") as f:
        f.write(b"\xde\xad" * 4096)


def children_of(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def fork_child(hog):
    """Has the hog fork an idle child now (it dies with the hog); returns its PID."""
    before = set(children_of(hog.pid))
    os.kill(hog.pid, signal.SIGUSR1)
    assert wait_until(lambda: set(children_of(hog.pid)) - before, 10)
    return (set(children_of(hog.pid)) - before).pop()


class DescendantsTest(TestCase):
    """Children a process forks while FreezR holds it leave the hold with it."""

    def test_a_child_forked_while_reniced_is_restored_too(self):
        hog = self.hog(cpu=True, extra=["--fork-on-usr1"])
        f = self.freezr(monitor(interval=0.2) +
                        rule("nice", [hog.name], cpu_percent=10, violations=2, action="renice",
                             nice=10))
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 10, 10), f.output())
        child = fork_child(hog)
        self.assertEqual(nice_of(child), 10)  # inherited
        self.assertEqual(f.stop(), 0)
        self.assertEqual(nice_of(hog.pid), 0)
        self.assertEqual(nice_of(child), 0)

    def throttled(self):
        """A hog FreezR has throttled: (hog, FreezR, controller, its origin and group, root)."""
        v2, v1_cpu = mounts()
        controller = "cpu" if v1_cpu else ""
        hog = self.hog(cpu=True, extra=["--fork-on-usr1"])
        origin = cgroup_of(hog.pid, controller)
        f = self.freezr(monitor(interval=0.2) +
                        rule("cap", [hog.name], cpu_percent=10, violations=2, action="throttle",
                             cpu_limit=20))
        f.wait_for(r"ACTION rule=cap action=throttle .*limited to 20% of a core")
        return hog, f, controller, origin, cgroup_of(hog.pid, controller), v1_cpu or v2

    def test_a_child_forked_while_throttled_leaves_the_group_and_the_group_goes(self):
        hog, f, controller, origin, group, root = self.throttled()
        child = fork_child(hog)
        self.assertEqual(cgroup_of(child, controller), group)  # inherited
        self.assertEqual(f.stop(), 0)
        self.assertEqual(cgroup_of(hog.pid, controller), origin)
        self.assertEqual(cgroup_of(child, controller), origin)
        self.assertFalse(os.path.exists(f"{root}{group}"))

    def test_the_child_of_a_throttled_process_that_exited_leaves_the_group(self):
        hog, f, controller, origin, group, root = self.throttled()
        # A child that outlives the throttled process: the test's own, not killed with it.
        child = self.hog(name=hog.name + "c")
        with open(f"{root}{group}/cgroup.procs", "w") as procs:
            procs.write(str(child.pid))
        hog.stop()
        self.assertTrue(wait_until(lambda: cgroup_of(child.pid, controller) == origin, 10),
                        f.output())
        self.assertTrue(wait_until(lambda: not os.path.exists(f"{root}{group}"), 10))
        self.assertEqual(f.stop(), 0)


def ioprio_of(pid):
    """(class, level) from ionice(1): 'idle', 'best-effort: prio 4', 'none: prio 0'."""
    out = subprocess.run(["ionice", "-p", str(pid)], capture_output=True, text=True,
                         check=True).stdout.strip()
    return out


class IoniceTest(LedgerCase):
    def test_ionice_is_set_on_every_thread_and_restored(self):
        hog = self.hog(cpu=True)
        before = ioprio_of(hog.pid)
        self.assertNotEqual(before, "idle")
        f = self.freezr(monitor(interval=0.2) +
                        rule("io", [hog.name], cpu_percent=10, violations=2, action="renice",
                             ionice="idle"))
        self.assertTrue(wait_until(lambda: ioprio_of(hog.pid) == "idle", 10), f.output())
        self.assertEqual(nice_of(hog.pid), 0)  # ionice alone: the CPU priority is untouched
        f.wait_for(rf"ACTION rule=io action=renice .*pid={hog.pid} .*ionice class 3")
        self.assertEqual(f.stop(), 0)
        self.assertEqual(ioprio_of(hog.pid), before)  # restored on exit
        self.assert_ledger_empties()


class ThrottleTest(LedgerCase):
    def test_throttle_moves_into_a_freezr_group_with_the_quota_and_back(self):
        v2, v1_cpu = mounts()
        hog = self.hog(cpu=True)
        controller = "cpu" if v1_cpu else ""
        origin = cgroup_of(hog.pid, controller)
        f = self.freezr(monitor(interval=0.2) +
                        rule("cap", [hog.name], cpu_percent=10, violations=2, action="throttle",
                             cpu_limit=20))
        f.wait_for(r"ACTION rule=cap action=throttle .*limited to 20% of a core")
        group = cgroup_of(hog.pid, controller)
        self.assertNotEqual(group, origin)
        self.assertRegex(group, r"/freezr/thr-[0-9a-f]{8}-cap-")
        root = v1_cpu or v2
        with open(f"{root}{group}/cgroup.procs") as procs:
            self.assertIn(str(hog.pid), procs.read().split())
        if v1_cpu:
            with open(f"{root}{group}/cpu.cfs_quota_us") as q:
                self.assertEqual(int(q.read()), 20000)
        else:
            with open(f"{root}{group}/cpu.max") as q:
                self.assertEqual(q.read().split()[0], "20000")
        # The hog now gets about a fifth of a core.
        t0, c0 = time.monotonic(), int(stat_fields(hog.pid)[11]) + int(stat_fields(hog.pid)[12])
        time.sleep(1.5)
        t1, c1 = time.monotonic(), int(stat_fields(hog.pid)[11]) + int(stat_fields(hog.pid)[12])
        share = (c1 - c0) / os.sysconf("SC_CLK_TCK") / (t1 - t0)
        self.assertLess(share, 0.35)
        self.assertEqual(f.stop(), 0)
        self.assertEqual(cgroup_of(hog.pid, controller), origin)
        self.assertFalse(os.path.exists(f"{root}{group}"))


class FreezeTest(LedgerCase):
    def freeze_rule(self, hog, duration, method):
        return (monitor(interval=0.2).replace("[protect]", freeze_method(method) + "[protect]") +
                rule("ice", [hog.name], cpu_percent=10, violations=2, action="freeze",
                     duration=duration))

    def test_signal_freeze_stops_then_resumes_by_timer(self):
        hog = self.hog(cpu=True)
        f = self.freezr(self.freeze_rule(hog, 1.0, "signal"))
        self.assertTrue(wait_until(lambda: state_of(hog.pid) == "T", 10), f.output())
        self.assertEqual(ledger_rows(self.workdir), [(hog.pid, "freeze-signal")])
        self.assertTrue(wait_until(lambda: state_of(hog.pid) == "R", 5), f.output())
        f.wait_for(rf"UNDO rule=ice .*pid={hog.pid} .*freeze time over")
        self.assert_ledger_empties()
        f.stop()

    def test_cgroup_freeze_shows_frozen_1_then_thaws_and_moves_back(self):
        v2, _ = mounts()
        self.assertIsNotNone(v2, "needs a cgroup v2 hierarchy")
        hog = self.hog(cpu=True)
        origin = cgroup_of(hog.pid, "")
        f = self.freezr(self.freeze_rule(hog, 1.5, "cgroup"))
        f.wait_for(rf"pid={hog.pid} .*frozen for 1.5s \(cgroup.freeze")
        group = cgroup_of(hog.pid, "")
        self.assertRegex(group, r"/freezr/frz-[0-9a-f]{8}-ice-")
        with open(f"{v2}{group}/cgroup.events") as ev:
            self.assertIn("frozen 1", ev.read())
        self.assertEqual(ledger_rows(self.workdir), [(hog.pid, "freeze-cgroup")])
        self.assertTrue(wait_until(lambda: cgroup_of(hog.pid, "") == origin, 5), f.output())
        self.assertEqual(state_of(hog.pid), "R")
        # The entry goes once the undo is done (the UNDO line says so): the hog may be seen
        # back a moment before.
        f.wait_for(rf"UNDO rule=ice .*pid={hog.pid} .*freeze time over")
        self.assert_ledger_empties()
        f.stop()

    def crash_and_restart(self, method, state_frozen, damage=None, expect=r"leftovers .*undone"):
        """Freezes a hog, kills FreezR with SIGKILL, lets damage(data_dir) break what it
        left, and checks that the successor thaws the hog before its first scan."""
        hog = self.hog(cpu=True)
        config = self.freeze_rule(hog, 120, method)
        f = self.freezr(config)
        f.wait_for(rf"pid={hog.pid} .*frozen for 120s")
        self.assertTrue(state_frozen(hog))
        f.signal(signal.SIGKILL)
        f.proc.wait()
        time.sleep(0.5)
        self.assertTrue(state_frozen(hog), "a killed FreezR cannot thaw")
        self.assertEqual(len(ledger_rows(self.workdir)), 1)
        if damage:
            damage(os.path.join(self.workdir, "data"))
        g = self.freezr(config.replace("violations = 2", "violations = 1000"),
                        config_name="again.toml")
        g.wait_for(rf"PREFLIGHT check={expect}")
        self.assertFalse(state_frozen(hog))
        self.assertEqual(g.stop(), 0)
        return hog, g

    def test_sigkill_mid_freeze_then_restart_thaws_signal_freeze(self):
        self.crash_and_restart("signal", lambda h: state_of(h.pid) == "T")
        self.assert_ledger_empties()

    def test_a_damaged_history_loses_no_freeze(self):
        def truncate(data):
            for name in ("freezr.db", "freezr.db-wal", "freezr.db-shm"):
                if os.path.exists(os.path.join(data, name)):
                    os.truncate(os.path.join(data, name), 0)
        for damage in (truncate, lambda data: overwrite(os.path.join(data, "freezr.db"))):
            with self.subTest(damage=damage):
                _, g = self.crash_and_restart("signal", lambda h: state_of(h.pid) == "T", damage)
                # The damage is said, never silent.
                self.assertRegex(g.output(), r"check=database ok=false: .*(was empty beside its "
                                             r"write-ahead log|was damaged .* moved to)")

    def test_a_damaged_ledger_line_is_dropped_and_hostile_rows_never_run(self):
        bystander = self.hog()
        with open(f"/proc/{bystander.pid}/stat") as st:
            start = int(st.read().rsplit(")", 1)[1].split()[19])

        def tamper(data):
            rows = [
                "this line is not JSON",
                # What FreezR never writes: a renice to -15, a group outside its own directory.
                json.dumps({"id": 90, "pid": bystander.pid, "start_time": start,
                            "kind": "renice", "rule": "x", "applied_at": 1,
                            "data": json.dumps({"threads": {str(bystander.pid): [-15, 0]},
                                                "nice": -25})}),
                json.dumps({"id": 91, "pid": bystander.pid, "start_time": start,
                            "kind": "throttle", "rule": "x", "applied_at": 1,
                            "data": json.dumps({"group": "/sys/fs/cgroup/system.slice",
                                                "origin": "/sys/fs/cgroup/init.scope"})}),
                json.dumps({"id": 92, "pid": bystander.pid, "start_time": start,
                            "kind": "run-this", "rule": "x", "applied_at": 1, "data": "{}"}),
            ]
            with open(os.path.join(data, "ledger.jsonl"), "a") as ledger:
                ledger.write("\n".join(rows) + "\n")
        origin = cgroup_of(bystander.pid, "")
        _, g = self.crash_and_restart("signal", lambda h: state_of(h.pid) == "T", tamper)
        out = g.output()
        self.assertRegex(out, r"ledger line \d+ dropped: not JSON")
        self.assertRegex(out, r"ledger entry 90 \(renice of PID \d+\) is not one FreezR writes: "
                              r"a nice value out of range")
        self.assertRegex(out, r"ledger entry 91 .*not under FreezR's own cgroup directory")
        self.assertRegex(out, r"ledger entry 92 .*unknown kind")
        self.assertEqual(nice_of(bystander.pid), 0)
        self.assertEqual(cgroup_of(bystander.pid, ""), origin)
        self.assertEqual(state_of(bystander.pid), "S")
        self.assert_ledger_empties()

    def test_a_lost_ledger_still_thaws_freezrs_freeze_groups(self):
        v2, _ = mounts()

        def frozen(h):
            return "/freezr/" in cgroup_of(h.pid, "")
        hog, _ = self.crash_and_restart(
            "cgroup", frozen, lambda data: os.truncate(os.path.join(data, "ledger.jsonl"), 0),
            expect=r"leftovers .*had no ledger entry \(a damaged ledger\?\): 1 process\(es\) "
                   r"thawed")
        self.assertEqual(state_of(hog.pid), "R")

    def test_sigkill_mid_freeze_then_restart_thaws_cgroup_freeze(self):
        v2, _ = mounts()

        def frozen(h):
            group = cgroup_of(h.pid, "")
            if "/freezr/" not in group:
                return False
            with open(f"{v2}{group}/cgroup.events") as ev:
                return "frozen 1" in ev.read()
        self.crash_and_restart("cgroup", frozen)

    def test_a_process_stopped_by_someone_else_is_never_resumed(self):
        for method in ("signal", "cgroup"):
            with self.subTest(method=method):
                hog = self.hog(cpu=True)
                other = self.hog(cpu=True, name=hog.name)
                os.kill(other.pid, signal.SIGSTOP)  # stopped by the test, not by FreezR
                config = (monitor(interval=0.2).replace("[protect]",
                                                        freeze_method(method) + "[protect]") +
                          rule("ice", [hog.name], cpu_percent=10, violations=2, action="freeze",
                               duration=0.6, aggregate="group"))
                f = self.freezr(config, config_name=f"{method}.toml")
                f.wait_for(rf"UNDO rule=ice .*pid={hog.pid} ")
                time.sleep(0.5)
                self.assertEqual(state_of(other.pid), "T")
                r = subprocess.run([FREEZR, "thaw", "--all", "--config", f.config_path],
                                   capture_output=True, text=True, cwd=self.workdir)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(f.stop(), 0)
                self.assertEqual(state_of(other.pid), "T")
                if method == "signal":
                    self.assertIn(f"pid={other.pid}", f.output())
                    self.assertIn("already stopped by someone else", f.output())
                os.kill(other.pid, signal.SIGCONT)
                hog.stop()

    def test_freezr_thaw_cli(self):
        hog = self.hog(cpu=True)
        config = self.freeze_rule(hog, 300, "signal")
        f = self.freezr(config)
        self.assertTrue(wait_until(lambda: state_of(hog.pid) == "T", 10), f.output())
        r = subprocess.run([FREEZR, "thaw", "999999", "--config", f.config_path],
                           capture_output=True, text=True, cwd=self.workdir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not frozen by FreezR", r.stderr)
        r = subprocess.run([FREEZR, "thaw", str(hog.pid), "--config", f.config_path],
                           capture_output=True, text=True, cwd=self.workdir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"thawed PID {hog.pid}", r.stdout)
        self.assertEqual(state_of(hog.pid), "R")
        self.assert_ledger_empties()
        # The daemon sees it at its next scan: its hold ends and the API stops listing it.
        f.wait_for(rf"UNDO rule=ice .*pid={hog.pid} .*hold ended \(freeze-signal\): undone "
                   r"outside the daemon")
        self.assertEqual(frozen_pids(f), [])
        f.stop()

    def test_a_freeze_ended_outside_freezr_ends_its_hold(self):
        for method in ("signal", "cgroup"):
            with self.subTest(method=method):
                hog = self.hog(cpu=True)
                f = self.freezr(self.freeze_rule(hog, 300, method), config_name=f"{method}.toml")
                f.wait_for(rf"pid={hog.pid} .*frozen for 300s")
                self.assertEqual(frozen_pids(f), [hog.pid])
                if method == "signal":
                    os.kill(hog.pid, signal.SIGCONT)  # the test's own process
                    why = r"resumed by someone else"
                else:
                    v2, _ = mounts()
                    with open(f"{v2}{cgroup_of(hog.pid, '')}/cgroup.freeze", "w") as fz:
                        fz.write("0")
                    why = r"thawed by someone else"
                f.wait_for(rf"UNDO rule=ice .*pid={hog.pid} .*{why}")
                self.assertEqual(frozen_pids(f), [])
                self.assert_ledger_empties()
                if method == "cgroup":
                    self.assertNotIn("/freezr/", cgroup_of(hog.pid, ""))  # back where it was
                self.assertEqual(f.stop(), 0)
                hog.stop()


class LadderTest(LedgerCase):
    LADDER = ('steps = [\n'
              '  { cpu_percent = 10, violations = 2, action = "renice", nice = 5 },\n'
              '  { cpu_percent = 10, violations = 2, action = "freeze", duration = 0.5 },\n'
              '  { cpu_percent = 10, violations = 2, action = "kill" },\n'
              ']\n')

    def ladder_config(self, hog):
        return (monitor(interval=0.2).replace("[protect]", freeze_method("signal") + "[protect]") +
                f'[[rule]]\nname = "ladder"\nmatch = {{ comm = ["{hog.name}"] }}\n' + self.LADDER)

    def test_ladder_walks_renice_freeze_kill_on_a_hog_that_keeps_burning(self):
        hog = self.hog(cpu=True)
        f = self.freezr(self.ladder_config(hog))
        self.assertTrue(wait_until(lambda: not hog.alive(), 20), f.output())
        out = f.output()
        renice = out.index("VIOLATION rule=ladder action=renice")
        freeze = out.index("VIOLATION rule=ladder action=freeze step=2")
        kill = out.index("VIOLATION rule=ladder action=kill step=3")
        self.assertLess(renice, freeze)
        self.assertLess(freeze, kill)
        f.stop()

    def test_ladder_stops_escalating_when_the_hog_calms_down(self):
        hog = self.hog(cpu=True)
        f = self.freezr(self.ladder_config(hog))
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 5, 10), f.output())
        os.kill(hog.pid, signal.SIGSTOP)  # calm: no CPU at all
        f.wait_for(rf"RELEASE rule=ladder pid={hog.pid}")
        time.sleep(1.5)
        self.assertTrue(hog.alive())
        self.assertNotIn("action=freeze", f.output())
        self.assertNotIn("action=kill", f.output())
        self.assertEqual(nice_of(hog.pid), 0)
        os.kill(hog.pid, signal.SIGCONT)
        f.stop()


class RateLimitTest(LedgerCase):
    def test_at_most_n_actions_per_window(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("limited", [hog.name], cpu_percent=10, violations=1, action="log",
                             max_actions=2, per_minutes=10))
        f.wait_for(r"RATE-LIMITED rule=limited")
        time.sleep(1.0)
        self.assertEqual(f.count(r"ACTION rule=limited action=log"), 2)
        self.assertEqual(f.count(r"RATE-LIMITED rule=limited"), 1)
        f.stop()


if __name__ == "__main__":
    unittest.main()
