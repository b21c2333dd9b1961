"""The command line: subcommands, usage errors, configuration errors."""
import csv
import io
import json
import os
import re
import signal
import subprocess
import unittest

from harness import FREEZR, TestCase, monitor, rule

FIXTURES = os.path.join(os.environ.get("FREEZR_SOURCE_DIR", "../.."), "tests", "fixtures")


def run(*args, cwd=None, timeout=30):
    return subprocess.run([FREEZR, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, stdin=subprocess.DEVNULL)


class UsageTest(TestCase):
    def test_version_and_help(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^freezr \d+\.\d+\.\d+")
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for word in ("run", "check", "ps", "config", "--stats", "--report-interval",
                     "percent of ONE core", "resident set size in MiB"):
            self.assertIn(word, r.stdout)

    def test_usage_errors_exit_2_with_one_line(self):
        for args in (["--bogus"], ["--report-interval", "0"], ["--report-interval", "x"],
                     ["ps", "--sort", "name"], ["frobnicate"], ["config"],
                     ["config", "convert"]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, (args, r.stderr))
            self.assertTrue(r.stderr.startswith("freezr: "), r.stderr)

    def test_process_monitor_name_behaves_the_same(self):
        link = os.path.join(self.workdir, "process-monitor")
        os.symlink(os.path.abspath(FREEZR), link)
        r = subprocess.run([link, "--version"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, run("--version").stdout)


class InstallTest(TestCase):
    def test_install_to_another_prefix_stays_under_it(self):
        build = os.path.dirname(os.path.abspath(FREEZR))
        root = os.path.join(self.workdir, "root")
        prefix = "/opt/freezr-test"
        r = subprocess.run(["cmake", "--install", build, "--prefix", prefix],
                           capture_output=True, text=True, env={**os.environ, "DESTDIR": root})
        self.assertEqual(r.returncode, 0, r.stderr)
        installed = re.findall(r"-- (?:Installing|Up-to-date): (\S+)", r.stdout)
        self.assertGreater(len(installed), 10, r.stdout)
        for path in installed:  # nothing written outside the prefix, the unit and /etc too
            self.assertTrue(path.startswith(root + prefix + "/"), path)
        binary = os.path.join(root + prefix, "bin", "freezr")
        link = os.path.join(root + prefix, "bin", "process-monitor")
        self.assertTrue(os.access(binary, os.X_OK))
        self.assertEqual(os.readlink(link), "freezr")
        self.assertTrue(os.path.exists(os.path.join(root + prefix, "etc/freezr/config.toml")))
        self.assertTrue(os.path.exists(os.path.join(root + prefix,
                                                    "lib/systemd/system/freezr.service")))
        out = subprocess.run([link, "--version"], capture_output=True, text=True)
        self.assertEqual(out.stdout, run("--version").stdout)


class ConfigCommandTest(TestCase):
    def write(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_default_is_commented_and_valid(self):
        r = run("config", "default")
        self.assertEqual(r.returncode, 0)
        self.assertIn("# ", r.stdout)
        path = self.write("default.toml", r.stdout)
        r = run("config", "check", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("OK, 2 rules", r.stdout)

    def test_each_kind_of_error_exits_2_with_line_and_column(self):
        cases = {
            "syntax": ("[monitor]\ninterval = = 3\n", r":2:\d+: "),
            "unknown": ("[monitor]\nintervall = 3\n", r":2:1: unknown key 'intervall'"),
            "type": ("[monitor]\ninterval = 'fast'\n", r":2:12: .*expected a number"),
            "value": ("[monitor]\ninterval = 0\n", r":2:12: .*between 0.1"),
            "regex": ("[[rule]]\nname='a'\nmatch={cmdline='a['}\ncpu_percent=1\n",
                      r":3:16: .*invalid regular expression"),
        }
        for name, (text, pattern) in cases.items():
            path = self.write(f"{name}.toml", text)
            for args in (["config", "check", path], ["--config", path, "--dry-run"],
                         ["check", "--config", path]):
                r = run(*args)
                self.assertEqual(r.returncode, 2, (name, args, r.stdout, r.stderr))
                self.assertRegex(r.stderr, re.escape(path) + pattern)

    def test_missing_config_file_exits_2(self):
        r = run("--config", "/nonexistent/freezr.toml", "--dry-run")
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/freezr.toml", r.stderr)

    def test_convert_rust_config(self):
        path = self.write("old.toml", "[kesl]\ncpu_threshold = 25.0\nmemory_threshold_mb = 500\n"
                                      "max_violations = 4\nservice_name = \"kesl\"\n"
                                      "enabled = true\n[node]\ncpu_threshold = 70.0\n"
                                      "enabled = true\nauto_kill = true\nconfirm_kill = false\n"
                                      "[monitoring]\ncheck_interval_secs = 5\n"
                                      "min_restart_interval_secs = 120\n")
        r = run("config", "convert", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('service = "kesl.service"', r.stdout)
        self.assertIn("cooldown = 120.0", r.stdout)
        self.assertIn("cpu_percent = 70.0", r.stdout)
        self.assertNotRegex(r.stdout, r"(?m)^\[kesl\]")  # no Rust section: only notes name it
        # The sections the file leaves out get the Rust FreezR's defaults, each with a note.
        for section in ("snap", "firefox", "brave", "telegram", "memory_pressure"):
            self.assertIn(f"# note: [{section}] absent: the Rust FreezR's default applies",
                          r.stdout)
        critical = r.stdout.split("[pressure.critical]", 1)[1].split("\n[", 1)[0]
        self.assertIn('action = "freeze"', critical)
        converted = self.write("new.toml", r.stdout)
        r = run("config", "check", converted)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("OK, 6 rules", r.stdout)

    def test_config_search_prefers_the_working_directory(self):
        self.write("freezr.toml", "[[rule]]\nname = 'here'\nmatch = { comm = ['x'] }\n"
                                  "cpu_percent = 5\n")
        r = run("config", "check", cwd=self.workdir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("./freezr.toml: OK, 1 rule", r.stdout)


class InspectTest(TestCase):
    def test_a_scan_reads_each_stat_file_once(self):
        # /proc/PID/stat gives its whole line to the first read: a second read for the end of
        # the file would double the system calls of every scan.
        trace = os.path.join(self.workdir, "trace")
        env = dict(os.environ)  # LeakSanitizer cannot run under ptrace
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        r = subprocess.run(["strace", "-o", trace, "-e", "trace=openat,read,close", FREEZR,
                            "ps", "--interval", "0.2", "-n", "1"], capture_output=True,
                           text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        open_stat = {}  # fd -> reads so far
        per_file = []
        with open(trace) as t:
            for line in t:
                m = re.match(r'openat\(\d+, "\d+/stat", .*\) = (\d+)$', line)
                if m:
                    open_stat[m.group(1)] = 0
                    continue
                m = re.match(r"read\((\d+), ", line)
                if m and m.group(1) in open_stat:
                    open_stat[m.group(1)] += 1
                    continue
                m = re.match(r"close\((\d+)\)", line)
                if m and m.group(1) in open_stat:
                    per_file.append(open_stat.pop(m.group(1)))
        self.assertGreater(len(per_file), 10)
        self.assertEqual(set(per_file), {1}, per_file)

    def test_every_command_that_prints_data_speaks_json_and_csv(self):
        hog = self.hog(cpu=True)
        cfg = os.path.join(self.workdir, "c.toml")
        with open(cfg, "w") as f:
            f.write(monitor(interval=0.3) +
                    f'[pressure]\ncandidates = {{ comm = ["{hog.name}"] }}\n' +
                    rule("hogs", [hog.name], cpu_percent=10, violations=1, action="kill"))
        commands = {
            "ps": ["ps", "--interval", "0.2", "--rule", "hogs"],
            "check": ["check"],
            "oom-order": ["oom-order"],
            "categories": ["categories"],
        }
        for name, args in commands.items():
            with self.subTest(command=name):
                r = run(*args, "--config", cfg, "--format", "json")
                self.assertEqual(r.returncode, 0, r.stderr)
                rows = json.loads(r.stdout)
                self.assertIsInstance(rows, list)
                self.assertTrue(rows, r.stdout)
                if name != "categories":
                    mine = [x for x in rows if x["pid"] == hog.pid]
                    self.assertTrue(mine, rows)
                    self.assertEqual(mine[0]["name"], hog.name)
                    self.assertGreater(mine[0]["rss_bytes"], 0)
                r = run(*args, "--config", cfg, "--format", "csv")
                self.assertEqual(r.returncode, 0, r.stderr)
                table = list(csv.DictReader(io.StringIO(r.stdout)))
                self.assertTrue(table)
                if name != "categories":
                    self.assertIn(str(hog.pid), [x["pid"] for x in table])
                bad = run(*args, "--config", cfg, "--format", "yaml")
                self.assertEqual(bad.returncode, 2)
        verdict = [x for x in json.loads(run("check", "--config", cfg, "--format",
                                             "json").stdout) if x["pid"] == hog.pid][0]
        self.assertIn("VIOLATES cpu", verdict["verdict"])
        status = run("service", "status", "--format", "json", "--no-systemctl", "--unit-dir",
                     self.workdir, "--data-dir", self.workdir, "--runtime-dir", self.workdir)
        self.assertEqual(status.returncode, 3)  # not installed
        doc = json.loads(status.stdout)
        self.assertFalse(doc["installed"])
        self.assertIsNone(doc["status"])
    def test_check_prints_matches_and_verdicts_and_acts_on_nothing(self):
        hog = self.hog(cpu=True)
        idle = self.hog()
        cfg = os.path.join(self.workdir, "c.toml")
        with open(cfg, "w") as f:
            f.write(monitor(interval=0.5) +
                    rule("hogs", [hog.name, idle.name], cpu_percent=10, violations=1,
                         action="kill"))
        r = run("check", "--config", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, rf"rule 'hogs': 2 processes")
        self.assertRegex(r.stdout, rf"pid +{hog.pid} +{hog.name} +cpu +\d+\.\d% .*VIOLATES cpu")
        self.assertRegex(r.stdout, rf"pid +{idle.pid} +{idle.name} +cpu +0\.0% .* ok")
        self.assertTrue(hog.alive())

    def test_ps_lists_processes_with_their_rule(self):
        hog = self.hog(cpu=True)
        cfg = os.path.join(self.workdir, "c.toml")
        with open(cfg, "w") as f:
            f.write(rule("hogs", [hog.name], cpu_percent=10))
        r = run("ps", "--config", cfg, "--interval", "0.3", "--rule", "hogs")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("PID", lines[0])
        self.assertEqual(len(lines), 2)
        self.assertRegex(lines[1], rf"^\s*{hog.pid} {hog.name}\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d"
                                   r"\s+-\s+-\s+hogs\s+\S+$")
        r = run("ps", "--config", cfg, "--interval", "0.3", "--sort", "cpu", "-n", "5")
        self.assertEqual(r.returncode, 0)
        self.assertLessEqual(len(r.stdout.splitlines()), 6)
        r = run("ps", "--config", cfg, "--rule", "nope")
        self.assertEqual(r.returncode, 2)

    def test_ps_marks_what_freezr_froze_with_the_time_left_and_what_someone_else_stopped(self):
        hog = self.hog(cpu=True)
        other = self.hog()
        f = self.freezr(monitor(interval=0.3) +
                        rule("ice", [hog.name], cpu_percent=10, violations=2, action="freeze",
                             duration=300) +
                        rule("watch", [other.name], cpu_percent=1000, action="log"))
        f.wait_for(rf"pid={hog.pid} .*frozen for 300s")
        os.kill(other.pid, signal.SIGSTOP)
        try:
            r = run("ps", "--config", f.config_path, "--interval", "0.1", "--format", "json")
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = {p["pid"]: p for p in json.loads(r.stdout)}
            self.assertRegex(rows[hog.pid]["state"], r"^frozen (29\d|300)s$")
            self.assertEqual(rows[other.pid]["state"], "stopped")
            r = run("ps", "--config", f.config_path, "--interval", "0.1", "--rule", "ice")
            self.assertRegex(r.stdout, rf"\n\s*{hog.pid} {hog.name} .* frozen (29\d|300)s ")
        finally:
            os.kill(other.pid, signal.SIGCONT)
        f.stop()
        r = run("ps", "--config", f.config_path, "--interval", "0.1", "--format", "json")
        self.assertEqual({p["pid"]: p for p in json.loads(r.stdout)}[hog.pid]["state"], "-")

    def test_ps_shows_and_filters_by_category(self):
        hog = self.hog()
        other = self.hog()
        cfg = os.path.join(self.workdir, "c.toml")
        with open(cfg, "w") as f:
            f.write(f'[[category]]\nname = "fz-tests"\ndescription = "test processes"\n'
                    f'comm = ["{hog.name}"]\n' + rule("ours", [hog.name], cpu_percent=10) +
                    rule("by-cat", [], cpu_percent=10).replace(
                        "match = { comm = [] }", 'match = { category = "fz-tests" }'))
        r = run("ps", "--config", cfg, "--interval", "0.1", "--category", "fz-tests")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("CATEGORY", lines[0])
        self.assertEqual(len(lines), 2, r.stdout)
        self.assertRegex(lines[1], rf"^\s*{hog.pid} {hog.name} .* fz-tests\s+ours,by-cat\s+\S+$")
        r = run("ps", "--config", cfg, "--interval", "0.1")
        self.assertRegex(r.stdout, rf"\n\s*{other.pid} {other.name} .* -\s+-\s+\S+\n")
        r = run("categories", "--config", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"Category library version \d+")
        self.assertRegex(r.stdout, rf"fz-tests +test processes\n  comm: +{hog.name}")
        self.assertIn("browser", r.stdout)
        r = run("ps", "--config", cfg, "--category", "nope")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no category named 'nope'", r.stderr)

    def test_ps_on_a_fixture_tree_shows_hostile_names_safely(self):
        r = run("ps", "--proc-root", os.path.join(FIXTURES, "proc"), "--interval", "0.05")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("a) b (c", r.stdout)
        self.assertIn("evil\\x0aname", r.stdout)  # the newline escaped, not drawn
        self.assertNotIn("31337", r.stdout)  # truncated stat: skipped


if __name__ == "__main__":
    unittest.main()
