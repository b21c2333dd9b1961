"""Process discovery, child CPU charging and predictions against real processes."""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.request

from harness import (FREEZR, TestCase, monitor, rule, unique_name, wait_until,
                     write_meminfo)

FIXTURES = os.path.join(os.environ.get("FREEZR_SOURCE_DIR", "../.."), "tests", "fixtures")


class ChildChargingTest(TestCase):
    def test_parent_forking_short_children_is_measured_near_its_true_total(self):
        # The parent does almost nothing itself; one 20 ms child after another burns a core.
        parent = self.hog(extra=["--fork-burn", "20"])
        f = self.freezr(monitor(interval=0.5) +
                        rule("forker", [parent.name], cpu_percent=40, violations=1,
                             action="log"),
                        args=["--dry-run"])
        self.assertTrue(wait_until(lambda: f.count("VIOLATION rule=forker") >= 4, 20), f.output())
        values = [float(v) for v in re.findall(
            rf"VIOLATION rule=forker action=log pid={parent.pid} .* value=([\d.]+) ", f.output())]
        self.assertGreaterEqual(len(values), 4, f.output())
        # True total: one child at a time burning a whole core, so about 100% (less the fork and
        # exit overhead, more on a busy machine); without charging it would read about 0%.
        median = sorted(values)[len(values) // 2]
        self.assertGreater(median, 70, values)
        self.assertLess(median, 130, values)
        f.stop()


if __name__ == "__main__":
    unittest.main()


class LeakPredictionTest(TestCase):
    PREDICT = ("[predict]\nleak_window = 20\nleak_min_span = 3\nleak_min_mb_per_minute = 30\n"
               "leak_min_agreement = 0.8\n")

    def test_steady_leak_is_predicted_reported_and_stopped_before_its_limit(self):
        limit = 400
        # 10 MiB/s from about 1 MiB: the limit would be reached after about 40 s.
        leaker = self.hog(extra=["--leak", "10", "--leak-max", "600"])
        steady = self.hog(mem_mb=20)
        f = self.freezr(monitor(interval=0.25) + self.PREDICT +
                        rule("leaky", [leaker.name, steady.name], memory_mb=limit,
                             predict_minutes=0.5, violations=2, action="kill"))
        self.assertTrue(wait_until(lambda: not leaker.alive(), 60), f.output())
        out = f.output()
        m = re.search(rf"PREDICT .*pid={leaker.pid} .*mib_per_minute=([\d.]+) rss_mib=([\d.]+)",
                      out)
        self.assertIsNotNone(m, out)
        self.assertAlmostEqual(float(m.group(1)), 600, delta=150)  # 10 MiB/s
        self.assertLess(float(m.group(2)), limit)
        self.assertIn("memory leak suspected", out)
        kill = re.search(rf"VIOLATION rule=leaky action=kill pid={leaker.pid} .*"
                         rf"value=([\d.]+) .*reason=\"memory [\d.]+ MiB rising [\d.]+ MiB/min "
                         rf"reaches {limit}\.0 MiB in \d+ s", out)
        self.assertIsNotNone(kill, out)
        self.assertLess(float(kill.group(1)), limit, "killed before reaching its limit")
        self.assertTrue(steady.alive())
        self.assertNotRegex(out, rf"PREDICT .*pid={steady.pid} ")
        # The prediction is an event in the history and was in the API while it lasted.
        f.stop()
        r = subprocess.run([FREEZR, "events", "--kind", "prediction", "--since", "10m",
                            "--format", "json", "--config", f.config_path],
                           capture_output=True, text=True, cwd=self.workdir)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = json.loads(r.stdout)
        self.assertTrue(any(e["pid"] == leaker.pid and e["action"] == "leak" for e in events),
                        events)

    def test_a_leak_that_levels_off_below_its_limit_is_never_acted_on(self):
        # 5 MiB/s up to 200 MiB: growing, it is never within 6 s of the 300 MiB limit; levelled
        # off, a fit that ran on would reach it, the measured value does not.
        leaker = self.hog(extra=["--leak", "5", "--leak-max", "200"])
        f = self.freezr(monitor(interval=0.25) + self.PREDICT +
                        rule("levels", [leaker.name], memory_mb=300, predict_minutes=0.1,
                             violations=2, action="kill"))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        f.wait_for(rf"PREDICT .*pid={leaker.pid}", timeout=60)

        def leaks():
            body = json.loads(urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/v1/predictions", timeout=5).read())
            return [l for l in body["leaks"] if l["pid"] == leaker.pid]
        self.assertTrue(wait_until(lambda: rss_mib(leaker.pid) >= 199, 90), f.output())
        # The leak ends within the newest third of the 20 s window once the growth stops.
        self.assertTrue(wait_until(lambda: not leaks(), 30), leaks())
        f.wait_scans(40)  # 10 s more of scans: still nothing
        self.assertTrue(leaker.alive(), f.output())
        self.assertNotRegex(f.output(), rf"VIOLATION rule=levels .*pid={leaker.pid}")
        f.stop()

    def test_predictions_are_served_by_the_api_and_as_metrics(self):
        leaker = self.hog(extra=["--leak", "10", "--leak-max", "200"])
        f = self.freezr(monitor(interval=0.25) + self.PREDICT +
                        rule("leaky", [leaker.name], memory_mb=1000, action="log"))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        f.wait_for(rf"PREDICT .*pid={leaker.pid}", timeout=30)
        body = json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v1/predictions", timeout=5).read())
        leaks = [l for l in body["leaks"] if l["pid"] == leaker.pid]
        self.assertEqual(len(leaks), 1, body)
        self.assertEqual(leaks[0]["rule"], "leaky")
        self.assertGreater(leaks[0]["mib_per_minute"], 300)
        self.assertGreater(leaks[0]["agreement"], 0.8)
        self.assertEqual(leaks[0]["limit_mib"], 1000)
        self.assertGreater(leaks[0]["seconds_to_limit"], 0)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        self.assertRegex(metrics, rf'freezr_leak_mib_per_minute{{rule="leaky",pid="{leaker.pid}",'
                                  rf'name="{leaker.name}"}} \d+')
        self.assertRegex(metrics, r'freezr_cpu_anomalies_total{rule="leaky"} 0')
        f.stop()


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def nice_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def exec_rule(name, comm, nice=7):
    return (f'[[rule]]\nname = "{name}"\nmatch = {{ comm = ["{comm}"] }}\n'
            f'on_exec = {{ action = "renice", nice = {nice} }}\n')


class ExecRereadTest(TestCase):
    """A process that execs under the same name is read and matched afresh: its new command
    line can bring it under a rule it did not match before."""

    def processes_of(self, f, port):
        body = json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v1/processes?rule=reexec", timeout=5).read())
        return [p["pid"] for p in body["processes"]]

    def check(self, events):
        hog = self.hog(extra=["--exec-after", "2"])
        config = monitor(interval=0.3)
        if not events:
            config = config.replace("[monitor]\n", "[monitor]\nprocess_events = false\n")
        f = self.freezr(config + f'[[rule]]\nname = "reexec"\n'
                        f'match = {{ comm = ["{hog.name}"], cmdline = "--after-exec" }}\n'
                        'cpu_percent = 1000\naction = "log"\n')
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        f.wait_scans(2)
        self.assertNotIn(hog.pid, self.processes_of(f, port))  # before its exec
        with open(f"/proc/{hog.pid}/cmdline", "rb") as c:
            self.assertNotIn(b"--after-exec", c.read())
        self.assertTrue(wait_until(lambda: hog.pid in self.processes_of(f, port), 30),
                        f.output())
        with open(f"/proc/{hog.pid}/comm") as c:
            self.assertEqual(c.read().strip(), hog.name)  # the same name all along
        f.stop()

    def test_with_process_events(self):
        self.check(events=True)

    def test_without_process_events_at_the_next_full_scan(self):
        self.check(events=False)


class ProcessEventsTest(TestCase):
    # Scans are 30 s apart: anything acted on within a second was found through an event.
    SLOW = monitor(interval=30)

    def test_program_started_later_is_acted_on_at_its_exec(self):
        name = unique_name()
        f = self.freezr(self.SLOW + exec_rule("late", name))
        f.wait_for(r'process events" ok=true: subscribed to the kernel\'s process connector')
        f.wait_for(r"Pre-flight checks")
        started = time.monotonic()
        hog = self.hog(name=name)
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 7, 2), f.output())
        took = time.monotonic() - started
        m = f.wait_for(rf"EXEC rule=late action=renice via=exec pid={hog.pid} name={name} "
                       rf".*delay_ms=([\d.]+)")
        delay = float(m.group(1))
        print(f"\nexec seen {delay:.3f} ms after the kernel's event; renice visible "
              f"{took * 1000:.0f} ms after starting the program", file=sys.stderr)
        self.assertLess(delay, 1000)
        self.assertEqual(f.count(f"pid={hog.pid} "), 2, f.output())  # the EXEC and the renice
        f.stop()

    def test_a_rename_is_seen_and_matched_at_once(self):
        new = unique_name()
        f = self.freezr(self.SLOW + exec_rule("renamed", new, nice=5))
        f.wait_for(r"Pre-flight checks")
        hog = self.hog(extra=["--rename", "0.5", new])
        self.assertEqual(nice_of(hog.pid), 0)
        self.assertEqual(hog.proc.stdout.readline(), b"renamed\n")
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 5, 2), f.output())
        f.wait_for(rf"EXEC rule=renamed action=renice via=rename pid={hog.pid} name={new} ")
        f.stop()

    def test_without_events_the_first_scan_acts_and_says_so(self):
        name = unique_name()
        hog = self.hog(name=name)
        f = self.freezr(monitor(interval=0.3) + exec_rule("scanned", name),
                        wrapper=["unshare", "--net"])
        f.wait_for(r'process events" ok=false: unavailable \(subscribe: .*\): new processes are found '
                   r"by scanning every 0\.3s")
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 7, 5), f.output())
        f.wait_for(rf"EXEC rule=scanned action=renice via=scan pid={hog.pid} name={name}")
        late = self.hog(name=name)
        self.assertTrue(wait_until(lambda: nice_of(late.pid) == 7, 5), f.output())
        f.stop()
        self.assertEqual(f.count("EXEC rule=scanned"), 2, f.output())

    def test_exec_rules_spare_protected_processes(self):
        name = unique_name()
        f = self.freezr(monitor(interval=30, protect=[name]) + exec_rule("guarded", name))
        f.wait_for(r"Pre-flight checks")
        hog = self.hog(name=name)
        f.wait_for(rf"SKIP rule=guarded action=renice via=exec pid={hog.pid} .*protected")
        self.assertEqual(nice_of(hog.pid), 0)
        f.stop()


