"""Memory pressure. The victims are limited to processes the test started (a [pressure]
candidates match), so nothing else can ever be chosen. The kills are real; the memory they
relieve is a /proc of the test's making (SyntheticMemory), so that what other programs on the
machine allocate meanwhile cannot change the outcome. A real PSI trigger is tested on its own
(TriggerTest)."""
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

from harness import (FREEZR, HOG, TestCase, cgroup_mounts, copy_proc_entry, monitor,
                     remove_cgroup, unique_name, wait_until, write_loadavg, write_meminfo)


class PredictedPressureTest(TestCase):
    """[pressure] predict_minutes acting for real: a /proc of the test's making holds only the
    test's own process (its stat copied from the real one, so the kill reaches it) and a
    MemAvailable that falls steadily; no PSI."""

    def write_meminfo(self, available_mib):
        write_meminfo(self.root, available_mib)

    def test_predicted_exhaustion_kills_once_before_the_critical_level(self):
        victim = self.hog(mem_mb=32)
        self.root = os.path.join(self.workdir, "proc")
        copy_proc_entry(self.root, victim.pid)
        write_loadavg(self.root)
        rate, start_mib, start = 600, 12000, time.monotonic()  # MiB per second
        self.write_meminfo(start_mib)
        f = self.freezr(monitor(interval=0.2) +
                        "[predict]\nexhaustion_window = 10\nexhaustion_min_span = 2\n"
                        f'[pressure]\npredict_minutes = 1\ncandidates = {{ comm = ["{victim.name}"] }}\n'
                        '[pressure.warning]\nsome_avg10 = 100\naction = "kill"\n'
                        '[pressure.critical]\nmem_available_percent = 5\naction = "kill"\n',
                        args=["--proc-root", self.root])

        def falling():
            available = int(start_mib - rate * (time.monotonic() - start))
            self.write_meminfo(max(available, 2000))  # never down to the critical 819 MiB
            return not victim.alive()

        self.assertTrue(wait_until(falling, 30, step=0.1), f.output())
        f.wait_for(r"PRESSURE from=none to=warning .*woke_by=prediction")
        f.wait_for(rf"OOM-KILL pid={victim.pid} name={victim.name} ")
        f.wait_scans(10)
        self.assertEqual(f.count("OOM-KILL"), 1, f.output())  # a prediction acts once
        self.assertNotIn("to=critical", f.output())
        r = subprocess.run([FREEZR, "why", str(victim.pid), "--config", f.config_path],
                           capture_output=True, text=True, cwd=self.workdir, timeout=30)
        self.assertIn("warning memory pressure (predicted exhaustion)", r.stdout, r.stderr)
        self.assertEqual(f.stop(), 0)


class SyntheticMemory:
    """A /proc of the test's making for the pressure tests: the hogs' own entries (copied from
    the real ones, so a kill reaches them) and a MemAvailable that rises by what each hog held
    once it is dead, kept current by a thread, whatever else the machine is doing."""

    TOTAL_MIB = 16384

    def __init__(self, root, hogs, available_mib):
        self.root, self.hogs, self.available = root, hogs, available_mib
        for h, _ in hogs:
            copy_proc_entry(root, h.pid)
        write_loadavg(root)
        self.update()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def update(self):
        # The memory a dead hog held is free before its entry goes, as on a real machine: a
        # reader never sees the entry gone and the memory still taken.
        dead = [(h, mib) for h, mib in self.hogs if not h.alive()]
        write_meminfo(self.root, self.available + sum(mib for _, mib in dead), self.TOTAL_MIB)
        for h, _ in dead:
            shutil.rmtree(os.path.join(self.root, str(h.pid)), ignore_errors=True)

    def run(self):
        while not self.stopped.wait(0.05):
            self.update()

    def stop(self):
        self.stopped.set()
        self.thread.join()


