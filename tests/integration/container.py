"""A real systemd as PID 1 of a systemd-nspawn container, for the tests of the installed package.

The root file system (Debian 12, minbase with systemd, D-Bus, procps and the package's run-time
dependencies) is built once with mmdebstrap from the mirror the machine's apt sources name and
kept as a zstd tarball; each container extracts it, runs in cgroups of its own (in the name=systemd
and the cgroup2 hierarchies, so parallel containers do not collide) and sees a pure cgroup v2 tree.
Everything is started by PID and stopped by PID."""
import hashlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import time

CACHE = os.environ.get("FREEZR_ROOTFS_CACHE", "/var/cache/freezr-tests")
BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "procps")


def mirror():
    """The Debian mirror the machine's apt sources name."""
    texts = []
    for path in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        if os.path.exists(path):
            with open(path) as f:
                texts.append(f.read())
    for text in texts:
        if m := re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M):
            return m.group(1)
        if m := re.search(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)\s+bookworm", text, re.M):
            return m.group(1)
    return "http://deb.debian.org/debian"


def package_dependencies(deb):
    """The first alternative of each dependency of a .deb, without versions."""
    depends = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True, text=True,
                             check=True).stdout
    names = []
    for dep in depends.split(","):
        name = dep.split("|")[0].strip().split(" ")[0].split(":")[0]
        if name:
            names.append(name)
    return names


def rootfs(extra_packages=()):
    """The tarball of the root file system with extra_packages; built when not cached."""
    packages = sorted(set(BASE_PACKAGES) | set(extra_packages))
    key = hashlib.sha256(",".join(packages).encode()).hexdigest()[:16]
    tarball = os.path.join(CACHE, f"bookworm-{key}.tar.zst")
    if os.path.exists(tarball):
        return tarball
    os.makedirs(CACHE, exist_ok=True)
    partial = tarball + f".{os.getpid()}.partial.tar.zst"
    r = subprocess.run(["mmdebstrap", "--variant=minbase", "--include=" + ",".join(packages),
                        "bookworm", partial, mirror()], capture_output=True, text=True,
                       timeout=1200)
    if r.returncode != 0:
        raise RuntimeError(f"mmdebstrap failed:\n{r.stderr[-3000:]}")
    os.rename(partial, tarball)
    return tarball


def children(pid):
    try:
        out = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(p) for p in f.read().split()]
        return out
    except OSError:
        return []


class Container:
    """One booted container; sh() runs a command inside, stop() powers it off."""

    def __init__(self, tarball, workdir, boot_timeout=120):
        self.name = "freezr-ct-" + secrets.token_hex(4)
        self.dir = os.path.join(workdir, self.name)
        self.root = os.path.join(self.dir, "root")
        os.makedirs(self.root)
        subprocess.run(["tar", "--zstd", "-xf", tarball, "-C", self.root], check=True)
        self.cgroups = [f"/sys/fs/cgroup/{h}/{self.name}" for h in ("systemd", "unified")
                        if os.path.isdir(f"/sys/fs/cgroup/{h}")]
        for cg in self.cgroups:
            os.makedirs(cg, exist_ok=True)
        boot = os.path.join(self.dir, "boot.sh")
        with open(boot, "w") as f:
            f.write("#!/bin/sh\n")
            for cg in self.cgroups:
                f.write(f"echo $$ > {cg}/cgroup.procs\n")
            # CAP_IPC_LOCK, which root has on a real machine and nspawn drops by default:
            # FreezR's unit locks its memory.
            f.write(f"exec systemd-nspawn -q -D {self.root} --boot --register=no --keep-unit "
                    "--private-network --volatile=overlay --capability=CAP_IPC_LOCK\n")
        os.chmod(boot, 0o755)
        self.log = open(os.path.join(self.dir, "console.log"), "wb")
        self.nspawn = subprocess.Popen([boot], stdin=subprocess.DEVNULL, stdout=self.log,
                                       stderr=subprocess.STDOUT, start_new_session=True,
                                       env={**os.environ, "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"})
        self.leader = None
        deadline = time.monotonic() + boot_timeout
        while time.monotonic() < deadline and self.nspawn.poll() is None:
            kids = children(self.nspawn.pid)
            if kids:
                self.leader = kids[0]
                state = self.sh("systemctl is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.3)
        console = self.console()
        self.stop()
        raise RuntimeError(f"the container did not boot:\n{console[-3000:]}")

    def console(self):
        with open(os.path.join(self.dir, "console.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def sh(self, command, check=True, timeout=120):
        # A clean environment, as a login inside would have: none of the test's variables.
        r = subprocess.run(["nsenter", "-t", str(self.leader), "-a", "env", "-i",
                            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                            "HOME=/root", "LANG=C.UTF-8", "sh", "-c", command],
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"{command!r} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def path(self, inside):
        """The host path of a path inside the container (its overlay, through the leader)."""
        return f"/proc/{self.leader}/root/{inside.lstrip('/')}"

    def write(self, inside, text, mode=0o644):
        path = self.path(inside)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    def wait_for(self, command, predicate, timeout=60, interval=0.3):
        """Runs command until predicate(its stdout) holds; returns that stdout."""
        deadline = time.monotonic() + timeout
        out = ""
        while time.monotonic() < deadline:
            out = self.sh(command, check=False).stdout
            if predicate(out):
                return out
            time.sleep(interval)
        raise AssertionError(f"{command!r} never gave what was awaited; last:\n{out}")

    def stop(self):
        if self.nspawn.poll() is None and self.leader:
            self.sh("systemctl poweroff", check=False, timeout=30)
            try:
                self.nspawn.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(self.nspawn.pid, signal.SIGKILL)
                self.nspawn.wait(timeout=30)
        elif self.nspawn.poll() is None:
            os.kill(self.nspawn.pid, signal.SIGKILL)
            self.nspawn.wait(timeout=30)
        self.log.close()
        for cg in self.cgroups:
            for d, _, _ in sorted(os.walk(cg), key=lambda w: -w[0].count("/")):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)
