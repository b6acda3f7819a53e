#!/usr/bin/env python3
"""bus-node under options a user would try, against the Python reference node.

The protocol promises that a query sees exactly the events sent before it,
whatever the batch size, the store, the partitions or where the models
keep their rows (docs/protocol.md, "query"). The reference node
(apps/bus-bench/reference_node.py) applies each line before it reads the
next, so its replies are what every bus-node must answer. The input is
bus-gen's (users created, updated and deleted, redeliveries) with queries
between its events, of the users and emails just touched and of random
users. Each variant runs bus-node once and compares every reply, byte for
byte; the restart variant feeds the first half into a store, starts again
on it with the second half, and compares the second half's replies; the
distributed variants run the bus alone and each model on a projector node
of its own (bus-projector, over loopback), as docs/distributed.md does.

  reference_differential.py --gen BUS_GEN --node BUS_NODE
      --projector BUS_PROJECTOR --reference REFERENCE_NODE
      --config-dir CONFIG_DIR --dir SCRATCH_DIR
"""

import argparse
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import time

EVENTS = 20000
USERS = 2000
QUERY_SHARE = 0.06


def with_queries(lines, seed):
    """Returns `lines` with queries between them."""
    rng = random.Random(seed)
    emails = []
    out = []
    msg_id = 10_000_000
    for line in lines:
        out.append(line)
        if rng.random() >= QUERY_SHARE:
            continue
        payload = json.loads(line)["body"]["event"].get("payload", {})
        if "email" in payload:
            emails.append(payload["email"])
        msg_id += 1
        draw = rng.random()
        if draw < 0.5 and "id" in payload:
            query = {"model": "user_listing", "key": payload["id"]}
        elif draw < 0.8 and emails:
            query = {"model": "user_by_email", "key": rng.choice(emails)}
        else:
            query = {"model": "user_listing", "key": "user-%d" % rng.randrange(USERS)}
        body = dict(type="query", msg_id=msg_id, **query)
        out.append(json.dumps({"src": "c", "dest": "node", "body": body},
                              separators=(",", ":")))
    return out


def run(argv, lines):
    done = subprocess.run(argv, input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        sys.exit("%s: exit %d\n%s" % (" ".join(argv), done.returncode, done.stderr[-2000:]))
    return done.stdout.splitlines()


def run_distributed(node, projector, config_dir, scratch, options, lines):
    """Runs `lines` through a bus node whose models run on two projector
    nodes; returns the bus node's replies."""
    path = os.path.join(scratch, "distributed.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    log = os.path.join(scratch, "distributed-bus.log")
    argv = [node, "--config", os.path.join(config_dir, "bus-only.json"),
            "--listen", "127.0.0.1:0", "--await-models", "user_listing,user_by_email",
            "--startup-timeout", "60"] + options
    with open(path) as stdin, open(log, "w") as stderr:
        bus = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                               stderr=stderr, text=True)
    projectors = []
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline and bus.poll() is None:
            with open(log) as f:
                for line in f:
                    if "listening on 127.0.0.1:" in line:
                        port = line.rsplit(":", 1)[1].strip()
            time.sleep(0.05)
        if port is None:
            sys.exit("the bus node did not listen: see " + log)
        for model in ("listing", "email"):
            with open(os.path.join(scratch, "projector-%s.log" % model), "w") as err:
                projectors.append(subprocess.Popen(
                    [projector, "--connect", "127.0.0.1:" + port, "--log-level", "warning",
                     "--config", os.path.join(config_dir, "projector-%s.json" % model)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err))
        out, _ = bus.communicate(timeout=120)
        if bus.returncode != 0:
            sys.exit("the bus node: exit %d, see %s" % (bus.returncode, log))
        return out.splitlines()
    finally:
        if bus.poll() is None:
            bus.kill()
        for p in projectors:
            p.terminate()
            p.wait(timeout=30)


def first_difference(expected, got):
    if len(expected) != len(got):
        return "%d replies, expected %d" % (len(got), len(expected))
    for i, (x, y) in enumerate(zip(expected, got)):
        if x != y:
            return "reply %d:\n  expected %s\n  got      %s" % (i + 1, x, y)
    return None


def main():
    parser = argparse.ArgumentParser()
    for name in ("--gen", "--node", "--projector", "--reference", "--config-dir", "--dir"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    os.makedirs(args.dir)

    events = subprocess.run([args.gen, "--events", str(EVENTS), "--users", str(USERS),
                             "--redeliveries", "10", "--seed", "5"],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    lines = with_queries(events, 11)
    expected = run([args.reference], lines)

    # The shipped models, and the same with their state elsewhere.
    with open(os.path.join(args.config_dir, "node.json")) as f:
        shipped = json.load(f)

    def config(name, listing=None, by_email=None):
        cfg = copy.deepcopy(shipped)
        cfg["read_models"][0].update(listing or {})
        cfg["read_models"][1].update(by_email or {})
        path = os.path.join(args.dir, name + ".json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return ["--config", path]

    parts = config("partitions", {"partitions": 4})
    tables = config("tables", {"storage": "sqlite"}, {"storage": "sqlite"})
    mixed = config("mixed", {"partitions": 3}, {"storage": "sqlite"})

    def store(name):
        path = os.path.join(args.dir, name)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        return ["--store", os.path.join(path, "bus.db")]

    node = [args.node, "--log-level", "error"]
    variants = [
        ("defaults", []),
        ("batch-size 1", ["--batch-size", "1"]),
        ("batch-size 7", ["--batch-size", "7"]),
        ("batch-size 4096", ["--batch-size", "4096"]),
        ("idle-workers poll", ["--idle-workers", "poll"]),
        ("4 partitions", parts + ["--batch-size", "7"]),
        ("store, snapshot every 13, batch-size 5",
         store("s1") + ["--snapshot-every", "13", "--batch-size", "5",
                        "--durability", "os"]),
        ("store, tables", store("s2") + tables + ["--snapshot-every", "17",
                                                  "--batch-size", "9"]),
        ("store, partitions and a table", store("s3") + mixed + ["--batch-size", "64"]),
        # The defaults: fsync, and the most chunks and publishes in flight.
        ("store, defaults", store("s4")),
    ]
    failures = []

    def check(name, want, got):
        problem = first_difference(want, got)
        print("%-40s %s" % (name, "same replies" if problem is None else "DIFFERENT"))
        if problem is not None:
            failures.append("%s: %s" % (name, problem))

    for name, options in variants:
        check(name, expected, run(node + options, lines))

    # A restart: the first half into a store, then the second half on it.
    half = len(lines) // 2
    for n, (name, options) in enumerate(
            [("restart, snapshots every 13", ["--snapshot-every", "13"]),
             ("restart, tables, no snapshots",
              tables + ["--snapshot-every", "0", "--batch-size", "3"])]):
        on = store("restart-%d" % n) + options + ["--durability", "os"]
        run(node + on, lines[:half])
        check(name, expected[half:], run(node + on, lines[half:]))

    for name, options in [("projector nodes", []),
                          ("projector nodes, batch-size 7", ["--batch-size", "7"]),
                          ("projector nodes, store, batch-size 33",
                           store("d1") + ["--batch-size", "33"])]:
        got = run_distributed(args.node, args.projector, args.config_dir, args.dir,
                              ["--log-level", "info"] + options, lines)
        check(name, expected, got)

    if failures:
        sys.exit("bus-node answers otherwise than the reference node:\n"
                 + "\n".join(failures))


if __name__ == "__main__":
    main()
