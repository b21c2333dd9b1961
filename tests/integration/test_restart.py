"""Restarts over a real D-Bus: a private dbus-daemon with a stand-in systemd on it."""
import time
import unittest

from harness import StandInSystemd, TestCase, monitor, rule, unique_name, wait_until


class RestartTest(TestCase):
    def start_fake(self, fail=""):
        self.systemd = StandInSystemd(self.workdir, fail)
        self.addCleanup(self.systemd.close)
        self.address = self.systemd.address

    def calls_made(self):
        return self.systemd.calls()

    def test_restart_arrives_once_with_the_unit_and_not_again_within_the_cooldown(self):
        self.start_fake()
        hog = self.hog(cpu=True)
        unit = unique_name("svc")
        f = self.freezr(monitor(interval=0.2) +
                        rule("svc", [hog.name], cpu_percent=10, violations=2,
                             action="restart", service=unit, cooldown=60),
                        env={"DBUS_SYSTEM_BUS_ADDRESS": self.address})
        f.wait_for(rf"ACTION rule=svc action=restart service={unit}.service: restart job "
                   r"queued: /org/freedesktop/systemd1/job/42")
        f.wait_for(r"COOLDOWN rule=svc")
        time.sleep(2.0)  # ten more violating scans
        self.assertEqual(self.calls_made(), [f"RestartUnit {unit}.service replace"])
        self.assertTrue(hog.alive())  # a restart rule never signals the process
        self.assertEqual(f.stop(), 0)

    def test_failed_restart_is_logged_and_retried_after_the_cooldown(self):
        unit = unique_name("bad")
        self.start_fake(fail=f"{unit}.service")
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("bad", [hog.name], cpu_percent=10, violations=2,
                             action="restart", service=unit, cooldown=1),
                        env={"DBUS_SYSTEM_BUS_ADDRESS": self.address})
        f.wait_for(r"ACTION FAILED rule=bad action=restart service=.*: D-Bus error "
                   r"org\.freedesktop\.systemd1\.NoSuchUnit: Unit .* not loaded")
        self.assertTrue(wait_until(lambda: len(self.calls_made()) >= 2, 10), f.output())
        first_two = self.calls_made()[:2]
        self.assertEqual(first_two, [f"RestartUnit {unit}.service replace"] * 2)
        f.stop()

    def test_no_bus_is_a_logged_failure_and_monitoring_goes_on(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("svc", [hog.name], cpu_percent=10, violations=2,
                             action="restart", service="x", cooldown=0.5),
                        env={"DBUS_SYSTEM_BUS_ADDRESS":
                             f"unix:path={self.workdir}/no_such_socket"})
        f.wait_for(r"ACTION FAILED rule=svc action=restart service=x.service: cannot connect "
                   r"to the system bus")
        f.wait_for(r"ACTION FAILED(.*\n)+.*ACTION FAILED")  # retried, still running
        self.assertIsNone(f.proc.poll())
        self.assertEqual(f.stop(), 0)


if __name__ == "__main__":
    unittest.main()
