"""Shared helpers for the integration tests.

Every process these tests signal is one they started themselves, under a unique name, and it
is ended by PID. FreezR itself is always given a configuration whose rules match only those
names.
"""
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

FREEZR = os.environ.get("FREEZR_BIN", "../../build/freezr")
HOG = os.environ.get("FREEZR_HOG", "../../build/tests/freezr_test_hog")
SOURCE_DIR = os.environ.get("FREEZR_SOURCE_DIR", "../..")
# The binary was built with AddressSanitizer: its resident memory is the sanitizer's as much as
# FreezR's, and LeakSanitizer cannot run under ptrace.
SANITIZED = os.environ.get("FREEZR_SANITIZED") == "1"
FAKE_SYSTEMD = os.environ.get("FREEZR_FAKE_SYSTEMD", "../../build/tests/freezr_fake_systemd")
FAKE_DESKTOP = os.environ.get("FREEZR_FAKE_DESKTOP", "../../build/tests/freezr_fake_desktop")


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

    def __init__(self, workdir, name=None, cpu=False, mem_mb=0, ignore_term=False, extra=(),
                 user=None):
        self.name = name or unique_name()
        self.path = path = os.path.join(workdir, self.name)
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
        # A session of its own with a raised autogroup priority: the kernel shares CPU between
        # sessions first, so on a busy machine a victim in the runner's session would get a
        # fraction of a core (a plain nice does not help).
        # user: run as that user (the work directory must then be open to it).
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     start_new_session=True, user=user)
        self.pid = self.proc.pid
        try:
            with open(f"/proc/{self.pid}/autogroup", "w") as f:
                f.write("-10")
        except OSError:
            pass  # autogroups off, or not permitted: the thresholds still allow for it
        line = self.proc.stdout.readline()
        assert line == b"ready\n", line

    def alive(self):
        return self.proc.poll() is None

    def stat_fields(self):
        with open(f"/proc/{self.pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()

    def state(self):
        return self.stat_fields()[0]

    def nice(self):
        return int(self.stat_fields()[16])

    def cpu_seconds(self):
        """utime + stime so far, in seconds."""
        f = self.stat_fields()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def cpu_percent_over(self, seconds):
        """The CPU it really got over the next few seconds, in percent of one core: on a busy
        machine a busy loop gets much less than a whole core."""
        before, t0 = self.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        return 100 * (self.cpu_seconds() - before) / (time.monotonic() - t0)

    def stop(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def limit_pressure_candidates(config):
    """The configuration with [pressure] candidates limited to a name no process has, unless
    the test set its own: whatever a test is about, memory pressure on the machine must never
    make its daemon kill a process the test did not start."""
    if re.search(r"^\s*candidates\s*=", config, re.M):
        return config
    line = f'candidates = {{ comm = ["{unique_name("nocand")}"] }}\n'
    if re.search(r"^\[pressure\]\s*$", config, re.M):
        return re.sub(r"^\[pressure\]\s*$", "[pressure]\n" + line.rstrip("\n"), config,
                      count=1, flags=re.M)
    return config.rstrip("\n") + "\n[pressure]\n" + line


class Freezr:
    """The built freezr binary with a configuration of the test's making (its pressure
    candidates limited to the test's own processes, see limit_pressure_candidates)."""

    def __init__(self, workdir, config, args=(), env=None, config_name="freezr.toml", wrapper=(),
                 raw_config=False):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, config_name)
        with open(self.config_path, "w") as f:
            f.write(config if raw_config else limit_pressure_candidates(config))
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

    def scans(self, data_dir="data"):
        """How many scans the daemon has made, from its own status snapshot (0 before the
        first)."""
        try:
            with open(os.path.join(self.workdir, data_dir, "status.json")) as f:
                status = json.load(f)
        except (OSError, ValueError):
            return 0
        if status.get("pid") != self.pid:
            return 0
        return status["totals"]["checks"]

    def wait_scans(self, n, timeout=60, data_dir="data"):
        """Waits until the daemon has made n more scans than now; returns the new count. The
        timeout is only a safety net: on a loaded machine scans are slower, not skipped."""
        target = self.scans(data_dir) + n
        done = wait_until(lambda: self.scans(data_dir) >= target, timeout)
        if not done:
            raise AssertionError(f"{n} scans not made in {timeout}s:\n{self.output()}")
        return self.scans(data_dir)

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


def exchange(port, data, timeout=5, headers_only=False):
    """Sends raw bytes to 127.0.0.1:port; returns what comes back until the server closes or
    goes quiet (or, with headers_only, until the end of the first response's headers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
                if headers_only and b"\r\n\r\n" in b"".join(chunks):
                    break
        except socket.timeout:
            pass
        return b"".join(chunks).decode(errors="replace")


def cgroup_text(pid):
    """The text of /proc/PID/cgroup: every hierarchy's path of the process."""
    with open(f"/proc/{pid}/cgroup") as f:
        return f.read()


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


def remove_cgroup(path):
    """Removes a cgroup the test made, once the processes in it are gone (a few tries)."""
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except OSError:
            time.sleep(0.1)


def cgroup_v2_root():
    """Where the cgroup v2 hierarchy is mounted (the unified one on a hybrid machine)."""
    roots = [mount for fstype, mount, _ in cgroup_mounts() if fstype == "cgroup2"]
    if not roots:
        raise AssertionError("needs a cgroup v2 hierarchy")
    return roots[0]


def unit_name(kind, suffix):
    """A systemd-style unit name of the test's own: "fzsvc-1a2b3c4d5e.service"."""
    return f"{kind}-{unique_name('')}{suffix}"


def mem_available_percent():
    """MemAvailable of the machine in percent of MemTotal, and MemTotal in KiB."""
    fields = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            fields[k] = int(v.split()[0])
    return 100.0 * fields["MemAvailable"] / fields["MemTotal"], fields["MemTotal"]


def copy_proc_entry(proc_root, pid):
    """Copies what FreezR reads of pid (stat, cmdline, status, statm) from the real /proc into
    a synthetic one, each file replaced atomically so that a reader never sees half of it."""
    entry = os.path.join(proc_root, str(pid))
    os.makedirs(entry, exist_ok=True)
    for name in ("stat", "cmdline", "status", "statm"):
        tmp = os.path.join(entry, name + ".tmp")
        shutil.copy(f"/proc/{pid}/{name}", tmp)
        os.replace(tmp, os.path.join(entry, name))
    return entry


def write_loadavg(proc_root):
    """A quiet loadavg of a synthetic /proc."""
    with open(os.path.join(proc_root, "loadavg"), "w") as f:
        f.write("0.10 0.20 0.30 1/100 12345\n")


def write_meminfo(proc_root, available_mib, total_mib=16384):
    """A meminfo of a synthetic /proc, replaced atomically."""
    tmp = os.path.join(proc_root, "meminfo.tmp")
    with open(tmp, "w") as f:
        f.write(f"MemTotal:       {total_mib * 1024} kB\nMemFree:        {available_mib * 1024} kB\n"
                f"MemAvailable:   {available_mib * 1024} kB\nSwapTotal:             0 kB\n"
                f"SwapFree:              0 kB\n")
    os.replace(tmp, os.path.join(proc_root, "meminfo"))


def power_supply(workdir):
    """A /sys of the test's making with mains (online) and a battery: (the --sys-root to
    give FreezR, the mains' `online` file, which the test writes 0 or 1 to)."""
    sys_root = os.path.join(workdir, "sys")
    supplies = os.path.join(sys_root, "class", "power_supply")
    for name, files in (("AC", {"type": "Mains", "online": "1"}),
                        ("BAT0", {"type": "Battery", "status": "Charging"})):
        os.makedirs(os.path.join(supplies, name))
        for file, value in files.items():
            with open(os.path.join(supplies, name, file), "w") as out:
                out.write(value + "\n")
    return sys_root, os.path.join(supplies, "AC", "online")


def with_token(workdir, config):
    """A bearer token in a 0600 file, and the configuration with its control endpoints on."""
    token = "t" + unique_name("tok") * 2
    path = os.path.join(workdir, "token")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as t:
        t.write(token + "\n")
    return token, config.replace('[http]\nlisten = "127.0.0.1:0"\n',
                                 f'[http]\nlisten = "127.0.0.1:0"\ntoken_file = "{path}"\n')


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


LOCATION_VARIABLES = ("STATE_DIRECTORY", "LOGS_DIRECTORY", "RUNTIME_DIRECTORY")


class TestCase(unittest.TestCase):
    """Gives each test a work directory, and ends what it started."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="freezr-it-")
        self.hogs = []
        self.freezrs = []
        # Where FreezR keeps its files unless a test's configuration says otherwise: the
        # variables systemd hands a service, pointed into the work directory, so that no test
        # touches /var/lib/freezr, /var/log/freezr or the machine's lock in /run/freezr.
        self._saved_env = {k: os.environ.get(k) for k in LOCATION_VARIABLES}
        os.environ.update(self.locations(self.workdir))

    @staticmethod
    def locations(workdir):
        """The location variables for a FreezR whose files are in workdir/data and workdir/logs."""
        return {"STATE_DIRECTORY": os.path.join(workdir, "data"),
                "LOGS_DIRECTORY": os.path.join(workdir, "logs"),
                "RUNTIME_DIRECTORY": os.path.join(workdir, "data")}

    def tearDown(self):
        for f in self.freezrs:
            if f.proc.poll() is None:
                f.stop()
        for h in self.hogs:
            h.stop()
        for k, v in self._saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(self.workdir, ignore_errors=True)

    def cgroup(self, parent, name):
        """A cgroup of the test's at parent/name, removed after the processes in it ended."""
        path = os.path.join(parent, name)
        os.mkdir(path)
        self.addCleanup(remove_cgroup, path)  # cleanups run after tearDown ended the hogs
        return path

    def move(self, hog, group):
        """Puts the hog (its main process) into the cgroup at group."""
        with open(os.path.join(group, "cgroup.procs"), "w") as procs:
            procs.write(str(hog.pid))

    def hog(self, **kw):
        h = Hog(self.workdir, **kw)
        self.hogs.append(h)
        return h

    def freezr(self, config, args=(), **kw):
        f = Freezr(self.workdir, config, args, **kw)
        self.freezrs.append(f)
        return f


class StandInSystemd:
    """A private dbus-daemon with the stand-in systemd on it, which records each call it gets
    (fail: a unit name it answers with NoSuchUnit). With cgroups (a v2 directory of the
    test's), a unit is the group of its name there and the calls take effect on it. Pass `env`
    to the FreezR that calls it."""

    def __init__(self, workdir, fail="", cgroups=""):
        socket_path = os.path.join(workdir, "system_bus")
        self.bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile",
             f"--address=unix:path={socket_path}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.fake = None
        if not wait_until(lambda: os.path.exists(socket_path), 10):
            self.close()
            raise AssertionError("the private bus did not start")
        self.address = f"unix:path={socket_path}"
        self.env = {"DBUS_SYSTEM_BUS_ADDRESS": self.address}
        self.log = os.path.join(workdir, "restart_calls.log")
        self.fake = subprocess.Popen([FAKE_SYSTEMD, self.log],
                                     env=dict(os.environ, FAKE_SYSTEMD_FAIL=fail,
                                              FAKE_SYSTEMD_CGROUPS=cgroups, **self.env),
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        if self.fake.stdout.readline() != b"ready\n":
            self.close()
            raise AssertionError("the stand-in systemd did not start")

    def calls(self):
        """The calls it got, one line each ("RestartUnit kesl.service replace")."""
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def close(self):
        for p in (self.fake, self.bus):
            if p is not None and p.poll() is None:
                p.kill()
            if p is not None:
                p.wait()
        if self.fake is not None:
            self.fake.stdout.close()


class Receiver:
    """A loopback HTTP server (on port, or a free one) keeping what is POSTed to it."""

    def __init__(self, port=0):
        self.requests = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                requests.append((self.path, dict(self.headers), body.decode()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self, path=None):
        """The JSON bodies POSTed (to path, when given)."""
        return [json.loads(b) for p, _, b in self.requests if path is None or p == path]
