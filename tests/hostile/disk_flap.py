#!/usr/bin/env python3
"""bus-node --store on a disk that fills up again and again (manual, not in CI).

A client pipelines every event of a bus-gen input, resends those answered
error 14 in their original order once every reply is in (as
docs/protocol.md asks), and repeats until all are acknowledged; then it
queries every user of user_listing and compares the answers with the Python
reference node fed the same input in order. Meanwhile a thread fills DIR
with a ballast file for 50 ms every 150 ms.

DIR should be a small file system of its own, for example (as root):

    mount -t tmpfs -o size=64m tmpfs /mnt/tiny
    python3 tests/hostile/disk_flap.py --dir /mnt/tiny --runs 3 \\
        --bus-node build/apps/bus-node/bus-node --bus-gen build/apps/bus-gen/bus-gen
    umount /mnt/tiny

It prints, per run, the refusals and how many answers differ from the
reference (0 is right; a log that lost the input's order gives many).
"""

import argparse
import json
import pathlib
import subprocess
import sys
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
REFERENCE = HERE.parent.parent / "apps" / "bus-bench" / "reference_node.py"


def fill_again_and_again(directory, stop):
    ballast = directory / "ballast"
    chunk = b"\0" * (1 << 16)
    while not stop.is_set():
        try:
            with open(ballast, "wb") as f:
                while True:
                    f.write(chunk)
                    f.flush()
        except OSError:
            pass  # full
        time.sleep(0.05)
        ballast.unlink(missing_ok=True)
        time.sleep(0.1)


def query_lines(users):
    return [json.dumps({"src": "c", "dest": "node", "body": {
        "type": "query", "msg_id": 10**7 + i, "model": "user_listing", "key": u}})
        for i, u in enumerate(users)]


def exchange(node, lines):
    writer = threading.Thread(
        target=lambda: (node.stdin.write("\n".join(lines) + "\n"), node.stdin.flush()))
    writer.start()
    replies = []
    for _ in lines:
        line = node.stdout.readline()
        if not line:
            raise RuntimeError("bus-node closed its stdout (see its stderr)")
        replies.append(json.loads(line)["body"])
    writer.join()
    return replies


def one_run(args, lines, users, want):
    store = pathlib.Path(args.dir) / "bus.db"
    for f in pathlib.Path(args.dir).glob("bus.db*"):
        f.unlink()
    stop = threading.Event()
    node = subprocess.Popen([args.bus_node, "--store", str(store)] + args.node_args,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)
    time.sleep(0.3)  # opened before the disk fills
    ballast = threading.Thread(target=fill_again_and_again,
                               args=(pathlib.Path(args.dir), stop))
    ballast.start()
    pending, refused, rounds = lines, 0, 0
    try:
        while pending and rounds < 1000:
            replies = exchange(node, pending)
            pending = [l for l, r in zip(pending, replies) if r["type"] == "error"]
            refused += len(pending)
            rounds += 1
            time.sleep(0.05)
    finally:
        stop.set()
        ballast.join()
    if pending:
        node.kill()
        return f"{len(pending)} events never acknowledged after {rounds} rounds"
    got = exchange(node, query_lines(users))
    node.stdin.close()
    node.wait()
    differ = sum(1 for a, b in zip(got, want) if a != b)
    return (f"{len(lines)} events, {refused} refusals in {rounds} rounds, "
            f"{differ} of {len(users)} answers differ from the reference")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True, help="a small file system of its own")
    p.add_argument("--bus-node", required=True)
    p.add_argument("--bus-gen", required=True)
    p.add_argument("--events", type=int, default=200000)
    p.add_argument("--users", type=int, default=5000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--node-args", default="", help='say "--snapshot-every 0"')
    args = p.parse_args()
    args.node_args = args.node_args.split()
    gen = subprocess.run([args.bus_gen, "--events", str(args.events), "--users",
                          str(args.users)], capture_output=True, text=True, check=True)
    lines = gen.stdout.splitlines()
    users = sorted({json.loads(l)["body"]["event"]["payload"]["id"] for l in lines})
    ref = subprocess.run([sys.executable, str(REFERENCE)],
                         input="\n".join(lines + query_lines(users)) + "\n",
                         capture_output=True, text=True, check=True)
    want = [json.loads(l)["body"] for l in ref.stdout.splitlines()][-len(users):]
    for run in range(args.runs):
        print(f"run {run + 1}: {one_run(args, lines, users, want)}", flush=True)


if __name__ == "__main__":
    main()
