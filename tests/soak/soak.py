#!/usr/bin/env python3
"""Soak test of a bus node, two projector nodes and the JSON node (the bus
node's stdin session, which publishes and queries), run for a fixed time at
about half the maximum rate, with redeliveries, and a projector node
SIGKILLed and restarted every --kill-every seconds. It samples each
process's RSS (/proc/PID/status VmRSS) and the mailbox sizes (the bus node's
/metrics) every second, and at the end checks the read models against
independent folds of the acknowledged events. docs/testing.md, "Soak", says
what it checks and how to run the 10-minute version.

usage: soak.py --bus-node PATH --bus-projector PATH --config-dir DIR
               [--duration S] [--kill-every S] [--rate N | --rate-fraction F]
               [--json FILE] [--rss-check auto|enforce|report]"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak_cluster import PROJECTORS, cluster, rss_kb  # noqa: E402
from soak_report import max_model_mailbox, max_of, rss_flatness, summary  # noqa: E402
from soak_session import MODELS, session  # noqa: E402
from soak_stream import stream  # noqa: E402

TICK = 0.01  # the writer's pacing step, seconds


def options():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bus-node", required=True)
    p.add_argument("--bus-projector", required=True)
    p.add_argument("--config-dir", required=True)
    p.add_argument("--duration", type=int, default=600, help="seconds of paced load (600)")
    p.add_argument("--kill-every", type=int, default=60,
                   help="SIGKILL a projector node (alternately node-a, node-b) every S s (60)")
    p.add_argument("--restart-after", type=float, default=2.0,
                   help="seconds a killed node stays down (2)")
    p.add_argument("--rate", type=int, default=0,
                   help="events/s; 0 (default): --rate-fraction of a calibration burst's rate")
    p.add_argument("--rate-fraction", type=float, default=0.5)
    p.add_argument("--calibrate-seconds", type=float, default=6.0)
    p.add_argument("--redeliveries", type=int, default=10, help="percent of events (10)")
    p.add_argument("--queries-per-second", type=int, default=20)
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--durability", default="os", help="the bus node's --durability (os)")
    p.add_argument("--json", default="bus-soak.json", help="the report with every sample")
    p.add_argument("--work-dir", help="keep the stores and logs here (default: a temporary "
                   "directory, removed unless the run fails)")
    p.add_argument("--rss-check", choices=("auto", "enforce", "report"), default="auto",
                   help="fail when RSS is not flat after warm-up: enforce, report (never), "
                   "auto (default: enforce for runs of 300 s and more)")
    p.add_argument("--rss-tolerance-mb", type=float, default=8.0)
    p.add_argument("--rss-tolerance-percent", type=float, default=10.0)
    return p.parse_args()


class sampler:
    """Every second: RSS of every process, the bus node's /metrics, counts."""

    def __init__(self, nodes, s, t0):
        self.nodes, self.session, self.t0 = nodes, s, t0
        self.samples = []
        self.phase = "start"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        next_at = time.monotonic()
        last_answered = 0
        while not self.stop.is_set():
            now = time.monotonic()
            c = self.session.counts
            sample = {"t": round(now - self.t0, 2), "phase": self.phase,
                      "rss_kb": {}, "answered": c.answered,
                      "acknowledged": c.acknowledged, "in_flight": self.session.in_flight(),
                      "events_per_s": c.answered - last_answered}
            last_answered = c.answered
            for name, pid in self.nodes.pids().items():
                sample["rss_kb"][name] = rss_kb(pid)
            sample["rss_kb"]["driver"] = rss_kb(os.getpid())
            try:
                m = self.nodes.metrics(timeout=3)
                sample["head"] = int(m.get(("bus_log_head",), 0))
                sample["bus_mailbox"] = int(m[("bus_actor_mailbox_messages", ("actor", "bus"))])
                sample["model_mailbox"], sample["model_state"], sample["checkpoint"] = {}, {}, {}
                for key, value in m.items():
                    labels = dict(key[1:])
                    model = labels.get("model")
                    if model is None or labels.get("role") != "live":
                        continue
                    if key[0] == "bus_model_mailbox_messages":
                        sample["model_mailbox"][model] = int(value)
                    elif key[0] == "bus_model_state" and value == 1:
                        sample["model_state"][model] = labels["state"]
                    elif key[0] == "bus_model_checkpoint":
                        sample["checkpoint"][model] = int(value)
            except Exception as e:
                sample["metrics_error"] = "%s: %s" % (type(e).__name__, e)
            self.samples.append(sample)
            next_at += 1.0
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def finish(self):
        self.stop.set()
        self.thread.join(10)


