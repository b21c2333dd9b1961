"""Running as a real daemon: single instance, status snapshot, logs, disk full, systemd."""
import datetime
import fcntl
import gzip
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import (FREEZR, Freezr, TestCase, exchange, limit_pressure_candidates, monitor,
                     rule, unique_name, wait_until)

SOURCE = os.environ.get("FREEZR_SOURCE_DIR", "../..")


def quiet_config(**rule_keys):
    return monitor(interval=0.2) + rule("ghost", [unique_name()], cpu_percent=10, **rule_keys)


def start_time(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


class SingleInstanceTest(TestCase):
    def test_second_instance_exits_1_naming_the_first_and_replace_takes_over(self):
        first = self.freezr(quiet_config())
        first.wait_for(r"single instance.*held by PID")
        second = self.freezr(quiet_config(), config_name="second.toml")
        self.assertEqual(second.proc.wait(timeout=15), 1)
        self.assertRegex(second.output(), rf"another FreezR is running \(PID {first.pid}")
        self.assertIsNone(first.proc.poll())
        third = self.freezr(quiet_config(), args=["--replace"], config_name="third.toml")
        third.wait_for(rf"took over from PID {first.pid}")
        self.assertEqual(first.proc.wait(timeout=15), 0)
        third.wait_for(r"Pre-flight checks")
        with open(os.path.join(self.workdir, "data", "freezr.lock")) as f:
            self.assertEqual(f.read().split(), [str(third.pid), str(start_time(third.pid))])
        self.assertEqual(third.stop(), 0)

    def test_replace_never_signals_a_process_that_is_not_the_freezr_holding_the_lock(self):
        hog = self.hog()
        os.makedirs(os.path.join(self.workdir, "data"))
        path = os.path.join(self.workdir, "data", "freezr.lock")
        with open(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            for text, why in ((f"{hog.pid}\n", "start time differs"),
                              (f"{hog.pid} {start_time(hog.pid)}\n", "not FreezR")):
                held.seek(0)
                held.truncate()
                held.write(text)
                held.flush()
                f = self.freezr(quiet_config(), args=["--replace"])
                self.assertEqual(f.proc.wait(timeout=30), 1, f.output())
                self.assertIn(why, f.output())
                self.assertTrue(hog.alive())


class StatusAndLogsTest(TestCase):
    def test_status_snapshot_is_rewritten_atomically_each_tick(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"))
        path = os.path.join(self.workdir, "data", "status.json")
        self.assertTrue(wait_until(lambda: not hog.alive(), 10))
        f.wait_for(r"exited")

        def checks():
            with open(path) as s:
                return json.load(s)["totals"]["checks"]
        first = checks()
        self.assertTrue(wait_until(lambda: checks() > first + 2, 5))
        with open(path) as s:
            status = json.load(s)
        self.assertEqual(status["pid"], f.pid)
        self.assertEqual(status["totals"]["kills"], 1)
        self.assertEqual(status["rules"][0]["name"], "hog")
        self.assertEqual(status["rules"][0]["actions"], 1)
        self.assertEqual(oct(os.stat(path).st_mode & 0o777), "0o640")
        self.assertFalse(os.path.exists(path + ".tmp"))
        f.stop()

    def test_json_log_format_is_one_object_per_line(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"),
                        args=["--log-format", "json"])
        self.assertTrue(wait_until(lambda: not hog.alive(), 10))
        f.wait_for(r'"exited')
        f.stop()
        objects = [json.loads(line) for line in f.output().splitlines() if line.strip()]
        self.assertTrue(all("time" in o and "level" in o for o in objects))
        violation = next(o for o in objects if o.get("event") == "violation")
        self.assertEqual(violation["rule"], "hog")
        self.assertEqual(violation["pid"], hog.pid)
        self.assertEqual(violation["name"], hog.name)
        self.assertEqual(violation["threshold"], 10.0)
        self.assertGreater(violation["value"], 10.0)
        self.assertEqual(violation["streak"], 2)
        self.assertIn("for 2 scans", violation["reason"])
        self.assertTrue(any(o.get("event") == "action" and "SIGTERM sent" in o["message"]
                            for o in objects))

    def test_retention_deletes_and_compresses_old_daily_files(self):
        logs = os.path.join(self.workdir, "logs")
        os.makedirs(logs)
        today = datetime.date.today()

        def name(days_ago):
            d = today - datetime.timedelta(days=days_ago)
            return os.path.join(logs, f"process_monitor.log.{d:%Y-%m-%d}")
        for days in (1, 5, 20):
            with open(name(days), "w") as f:
                f.write(f"a line from {days} days ago\n")
        f = self.freezr(quiet_config().replace(
            '[logging]\ndir = "logs"', '[logging]\ndir = "logs"\nkeep_days = 14\n'
            'compress_after_days = 2'))
        f.wait_for(r"RETENTION deleted=1 compressed=1")
        self.assertTrue(os.path.exists(name(1)))
        self.assertFalse(os.path.exists(name(5)))
        with gzip.open(name(5) + ".gz", "rt") as gz:
            self.assertEqual(gz.read(), "a line from 5 days ago\n")
        self.assertFalse(os.path.exists(name(20)))
        f.stop()


class DatabaseTest(TestCase):
    def test_a_corrupt_database_is_moved_aside_and_monitoring_goes_on(self):
        data = os.path.join(self.workdir, "data")
        os.makedirs(data)
        with open(os.path.join(data, "freezr.db"), "wb") as db:
            db.write(b"this is not a database" * 500)
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"))
        f.wait_for(r"PREFLIGHT check=database ok=false: .*freezr.db was damaged .* moved to")
        self.assertTrue(wait_until(lambda: not hog.alive(), 10), f.output())
        aside = [n for n in os.listdir(data) if n.startswith("freezr.db.corrupt-")]
        self.assertEqual(len(aside), 1)
        f.stop()
        r = subprocess.run(["sqlite3", os.path.join(data, "freezr.db"),
                            "SELECT count(*) FROM events WHERE action = 'kill' AND ok = 1"],
                           capture_output=True, text=True)
        self.assertEqual(r.stdout.strip(), "1")


class DiskFullTest(TestCase):
    def setUp(self):
        super().setUp()
        self.mount = os.path.join(self.workdir, "small")
        os.makedirs(self.mount)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", self.mount],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, f"this test needs to mount a tmpfs: {r.stderr}")

    def tearDown(self):
        for f in self.freezrs:
            if f.proc.poll() is None:
                f.stop()
        subprocess.run(["umount", "-l", self.mount])
        super().tearDown()

    def fill(self, leave_bytes):
        st = os.statvfs(self.mount)
        size = st.f_bavail * st.f_frsize - leave_bytes
        with open(os.path.join(self.mount, f"filler{time.monotonic_ns()}"), "wb") as f:
            try:
                f.write(b"\0" * max(size, 0))
            except OSError:
                pass

    def test_full_log_disk_degrades_logging_with_one_warning_and_monitoring_goes_on(self):
        self.fill(leave_bytes=8 * 1024)
        hog = self.hog(cpu=True)
        config = (monitor(interval=0.2) +
                  rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"))
        config = config.replace('[logging]\ndir = "logs"', f'[logging]\ndir = "{self.mount}"')
        f = self.freezr(config)
        self.assertTrue(wait_until(lambda: not hog.alive(), 10), f.output())
        self.assertEqual(f.count(r"disk almost full"), 1)
        # Now fill the last bytes: writes to the file fail, monitoring does not.
        self.fill(leave_bytes=0)
        hog2 = self.hog(cpu=True, name=hog.name)
        self.assertTrue(wait_until(lambda: not hog2.alive(), 10), f.output())
        f.wait_for(rf"pid={hog2.pid} .*exited")
        self.assertLessEqual(f.count(r"file logging stopped"), 1)
        self.assertEqual(f.count(r"disk almost full"), 1)
        self.assertIsNone(f.proc.poll())
        self.assertEqual(f.stop(), 0)


class SystemdTest(TestCase):
    def test_notify_ready_watchdog_reloading_stopping(self):
        path = os.path.join(self.workdir, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        messages = []

        def drain():
            try:
                while True:
                    messages.append(sock.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                pass
            return messages
        f = self.freezr(quiet_config(),
                        env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
        self.assertTrue(wait_until(lambda: any("READY=1" in m for m in drain()), 10))
        self.assertTrue(wait_until(lambda: sum("WATCHDOG=1" in m for m in drain()) >= 3, 5))
        f.signal(__import__("signal").SIGHUP)
        self.assertTrue(wait_until(lambda: any("RELOADING=1" in m for m in drain()), 5))
        reload_at = next(i for i, m in enumerate(messages) if "RELOADING=1" in m)
        self.assertTrue(wait_until(
            lambda: any("READY=1" in m for m in drain()[reload_at + 1:]), 5))
        self.assertEqual(f.stop(), 0)
        drain()
        self.assertIn("STOPPING=1", messages[-1])
        sock.close()

    def capability_sets(self, f):
        with open(f"/proc/{f.pid}/status") as s:
            return {k: int(v, 16) for k, v in (line.split(":\t") for line in s.read().splitlines()
                                                if line.startswith("Cap"))}

    def wanted_capabilities(self):
        """KILL, SYS_NICE, SYS_PTRACE, DAC_READ_SEARCH, SYS_RESOURCE, IPC_LOCK: those we hold."""
        with open("/proc/self/status") as s:
            mine = dict(l.split(":\t") for l in s.read().splitlines() if l.startswith("Cap"))
        return sum(1 << n for n in (5, 23, 19, 2, 24, 14)) & int(mine["CapPrm"], 16)

    def test_root_drops_to_the_needed_capabilities_whatever_the_environment_claims(self):
        # INVOCATION_ID and NOTIFY_SOCKET are what any user's environment can hold: they must
        # not keep FreezR's capabilities.
        for env in ({}, {"INVOCATION_ID": "0123456789abcdef",
                         "NOTIFY_SOCKET": os.path.join(self.workdir, "no-such-socket")}):
            f = self.freezr(quiet_config(), env=env)
            f.wait_for(r"Pre-flight checks")
            caps = self.capability_sets(f)
            if os.geteuid() == 0:
                wanted = self.wanted_capabilities()
                self.assertEqual(caps["CapEff"], wanted, env)
                self.assertEqual(caps["CapPrm"], wanted, env)
                self.assertEqual(caps["CapBnd"], wanted, env)
                self.assertEqual(caps["CapInh"], 0, env)
                self.assertRegex(f.output(), r"dropped to the ones FreezR needs: CAP_KILL, "
                                             r"CAP_SYS_NICE, .* \(bounding set too\)")
                self.assertRegex(f.output(), r'process events" ok=true: subscribed')
            else:
                self.assertEqual(caps["CapEff"], 0)
            self.assertEqual(f.stop(), 0)

    def test_under_a_bounding_set_without_setpcap_the_other_sets_are_still_dropped(self):
        # What a unit's CapabilityBoundingSet does: CAP_SETPCAP is not there to cut the
        # bounding set, which the unit has bounded already.
        if os.geteuid() != 0:
            self.skipTest("needs root")
        f = self.freezr(quiet_config(), wrapper=["setpriv", "--bounding-set", "-setpcap"])
        f.wait_for(r"Pre-flight checks")
        caps = self.capability_sets(f)
        wanted = self.wanted_capabilities()
        self.assertEqual(caps["CapEff"], wanted)
        self.assertEqual(caps["CapPrm"], wanted)
        self.assertEqual(caps["CapBnd"] & (1 << 8), 0)  # CAP_SETPCAP
        self.assertEqual(caps["CapEff"] & (1 << 12), 0)  # CAP_NET_ADMIN gone after subscribing
        self.assertIn("(the bounding set is the unit's: no CAP_SETPCAP)", f.output())
        self.assertEqual(f.stop(), 0)

    def test_unit_file_verifies_and_service_install_writes_it(self):
        units = os.path.join(self.workdir, "units")
        etc = os.path.join(self.workdir, "etc")
        r = subprocess.run([FREEZR, "service", "install", "--unit-dir", units, "--config-dir", etc,
                            "--data-dir", os.path.join(self.workdir, "state"), "--no-systemctl"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        unit = os.path.join(units, "freezr.service")
        with open(unit) as u:
            text = u.read()
        self.assertIn(f"ExecStart={os.path.realpath(FREEZR)} run --config {etc}/config.toml", text)
        self.assertIn("Type=notify", text)
        self.assertNotIn("After=multi-user.target", text)
        r = subprocess.run([FREEZR, "config", "check", os.path.join(etc, "config.toml")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        if shutil.which("systemd-analyze"):
            # Documentation= names the man pages: the build's own, which the package installs.
            man = os.path.join(os.path.dirname(FREEZR), "man")
            v = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                               env={**os.environ, "MANPATH": man})
            self.assertEqual(v.returncode, 0, v.stderr)
            self.assertEqual(v.stderr.strip(), "")
        r = subprocess.run([FREEZR, "service", "status", "--unit-dir", units, "--no-systemctl"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("(installed)", r.stdout)
        r = subprocess.run([FREEZR, "service", "uninstall", "--unit-dir", units,
                            "--no-systemctl"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(unit))
        self.assertTrue(os.path.exists(os.path.join(etc, "config.toml")))

    def test_shipped_unit_file_is_the_embedded_one(self):
        r = subprocess.run([FREEZR, "service", "install", "--unit-dir", self.workdir,
                            "--config-dir", os.path.join(self.workdir, "etc"),
                            "--data-dir", os.path.join(self.workdir, "state"),
                            "--no-systemctl"], capture_output=True, text=True,
                           cwd=self.workdir)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(SOURCE, "packaging", "freezr.service")) as shipped:
            expected = [l for l in shipped.read().splitlines() if not l.startswith("ExecStart=")]
        with open(os.path.join(self.workdir, "freezr.service")) as written:
            got = [l for l in written.read().splitlines() if not l.startswith("ExecStart=")]
        self.assertEqual(got, expected)



class ColourTest(TestCase):
    """NO_COLOR and --color=auto|always|never for the console log."""

    def console(self, args=(), env=None, tty=False):
        config = quiet_config()
        # Each run in its own directory: with a terminal, `script` can end before the FreezR
        # under it has let go of its instance lock.
        workdir = tempfile.mkdtemp(dir=self.workdir)
        cmd = [FREEZR, "--config", os.path.join(workdir, "c.toml"), "--dry-run", *args]
        with open(os.path.join(workdir, "c.toml"), "w") as f:
            f.write(limit_pressure_candidates(config))
        full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        full_env.update(self.locations(workdir))
        full_env.update(env or {})
        if tty:  # a pseudo-terminal, as a user's shell has
            cmd = ["script", "-qfec", " ".join(map(shlex.quote, cmd)), "/dev/null"]
        p = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=full_env,
                             start_new_session=True)
        out = b""
        deadline = time.monotonic() + 30
        while b"Pre-flight checks" not in out and time.monotonic() < deadline:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
        os.killpg(p.pid, signal.SIGTERM)  # its own session: FreezR and, with tty, script
        p.wait(timeout=30)
        p.stdout.close()
        self.assertIn(b"Pre-flight checks", out)
        return b"\x1b[" in out

    def test_colours_follow_the_terminal_no_color_and_the_flag(self):
        self.assertFalse(self.console())  # not a terminal
        self.assertTrue(self.console(tty=True))
        self.assertFalse(self.console(env={"NO_COLOR": "1"}, tty=True))
        self.assertTrue(self.console(["--color", "always"], env={"NO_COLOR": "1"}))
        self.assertFalse(self.console(["--color", "never"], tty=True))
        bad = subprocess.run([FREEZR, "--color", "sometimes", "check"], capture_output=True)
        self.assertEqual(bad.returncode, 2)


class ReloadTruthTest(TestCase):
    def test_a_reload_moves_the_http_server_and_names_what_needs_a_restart(self):
        f = self.freezr(quiet_config())
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        f.wait_scans(1)
        with socket.socket() as probe:  # a free port to move to
            probe.bind(("127.0.0.1", 0))
            new_port = probe.getsockname()[1]
        with open(f.config_path) as c:
            text = c.read()
        with open(f.config_path, "w") as c:
            c.write(text.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{new_port}"')
                    .replace('[http]\n', '[http]\nallowed_hosts = ["freezr.lan"]\n')
                    .replace('[logging]\n', '[logging]\nformat = "json"\n')
                    + '[storage]\ndir = "elsewhere"\n')
        f.signal(signal.SIGHUP)
        f.wait_for(rf"listening on 127\.0\.0\.1:{new_port}")
        f.wait_for(r"these settings need a restart and are kept until then: \[storage\] dir "
                   r"\(.*data.* → .*elsewhere")
        answer = exchange(new_port, b"GET /healthz HTTP/1.1\r\nHost: freezr.lan\r\n"
                                    b"Connection: close\r\n\r\n")
        self.assertTrue(answer.startswith("HTTP/1.1 200"), answer)
        with self.assertRaises(OSError):  # the old address is given up
            exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        f.wait_for(r'\{"time":"[^"]+","level":"info","event":"reload"')  # JSON lines from now on
        self.assertEqual(f.stop(), 0)


if __name__ == "__main__":
    unittest.main()
