"""The terminal dashboard under tmux: it shows the hog, sorts, quits, and says when FreezR is
not running."""
import os
import shlex
import subprocess
import time
import unittest

from harness import FREEZR, TestCase, monitor, rule, unique_name, wait_until


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


if __name__ == "__main__":
    unittest.main()
