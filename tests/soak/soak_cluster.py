"""The soak's processes: one bus node (on a store, --listen, --admin) and two
projector nodes (each on its own snapshot store), started as docs/
distributed.md runs them by hand; a projector node can be SIGKILLed and
started again. Every wait has a deadline. Also what the sampler reads: a
process's RSS and the bus node's /metrics."""

import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.request

LISTEN = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
ADMIN = re.compile(r"admin endpoint on http://([^/\s]+)/")
SAMPLE = re.compile(r'^(\w+)(?:\{([^}]*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="([^"]*)"')

PROJECTORS = {"node-a": ("projector-listing.json", "user_listing"),
              "node-b": ("projector-email.json", "user_by_email")}


def rss_kb(pid):
    """VmRSS of `pid` in kB, None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def wait_for_line(path, pattern, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            m = pattern.search(f.read())
        if m:
            return m.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(path, errors="replace") as f:
        raise RuntimeError("no %r in %s (exit %s):\n%s"
                           % (pattern.pattern, path, proc.poll(), f.read()[-4000:]))


def stored_checkpoint(path, model):
    """(checkpoint, seqs processed above it) of `model`'s latest snapshot in
    the file `path`, (0, []) without one: what a restarted node restores."""
    if not os.path.exists(path):
        return 0, []
    db = sqlite3.connect(path, timeout=10)
    try:
        row = db.execute("SELECT checkpoint, above FROM snapshots WHERE model = ?",
                         (model,)).fetchone()
    except sqlite3.OperationalError:  # no table yet: the node died before it wrote one
        row = None
    finally:
        db.close()
    if row is None:
        return 0, []
    return row[0], [int(s) for s in re.findall(r"\d+", row[1])]


class cluster:
    def __init__(self, bus_node, bus_projector, config_dir, work_dir, durability):
        self.bus_projector = bus_projector
        self.config_dir = config_dir
        self.work = work_dir
        self.projectors = {}   # name -> Popen
        self.incarnations = {name: 0 for name in PROJECTORS}
        log = os.path.join(work_dir, "bus-node.log")
        self.bus_log = open(log, "wb")
        self.bus = subprocess.Popen(
            [bus_node, "--config", os.path.join(config_dir, "bus-only.json"),
             "--store", os.path.join(work_dir, "bus.db"), "--durability", durability,
             "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
             "--await-models", ",".join(m for _, m in PROJECTORS.values())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.bus_log,
            start_new_session=True)
        self.port = wait_for_line(log, LISTEN, self.bus, 30)
        self.admin = "http://%s/" % wait_for_line(log, ADMIN, self.bus, 30)
        for name in PROJECTORS:
            self.start_projector(name)

    def store_of(self, name):
        return os.path.join(self.work, name)

    def start_projector(self, name):
        config, _ = PROJECTORS[name]
        log = open(os.path.join(self.work, name + ".log"), "ab")
        self.projectors[name] = subprocess.Popen(
            [self.bus_projector, "--connect", "127.0.0.1:" + self.port,
             "--config", os.path.join(self.config_dir, config), "--name", name,
             "--store", self.store_of(name)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.incarnations[name] += 1

    def kill_projector(self, name):
        """SIGKILLs the node and reaps it; returns (checkpoint, above) of the
        snapshot its next incarnation restores."""
        p = self.projectors[name]
        p.send_signal(signal.SIGKILL)
        p.wait(30)
        _, model = PROJECTORS[name]
        return stored_checkpoint(self.store_of(name) + ".snapshots", model)

    def pids(self):
        result = {"bus-node": self.bus.pid}
        result.update({n: p.pid for n, p in self.projectors.items()})
        return result

    def unexpected_exits(self):
        """Processes that exited by themselves (not by our SIGKILL)."""
        out = {}
        if self.bus.poll() is not None:
            out["bus-node"] = self.bus.returncode
        for n, p in self.projectors.items():
            if p.poll() is not None and p.returncode != -signal.SIGKILL:
                out[n] = p.returncode
        return out

    def metrics(self, timeout):
        """The bus node's /metrics as {(name, labels...): value}."""
        with urllib.request.urlopen(self.admin + "metrics", timeout=timeout) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            m = SAMPLE.match(line)
            if m and not line.startswith("#"):
                labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
                out[(m.group(1),) + labels] = float(m.group(3))
        return out

    def finish(self, timeout):
        """Closes the bus node's stdin (it answers everything and exits) and
        stops the projector nodes; returns the bus node's exit status."""
        try:
            self.bus.stdin.close()
        except BrokenPipeError:
            pass
        try:
            status = self.bus.wait(timeout)
        except subprocess.TimeoutExpired:
            status = "did not exit within %d s" % timeout
        for p in self.projectors.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.projectors.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                pass
        return status

    def kill_all(self):
        """Last resort on the way out: SIGKILL whatever of ours still runs."""
        for p in [self.bus, *self.projectors.values()]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        self.bus_log.close()