def pace(s, rate, seconds, queries_per_second, on_tick=None):
    """Sends `rate` events/s for `seconds` (all it can when rate is None);
    a writer that fell behind (the node's flow control held it) does not
    burst more than a second's worth to catch up."""
    start = time.monotonic()
    sent = 0
    queries = 0.0
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            return
        if on_tick:
            on_tick(now)
        if rate is None:
            s.send_events(1000, queries=1)
            continue
        due = int(rate * (now - start)) - sent
        if due > rate:
            sent += due - rate
            due = rate
        if due > 0:
            queries += queries_per_second * due / rate
            q = int(queries)
            queries -= q
            s.send_events(due, queries=q)
            sent += due
        time.sleep(TICK)


def calibrate(s, seconds):
    """The rate the whole system sustains flat out: replies per second over
    the burst's last two thirds (its first third fills the pipes)."""
    marks = []
    pace(s, None, seconds, 0, on_tick=lambda now: marks.append((now, s.counts.answered)))
    s.wait_idle(120)
    t_from = marks[0][0] + seconds / 3
    first = next(m for m in marks if m[0] >= t_from)
    last = marks[-1]
    return (last[1] - first[1]) / max(1e-3, last[0] - first[0])


def node_status(s):
    body = s.request({"type": "status"}).wait(60)
    assert body["type"] == "status_ok", body
    return body["head"], {m["model"]: m for m in body["read_models"]}


def until_caught_up(s, timeout):
    deadline = time.monotonic() + timeout
    while True:
        head, models = node_status(s)
        if all(m in models and models[m]["state"] == "running"
               and models[m]["checkpoint"] == head for m in MODELS):
            return head, models
        if time.monotonic() > deadline:
            raise RuntimeError("read models not caught up within %d s: %s"
                               % (timeout, models))
        time.sleep(0.2)


def check(ok, detail):
    return {"ok": bool(ok), "detail": detail}


