"""What an installed FreezR is: `make install`'s set of files, the man pages (written from the
README) and the shell completions (written from the command line), each checked against the
binary's own options and the configuration's keys."""
import os
import re
import subprocess
import unittest

from harness import FREEZR, SOURCE_DIR, TestCase

BUILD = os.path.dirname(os.path.abspath(FREEZR))
MAN8 = os.path.join(BUILD, "man", "man8", "freezr.8")
MAN5 = os.path.join(BUILD, "man", "man5", "freezr.toml.5")


def run(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def rendered(page):
    """The page as man shows it, plain text (hyphens and quotes as typed)."""
    r = run("man", "--no-hyphenation", "--no-justification", "-l", page,
            env={**os.environ, "MANWIDTH": "200", "MAN_KEEP_FORMATTING": "0"})
    assert r.returncode == 0, r.stderr
    return re.sub(r".\x08", "", r.stdout).replace("\u2010", "-").replace("\u2212", "-")


def long_options():
    """Every long option of every command, from the binary's bash completion."""
    script = run(FREEZR, "completion", "bash").stdout
    return sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", script)) - {"--help", "--version"})


def subcommands():
    return run(FREEZR, "completion", "bash").stdout.split("case \"${COMP_WORDS[i]}\" in\n")[1] \
        .split(")")[0].strip().split("|")


class ManPagesTest(TestCase):
    def test_pages_render_without_warnings(self):
        for page in (MAN8, MAN5):
            r = run("groff", "-k", "-man", "-ww", "-z", page)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr.strip(), "", page)

    def test_freezr_8_names_every_command_and_option(self):
        text = rendered(MAN8)
        for opt in long_options():
            self.assertTrue(opt in text, f"{opt} is not in freezr(8): add it to the README")
        for sub in subcommands():
            self.assertTrue(re.search(rf"freezr \[?{re.escape(sub)}\b", text), f"command {sub}")
        for heading in ("SYNOPSIS", "COMMANDS", "EXIT STATUS", "FILES", "ENVIRONMENT"):
            self.assertIn(heading, text)

    def test_freezr_toml_5_names_every_key_the_reader_knows(self):
        text = rendered(MAN5)
        keys = text[text.index("KEYS"):]
        printed = run(FREEZR, "config", "check", "--print",
                      os.path.join(SOURCE_DIR, "src", "config", "default_config.toml"))
        self.assertEqual(printed.returncode, 0, printed.stderr)
        section = None
        seen = 0
        for line in printed.stdout.splitlines():
            if m := re.fullmatch(r"\[\[?([a-z.]+)\]\]?", line):
                section = m.group(1)
                continue
            if m := re.match(r"([a-z_]+) = ", line):
                key = m.group(1)
                shown = f"[[{section}]]" if section == "rule" else f"[{section}]"
                if section.startswith("pressure."):
                    shown = f"[{section}]"
                entry = [l for l in keys.splitlines() if shown in l and key in l]
                if section.startswith("pressure.") and not entry:  # one row for both levels
                    entry = [l for l in keys.splitlines()
                             if "[pressure.warning]" in l or key in l and "some_avg10" in l]
                self.assertTrue(entry, f"{shown} {key} is not in freezr.toml(5)")
                seen += 1
        self.assertGreater(seen, 60)


