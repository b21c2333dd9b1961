"""The guide's scenarios 1–8 (docs/guide/scenarios), each page's configuration acting on the
test's own processes as the page says it does."""
import os
import shutil
import subprocess
import threading
import unittest

from guide import ScenarioCase
from harness import (StandInSystemd, copy_proc_entry, unique_name, wait_until,
                     write_loadavg, write_meminfo)
from test_actions import cgroup_of, fork_child, mounts, nice_of, state_of


def ioprio_class(pid):
    """The I/O scheduling class of pid (3 is idle), from ionice."""
    out = subprocess.run(["ionice", "-p", str(pid)], capture_output=True, text=True,
                         check=True).stdout
    return out.split(":")[0].strip()


class AntivirusTest(ScenarioCase):
    def test_the_antivirus_is_reniced_then_its_service_restarted_never_signalled(self):
        systemd = StandInSystemd(self.workdir)
        self.addCleanup(systemd.close)
        hog = self.hog(cpu=True)
        unit = unique_name("kesl")
        f = self.scenario("01-antivirus-eating-cpu.md",
                          [("/opt/kaspersky/kesl/libexec/kesl", hog.path),
                           ("kesl.service", f"{unit}.service")], env=systemd.env)
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 10, 30), f.output())
        f.wait_for(rf"ACTION rule=kesl action=renice .*pid={hog.pid}")
        self.assertEqual(ioprio_class(hog.pid), "idle")
        self.assertTrue(wait_until(lambda: systemd.calls(), 30), f.output())
        f.wait_for(rf"ACTION rule=kesl action=restart service={unit}\.service")
        f.wait_scans(5)
        self.assertEqual(systemd.calls(), [f"RestartUnit {unit}.service replace"])  # cooldown
        self.assertTrue(hog.alive())
        self.assertEqual(f.stop(), 0)
        self.assertEqual(nice_of(hog.pid), 0)  # put back on exit


class HungNodeTest(ScenarioCase):
    def test_the_spinning_process_is_reniced_then_killed_and_the_idle_one_left_alone(self):
        name = unique_name("node")
        spinning, idle = self.hog(name=name, cpu=True), self.hog(name=name)
        # 90 % for a minute on a busy two-core machine is 40 % for 6 s here.
        f = self.scenario("02-hung-node.md", [('exe = ["node", "nodejs"]', f'exe = ["{name}"]'),
                                              ("cpu_percent = 90", "cpu_percent = 40")])
        self.assertTrue(wait_until(lambda: nice_of(spinning.pid) == 15, 30), f.output())
        self.assertTrue(wait_until(lambda: not spinning.alive(), 60), f.output())
        f.wait_for(rf"ACTION rule=node action=kill .*pid={spinning.pid}")
        self.assertTrue(idle.alive())
        self.assertEqual(nice_of(idle.pid), 0)
        self.assertEqual(f.count(rf"pid={idle.pid}\b"), 0, f.output())
        self.assertEqual(f.stop(), 0)


class SnapdTest(ScenarioCase):
    def test_the_family_is_capped_at_half_a_core_in_a_group_and_moved_back_on_exit(self):
        v2, v1_cpu = mounts()
        controller = "cpu" if v1_cpu else ""
        name = unique_name("snap")
        hogs = [self.hog(name=name, cpu=True) for _ in range(2)]
        origins = [cgroup_of(h.pid, controller) for h in hogs]
        # Over 1.5 cores on a busy two-core machine: the sum over 40 % here.
        f = self.scenario("03-snapd-on-several-cores.md",
                          [('["snapd", "snap", "snapfuse", "snap-store", "snap-confine"]',
                            f'["{name}"]'), ("cpu_percent = 150", "cpu_percent = 40")])
        f.wait_for(r"ACTION rule=snapd action=throttle .*limited to 50% of a core", 30)
        root = v1_cpu or v2
        # One ACTION line per process: the second may move a moment after the first.
        def one_group():
            groups = {cgroup_of(h.pid, controller) for h in hogs}
            return len(groups) == 1 and "/freezr/" in next(iter(groups)) and groups
        groups = wait_until(one_group, 20)
        self.assertTrue(groups, {cgroup_of(h.pid, controller) for h in hogs})
        group = groups.pop()
        self.assertRegex(group, r"/freezr/thr-[0-9a-f]{8}-snapd-")
        quota = "cpu.cfs_quota_us" if v1_cpu else "cpu.max"
        with open(f"{root}{group}/{quota}") as q:
            self.assertEqual(int(q.read().split()[0]), 50000)
        self.assertEqual(f.stop(), 0)
        self.assertEqual([cgroup_of(h.pid, controller) for h in hogs], origins)
        self.assertFalse(os.path.exists(f"{root}{group}"))
        self.assertTrue(all(h.alive() for h in hogs))


