"""Hostile and broken inputs: configurations that must give a clear error or load safely and
never hang, paths that are not files, patterns that would stall a backtracking matcher."""
import glob
import os
import re
import secrets
import shutil
import signal
import subprocess

from harness import FREEZR, SOURCE_DIR, TestCase, monitor, unique_name, wait_until
from test_discovery import SWEEPING, top_rows

CORPUS = os.path.join(SOURCE_DIR, "tests", "fixtures", "hostile", "config")


def check(*args, timeout=20):
    """`freezr config check` on args; the timeout is a safety net (a hang fails the test)."""
    return subprocess.run([FREEZR, "config", "check", *args], capture_output=True, text=True,
                          timeout=timeout)


class HostileConfigTest(TestCase):
    def test_every_configuration_of_the_corpus_gives_what_it_expects(self):
        files = sorted(glob.glob(os.path.join(CORPUS, "*.toml")))
        self.assertGreaterEqual(len(files), 10)
        for path in files:
            with open(path, encoding="utf-8") as f:
                first = f.readline()
            expect = re.match(r"# expect: (.*)$", first.rstrip("\n"))
            self.assertIsNotNone(expect, path)
            r = check(path)
            out = r.stdout + r.stderr
            if expect.group(1).startswith("OK"):
                self.assertEqual(r.returncode, 0, (path, out))
            else:
                self.assertEqual(r.returncode, 2, (path, out))
                self.assertRegex(out, re.escape(path) + expect.group(1))
            self.assertNotIn("Aborted", out)

    def test_paths_that_are_not_regular_files_are_refused_without_blocking(self):
        fifo = os.path.join(self.workdir, "fifo.toml")
        os.mkfifo(fifo)
        zero = os.path.join(self.workdir, "zero.toml")
        os.symlink("/dev/zero", zero)
        directory = os.path.join(self.workdir, "dir.toml")
        os.mkdir(directory)
        big = os.path.join(self.workdir, "big.toml")
        with open(big, "w") as f:
            f.write(("# " + "x" * 1022 + "\n") * 1100)
        cases = {fifo: "is a FIFO, not a regular file",
                 zero: "is a character device, not a regular file",
                 directory: "is a directory, not a regular file",
                 big: "is larger than 1024 KiB"}
        for path, message in cases.items():
            for args in (["config", "check", path], ["--config", path, "--dry-run"]):
                r = subprocess.run([FREEZR, *args], capture_output=True, text=True, timeout=20)
                self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
                self.assertIn(f"{path}: cannot read the configuration file: {message}", r.stderr)

    def test_a_reload_from_a_directory_keeps_the_running_rules(self):
        name = unique_name()
        config = monitor() + (f'[[rule]]\nname = "kept"\nmatch = {{ comm = ["{name}"] }}\n'
                              "cpu_percent = 90\n")
        f = self.freezr(config, ["--dry-run"])
        f.wait_scans(1)
        os.replace(f.config_path, f.config_path + ".old")
        os.mkdir(f.config_path)
        f.signal(signal.SIGHUP)
        f.wait_for(r"configuration reload rejected, keeping the running one: .*"
                   r"is a directory, not a regular file")
        f.wait_scans(2)
        with open(os.path.join(self.workdir, "data", "status.json")) as s:
            self.assertIn('"kept"', s.read())
        self.assertEqual(f.stop(), 0)


