"""The guide's scenarios (docs/guide/scenarios) as the tests run them.

Each page holds one complete configuration. A test loads it as the page prints it, with only
the names and sizes of the machine's programs replaced by those of the test's own processes —
and, where the page speaks of minutes and gigabytes, scaled to seconds and megabytes — and
with a conf.d piece beside it for what every test needs: fast scans, its files in the work
directory, a free port. Every string a test replaces must be on the page, so a page that
changes fails its test instead of drifting away from it.
"""
import os
import re

from harness import SOURCE_DIR, TestCase

SCENARIOS = os.path.join(SOURCE_DIR, "docs", "guide", "scenarios")

TEST_PIECE = ('[monitor]\ninterval = 0.3\nkill_grace = 1.0\n[logging]\ndir = "logs"\n'
              '[http]\nlisten = "127.0.0.1:0"\n')


def page_config(page, replace=()):
    """The page's configuration with each (old, new) of replace made."""
    with open(os.path.join(SCENARIOS, page)) as f:
        blocks = re.findall(r"```toml\n(.*?)```", f.read(), re.S)
    assert len(blocks) == 1, f"{page}: {len(blocks)} configurations"
    config = blocks[0]
    for old, new in replace:
        assert old in config, f"{page} no longer says {old!r}"
        config = config.replace(old, new)
    return config


class ScenarioCase(TestCase):
    def scenario(self, page, replace=(), piece=TEST_PIECE, **kw):
        """A FreezR running the page's configuration (see page_config), with piece as
        conf.d/99-test.toml beside it."""
        return self.scenario_text(page_config(page, replace), piece, **kw)

    def scenario_text(self, config, piece=TEST_PIECE, **kw):
        """A FreezR running config, with piece as conf.d/99-test.toml beside it."""
        conf_d = os.path.join(self.workdir, "conf.d")
        os.makedirs(conf_d, exist_ok=True)
        with open(os.path.join(conf_d, "99-test.toml"), "w") as f:
            f.write(piece)
        return self.freezr(config, **kw)
