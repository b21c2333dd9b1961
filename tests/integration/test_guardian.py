"""The guardian against real processes the tests start."""
import datetime
import json
import os
import signal
import time
import unittest

from harness import TestCase, monitor, rule, unique_name, wait_until


class KillTest(TestCase):
    def test_hog_is_killed_after_the_configured_scans_and_others_are_untouched(self):
        hog = self.hog(cpu=True)
        idle = self.hog()
        other = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.3) +
                        rule("hogs", [hog.name, idle.name], cpu_percent=10, violations=3,
                             action="kill"))
        start = time.monotonic()
        self.assertTrue(wait_until(lambda: not hog.alive(), 15), f.output())
        elapsed = time.monotonic() - start
        # Three violating scans need at least three scans after the first (which has no CPU%).
        self.assertGreaterEqual(elapsed, 0.85)
        f.wait_for(rf"pid={hog.pid} .*exited .* after SIGTERM")  # logged once the exit is seen
        self.assertRegex(f.output(), rf'VIOLATION rule=hogs action=kill pid={hog.pid} '
                                     rf'name={hog.name} .*for 3 scans')
        time.sleep(1.0)
        self.assertTrue(idle.alive())
        self.assertTrue(other.alive())
        self.assertNotIn(f"pid={idle.pid} ", f.output())
        self.assertNotIn(f"pid={other.pid} ", f.output())
        self.assertEqual(f.stop(), 0)

    def test_memory_rule_kills_the_memory_holder(self):
        big = self.hog(mem_mb=64)
        small = self.hog(mem_mb=4)
        f = self.freezr(monitor(interval=0.2) +
                        rule("mem", [big.name, small.name], memory_mb=32, violations=2,
                             action="kill"))
        self.assertTrue(wait_until(lambda: not big.alive(), 10), f.output())
        self.assertRegex(f.output(), r"memory 6\d\.\d MiB > 32\.0 MiB for 2 scans")
        self.assertTrue(small.alive())
        f.stop()

    def test_sigterm_ignoring_process_gets_sigkill_after_the_grace(self):
        hog = self.hog(cpu=True, ignore_term=True)
        f = self.freezr(monitor(interval=0.2, grace=0.6) +
                        rule("stubborn", [hog.name], cpu_percent=10, violations=2,
                             action="kill"))
        f.wait_for(rf"pid={hog.pid} .*SIGTERM sent")
        sent = time.monotonic()
        self.assertTrue(wait_until(lambda: not hog.alive(), 10), f.output())
        self.assertGreaterEqual(time.monotonic() - sent, 0.4)
        f.wait_for(rf"pid={hog.pid} .*needed SIGKILL")
        f.stop()

    def test_protected_process_is_skipped_with_the_reason(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2, protect=[hog.name]) +
                        rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"))
        f.wait_for(rf"SKIP rule=hog action=kill pid={hog.pid} .*protected \(on the protected list")
        time.sleep(0.5)
        self.assertTrue(hog.alive())
        f.stop()

    def test_dry_run_decides_the_same_and_kills_nothing(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"),
                        args=["--dry-run"])
        f.wait_for(rf"VIOLATION rule=hog action=kill pid={hog.pid}")
        f.wait_for(rf"DRY-RUN rule=hog action=kill pid={hog.pid} .*would send SIGTERM")
        f.wait_for(r"DRY-RUN.*\n(.*\n)*.*DRY-RUN")  # decides again two scans later
        self.assertTrue(hog.alive())
        self.assertEqual(hog.state(), "R")
        self.assertIn("DRY-RUN: decisions are logged", f.output())
        f.stop()

    def test_group_rule_sums_the_processes(self):
        a = self.hog(mem_mb=20)
        b = self.hog(mem_mb=20)
        f = self.freezr(monitor(interval=0.2) +
                        rule("app", [a.name, b.name], memory_mb=30, aggregate="group",
                             violations=2, action="kill"))
        self.assertTrue(wait_until(lambda: not a.alive() and not b.alive(), 10), f.output())
        self.assertRegex(f.output(), r"memory 4\d\.\d MiB > 30\.0 MiB for 2 scans")
        f.stop()

    def test_group_rule_with_hottest_target_kills_one(self):
        a = self.hog(mem_mb=40)
        b = self.hog(mem_mb=10)
        f = self.freezr(monitor(interval=0.2) +
                        rule("app", [a.name, b.name], memory_mb=30, aggregate="group",
                             target="hottest", violations=2, action="kill", cooldown=60))
        self.assertTrue(wait_until(lambda: not a.alive(), 10), f.output())
        time.sleep(0.6)
        self.assertTrue(b.alive())
        f.stop()

    def test_rule_matching_nothing_is_a_warning(self):
        f = self.freezr(monitor(interval=0.2) +
                        rule("ghost", [unique_name()], cpu_percent=10, action="log"))
        f.wait_for(r"rule 'ghost' matches no running process")
        f.stop()