class BrowserTest(ScenarioCase):
    def test_the_largest_process_is_frozen_then_killed_and_the_smaller_lives(self):
        name = unique_name("brws")
        big, small = self.hog(name=name, mem_mb=40), self.hog(name=name, mem_mb=25)
        # 6 and 8 GiB over the whole browser are 50 and 60 MiB over the two (65 MiB) here.
        f = self.scenario("04-browser-swallowing-memory.md",
                          [('category = "browser"', f'comm = ["{name}"]'),
                           ("memory_mb = 6144", "memory_mb = 50"),
                           ("memory_mb = 8192", "memory_mb = 60"),
                           ("duration = 20", "duration = 1")])
        f.wait_for(rf"ACTION rule=browser action=freeze .*pid={big.pid}\b", 30)
        self.assertTrue(wait_until(lambda: not big.alive(), 30), f.output())
        f.wait_for(rf"ACTION rule=browser action=kill .*pid={big.pid}\b")
        f.wait_scans(5)
        self.assertTrue(small.alive())
        self.assertEqual(f.count(rf"ACTION .*pid={small.pid}\b"), 0, f.output())
        self.assertEqual(f.stop(), 0)


class MessengerTest(ScenarioCase):
    def test_a_steady_leak_is_killed_before_its_limit_and_a_steady_size_lives(self):
        leaker = self.hog(extra=["--leak", "10", "--leak-max", "600"])
        steady = self.hog(mem_mb=20)
        # Minutes become seconds: a 20 s window, 10 MiB/s towards 400 MiB.
        f = self.scenario("05-messenger-that-leaks.md",
                          [('["telegram-deskto", "Telegram", "slack", "Discord"]',
                            f'["{leaker.name}", "{steady.name}"]'),
                           ("memory_mb = 2048", "memory_mb = 400"),
                           ("predict_minutes = 30", "predict_minutes = 0.5"),
                           ("leak_window = 600", "leak_window = 20"),
                           ("leak_min_span = 120", "leak_min_span = 3"),
                           ("leak_min_mb_per_minute = 1.0", "leak_min_mb_per_minute = 30"),
                           ("leak_min_agreement = 0.75", "leak_min_agreement = 0.8")])
        self.assertTrue(wait_until(lambda: not leaker.alive(), 60), f.output())
        kill = f.wait_for(rf"VIOLATION rule=messenger action=kill pid={leaker.pid} .*"
                          r"value=([\d.]+) .*reason=\"memory [\d.]+ MiB rising [\d.]+ MiB/min "
                          r"reaches 400\.0 MiB in \d+ s")
        self.assertLess(float(kill.group(1)), 400, "killed before reaching its limit")
        f.wait_for(rf"PREDICT .*pid={leaker.pid} .*mib_per_minute=")
        self.assertTrue(steady.alive())
        self.assertEqual(f.stop(), 0)