class CompletionTest(TestCase):
    def script(self, shell):
        path = os.path.join(self.workdir, f"freezr.{shell}")
        with open(path, "w") as f:
            f.write(run(FREEZR, "completion", shell).stdout)
        return path

    def test_bash_completes_commands_and_each_commands_options(self):
        path = self.script("bash")

        def complete(*words):
            line = " ".join(words)
            r = run("bash", "-c", f'source {path}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; '
                    '_freezr; printf "%s\\n" "${COMPREPLY[@]}"')
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout.split()

        self.assertEqual(complete("freezr", "ch"), ["check"])
        self.assertIn("--sort", complete("freezr", "ps", "--"))
        self.assertNotIn("--sort", complete("freezr", "check", "--"))
        self.assertIn("--print", complete("freezr", "config", "check", "--p"))
        self.assertIn("--config", complete("freezr", "why", "--con"))  # global options too
        r = run("bash", "-c", f"source {path}; complete -p process-monitor")
        self.assertIn("_freezr", r.stdout)

    def test_fish_completes_commands_and_options_with_their_help(self):
        path = self.script("fish")
        r = run("fish", "-c", f'source {path}; complete -C "freezr ch"; '
                'complete -C "freezr ps --so"; complete -C "freezr service "')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"check\tSample over one interval")
        self.assertRegex(r.stdout, r"--sort\t")
        self.assertRegex(r.stdout, r"install\t")

    def test_zsh_offers_the_commands_words(self):
        path = self.script("zsh")
        # _describe and compdef stand in for the completion system: what the function offers.
        r = run("zsh", "-c", f'compdef() {{ : }}; _describe() {{ print -l -- "${{(@P)4}}" }}; '
                f'source {path}; words=(freezr ps --so); CURRENT=3; _freezr')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--sort:Sort by cpu, mem or io (disk reads plus writes)", r.stdout.splitlines())
        self.assertIn("--io:Read every process's disk I/O and show its rates", r.stdout.splitlines())
        self.assertNotIn("check:", r.stdout)


class InstallTest(TestCase):
    def test_make_install_installs_the_whole_set(self):
        root = os.path.join(self.workdir, "root")
        r = run("cmake", "--install", BUILD, env={**os.environ, "DESTDIR": root})
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            cache = f.read()
        prefix = re.search(r"^CMAKE_INSTALL_PREFIX:PATH=(.*)$", cache, re.M).group(1)
        etc = "/etc"  # whatever the prefix: where the unit and the commands look
        files = {os.path.relpath(os.path.join(d, f), root)
                 for d, _, fs in os.walk(root) for f in fs}
        dirs = {os.path.relpath(d, root) for d, _, _ in os.walk(root)}
        p = prefix.lstrip("/")
        for want in (f"{p}/bin/freezr", f"{p}/bin/process-monitor",
                     f"{etc.lstrip('/')}/freezr/config.toml",
                     f"{p}/share/man/man8/freezr.8", f"{p}/share/man/man5/freezr.toml.5",
                     f"{p}/share/bash-completion/completions/freezr",
                     f"{p}/share/zsh/vendor-completions/_freezr",
                     f"{p}/share/fish/vendor_completions.d/freezr.fish",
                     f"{p}/share/freezr/prometheus/alerts.yml",
                     f"{p}/share/freezr/prometheus/alerts_test.yml",
                     f"{p}/share/doc/freezr/runbook.md",
                     f"{p}/share/freezr/grafana/freezr.json"):
            self.assertIn(want, files)
        self.assertIn(f"{etc.lstrip('/')}/freezr/conf.d", dirs)
        self.assertEqual(os.readlink(os.path.join(root, p, "bin/process-monitor")), "freezr")
        units = [f for f in files if f.endswith("systemd/system/freezr.service")]
        self.assertEqual(len(units), 1, files)
        with open(os.path.join(root, units[0])) as f:
            unit = f.read()
        self.assertIn(f"ExecStart={prefix}/bin/freezr run --config /etc/freezr/config.toml", unit)
        installed = os.path.join(root, etc.lstrip("/"), "freezr", "config.toml")
        self.assertEqual(run(FREEZR, "config", "check", installed).returncode, 0)
        with open(installed) as f:
            self.assertEqual(f.read(), run(FREEZR, "config", "default").stdout)
        # Installing again keeps the configuration an administrator edited.
        with open(installed, "a") as f:
            f.write("# edited\n")
        r = run("cmake", "--install", BUILD, env={**os.environ, "DESTDIR": root})
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(installed) as f:
            self.assertTrue(f.read().endswith("# edited\n"))


if __name__ == "__main__":
    unittest.main()
