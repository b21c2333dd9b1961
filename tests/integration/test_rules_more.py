"""Rules that see more than CPU% and RSS, against the test's own processes: disk I/O, memory as
the kernel charges it, violations within a window."""
import json
import os
import re
import signal
import subprocess
import unittest
import urllib.request

from harness import FREEZR, TestCase, cgroup_text, monitor, rule, wait_until


def ioprio_of(pid):
    return subprocess.run(["ionice", "-p", str(pid)], capture_output=True, text=True,
                          check=True).stdout.strip()


class IoRuleTest(TestCase):
    def test_a_disk_writer_is_ioniced_and_restored_when_it_stops_writing(self):
        target = os.path.join(self.workdir, "written")
        hog = self.hog(extra=("--write", target, "40"))
        before = ioprio_of(hog.pid)
        self.assertNotEqual(before, "idle")
        f = self.freezr(monitor(interval=0.3) +
                        rule("writer", [hog.name], io_write_mbps=5, violations=2,
                             action="renice", ionice="idle"))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        self.assertTrue(wait_until(lambda: ioprio_of(hog.pid) == "idle", 20), f.output())
        f.wait_for(rf"ACTION rule=writer action=renice .*pid={hog.pid}")
        self.assertRegex(f.output(), r"disk writes [0-9.]+ MiB/s > 5\.0 MiB/s for 2 scans")
        # The API and the metrics show the rates FreezR read.
        url = f"http://127.0.0.1:{port}"
        rows = json.loads(urllib.request.urlopen(
            f"{url}/api/v1/processes?rule=writer", timeout=5).read())["processes"]
        self.assertEqual([r["pid"] for r in rows], [hog.pid])
        self.assertGreater(rows[0]["io_write_bps"], 5 * 2**20, rows)
        rules = json.loads(urllib.request.urlopen(f"{url}/api/v1/rules", timeout=5).read())
        writer = [r for r in rules["rules"] if r["name"] == "writer"][0]
        self.assertGreater(writer["io_write_bps"], 5 * 2**20, writer)
        self.assertEqual(writer["steps"][0]["io_write_threshold"], 5)
        self.assertGreaterEqual(writer["io_violations"], 2)
        metrics = urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()
        m = re.search(r'^freezr_rule_io_write_bytes_per_second\{rule="writer"\} (\S+)$',
                      metrics, re.M)
        self.assertIsNotNone(m, metrics)
        self.assertGreater(float(m.group(1)), 5 * 2**20)
        # Stopped, it writes nothing: the rule no longer applies and its I/O priority returns.
        os.kill(hog.pid, signal.SIGSTOP)
        self.assertTrue(wait_until(lambda: ioprio_of(hog.pid) == before, 20), f.output())
        f.wait_for(rf"RELEASE rule=writer pid={hog.pid}")
        os.kill(hog.pid, signal.SIGCONT)
        self.assertEqual(f.stop(), 0)

    def test_check_shows_the_io_rates_of_a_rules_processes(self):
        target = os.path.join(self.workdir, "written")
        hog = self.hog(extra=("--write", target, "40"))
        config = os.path.join(self.workdir, "check.toml")
        with open(config, "w") as c:
            c.write(rule("writer", [hog.name], io_write_mbps=5, violations=2, action="log"))
        out = subprocess.run([FREEZR, "check", "--config", config],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        m = re.search(r"io read [0-9.]+ write ([0-9.]+) MiB/s\s+(\S+)", out.stdout)
        self.assertIsNotNone(m, out.stdout)
        self.assertGreater(float(m.group(1)), 5, out.stdout)
        self.assertEqual(m.group(2), "VIOLATES", out.stdout)


class PsIoTest(TestCase):
    def test_ps_io_shows_and_sorts_by_disk_io(self):
        hog = self.hog(extra=("--write", os.path.join(self.workdir, "w"), "40"))
        out = subprocess.run([FREEZR, "ps", "--io", "--sort", "io", "--format", "json",
                              "--interval", "1"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = json.loads(out.stdout)
        mine = [r for r in rows if r["pid"] == hog.pid]
        self.assertEqual(len(mine), 1)
        self.assertGreater(mine[0]["io_write_bps"], 5 * 2**20, mine)
        # Sorted by I/O: nothing ahead of it writes less.
        ahead = rows[:rows.index(mine[0])]
        for r in ahead:
            self.assertGreaterEqual((r["io_read_bps"] or 0) + (r["io_write_bps"] or 0),
                                    mine[0]["io_write_bps"] + (mine[0]["io_read_bps"] or 0))
        table = subprocess.run([FREEZR, "ps", "--io", "--rule", "nothing"], capture_output=True,
                               text=True, timeout=60)
        self.assertEqual(table.returncode, 2)
        self.assertIn("no rule named 'nothing'", table.stderr)


class MemoryMetricTest(TestCase):
    def test_a_child_sharing_its_parents_memory_is_not_counted_twice_by_pss(self):
        # Parent and child both hold the same 200 MiB resident: 400 MiB by RSS, about 200 by
        # PSS. Two rules judge the pair as a group with a 300 MiB limit.
        hog = self.hog(mem_mb=200, extra=("--share-mem",))
        f = self.freezr(monitor(interval=0.3) +
                        rule("by-rss", [hog.name], memory_mb=300, violations=2, action="log",
                             aggregate="group") +
                        rule("by-pss", [hog.name], memory_mb=300, violations=2, action="log",
                             aggregate="group", memory_metric="pss"))
        f.wait_for(r"ACTION rule=by-rss action=log", timeout=20)
        self.assertTrue(f.wait_scans(12), f.output())
        self.assertNotRegex(f.output(), r"ACTION rule=by-pss")
        self.assertEqual(f.stop(), 0)

    def test_oom_order_ranks_by_pss_when_asked(self):
        sharer = self.hog(mem_mb=200, extra=("--share-mem",))
        loner = self.hog(mem_mb=150)
        config = os.path.join(self.workdir, "oom.toml")
        with open(config, "w") as c:
            c.write(f'[pressure]\nmemory_metric = "pss"\n'
                    f'candidates = {{ comm = ["{sharer.name}", "{loner.name}"] }}\n')
        out = subprocess.run([FREEZR, "oom-order", "--config", config], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        pids = [int(line.split()[1]) for line in out.stdout.splitlines()
                if line.strip()[:1].isdigit()]
        # By PSS the 150 MiB loner outweighs each of the pair's ~100 MiB halves.
        self.assertEqual(pids[0], loner.pid, out.stdout)
        self.assertEqual(len(pids), 3, out.stdout)
        self.assertIn("PSS", out.stdout)


def oom_score_adj_of(pid):
    with open(f"/proc/{pid}/oom_score_adj") as f:
        return int(f.read())


class MoreLeversTest(TestCase):
    def test_sched_class_affinity_and_oom_score_adj_are_set_and_undone(self):
        hog = self.hog(cpu=True)
        before = (os.sched_getscheduler(hog.pid), os.sched_getaffinity(hog.pid),
                  oom_score_adj_of(hog.pid))
        self.assertEqual(before[0], os.SCHED_OTHER)
        f = self.freezr(monitor(interval=0.3) +
                        rule("levers", [hog.name], cpu_percent=10, violations=2,
                             action="renice", sched="idle", cpus="0", oom_score_adj=600))
        self.assertTrue(wait_until(lambda: oom_score_adj_of(hog.pid) == 600, 20), f.output())
        self.assertEqual(os.sched_getscheduler(hog.pid), os.SCHED_IDLE)
        self.assertEqual(os.sched_getaffinity(hog.pid), {0})
        f.wait_for(rf"ACTION rule=levers action=renice .*pid={hog.pid}")
        self.assertIn("sched idle, cpus 0, oom_score_adj 600", f.output())
        # Stopped, it burns nothing: all three are put back.
        os.kill(hog.pid, signal.SIGSTOP)
        self.assertTrue(wait_until(lambda: oom_score_adj_of(hog.pid) == before[2], 20),
                        f.output())
        self.assertEqual((os.sched_getscheduler(hog.pid), os.sched_getaffinity(hog.pid)),
                         before[:2])
        os.kill(hog.pid, signal.SIGCONT)
        self.assertTrue(wait_until(lambda: oom_score_adj_of(hog.pid) == 600, 20), f.output())
        self.assertEqual(f.stop(), 0)
        self.assertEqual((os.sched_getscheduler(hog.pid), os.sched_getaffinity(hog.pid),
                          oom_score_adj_of(hog.pid)), before)  # restored on exit

    def test_an_oom_score_adj_changed_by_someone_else_meanwhile_is_left_alone(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.3) +
                        rule("levers", [hog.name], cpu_percent=10, violations=2,
                             action="renice", oom_score_adj=300))
        self.assertTrue(wait_until(lambda: oom_score_adj_of(hog.pid) == 300, 20), f.output())
        with open(f"/proc/{hog.pid}/oom_score_adj", "w") as adj:
            adj.write("450")
        self.assertEqual(f.stop(), 0)
        self.assertEqual(oom_score_adj_of(hog.pid), 450)


class KernelOomTest(TestCase):
    def test_a_kernel_oom_kill_in_the_log_becomes_an_event_with_freezrs_choice(self):
        hog = self.hog(mem_mb=64)
        kmsg = os.path.join(self.workdir, "kmsg")
        with open(kmsg, "w") as k:
            k.write("3,1,1,-;Out of memory: Killed process 999 (old) anon-rss:1kB\n")
        f = self.freezr(monitor(interval=0.3) +
                        f'[pressure]\nkernel_log = "{kmsg}"\n'
                        f'candidates = {{ comm = ["{hog.name}"] }}\n')
        f.wait_for(r"kernel OOM kills.*read from")
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        f.wait_scans(2)
        with open(kmsg, "a") as k:
            k.write("6,2,2,-;eth0: link up\n"
                    "3,3,3,-;Out of memory: Killed process 424242 (fzgone) total-vm:9kB, "
                    "anon-rss:512000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB "
                    "oom_score_adj:300\n")
        f.wait_for(r"the kernel's OOM killer killed fzgone \(PID 424242, 500 MiB anonymous\); "
                   rf"FreezR would have chosen {hog.name} \(PID {hog.pid}: RSS \d+ MiB")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        self.assertIn(b"freezr_kernel_oom_kills_total 1\n", metrics)
        self.assertNotIn("old", re.findall(r"killed (\w+)", f.output()))  # history, not news
        self.assertEqual(f.stop(), 0)
        r = subprocess.run([FREEZR, "events", "--config", f.config_path, "--since", "10m",
                            "--kind", "kernel_oom", "--format", "json"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = json.loads(r.stdout)
        self.assertEqual([(e["pid"], e["name"]) for e in events], [(424242, "fzgone")], events)
        self.assertIn(f"FreezR would have chosen {hog.name}", events[0]["message"])

    def test_an_unreadable_kernel_log_falls_back_to_the_counter(self):
        f = self.freezr(monitor(interval=0.3) +
                        f'[pressure]\nkernel_log = "{self.workdir}/missing"\n')
        f.wait_for(r"kernel OOM kills.*counted in /proc/vmstat.*No such file")
        self.assertEqual(f.stop(), 0)


class FakeZone:
    """A thermal zone under a sysfs tree of the test's own, its temperature set by the test."""

    def __init__(self, sys_root, number, kind, celsius):
        self.dir = os.path.join(sys_root, "class", "thermal", f"thermal_zone{number}")
        os.makedirs(self.dir)
        with open(os.path.join(self.dir, "type"), "w") as t:
            t.write(kind + "\n")
        self.set(celsius)

    def set(self, celsius):
        temp = os.path.join(self.dir, "temp")
        with open(temp + ".new", "w") as t:
            t.write(f"{celsius * 1000}\n")
        os.replace(temp + ".new", temp)


class DashboardSeesMoreTest(TestCase):
    def test_chromium_shows_a_writers_disk_rate_and_a_hot_sensor(self):
        from test_dashboard import node
        sys_root = os.path.join(self.workdir, "sys")
        FakeZone(sys_root, 0, "fz_zone", 93)
        writer = self.hog(extra=("--write", os.path.join(self.workdir, "written"), "20"))
        f = self.freezr(monitor(interval=0.3) +
                        rule("writer", [writer.name], io_write_mbps=100000, action="log") +
                        '[[thermal]]\nname = "cpu-hot"\nsensor = "fz_zone"\nabove = 80\n'
                        'violations = 2\nrules = ["writer"]\naction = "log"\n',
                        args=("--sys-root", sys_root))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        rc, result = node("disk_thermal.cjs", f"http://127.0.0.1:{port}/", writer.pid)
        self.assertEqual(rc, 0, result)
        self.assertEqual(result["errors"], [])
        self.assertEqual(result["header"], "Disk MiB/s")
        self.assertGreaterEqual(float(result["cells"][4]), 0, result)  # a rate, not "–"
        self.assertEqual(result["thermal"], [["cpu-hot 93.0 °C hot", "pill warning"]])
        self.assertEqual(f.stop(), 0)


class ThermalTest(TestCase):
    def test_a_zone_heating_up_throttles_the_hottest_process_and_cooling_releases_it(self):
        sys_root = os.path.join(self.workdir, "sys")
        zone = FakeZone(sys_root, 0, "fz_zone", 45)
        set_temp = zone.set
        hot = self.hog(cpu=True)
        cold = self.hog()  # under the same rule, idle: not the hottest
        before_hot, before_cold = cgroup_text(hot.pid), cgroup_text(cold.pid)
        f = self.freezr(monitor(interval=0.3) +
                        rule("build", [hot.name, cold.name], cpu_percent=100000, action="log") +
                        '[[thermal]]\nname = "cpu-hot"\nsensor = "fz_zone"\nabove = 80\n'
                        'below = 60\nviolations = 2\nrules = ["build"]\n'
                        'action = "throttle"\ncpu_limit = 20\n',
                        args=("--sys-root", sys_root))
        f.wait_for(r"PREFLIGHT check=thermal ok=true: cpu-hot: fz_zone at 45\.0 °C")
        f.wait_scans(3)
        self.assertEqual(cgroup_text(hot.pid), before_hot)  # cool: nothing done
        set_temp(92)
        f.wait_for(rf"ACTION rule=thermal:cpu-hot action=throttle .*pid={hot.pid}", timeout=20)
        self.assertTrue(wait_until(lambda: "freezr" in cgroup_text(hot.pid), 10),
                        cgroup_text(hot.pid))
        self.assertEqual(cgroup_text(cold.pid), before_cold)
        set_temp(70)  # between the two: still held
        f.wait_scans(4)
        self.assertIn("freezr", cgroup_text(hot.pid))
        set_temp(50)
        self.assertTrue(wait_until(lambda: cgroup_text(hot.pid) == before_hot, 20), f.output())
        f.wait_for(rf"UNDO rule=thermal:cpu-hot action=throttle pid={hot.pid}")
        self.assertEqual(f.stop(), 0)
        why = subprocess.run([FREEZR, "why", str(hot.pid), "--config", f.config_path],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(why.returncode, 0, why.stderr)
        self.assertIn("fz_zone at 92.0 °C > 80.0 °C for 2 scans", why.stdout)
        self.assertIn("fz_zone back at 50.0 °C <= 60.0 °C", why.stdout)

    def test_an_unknown_sensor_is_named_with_the_ones_there_are(self):
        sys_root = os.path.join(self.workdir, "sys")
        FakeZone(sys_root, 3, "acpitz", 41)
        hog = self.hog()
        f = self.freezr(monitor(interval=0.3) +
                        rule("r", [hog.name], cpu_percent=100000, action="log") +
                        '[[thermal]]\nname = "t"\nsensor = "nope"\nabove = 80\nrules = ["r"]\n'
                        'action = "log"\n', args=("--sys-root", sys_root))
        f.wait_for(r"PREFLIGHT check=thermal ok=false: t: no sensor 'nope' under .* "
                   r"\(found: acpitz\)")
        self.assertEqual(f.stop(), 0)


class WindowTest(TestCase):
    def test_three_of_nine_catches_an_intermittent_hog_that_a_streak_of_three_never_does(self):
        # It burns for one scan interval, then rests for two: no three scans in a row see it
        # busy, but every three scans at least one does.
        hog = self.hog(extra=("--pulse", "0.5", "1.0"))
        f = self.freezr(monitor(interval=0.5) +
                        rule("streak", [hog.name], cpu_percent=15, violations=3, action="log") +
                        rule("window", [hog.name], cpu_percent=15, violations="3 of 9",
                             action="log"))
        f.wait_for(r"ACTION rule=window action=log", timeout=30)
        self.assertRegex(f.output(), r"in 3 of the last 9 scans")
        self.assertTrue(f.wait_scans(30), f.output())
        self.assertNotRegex(f.output(), r"ACTION rule=streak")
        self.assertEqual(f.stop(), 0)


if __name__ == "__main__":
    unittest.main()