# Scans at 0.2 s with a full sweep every fifth, read or not: the top consumers are recorded
# at full sweeps only.
SWEEPING = monitor(interval=0.2).replace("[monitor]\n",
                                         "[monitor]\nunwatched_full_scan_every = 5\n")


class SweepTest(TestCase):
    """Full sweeps are rare while nothing reads the process table, frequent while it is read."""

    def test_sweeps_follow_the_readers_of_the_process_table(self):
        f = self.freezr(monitor(interval=0.2).replace(
            "[monitor]\n", "[monitor]\nfull_scan_every = 2\nunwatched_full_scan_every = 1000\n") +
            rule("r", [unique_name()], cpu_percent=90, action="log"))
        f.wait_for(r'process events" ok=true')
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        status = os.path.join(self.workdir, "data", "status.json")

        def counts():
            try:
                with open(status) as fh:
                    j = json.load(fh)
            except (OSError, ValueError):
                return 0, 0
            return j["scans"], j["full_scans"]
        self.assertTrue(wait_until(lambda: counts()[0] >= 20, 60), f.output())
        scans, full = counts()
        # Unread: the first scan only (and one more if events were lost at start).
        self.assertLessEqual(full, 2, (scans, full))
        self.assertGreaterEqual(full, 1)
        # Metrics without per-process series do not read the table, and count the sweeps too.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        m = re.search(r"^freezr_full_scans_total (\d+)", metrics, re.M)
        self.assertIsNotNone(m, metrics[:500])
        self.assertGreaterEqual(int(m.group(1)), full)
        # The process count follows light scans all the same: they read new processes.
        def processes_metric():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                return int(float(re.search(r"^freezr_processes (\S+)", r.read().decode(),
                                           re.M).group(1)))
        before = processes_metric()
        hog = self.hog()
        self.assertTrue(wait_until(lambda: processes_metric() > before, 20), before)
        self.assertLessEqual(counts()[1], 2, counts())
        # A reader: the next scan is a full one, then every second scan is while it reads.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/processes", timeout=10) as r:
            self.assertEqual(r.status, 200)
        asked_scans, asked_full = counts()
        self.assertTrue(wait_until(lambda: counts()[0] >= asked_scans + 2, 30))
        self.assertGreater(counts()[1], asked_full, "no full sweep after the reader came")
        self.assertTrue(wait_until(lambda: counts()[0] >= asked_scans + 20, 60))
        scans, full = counts()
        self.assertGreaterEqual(full - asked_full, (scans - asked_scans) // 2 - 1,
                                (asked_scans, asked_full, scans, full))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/processes?limit=100000",
                                    timeout=10) as r:
            pids = [p["pid"] for p in json.load(r)["processes"]]
        self.assertIn(hog.pid, pids)
        f.stop()