class PressureTest(TestCase):
    # The critical level: MemAvailable under 10% of the synthetic 16 GiB, 1638 MiB. It starts
    # at 1500 MiB: killing the 32 MiB hog is not enough, killing the 512 MiB one is.
    CRITICAL_PERCENT = 10
    START_MIB = 1500

    def start_hogs(self):
        sizes = (512, 64, 32)
        hogs = [self.hog(mem_mb=mib) for mib in sizes]
        time.sleep(0.3)
        root = os.path.join(self.workdir, "proc")
        self.memory = SyntheticMemory(root, list(zip(hogs, sizes)), self.START_MIB)
        self.addCleanup(self.memory.stop)
        return hogs

    def config(self, names, threshold=CRITICAL_PERCENT, kill_order=(), extra=""):
        quoted = ", ".join(f'"{n}"' for n in names)
        order = ", ".join(f'"{n}"' for n in kill_order)
        return (monitor(interval=0.5) +
                f'[pressure]\ncandidates = {{ comm = [{quoted}] }}\nkill_order = [{order}]\n'
                f'{extra}'
                '[pressure.warning]\nsome_avg10 = 100\naction = "log"\n'
                f'[pressure.critical]\nmem_available_percent = {threshold:.3f}\naction = "kill"\n'
                f'[[rule]]\nname = "watch"\nmatch = {{ comm = ["{unique_name()}"] }}\n'
                'cpu_percent = 50\n')

    def freezr_on(self, config, args=()):
        return self.freezr(config, args=["--proc-root", self.memory.root, *args])

    def test_the_largest_candidate_dies_first_and_freezr_stops_when_the_condition_clears(self):
        big, mid, small = self.start_hogs()
        f = self.freezr_on(self.config([big.name, mid.name, small.name]))
        self.assertTrue(wait_until(lambda: not big.alive(), 15), f.output())
        f.wait_for(rf"OOM-KILL pid={big.pid} name={big.name} .*chosen_because=")
        f.wait_for(r"memory pressure critical → ")
        f.wait_scans(4)
        self.assertTrue(mid.alive() and small.alive(), f.output())
        self.assertEqual(f.count(r"OOM-KILL"), 1)
        out = f.output()
        self.assertRegex(out, rf'next_candidates="#2 pid {mid.pid} {mid.name}')
        self.assertRegex(out, r"decision_ms=\d+\.\d+")
        r = subprocess.run(["sqlite3", os.path.join(self.workdir, "data", "freezr.db"),
                            "SELECT count(*) FROM events WHERE kind = 'pressure' AND action = 'kill' "
                            f"AND pid = {big.pid} AND ok = 1"], capture_output=True, text=True)
        self.assertEqual(r.stdout.strip(), "1")
        self.assertEqual(f.stop(), 0)

    def test_kill_order_comes_first_and_each_kill_is_followed_by_a_re_read(self):
        big, mid, small = self.start_hogs()
        f = self.freezr_on(self.config([big.name, mid.name, small.name],
                                       kill_order=[small.name]))
        self.assertTrue(wait_until(lambda: not big.alive(), 20), f.output())
        f.wait_for(rf"OOM-KILL pid={big.pid}")  # the line follows the signal
        out = f.output()
        first = out.index(f"OOM-KILL pid={small.pid}")
        second = out.index(f"OOM-KILL pid={big.pid}")
        self.assertLess(first, second)
        self.assertIn("kill_order #1", out[first:second])
        f.wait_scans(4)
        self.assertTrue(mid.alive(), f.output())
        self.assertEqual(f.count(r"OOM-KILL"), 2)
        f.stop()

    def test_dry_run_makes_the_same_decision_and_kills_nothing(self):
        big, mid, small = self.start_hogs()
        f = self.freezr_on(self.config([big.name, mid.name, small.name]), args=["--dry-run"])
        f.wait_for(rf"DRY-RUN pid={big.pid} name={big.name} .*would kill pid {big.pid}")
        f.wait_scans(2)
        self.assertTrue(big.alive() and mid.alive() and small.alive())
        self.assertEqual(f.count("OOM-KILL"), 0)
        f.stop()

    def test_startup_says_which_mode_is_in_use(self):
        f = self.freezr(self.config([unique_name()], threshold=0.001))
        m = f.wait_for(r"PREFLIGHT check=pressure ok=true: (PSI trigger armed|PSI trigger not armed)")
        fd = os.open("/proc/pressure/memory", os.O_RDWR | os.O_NONBLOCK)
        try:
            os.write(fd, b"some 100000 2000000\0")
            armable = True
        except OSError:
            armable = False
        finally:
            os.close(fd)
        self.assertEqual(m.group(1) == "PSI trigger armed", armable)
        f.stop()

    def test_oom_order_lists_the_candidates_in_order(self):
        big, mid, small = self.start_hogs()
        cfg = os.path.join(self.workdir, "c.toml")
        with open(cfg, "w") as c:
            c.write(self.config([big.name, mid.name, small.name], kill_order=[mid.name]))
        r = subprocess.run([FREEZR, "oom-order", "--config", cfg], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stdout.splitlines() if l.strip()[:1].isdigit()]
        self.assertEqual([int(l.split()[1]) for l in lines], [mid.pid, big.pid, small.pid])
        self.assertIn("kill_order #1", lines[0])
        self.assertTrue(big.alive() and mid.alive() and small.alive())