class LifecycleTest(TestCase):
    def test_sigterm_while_a_kill_is_pending_finishes_it_and_exits_0(self):
        hog = self.hog(cpu=True, ignore_term=True)
        f = self.freezr(monitor(interval=0.2, grace=1.5) +
                        rule("stubborn", [hog.name], cpu_percent=10, violations=2,
                             action="kill"))
        f.wait_for(rf"pid={hog.pid} .*SIGTERM sent")
        f.signal(signal.SIGTERM)
        self.assertEqual(f.proc.wait(timeout=15), 0)
        self.assertFalse(wait_until(hog.alive, 0) and hog.alive())
        self.assertIn("waiting for 1 pending action", f.output())
        self.assertRegex(f.output(), r"needed SIGKILL")

    def test_sighup_reloads_and_a_broken_config_is_rejected(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("hog", [hog.name], cpu_percent=10, violations=2, action="log"))
        f.wait_for(rf"ACTION rule=hog action=log pid={hog.pid}")
        with open(f.config_path, "w") as cfg:
            cfg.write(monitor(interval=0.2) + "[[rule]]\nname = \"hog\"\nmatch = {\n")
        f.signal(signal.SIGHUP)
        f.wait_for(r"configuration reload rejected, keeping the running one: .*freezr.toml:\d+:\d+")
        time.sleep(0.5)
        self.assertTrue(hog.alive())
        with open(f.config_path, "w") as cfg:
            cfg.write(monitor(interval=0.2) +
                      rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"))
        f.signal(signal.SIGHUP)
        f.wait_for(r"configuration reloaded from .*: 1 rules")
        self.assertTrue(wait_until(lambda: not hog.alive(), 10), f.output())
        self.assertEqual(f.stop(), 0)

    def test_sighup_keeps_the_state_of_unchanged_rules_only(self):
        hog = self.hog(cpu=True)
        kept = rule("kept", [hog.name], cpu_percent=10, violations=1000, action="log")
        changed = rule("changed", [hog.name], cpu_percent=10, violations=1000, action="log")
        f = self.freezr(monitor(interval=0.2) + kept + changed)
        path = os.path.join(self.workdir, "data", "status.json")

        def counters():
            if not os.path.exists(path):
                return {}
            with open(path) as s:
                return {r["name"]: r["cpu_violations"] for r in json.load(s)["rules"]}
        self.assertTrue(wait_until(lambda: counters().get("kept", 0) >= 5, 10))
        with open(f.config_path, "w") as cfg:
            cfg.write(monitor(interval=0.2) + kept +
                      changed.replace("cpu_percent = 10", "cpu_percent = 8"))
        def process_checks():
            with open(path) as s:
                return json.load(s)["totals"]["process_checks"]
        before, checks_before = counters(), process_checks()
        f.signal(signal.SIGHUP)
        f.wait_for(r"configuration reloaded")
        f.wait_scans(2)  # a status snapshot written after the reload
        after = counters()
        self.assertGreaterEqual(after["kept"], before["kept"])
        self.assertLess(after["changed"], before["changed"])
        # The statistics block's totals survive the reload of a changed rule.
        self.assertGreater(process_checks(), checks_before)
        f.stop()

    def test_sigterm_while_a_report_is_due_exits_0(self):
        f = self.freezr(monitor(interval=0.2) +
                        rule("ghost", [unique_name()], cpu_percent=10, action="log"),
                        args=["--stats", "--report-interval", "1"])
        f.wait_for(r"PROCESS MONITOR STATISTICS")
        time.sleep(0.95)
        self.assertEqual(f.stop(), 0)
        self.assertIn("FreezR stopped", f.output())

    def test_stats_block_on_interval_and_on_sigusr1(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"),
                        args=["--stats", "--report-interval", "1"])
        self.assertTrue(wait_until(lambda: not hog.alive(), 10))
        f.wait_for(r"PROCESS MONITOR STATISTICS(.*\n)+.*Kills: 1")
        before = f.count("PROCESS MONITOR STATISTICS")
        f.signal(signal.SIGUSR1)
        wait_until(lambda: f.count("PROCESS MONITOR STATISTICS") > before, 5)
        self.assertGreater(f.count("PROCESS MONITOR STATISTICS"), before)
        self.assertRegex(f.output(), r"Violation rate: \d+\.\d\d% \(\d+ of \d+ process checks\)")
        f.stop()

    def test_daily_log_file_has_the_seed_name_and_the_same_lines(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"))
        self.assertTrue(wait_until(lambda: not hog.alive(), 10))
        f.wait_for(r"exited")
        self.assertEqual(f.stop(), 0)
        day = datetime.date.today().strftime("%Y-%m-%d")
        path = os.path.join(self.workdir, "logs", f"process_monitor.log.{day}")
        self.assertTrue(os.path.exists(path), os.listdir(self.workdir))
        with open(path, encoding="utf-8") as log:
            file_lines = [l for l in log.read().splitlines() if "rule=hog" in l]
        out_lines = [l for l in f.output().splitlines() if "rule=hog" in l]
        self.assertTrue(file_lines)
        self.assertEqual(file_lines, out_lines)


if __name__ == "__main__":
    unittest.main()