def run(a, work):
    t0 = time.monotonic()
    nodes = cluster(a.bus_node, a.bus_projector, a.config_dir, work, a.durability)
    s = session(nodes.bus, stream(a.users), a.seed, a.redeliveries)
    smp = sampler(nodes, s, t0)
    report = {"config": {k: getattr(a, k) for k in (
        "duration", "kill_every", "restart_after", "rate", "rate_fraction", "redeliveries",
        "queries_per_second", "users", "seed", "durability")}}
    crashes = {}
    kills = []
    restored = {name: (0, []) for name in PROJECTORS}  # of each node's live incarnation
    try:
        # The bus node reads its first line once both remote models run
        # (--await-models): the burst must not start its clock before that.
        node_status(s)
        smp.phase = "calibrate"
        if a.rate > 0:
            target, how = a.rate, "given"
            report["rate"] = {"calibrated_max": None}
        else:
            measured = calibrate(s, a.calibrate_seconds)
            target = max(100, int(measured * a.rate_fraction))
            how = "%.2f of a calibrated %d/s" % (a.rate_fraction, measured)
            report["rate"] = {"calibrated_max": round(measured)}
        print("soak: pacing %d events/s (%s) for %d s" % (target, how, a.duration), flush=True)
        smp.phase = "run"
        run_start = time.monotonic()
        answered_at_start = s.counts.answered
        names = list(PROJECTORS)
        state = {"next_kill": run_start + a.kill_every, "down": None, "k": 0}

        def restart_if_due(now, force=False):
            down = state["down"]
            if down and (force or now >= down["killed"] + a.restart_after):
                nodes.start_projector(down["node"])
                down["entry"]["restarted_at"] = round(time.monotonic() - t0, 2)
                state["down"] = None

        def on_tick(now):
            crashes.update(nodes.unexpected_exits())
            restart_if_due(now)
            if now >= state["next_kill"] and state["down"] is None:
                name = names[state["k"] % len(names)]
                state["k"] += 1
                state["next_kill"] += a.kill_every
                ckpt, above = nodes.kill_projector(name)
                restored[name] = (ckpt, above)
                entry = {"node": name, "killed_at": round(now - t0, 2),
                         "snapshot_checkpoint": ckpt, "acknowledged": s.counts.acknowledged}
                kills.append(entry)
                state["down"] = {"node": name, "killed": now, "entry": entry}

        pace(s, target, a.duration, a.queries_per_second, on_tick)
        run_end = time.monotonic()
        answered_at_end = s.counts.answered
        restart_if_due(run_end, force=True)
        crashes.update(nodes.unexpected_exits())
        smp.phase = "drain"
        s.wait_idle(180)
        until_caught_up(s, 300)
        smp.phase = "verify"
        keys = [("user_listing", "user-%d" % u) for u in range(a.users)]
        keys += [("user_by_email", e) for e in sorted(s.fold.emails)]
        before = s.counts.queries
        s.send_queries(keys)
        s.wait_idle(600)
        report["final_queries"] = s.counts.queries - before
        head, models = node_status(s)
        crashes.update(nodes.unexpected_exits())
    finally:
        smp.phase = "stop"
        exit_status = nodes.finish(120)
        smp.finish()
        nodes.kill_all()
    c = s.counts
    report["rate"].update({"target": target, "how": how,
                           "achieved": (answered_at_end - answered_at_start)
                           / (run_end - run_start)})
    report["counts"] = {k: (dict(v) if isinstance(v, dict) else v)
                        for k, v in vars(c).items()}
    for k in kills:
        model = PROJECTORS[k["node"]][1]
        k["recovered_after_s"] = next(
            (round(x["t"] - k["restarted_at"], 2) for x in smp.samples
             if x["t"] >= k.get("restarted_at", float("inf"))
             and x.get("model_state", {}).get(model) == "running"), None)
    report["kills"] = kills
    checks = {}
    checks["no process crashed"] = check(
        not crashes and exit_status == 0,
        "unexpected exits %s, bus-node exit %s" % (crashes, exit_status))
    checks["every new event acknowledged"] = check(
        not c.refused and c.new_skipped == 0 and c.other == 0 and s.reader_error is None,
        "refused %s, skipped %d, stray replies %d, reader %s"
        % (dict(c.refused), c.new_skipped, c.other, s.reader_error))
    checks["no redelivery appended again"] = check(
        c.duplicated == 0, "%d redeliveries appended again" % c.duplicated)
    checks["log holds each acknowledged once"] = check(
        head == c.acknowledged, "head %d, acknowledged %d" % (head, c.acknowledged))
    lost = twice = 0
    details = []
    for name, (_, model) in PROJECTORS.items():
        ckpt, above = restored[name]
        expected = head - ckpt - len([x for x in above if x > ckpt])
        m = models[model]
        lost += max(0, expected - m["applied"]) + (head - m["checkpoint"])
        twice += max(0, m["applied"] - expected)
        details.append("%s: checkpoint %d of head %d, applied %d since its snapshot at %d "
                       "(expected %d), restarts %d"
                       % (model, m["checkpoint"], head, m["applied"], ckpt, expected,
                          m["restarts"]))
    report["lost"], report["applied_twice"] = lost, twice
    checks["models applied each event once"] = check(
        lost == 0 and twice == 0, "lost %d, applied twice %d: %s"
        % (lost, twice, "; ".join(details)))
    checks["no model failed"] = check(
        all(models[m]["restarts"] == 0 and models[m]["parked"] == 0 for m in MODELS),
        "; ".join(details))
    checks["queries equal the folds"] = check(
        c.query_mismatch == 0, "%d mismatches, first: %s" % (c.query_mismatch, s.mismatches[:3]))
    report["model_status"] = models
    report["mismatches"] = s.mismatches
    report["rss"] = rss_flatness(smp.samples, run_start - t0, run_end - t0,
                                 ["bus-node", *PROJECTORS, "driver"],
                                 a.rss_tolerance_mb, a.rss_tolerance_percent)
    report["mailbox_max"] = {"bus": max_of(smp.samples, "bus_mailbox"),
                             **{m: max_model_mailbox(smp.samples, m) for m in MODELS}}
    enforce = a.rss_check == "enforce" or (a.rss_check == "auto" and a.duration >= 300)
    flat = all(f.get("flat") for n, f in report["rss"].items() if n != "driver")
    report["rss_check"] = ("enforced: %s" if enforce else "reported only: %s") % (
        "flat" if flat else "not flat")
    report["checks"] = checks
    report["passed"] = all(x["ok"] for x in checks.values()) and (flat or not enforce)
    report["run_window"] = [round(run_start - t0, 2), round(run_end - t0, 2)]
    report["samples"] = smp.samples
    report["wall_seconds"] = round(time.monotonic() - t0, 1)
    return report


def main():
    a = options()
    work = a.work_dir or tempfile.mkdtemp(prefix="bus-soak-")
    os.makedirs(work, exist_ok=True)
    report = run(a, work)
    with open(a.json, "w") as f:
        json.dump(report, f, indent=1)
    print(summary(report))
    print("soak: %.0f s in all; every sample in %s" % (report["wall_seconds"], a.json))
    if report["passed"] and not a.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    elif not report["passed"]:
        print("soak: stores and logs kept in %s" % work)
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
