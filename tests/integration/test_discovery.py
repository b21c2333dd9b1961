"""Process discovery, child CPU charging and predictions against real processes."""
import re
import time
import unittest

from harness import TestCase, monitor, rule, wait_until


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