def memory_cgroup_root():
    """(mount point, is_v2) of a hierarchy with the memory controller."""
    for fstype, mount, opts in cgroup_mounts():
        if fstype == "cgroup" and "memory" in opts:
            return mount, False
        if fstype == "cgroup2":
            with open(os.path.join(mount, "cgroup.controllers")) as c:
                if "memory" in c.read().split():
                    return mount, True
    return None, None


class TriggerTest(TestCase):
    def test_a_real_psi_trigger_wakes_freezr_which_kills_the_thrasher(self):
        root, v2 = memory_cgroup_root()
        self.assertIsNotNone(root, "needs a cgroup hierarchy with the memory controller")
        group = os.path.join(root, f"freezr-test-{os.getpid()}")
        os.mkdir(group)
        try:
            with open(os.path.join(group, "memory.max" if v2 else "memory.limit_in_bytes"),
                      "w") as lim:
                lim.write(str(32 * 1024 * 1024))
            name = unique_name()
            binary = os.path.join(self.workdir, name)
            shutil.copy(HOG, binary)
            # The file is written here, outside the 32 MiB group: written inside, its dirty
            # pages can make the kernel's memcg OOM killer end the thrasher before FreezR sees
            # any pressure. Inside, the thrasher only reads it (clean pages, always reclaimable).
            data = os.path.join(self.workdir, "thrash.dat")
            with open(data, "wb") as out:
                block = bytes(range(256)) * 4096
                for _ in range(128):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
                # Out of the page cache, so that the thrasher's reads fault the pages in again,
                # charged to its group.
                os.posix_fadvise(out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            # Thresholds just above the pressure there is now (an earlier test may leave some
            # decaying). A scan only every 30 s: whatever FreezR does meanwhile, a trigger or
            # the check it schedules woke it for.
            def some_avg10():
                with open("/proc/pressure/memory") as psi:
                    return float(psi.readline().split()[1].split("=")[1])
            wait_until(lambda: some_avg10() < 0.5, 90, step=1)  # let earlier pressure decay
            now = some_avg10()
            f = self.freezr(monitor(interval=30) +
                            f'[pressure]\ncandidates = {{ comm = ["{name}"] }}\n'
                            f'[pressure.warning]\nsome_avg10 = {now + 0.3:.2f}\naction = "log"\n'
                            f'[pressure.critical]\nsome_avg10 = {now + 0.6:.2f}\naction = "kill"\n')
            f.wait_for(r"PSI trigger armed")
            thrasher = subprocess.Popen(
                ["sh", "-c", f"echo $$ > {group}/cgroup.procs && exec {binary} --thrash "
                             f"{data} 128"],
                stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            try:
                thrasher.wait(timeout=60)
            finally:
                if thrasher.poll() is None:
                    thrasher.kill()
                    thrasher.wait()
            self.assertEqual(thrasher.returncode, -9, f.output())
            f.wait_for(r'PRESSURE from=none to=\w+ woke_by="PSI trigger"')
            kill = f.wait_for(rf"OOM-KILL pid={thrasher.pid} name={name} .*decision_ms=([\d.]+)")
            print(f"\nPSI trigger -> kill sent: {kill.group(1)} ms", file=sys.stderr)
            self.assertEqual(f.count(r"woke_by=scan"), 0)
            f.stop()
        finally:
            remove_cgroup(group)


if __name__ == "__main__":
    unittest.main()