class BuildTest(ScenarioCase):
    def synthetic_proc(self, hog):
        """A /proc with the hog's entry, copied from the real one every 50 ms (so FreezR sees
        what its actions did), plenty of memory, and a memory PSI the test sets."""
        root = os.path.join(self.workdir, "proc")
        entry = copy_proc_entry(root, hog.pid)
        os.makedirs(os.path.join(entry, "task", str(hog.pid)))
        shutil.copy(f"/proc/{hog.pid}/oom_score_adj", entry)
        stop = threading.Event()

        def refresh():
            while not stop.wait(0.05):
                copy_proc_entry(root, hog.pid)
        thread = threading.Thread(target=refresh, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(stop.set)
        os.makedirs(os.path.join(root, "pressure"))
        write_loadavg(root)
        write_meminfo(root, 12000)
        return root

    def set_pressure(self, root, some):
        tmp = os.path.join(root, "pressure", "memory.tmp")
        with open(tmp, "w") as f:
            f.write(f"some avg10={some:.2f} avg60=0.00 avg300=0.00 total=0\n"
                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
        os.replace(tmp, os.path.join(root, "pressure", "memory"))

    def test_the_compiler_is_reniced_while_memory_pressure_is_high_and_put_back_after(self):
        compiler = self.hog()
        root = self.synthetic_proc(compiler)
        self.set_pressure(root, 0)
        f = self.scenario("06-build-that-thrashes.md",
                          [('category = "build"', f'comm = ["{compiler.name}"]')],
                          args=["--proc-root", root])
        f.wait_scans(4)
        self.assertEqual(nice_of(compiler.pid), 0, f.output())
        self.set_pressure(root, 20)  # over 10, under the freeze step's 30
        self.assertTrue(wait_until(lambda: nice_of(compiler.pid) == 19, 30), f.output())
        f.wait_for(rf"ACTION rule=build action=renice .*pid={compiler.pid}\b")
        self.assertEqual(ioprio_class(compiler.pid), "idle")
        with open(os.path.join(root, str(compiler.pid), "oom_score_adj")) as o:
            self.assertEqual(o.read().strip(), "500")
        f.wait_scans(5)
        self.assertNotEqual(state_of(compiler.pid), "T")
        self.assertEqual(f.count(r"action=freeze"), 0, f.output())
        self.set_pressure(root, 0)
        self.assertTrue(wait_until(lambda: nice_of(compiler.pid) == 0, 30), f.output())
        f.wait_for(rf"UNDO .*pid={compiler.pid}\b")
        self.assertEqual(f.stop(), 0)


class LanguageServerTest(ScenarioCase):
    def test_the_big_server_is_killed_and_the_protected_editor_skipped(self):
        token = unique_name("lsp")
        server = self.hog(mem_mb=60, extra=["--pad", f"{token}/tsserver.js"])
        editor = self.hog(mem_mb=60, extra=["--pad", f"{token}/tsserver.js"])
        pattern = "(rust-analyzer|clangd|tsserver|pylsp|gopls)"
        f = self.scenario("07-language-server.md",
                          [(f'"{pattern}"', f'"{token}/{pattern}"'),
                           ('"code"', f'"{editor.name}"'),
                           ("memory_mb = 3072", "memory_mb = 40")])
        self.assertTrue(wait_until(lambda: not server.alive(), 30), f.output())
        f.wait_for(rf"ACTION rule=lsp-memory action=kill .*pid={server.pid}\b")
        f.wait_for(rf"SKIP rule=lsp-memory action=kill pid={editor.pid} .*protected")
        self.assertTrue(editor.alive())
        self.assertEqual(f.stop(), 0)


class CronJobTest(ScenarioCase):
    def test_the_job_and_its_child_are_reniced_then_killed_together(self):
        job = self.hog(cpu=True, extra=["--fork-on-usr1"])
        child = fork_child(job)
        # A minute and ten minutes become 20 and 10 scans of 0.3 s.
        f = self.scenario("08-runaway-cron-job.md",
                          [('"^/bin/sh /usr/local/bin/nightly-report"', f'"^{job.path}"'),
                           ("violations = 200", "violations = 10"),
                           ("cpu_percent = 50", "cpu_percent = 30")])
        self.assertTrue(wait_until(lambda: nice_of(job.pid) == 19, 30), f.output())
        # scope = "tree": the child is reniced by the same action, a moment after its parent.
        self.assertTrue(wait_until(lambda: nice_of(child) == 19, 10), f.output())
        self.assertTrue(wait_until(lambda: not job.alive(), 60), f.output())
        f.wait_for(rf"ACTION rule=nightly-report action=kill .*pid={child}\b")
        self.assertEqual(f.stop(), 0)


if __name__ == "__main__":
    unittest.main()
