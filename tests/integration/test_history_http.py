"""History in SQLite, the command-line queries, the HTTP API and its limits."""
import csv
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from harness import FREEZR, TestCase, exchange, monitor, rule, unique_name, wait_until


def port_of(f):
    return int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))


def get(port, path, method="GET", data=None, headers=None, timeout=5):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=data,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


class ScenarioTest(TestCase):
    """A hog is started, violates, is killed; everything that tells about it is checked."""

    def setUp(self):
        super().setUp()
        self.hog_proc = self.hog(cpu=True)
        self.f = self.freezr(monitor(interval=0.2) +
                             rule("hog", [self.hog_proc.name], cpu_percent=10, violations=3,
                                  action="kill"))
        self.port = port_of(self.f)
        self.assertTrue(wait_until(lambda: not self.hog_proc.alive(), 15), self.f.output())
        self.f.wait_for(r"exited")
        time.sleep(0.5)  # a few more scans are written

    def cli(self, *args):
        r = subprocess.run([FREEZR, *args, "--config", self.f.config_path],
                           capture_output=True, text=True, cwd=self.workdir, timeout=30)
        self.assertEqual(r.returncode, 0, (args, r.stderr))
        return r.stdout

    def test_sqlite3_reads_the_history_while_freezr_runs(self):
        db = os.path.join(self.workdir, "data", "freezr.db")
        r = subprocess.run(["sqlite3", db,
                            "SELECT count(*) FROM rule_samples WHERE rule = 'hog';"
                            "SELECT count(*) FROM events WHERE kind = 'action' AND ok = 1 "
                            f"AND pid = {self.hog_proc.pid} AND action = 'kill';"
                            "SELECT count(*) FROM events WHERE kind = 'violation' "
                            f"AND pid = {self.hog_proc.pid} AND message LIKE 'started%';"
                            "SELECT count(*) FROM events WHERE kind = 'lifecycle';"
                            "SELECT count(*) FROM system_samples;"
                            "SELECT count(*) FROM top_samples WHERE by = 'cpu';"
                            "SELECT count(*) FROM rule_minutes WHERE rule = 'hog';"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        samples, kills, started, lifecycle, system, top, minutes = map(int, r.stdout.split())
        self.assertGreater(samples, 5)
        self.assertEqual(kills, 1)
        self.assertEqual(started, 1)
        self.assertGreaterEqual(lifecycle, 1)
        self.assertGreater(system, 5)
        self.assertGreaterEqual(top, 5)  # top processes: written at each full sweep
        self.assertGreaterEqual(minutes, 1)
        self.assertIsNone(self.f.proc.poll())

    def test_cli_queries_in_every_format(self):
        table = self.cli("history", "--since", "5m", "--rule", "hog")
        self.assertIn("cpu_percent", table.splitlines()[0])
        rows = json.loads(self.cli("history", "--since", "5m", "--rule", "hog", "--format", "json"))
        self.assertTrue(rows)
        self.assertGreater(max(r["cpu_percent"] for r in rows), 50)
        self.assertEqual({r["rule"] for r in rows}, {"hog"})
        reader = csv.DictReader(io.StringIO(self.cli("history", "--since", "5m", "--format", "csv")))
        self.assertIn("rss_mib", reader.fieldnames)
        self.assertTrue(list(reader))
        minutes = json.loads(self.cli("history", "--since", "5m", "--minutes", "--format", "json"))
        self.assertTrue(minutes)

        events = json.loads(self.cli("events", "--since", "5m", "--kind", "action",
                                     "--format", "json"))
        kills = [e for e in events if e["action"] == "kill" and e["ok"] is True]
        self.assertEqual(len(kills), 1)
        self.assertEqual(kills[0]["pid"], self.hog_proc.pid)
        self.assertIn("message", csv.DictReader(io.StringIO(
            self.cli("events", "--since", "5m", "--format", "csv"))).fieldnames)
        self.assertIn("violation", self.cli("events", "--since", "5m", "--kind", "violation"))

        stats = json.loads(self.cli("stats", "--last", "1h", "--format", "json"))
        hog = next(s for s in stats if s["rule"] == "hog")
        self.assertEqual(hog["actions"], 1)
        self.assertEqual(hog["violations"], 1)
        self.assertIn("FreezR statistics", self.cli("stats", "--last", "1h"))

        out = os.path.join(self.workdir, "export.json")
        self.cli("export", "--format", "json", "--output", out, "--since", "1h")
        with open(out) as f:
            doc = json.load(f)
        self.assertTrue(doc["samples"])
        self.assertTrue(doc["events"])
        out_csv = os.path.join(self.workdir, "export.csv")
        self.cli("export", "--format", "csv", "--output", out_csv, "--what", "events")
        with open(out_csv) as f:
            self.assertTrue(f.readline().startswith("time,kind,rule,pid"))

    def test_cli_rejects_bad_times_as_a_usage_error(self):
        for args in (["--since", "yesterdayish"], ["--until", "2026-13-01T00:00:00Z"],
                     ["--since", "@soon"]):
            r = subprocess.run([FREEZR, "history", *args, "--config", self.f.config_path],
                               capture_output=True, text=True, cwd=self.workdir)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("cannot read the time", r.stderr)

    def test_cli_times_in_every_form_select_the_same_events(self):
        now = time.time()
        rfc3339 = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60))
        kills = []
        for since, until in (("10m", None), ("-10m", "now"), (f"@{int(now - 600)}", rfc3339),
                             ("today", None)):
            args = ["events", "--since", since, "--kind", "action", "--format", "json"]
            if until:
                args += ["--until", until]
            kills.append(len(json.loads(self.cli(*args))))
        self.assertEqual(kills, [1, 1, 1, 1])
        past = json.loads(self.cli("events", "--until", "@1000000000", "--since", "@999999000",
                                   "--format", "json"))
        self.assertEqual(past, [])

    def test_http_api(self):
        status, ctype, body = get(self.port, "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "text/plain; version=0.0.4; charset=utf-8")
        self.assertRegex(body, r'freezr_actions_total\{rule="hog",action="kill",outcome="ok"\} 1')
        self.assertIn('freezr_rule_cpu_percent{rule="hog"}', body)
        check = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                               text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout.strip() + check.stderr.strip(), "")

        status, _, body = get(self.port, "/api/v1/status")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual(doc["totals"]["kills"], 1)
        self.assertFalse(doc["control"])
        rules = json.loads(get(self.port, "/api/v1/rules")[2])["rules"]
        self.assertEqual(rules[0]["name"], "hog")
        procs = json.loads(get(self.port, "/api/v1/processes?sort=cpu&limit=3")[2])
        self.assertLessEqual(len(procs["processes"]), 3)
        self.assertGreater(procs["total"], 3)
        events = json.loads(get(self.port, "/api/v1/events?since=5m&kind=action")[2])["events"]
        self.assertTrue(any(e["pid"] == self.hog_proc.pid and e["action"] == "kill"
                            for e in events))
        hist = json.loads(get(self.port, "/api/v1/history?rule=hog&since=5m")[2])["samples"]
        self.assertTrue(hist)
        self.assertEqual(get(self.port, "/api/v1/processes?sort=name")[0], 400)
        self.assertEqual(get(self.port, "/api/v1/events?since=never")[0], 400)
        self.assertEqual(get(self.port, "/api/v1/events?until=2026-13-01T00:00:00Z")[0], 400)
        # A period that ended before FreezR started holds nothing; one up to now holds the kill.
        past = json.loads(get(self.port, "/api/v1/events?since=@999999000&until=@1000000000&"
                                         "kind=action")[2])["events"]
        self.assertEqual(past, [])
        now = json.loads(get(self.port, "/api/v1/events?since=-10m&until=now&kind=action")[2])
        self.assertEqual(len(now["events"]), 1)
        self.assertRegex(now["events"][0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(get(self.port, "/nope")[0], 404)
        self.assertEqual(get(self.port, "/metrics", method="POST", data=b"")[0], 405)
        self.assertEqual(get(self.port, "/api/v1/reload", method="POST", data=b"")[0], 403)


class LimitsAndTokenTest(TestCase):
    def token_file(self, mode=0o600, token="s3cr3t-token-for-freezr-tests"):
        path = os.path.join(self.workdir, "token")
        with open(path, "w") as f:
            f.write(token + "\n")
        os.chmod(path, mode)
        return path, token

    def test_limits_refuse_bad_requests_while_scans_go_on(self):
        path, token = self.token_file()
        f = self.freezr(monitor(interval=0.2).replace(
            '[http]\nlisten = "127.0.0.1:0"',
            f'[http]\nlisten = "127.0.0.1:0"\ntoken_file = "{path}"\nmax_connections = 8') +
            rule("ghost", [unique_name()], cpu_percent=10, action="log"))
        port = port_of(f)
        status_path = os.path.join(self.workdir, "data", "status.json")

        def checks():
            with open(status_path) as s:
                return json.load(s)["totals"]["checks"]
        wait_until(lambda: os.path.exists(status_path), 5)
        self.assertEqual(get(port, "/api/v1/thaw?all=1", method="POST", data=b"x" * 100000)[0], 413)
        self.assertIn("400", exchange(port, b"THIS IS NOT HTTP\r\n\r\n").split("\r\n")[0])
        self.assertIn("413", exchange(port, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 +
                                 b"\r\n\r\n").split("\r\n")[0])
        self.assertEqual(get(port, "/api/v1/reload", method="POST", data=b"")[0], 401)
        self.assertEqual(get(port, "/api/v1/reload", method="POST", data=b"",
                             headers={"Authorization": "Bearer wrong-token-of-the-same-size!"})[0],
                         401)
        status, _, body = get(port, "/api/v1/thaw?all=1", method="POST", data=b"",
                              headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["thawed"], [])
        status, _, body = get(port, "/api/v1/thaw?pid=999999", method="POST", data=b"",
                              headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(status, 409)
        status, _, body = get(port, "/api/v1/reload", method="POST", data=b"",
                              headers={"Authorization": f"Bearer {token}"})
        self.assertEqual((status, json.loads(body)), (200, {"reloaded": True}))
        # Idle connections beyond the cap are closed; a stuck client does not stall scans.
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
        for s in idle:
            self.addCleanup(s.close)
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", port))
        extra.settimeout(2)
        self.assertEqual(extra.recv(10), b"")  # over the cap: closed at once, not queued
        extra.close()
        # Scans go on while every connection slot is held by a client that sends nothing. The
        # pace they keep is the machine's: a loop waiting on a client would not scan at all.
        held = checks()
        self.assertTrue(wait_until(lambda: checks() >= held + 5, 20),
                        f"scans stopped while clients held every slot: {checks() - held}")
        for s in idle:
            s.close()
        self.assertEqual(get(port, "/healthz")[0], 200)
        self.assertEqual(f.stop(), 0)

    def test_a_token_file_others_can_read_stops_freezr(self):
        path, _ = self.token_file(mode=0o644)
        f = self.freezr(monitor(interval=0.2).replace(
            '[http]\nlisten = "127.0.0.1:0"', f'[http]\nlisten = "127.0.0.1:0"\ntoken_file = "{path}"') +
            rule("ghost", [unique_name()], cpu_percent=10, action="log"))
        self.assertEqual(f.proc.wait(timeout=10), 1)
        self.assertIn("must be owned by root and unreadable by group and others", f.output())

    def test_listening_beyond_loopback_without_a_token_is_refused(self):
        cfg = os.path.join(self.workdir, "c.toml")
        with open(cfg, "w") as c:
            c.write('[http]\nlisten = "0.0.0.0:9813"\n')
        r = subprocess.run([FREEZR, "config", "check", cfg], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs token_file", r.stderr)


if __name__ == "__main__":
    unittest.main()