class SuggestTest(TestCase):
    def test_suggests_a_rule_for_the_unruled_hog_that_parses_and_matches_it(self):
        hog = self.hog(cpu=True)
        ruled = self.hog(cpu=True)
        f = self.freezr(SWEEPING + "[history]\ntop = 20\n" +
                        rule("known", [ruled.name], cpu_percent=1000, action="log"))
        cfg = f.config_path
        db = os.path.join(self.workdir, "data", "freezr.db")
        self.assertTrue(wait_until(lambda: top_rows(db, hog.name) >= 3, 30), f.output())
        f.stop()
        r = subprocess.run([FREEZR, "suggest", "--config", cfg, "--since", "10m", "--cpu", "10"],
                           capture_output=True, text=True, cwd=self.workdir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, rf"# {hog.name}: hot in \d+ of \d+ recorded scans "
                                   rf"\(avg \d+\.\d%, max \d+\.\d% CPU\); 1 process, seen ")
        self.assertNotIn(f"# {ruled.name}:", r.stdout, "already under a rule")
        block = r.stdout.split(f"# {hog.name}:", 1)[1].split("\n", 1)[1].split("\n\n")[0]
        self.assertIn(f'match = {{ comm = ["{hog.name}"] }}', block)
        self.assertRegex(block, r"cpu_percent = \d+")
        self.assertIn('action = "renice"', block)
        suggested = os.path.join(self.workdir, "suggested.toml")
        with open(suggested, "w") as fh:
            fh.write(block)
        check = subprocess.run([FREEZR, "config", "check", suggested], capture_output=True,
                               text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        ps = subprocess.run([FREEZR, "ps", "--config", suggested, "--rule", hog.name,
                             "--interval", "0.1"], capture_output=True, text=True)
        self.assertIn(f" {hog.pid} {hog.name}", ps.stdout)
        # Nothing unruled above an impossible mark.
        r = subprocess.run([FREEZR, "suggest", "--config", cfg, "--cpu", "99999",
                            "--memory", "999999999"], capture_output=True, text=True,
                           cwd=self.workdir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# None:", r.stdout)
        bad = subprocess.run([FREEZR, "suggest", "--config", cfg, "--since", "yesterdayish"],
                             capture_output=True, text=True, cwd=self.workdir)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("cannot read the time", bad.stderr)

    def test_never_suggests_freezr_or_a_protected_name_and_sets_thresholds_above_the_measure(self):
        guarded, busy = unique_name(), unique_name()
        f = self.freezr(monitor(interval=0.2, protect=[guarded]) +
                        rule("r", [unique_name()], cpu_percent=90, action="log"))
        f.wait_scans(2)
        f.stop()
        db = os.path.join(self.workdir, "data", "freezr.db")
        # Ten recorded full scans of the last minutes: FreezR itself, a protected name and an
        # unruled compiler hot at 29.2% on average, 1.5 GiB at most.
        now = time.time()
        with sqlite3.connect(db) as c:
            for i in range(10):
                ts = now - 300 + i * 10
                for rank, (comm, cpu, rss) in enumerate((("freezr", 70.0, 20.0),
                                                         (guarded, 80.0, 30.0),
                                                         (busy, 29.2, 1400.0 + i * 10))):
                    c.execute("INSERT INTO top_samples (ts, by, rank, pid, start_time, comm, cpu,"
                              " rss_mib, rule) VALUES (?, 'cpu', ?, ?, 1, ?, ?, ?, NULL)",
                              (ts, rank, 40000 + rank, comm, cpu, rss))
        r = subprocess.run([FREEZR, "suggest", "--config", f.config_path, "--since", "10m",
                            "--cpu", "20", "--memory", "1024"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("[[rule]]\nname = \"freezr\"", r.stdout)
        self.assertNotIn(f'comm = ["{guarded}"]', r.stdout)
        self.assertNotIn('comm = ["freezr"]', r.stdout)
        self.assertRegex(r.stdout, rf"# Left out, as FreezR never acts on them .*: "
                                   rf"(freezr, {guarded}|{guarded}, freezr)\n")
        block = r.stdout.split(f"# {busy}:", 1)[1]
        cpu = float(re.search(r"^cpu_percent = ([\d.]+)", block, re.M).group(1))
        memory = float(re.search(r"^memory_mb = ([\d.]+)", block, re.M).group(1))
        self.assertGreater(cpu, 29.2)
        self.assertGreater(memory, 1490)
        self.assertRegex(block, rf"# cpu_percent = {cpu:g}: \d+% above its average of 29\.2% "
                                r"while hot \(max 29\.2%\)")
        self.assertRegex(block, rf"# memory_mb = {memory:g}: \d+% above the most it used "
                                r"\(1490\.0 MiB\)")


def top_rows(db, name):
    r = subprocess.run(["sqlite3", db, f"SELECT count(*) FROM top_samples WHERE comm = '{name}'"],
                       capture_output=True, text=True)
    return int(r.stdout.strip() or 0) if r.returncode == 0 else 0


class ExhaustionTest(TestCase):
    """A synthetic /proc whose MemAvailable falls steadily (FreezR runs in dry-run on it, with
    the log action only: the fixture PIDs are not processes of this test)."""

    def write_meminfo(self, available_mib):
        write_meminfo(self.root, available_mib)

    def test_falling_memory_is_predicted_and_enters_the_warning_level_early(self):
        self.root = os.path.join(self.workdir, "proc")
        shutil.copytree(os.path.join(FIXTURES, "proc"), self.root)
        shutil.rmtree(os.path.join(self.root, "pressure"))  # no PSI: MemAvailable alone
        rate = 600  # MiB per second
        start_mib, start = 12000, time.monotonic()
        self.write_meminfo(start_mib)
        f = self.freezr(monitor(interval=0.2) +
                        "[predict]\nexhaustion_window = 10\nexhaustion_min_span = 2\n"
                        "[pressure]\npredict_minutes = 1\n",
                        args=["--dry-run", "--proc-root", self.root])

        def falling():
            available = int(start_mib - rate * (time.monotonic() - start))
            self.write_meminfo(max(available, 900))
            return "woke_by=prediction" in f.output()

        self.assertTrue(wait_until(falling, 20, step=0.1), f.output())
        m = f.wait_for(r"PRESSURE from=none to=warning .*woke_by=prediction .*predicted_seconds="
                       r"([\d.]+): memory pressure none → warning \(MemAvailable [\d.]+%\); memory "
                       r"predicted to reach the critical level in \d+ s")
        eta = float(m.group(1))
        available = start_mib - rate * (time.monotonic() - start)
        truth = (available - 16384 * 0.05) / rate
        self.assertLess(eta, 60)
        self.assertAlmostEqual(eta, truth, delta=max(4, truth * 0.3))
        f.wait_for(r"PREDICT kind=exhaustion predicted=true: memory exhaustion predicted in \d+ s")
        self.assertNotIn("OOM-KILL", f.output())
        f.stop()


class AnomalyTest(TestCase):
    def test_a_spike_far_outside_its_normal_is_an_event_under_the_threshold(self):
        hog = self.hog(extra=["--cpu-after", "3"])
        f = self.freezr(monitor(interval=0.2) + "[predict]\nanomaly_warmup = 5\n" +
                        rule("quiet", [hog.name], cpu_percent=1000, action="log"))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        m = f.wait_for(rf"PREDICT rule=quiet pid={hog.pid} name={hog.name} cpu=([\d.]+) "
                       rf"baseline=([\d.]+) deviation=[\d.]+: CPU anomaly: ", timeout=20)
        # An anomaly is at least min_delta (20 points) above its baseline, whatever share of a
        # core the spike got on this machine.
        self.assertGreaterEqual(float(m.group(1)) - float(m.group(2)), 20)
        self.assertLess(float(m.group(2)), 5)
        self.assertNotIn("VIOLATION", f.output())  # far under its 1000% threshold
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        self.assertIn('freezr_cpu_anomalies_total{rule="quiet"} 1', metrics)
        body = json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v1/predictions", timeout=5).read())
        self.assertEqual([a["pid"] for a in body["anomalies"]], [hog.pid])
        f.wait_scans(5)
        self.assertEqual(f.count("CPU anomaly"), 1, "a lasting spike is one event")
        f.stop()