class HostilePatternTest(TestCase):
    def test_patterns_that_backtrack_exponentially_do_not_cost_scans(self):
        # Processes whose command lines are 4,000 'a's, against patterns that take a
        # backtracking matcher exponential time on them: the scans go on.
        hogs = [self.hog(extra=["--pad", "a" * 4000]) for _ in range(8)]
        names = ", ".join(f'"{h.name}"' for h in hogs)
        config = monitor() + "".join(
            f'[[rule]]\nname = "p{i}"\nmatch = {{ cmdline = \'{p}\', comm = [{names}] }}\n'
            "cpu_percent = 90\n"
            for i, p in enumerate(["(a+)+$x", "(a|aa)+$x", "(.*a){20}x", "^(a?){30}a{30}x"]))
        f = self.freezr(config, ["--dry-run"])
        f.wait_scans(10)
        port = f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1)
        r = subprocess.run(["curl", "-s", "-m", "10", f"http://127.0.0.1:{port}/healthz"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(f.stop(timeout=10), 0)


if __name__ == "__main__":
    import unittest

    unittest.main()


class TerminalOutputTest(TestCase):
    """Process names holding terminal escape sequences, through every command that prints
    them."""

    CONTROLS = ("\x1b", "\x07", "\u009b", "\u009d")

    def hostile_hog(self, tail):
        tag = secrets.token_hex(2)
        name = f"\x1b[2J\u009b{tag}{tail}"
        return self.hog(cpu=True, extra=["--name", name]), name, tag

    def run_cli(self, *args):
        r = subprocess.run([FREEZR, *args], capture_output=True, text=True, timeout=60,
                           errors="replace", cwd=self.workdir)
        self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        return r.stdout

    def assert_safe(self, what, text):
        for c in self.CONTROLS:
            self.assertNotIn(c, text, f"{what} printed {c!r}:\n{text!r}")

    def test_escape_sequences_reach_no_terminal_and_suggest_pastes(self):
        ruled, ruled_name, ruled_tag = self.hostile_hog("\x07")
        unruled, unruled_name, unruled_tag = self.hostile_hog("\u009d")
        toml_name = ruled_name.encode("unicode_escape").decode().replace("\\x", "\\u00")
        f = self.freezr(SWEEPING + "[history]\ntop = 20\n" +
                        f'[[rule]]\nname = "hostile"\nmatch = {{ comm = ["{toml_name}"] }}\n'
                        'cpu_percent = 1\nviolations = 1\naction = "log"\n', ["--dry-run"])
        db = os.path.join(self.workdir, "data", "freezr.db")
        self.assertTrue(wait_until(lambda: top_rows(db, unruled_name) >= 3, 60), f.output())
        f.wait_for(rf"DRY-RUN .*name=\"\\x1b\[2J\\u009b{ruled_tag}\\x07\"")
        self.assertEqual(f.stop(), 0)
        self.assert_safe("the log", f.output())
        cfg = ["--config", f.config_path]
        outputs = {
            "ps": self.run_cli("ps", *cfg, "--interval", "0.2", "-n", "1000000"),
            "events": self.run_cli("events", *cfg, "--since", "10m"),
            "events csv": self.run_cli("events", *cfg, "--since", "10m", "--format", "csv"),
            "why": self.run_cli("why", str(ruled.pid), *cfg),
            "suggest": self.run_cli("suggest", *cfg, "--since", "10m", "--cpu", "10"),
        }
        for what, out in outputs.items():
            self.assert_safe(what, out)
        self.assertIn(f"\\x1b[2J\\u009b{ruled_tag}\\x07", outputs["ps"])
        self.assertIn(f"\\x1b[2J\\u009b{ruled_tag}\\x07", outputs["events"])
        self.assertIn(f"\\x1b[2J\\u009b{ruled_tag}\\x07", outputs["why"])
        block = outputs["suggest"].split(f"\\u009b{unruled_tag}\\u009d:", 1)[1]
        block = block.split("\n", 1)[1].split("\n\n")[0]
        suggested = os.path.join(self.workdir, "suggested.toml")
        with open(suggested, "w") as fh:
            fh.write(block)
        check_run = subprocess.run([FREEZR, "config", "check", suggested], capture_output=True,
                                   text=True, timeout=20)
        self.assertEqual(check_run.returncode, 0, block + check_run.stdout + check_run.stderr)
        ps = self.run_cli("ps", "--config", suggested, "--rule", unruled_name, "--interval", "0.1")
        self.assertIn(f" {unruled.pid} ", ps)


class PlantedFilesTest(TestCase):
    """A daemon started in a scratch directory where links were planted, under umask 000."""

    def config(self):
        name = unique_name()
        return monitor() + (f'[[rule]]\nname = "r"\nmatch = {{ comm = ["{name}"] }}\n'
                            "cpu_percent = 90\n")

    def test_planted_links_are_never_followed_and_modes_ignore_the_umask(self):
        victim = os.path.join(self.workdir, "victim")
        with open(victim, "w") as v:
            v.write("precious\n")
        os.chmod(victim, 0o600)
        data = os.path.join(self.workdir, "data")
        os.mkdir(data, 0o750)
        for name in ("status.json.tmp", "ledger.jsonl.tmp", f".write_test.{os.getpid()}"):
            os.symlink(victim, os.path.join(data, name))
        old = os.umask(0)
        try:
            f = self.freezr(self.config(), ["--dry-run"])
        finally:
            os.umask(old)
        f.wait_scans(3)
        self.assertEqual(f.stop(), 0)
        with open(victim) as v:
            self.assertEqual(v.read(), "precious\n")
        self.assertEqual(os.stat(victim).st_mode & 0o777, 0o600)
        logs = os.path.join(self.workdir, "logs")
        self.assertEqual(os.stat(logs).st_mode & 0o777, 0o750)
        for path in [os.path.join(data, n) for n in ("status.json", "freezr.db", "freezr.lock")] + \
                [os.path.join(logs, n) for n in os.listdir(logs)]:
            self.assertFalse(os.path.islink(path), path)
            self.assertEqual(os.stat(path).st_mode & 0o027, 0, (path, oct(os.stat(path).st_mode)))
        self.assertEqual(os.stat(os.path.join(data, "freezr.lock")).st_mode & 0o777, 0o600)

    def test_a_linked_lock_or_database_is_refused_by_name(self):
        victim = os.path.join(self.workdir, "victim")
        with open(victim, "w") as v:
            v.write("precious\n")
        data = os.path.join(self.workdir, "data")
        os.mkdir(data, 0o750)
        os.symlink(victim, os.path.join(data, "freezr.db"))
        f = self.freezr(self.config(), ["--dry-run"])
        f.wait_for(r"PREFLIGHT check=database ok=false: refusing .*freezr\.db: it is a symbolic "
                   r"link; no history")
        f.wait_scans(2)  # monitoring goes on without a history
        self.assertEqual(f.stop(), 0)
        os.unlink(os.path.join(data, "freezr.db"))
        os.unlink(os.path.join(data, "freezr.lock"))
        os.symlink(victim, os.path.join(data, "freezr.lock"))
        g = self.freezr(self.config(), ["--dry-run"], config_name="again.toml")
        self.assertEqual(g.proc.wait(timeout=30), 1)
        self.assertRegex(g.output(), r"cannot open lock file .*freezr\.lock: it is a symbolic link")
        with open(victim) as v:
            self.assertEqual(v.read(), "precious\n")

    def test_a_data_directory_others_can_write_is_refused(self):
        data = os.path.join(self.workdir, "data")
        os.mkdir(data)
        os.chmod(data, 0o777)
        f = self.freezr(self.config(), ["--dry-run"])
        self.assertEqual(f.proc.wait(timeout=30), 1)
        self.assertRegex(f.output(), r"refusing \S*data: writable by others \(mode 0777\)")
        os.chmod(data, 0o750)
        logs = os.path.join(self.workdir, "logs")
        shutil.rmtree(logs)
        os.mkdir(os.path.join(self.workdir, "elsewhere"), 0o750)
        os.symlink(os.path.join(self.workdir, "elsewhere"), logs)
        g = self.freezr(self.config(), ["--dry-run"], config_name="again.toml")
        g.wait_for(r"PREFLIGHT check=.log directory. ok=false: file logging is off \(refusing "
                   r".*logs: it is a symbolic link")
        self.assertEqual(g.stop(), 0)
