"""Shared helpers for the integration tests.

Every process these tests signal is one they started themselves, under a unique name, and it
is ended by PID. FreezR itself is always given a configuration whose rules match only those
names.
"""
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

FREEZR = os.environ.get("FREEZR_BIN", "../../build/freezr")
HOG = os.environ.get("FREEZR_HOG", "../../build/tests/freezr_test_hog")
FAKE_SYSTEMD = os.environ.get("FREEZR_FAKE_SYSTEMD", "../../build/tests/freezr_fake_systemd")


def unique_name(prefix="fz"):
    """A process name no other program on the machine has (at most 15 characters)."""
    return f"{prefix}{secrets.token_hex(5)}"[:15]


def wait_until(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


class Hog:
    """A test process: a copy of the hog binary under a unique name."""

    def __init__(self, workdir, name=None, cpu=False, mem_mb=0, ignore_term=False, extra=()):
        self.name = name or unique_name()
        path = os.path.join(workdir, self.name)
        if not os.path.exists(path):
            shutil.copy(HOG, path)
        args = [path]
        if cpu:
            args.append("--cpu")
        if mem_mb:
            args += ["--mem", str(mem_mb)]
        if ignore_term:
            args.append("--ignore-term")
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        assert line == b"ready\n", line
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def state(self):
        with open(f"/proc/{self.pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    def stop(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


class Freezr:
    """The built freezr binary with a configuration of the test's making."""

    def __init__(self, workdir, config, args=(), env=None, config_name="freezr.toml", wrapper=()):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, config_name)
        with open(self.config_path, "w") as f:
            f.write(config)
        self.out_path = os.path.join(workdir, f"freezr-{secrets.token_hex(3)}.out")
        self.out = open(self.out_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [*wrapper, FREEZR, "--config", self.config_path, *args],
            cwd=workdir, stdout=self.out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=full_env)
        self.pid = self.proc.pid

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=15):
        regex = re.compile(pattern)
        found = wait_until(lambda: regex.search(self.output()), timeout)
        if not found:
            raise AssertionError(f"{pattern!r} not in output:\n{self.output()}")
        return found

    def count(self, pattern):
        return len(re.findall(pattern, self.output()))

    def signal(self, sig):
        os.kill(self.pid, sig)

    def stop(self, timeout=20):
        """SIGTERM by PID; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.out.close()


def cgroup_mounts():
    """(fstype, mount point, super options) of each cgroup hierarchy mounted at its root."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ")
            fields, (fstype, _, opts) = left.split(), right.split()[:3]
            if fields[3] == "/" and fstype in ("cgroup", "cgroup2"):
                out.append((fstype, fields[4], opts.split(",")))
    return out


def rule(name, comm, **keys):
    """A [[rule]] block matching the given process names."""
    lines = ["[[rule]]", f'name = "{name}"',
             "match = { comm = [" + ", ".join(f'"{c}"' for c in comm) + "] }"]
    for key, value in keys.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, str):
            value = f'"{value}"'
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def monitor(interval=0.3, grace=1.0, protect=()):
    names = ", ".join(f'"{n}"' for n in protect)
    return (f"[monitor]\ninterval = {interval}\nkill_grace = {grace}\n"
            f"[protect]\ncomm = [{names}]\n[logging]\ndir = \"logs\"\n"
            f"[http]\nlisten = \"127.0.0.1:0\"\n")


class TestCase(unittest.TestCase):
    """Gives each test a work directory, and ends what it started."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="freezr-it-")
        self.hogs = []
        self.freezrs = []

    def tearDown(self):
        for f in self.freezrs:
            if f.proc.poll() is None:
                f.stop()
        for h in self.hogs:
            h.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def hog(self, **kw):
        h = Hog(self.workdir, **kw)
        self.hogs.append(h)
        return h

    def freezr(self, config, args=(), **kw):
        f = Freezr(self.workdir, config, args, **kw)
        self.freezrs.append(f)
        return f
