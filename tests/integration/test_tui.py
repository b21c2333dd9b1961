"""The terminal dashboard under tmux: it shows the hog, sorts, quits, and says when FreezR is
not running."""
import os
import re
import resource
import shlex
import socket
import subprocess
import time
import unittest

from harness import FREEZR, TestCase, monitor, rule, unique_name, wait_until, with_token


class TuiTest(TestCase):
    def setUp(self):
        super().setUp()
        self.session = unique_name("fztui")

    def tearDown(self):
        subprocess.run(["tmux", "kill-session", "-t", self.session], capture_output=True)
        super().tearDown()

    def screen(self):
        r = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.session], capture_output=True,
                           text=True)
        return r.stdout

    def keys(self, *keys):
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)

    def alive(self):
        return subprocess.run(["tmux", "has-session", "-t", self.session],
                              capture_output=True).returncode == 0

    def test_dashboard_shows_the_hog_sorts_quits_and_notices_freezr_stopping(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.3) +
                        f'[[category]]\nname = "fz-tests"\ncomm = ["{hog.name}"]\n' +
                        rule("hog", [hog.name], cpu_percent=10, violations=100000, action="log"))
        f.wait_for(r"listening on 127\.0\.0\.1:\d+")
        wait_until(lambda: os.path.exists(os.path.join(self.workdir, "data", "status.json")), 5)
        cmd = f"{shlex.quote(os.path.abspath(FREEZR))} dashboard --config {shlex.quote(f.config_path)} --interval 0.3"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.session, "-x", "160", "-y", "50",
                        "-c", self.workdir, cmd], check=True)
        self.assertTrue(wait_until(lambda: hog.name in self.screen(), 10), self.screen())
        screen = self.screen()
        self.assertIn("PROCESSES (sort: cpu)", screen)
        row = next(l for l in screen.splitlines() if hog.name in l and str(hog.pid) in l)
        self.assertRegex(row.split(hog.name, 1)[1], r" hog +\d+ +fz-tests")
        self.assertRegex(screen, r"hog\s+1 proc\s+cpu\s+\d+\.\d%")
        self.keys("s")
        self.assertTrue(wait_until(lambda: "sort: mem" in self.screen(), 5), self.screen())
        f.stop()
        self.assertTrue(wait_until(lambda: "FreezR is not running" in self.screen(), 10),
                        self.screen())
        self.keys("q")
        self.assertTrue(wait_until(lambda: not self.alive(), 5))

    def test_dashboard_reaches_a_freezr_listening_on_ipv6_loopback(self):
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback on this machine")
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.3).replace('listen = "127.0.0.1:0"',
                                                      'listen = "[::1]:0"') +
                        rule("hog", [hog.name], cpu_percent=10, violations=100000, action="log"))
        f.wait_for(r"listening on \[::1\]:\d+")
        wait_until(lambda: os.path.exists(os.path.join(self.workdir, "data", "status.json")), 5)
        cmd = (f"{shlex.quote(os.path.abspath(FREEZR))} dashboard --config "
               f"{shlex.quote(f.config_path)} --interval 0.3")
        subprocess.run(["tmux", "new-session", "-d", "-s", self.session, "-x", "160", "-y", "50",
                        "-c", self.workdir, cmd], check=True)
        self.assertTrue(wait_until(lambda: hog.name in self.screen(), 10), self.screen())
        self.assertIn("[::1]:", self.screen())
        self.keys("q")
        self.assertTrue(wait_until(lambda: not self.alive(), 5))
        self.assertEqual(f.stop(), 0)

    def test_t_thaws_the_selected_frozen_process(self):
        hog = self.hog(cpu=True)
        token, config = with_token(self.workdir, monitor(interval=0.3))
        f = self.freezr(config +
                        rule("ice", [hog.name], cpu_percent=10, violations=2, action="freeze",
                             duration=300))
        f.wait_for(rf"pid={hog.pid} .*frozen for 300s")
        cmd = (f"env FREEZR_TOKEN={token} {shlex.quote(os.path.abspath(FREEZR))} dashboard "
               f"--config {shlex.quote(f.config_path)} --interval 0.3")
        subprocess.run(["tmux", "new-session", "-d", "-s", self.session, "-x", "160", "-y", "50",
                        "-c", self.workdir, cmd], check=True)
        self.assertTrue(wait_until(lambda: hog.name in self.screen(), 10), self.screen())
        self.keys("/")
        self.keys(hog.name, "Enter")  # the table shows the hog alone: it is the selected row
        self.assertTrue(wait_until(lambda: f"filter: {hog.name}" in self.screen() or
                                   hog.name in self.screen(), 5), self.screen())
        frozen = rf"{hog.name} pid {hog.pid} by rule ice \((SIGSTOP|cgroup\.freeze)\), \dm \d\ds left"
        self.assertTrue(wait_until(lambda: re.search(frozen, self.screen()), 10), self.screen())
        # w: every decision about the selected process, in place of the events.
        self.keys("w")
        self.assertTrue(wait_until(lambda: f"WHY PID {hog.pid}" in self.screen(), 10),
                        self.screen())
        self.assertTrue(wait_until(lambda: re.search(r"decision \[ice\] freeze: act: cpu [\d.]+% "
                                                     r"> 10(\.0)?% for 2 scans", self.screen()), 10),
                        self.screen())
        self.keys("w")
        self.assertTrue(wait_until(lambda: "LAST EVENTS" in self.screen(), 10), self.screen())
        self.keys("t")
        self.assertTrue(wait_until(lambda: f"thawed PID {hog.pid}" in self.screen(), 10),
                        self.screen())
        self.assertTrue(wait_until(lambda: hog.state() not in "Tt", 10), f.output())
        f.wait_for(rf"UNDO rule=ice .*pid={hog.pid} .*thawed on request")
        self.keys("q")
        f.stop()

    def test_without_a_terminal_it_says_so_and_exits_2_at_once(self):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run([FREEZR, "dashboard"], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=30, cwd=self.workdir)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("needs a terminal", r.stderr)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.assertLess(cpu, 0.5, "it spent CPU instead of exiting")


if __name__ == "__main__":
    unittest.main()
