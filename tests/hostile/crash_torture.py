#!/usr/bin/env python3
"""Crash torture of a bus node and two projector nodes (manual, not in CI).

A bus node (--store: a SQLite file, or a PostgreSQL URI with RUN where the
run's name goes, "ref" or "crash") and two projector nodes with --store,
small batches and snapshots every few events: node-a runs user_listing and
strict_listing (a document model that parks events without an email),
node-b user_by_email and table_listing ("storage": "sqlite"), and both share
shared_docs (4 partitions, parking too). The same seeded stream (with
redeliveries) is published twice in chunks, with the same retries and
discards of parked events every few chunks: once with SIGKILLs of the
projector nodes and of the bus node at random moments (killed projector
nodes come back at once, the bus node when its client notices and resends
what it has no acknowledgement for), once without. Every model's answer
for every key and every partition's parked list must be the same.

    python3 tests/hostile/crash_torture.py --build build --dir /tmp/torture \
        --seed 5 --events 800 --chunk 80 --batch 3 --bus-kill 0.3
"""
import argparse, json, os, random, signal, socket, subprocess, sys, threading, time, pathlib, shutil

B = None  # build dir


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def models_a(args):
    m = [
        {"name": "user_listing", "kind": "document", "key": "id",
         "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
        {"name": "strict_listing", "kind": "document", "key": "id", "require": ["email"],
         "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"],
         "on_error": {"attempts": 1, "backoff_ms": 1, "max_backoff_ms": 1, "then": "park"},
         "storage": args.strict_storage},
        {"name": "shared_docs", "kind": "document", "key": "id", "partitions": 4,
         "require": ["email"], "on_error": {"attempts": 2, "backoff_ms": 1, "max_backoff_ms": 2},
         "upsert_on": ["UserCreated"], "merge_on": ["UserUpdated"], "delete_on": ["UserDeleted"],
         "storage": args.shared_storage},
    ]
    return m


def models_b(args):
    return [
        {"name": "user_by_email", "kind": "index", "key": "email", "target": "id",
         "set_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
        {"name": "table_listing", "kind": "document", "key": "id", "storage": "sqlite",
         "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
        models_a(args)[2],
    ]


def cfg(models, batch):
    return {"read_models": models, "node": {"batch_size": batch, "snapshot_every": 7},
            "supervision": {"initial_backoff_ms": 10, "max_backoff_ms": 100}}


def make_stream(rng, n, users):
    evs = []
    for i in range(n):
        u = f"user-{rng.randrange(users)}"
        r = rng.random()
        t = "UserCreated" if r < 0.3 else ("UserUpdated" if r < 0.93 else "UserDeleted")
        p = {"id": u, "name": f"N{i}"}
        if rng.random() > 0.03:
            p["email"] = f"{u}-{i}@x.org"
        evs.append({"type": t, "id": f"e{i}", "payload": p})
    # redeliveries
    out = []
    for e in evs:
        out.append(e)
        if rng.random() < 0.05:
            out.append(rng.choice(evs[:len(out)]) if out else e)
    return out


class Proc:
    def __init__(self, argv, name, logdir, stdin=False):
        self.argv, self.name, self.logdir = argv, name, logdir
        self.n = 0
        self.p = None
        self.stdin = stdin
        self.start()

    def start(self):
        self.n += 1
        self.err = open(f"{self.logdir}/{self.name}.{self.n}.err", "w")
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
                                  stderr=self.err, text=True, bufsize=1)

    def kill(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
            self.p.wait()

    def alive(self):
        return self.p.poll() is None


class Run:
    def __init__(self, args, d, crash):
        self.args, self.d, self.crash = args, d, crash
        self.rng = random.Random(args.seed * 7 + 1)
        os.makedirs(d, exist_ok=True)
        self.port = free_port()
        ca = f"{d}/a.json"; cb = f"{d}/b.json"; cbus = f"{d}/bus.json"
        json.dump(cfg(models_a(args), args.batch), open(ca, "w"))
        json.dump(cfg(models_b(args), args.batch), open(cb, "w"))
        json.dump(cfg([], args.batch), open(cbus, "w"))
        awaited = "user_listing,strict_listing,shared_docs,user_by_email,table_listing"
        self.bus = Proc([f"{B}/apps/bus-node/bus-node", "--config", cbus, "--store", (args.bus_store.replace("RUN", os.path.basename(d)) if args.bus_store else f"{d}/bus.db"),
                         "--listen", f"127.0.0.1:{self.port}", "--batch-size", str(args.batch),
                         "--snapshot-every", "5", "--await-models", awaited, "--timeout-ms", "3000"],
                        "bus", d, stdin=True)
        self.pa = Proc([f"{B}/apps/bus-projector/bus-projector", "--connect", f"127.0.0.1:{self.port}",
                        "--config", ca, "--name", "node-a", "--store", f"{d}/a.db", "--snapshot-every",
                        str(args.snap)], "a", d)
        self.pb = Proc([f"{B}/apps/bus-projector/bus-projector", "--connect", f"127.0.0.1:{self.port}",
                        "--config", cb, "--name", "node-b", "--store", f"{d}/b.db", "--snapshot-every",
                        str(args.snap)], "b", d)
        self.msg = 0
        self.acked = set()

    def line(self, body):
        self.msg += 1
        body["msg_id"] = self.msg
        return json.dumps({"src": "c", "dest": "n", "body": body})

    def exchange(self, bodies, timeout=60):
        """Sends bodies, returns replies (None for those not answered: bus died)."""
        lines = [self.line(b) for b in bodies]
        p = self.bus.p
        def w():
            try:
                p.stdin.write("\n".join(lines) + "\n"); p.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
        t = threading.Thread(target=w); t.start()
        out = []
        for _ in lines:
            l = p.stdout.readline()
            if not l:
                break
            out.append(json.loads(l)["body"])
        t.join()
        return out + [None] * (len(lines) - len(out))

    def restart_bus(self):
        self.bus.kill()
        self.bus.start()

    def publish(self, evs):
        pending = list(evs)
        rounds = 0
        while pending:
            rounds += 1
            if rounds > 50:
                raise RuntimeError("never acknowledged")
            rep = self.exchange([{"type": "event", "event": e} for e in pending])
            nxt = []
            for e, r in zip(pending, rep):
                if r is None or r["type"] == "error":
                    nxt.append(e)
                    if r is not None:
                        print("  error reply", r, file=sys.stderr)
                else:
                    self.acked.add(e["id"])
            if nxt and rep[-1] is None:
                # the bus died: restart it
                time.sleep(0.2)
                self.bus.kill(); self.bus.start()
            pending = nxt

    def maybe_kill(self):
        if not self.crash:
            return None
        victims = []
        r = self.rng.random()
        if r < 0.35: victims.append(self.pa)
        elif r < 0.7: victims.append(self.pb)
        elif r < 0.8: victims += [self.pa, self.pb]
        elif r < 0.8 + self.args.bus_kill: victims.append(self.bus)
        delay = self.rng.random() * self.args.kill_window
        back = self.rng.random() * 0.5
        def k():
            time.sleep(delay)
            for v in victims:
                v.kill()
            time.sleep(back)
            for v in victims:
                if v is not self.bus and not v.alive():
                    v.start()
        t = threading.Thread(target=k); t.start()
        return t, victims

    EXPECTED = {"user_listing", "strict_listing", "user_by_email", "table_listing"} | {
        f"shared_docs#{i}" for i in range(4)}

    def settle(self):
        # restart dead ones, wait until every model is known, live and caught up
        for p in (self.pa, self.pb):
            if not p.alive():
                p.start()
        r = None
        for attempt in range(300):
            st = self.exchange([{"type": "status"}])[0]
            if st is None:
                self.bus.kill(); self.bus.start(); time.sleep(0.5); continue
            states = {m["model"]: m["state"] for m in st.get("read_models", [])}
            if not self.EXPECTED <= set(states) or any(
                    states[m] not in ("running", "parked") for m in self.EXPECTED):
                r = states
                time.sleep(0.2); continue
            head = st["head"]
            r = self.exchange([{"type": "await", "seq": head, "timeout_ms": 10000}])[0]
            if r is not None and r["type"] == "await_ok":
                return head
            time.sleep(0.3)
        raise RuntimeError(f"never settled: {r}")

    def parked_all(self):
        for attempt in range(100):
            res = self.parked_once()
            if all(isinstance(v, list) for v in res.values()):
                return res
            time.sleep(0.2)
        raise RuntimeError(f"parked lists unavailable: {res}")

    def parked_once(self):
        res = {}
        names = ["strict_listing"] + [f"shared_docs#{i}" for i in range(4)]
        rep = self.exchange([{"type": "parked", "model": n} for n in names])
        for n, r in zip(names, rep):
            if r["type"] != "parked_ok":
                res[n] = r
            else:
                res[n] = [{k: v for k, v in e.items() if k != "parked_at"} for e in r["parked"]]
                for e in res[n]:
                    e["event"].pop("timestamp", None)
        return res

    def parked_op(self, step):
        """A deterministic retry/discard on the parked events (same in both runs)."""
        orng = random.Random(self.args.seed * 1000 + step)
        p = self.parked_all()
        out = []
        for n in sorted(p):
            lst = p[n]
            if not isinstance(lst, list) or not lst:
                continue
            failed = [e for e in lst if e["reason"] == "failed"]
            if not failed:
                continue
            e = orng.choice(failed)
            seq = e["event"]["seq"]
            op = orng.choice(["retry_parked", "discard_parked", "retry_all"])
            body = {"type": "retry_parked" if op == "retry_all" else op, "model": n}
            if op != "retry_all":
                body["seq"] = seq
            r = self.exchange([body])[0]
            out.append((n, op, seq, r and r["type"], r and r.get("done")))
        return out

    def queries(self, events):
        users = sorted({e["payload"]["id"] for e in events})
        emails = sorted({e["payload"]["email"] for e in events if "email" in e["payload"]})
        qs = []
        for m in ["user_listing", "strict_listing", "shared_docs", "table_listing"]:
            qs += [{"type": "query", "model": m, "key": u} for u in users]
        qs += [{"type": "query", "model": "user_by_email", "key": e} for e in emails]
        rep = self.exchange(qs)
        return [(q["model"], q["key"], {k: v for k, v in r.items() if k != "in_reply_to"}) for q, r in zip(qs, rep)]

    def stop(self):
        for p in (self.pa, self.pb):
            if p.alive():
                p.p.send_signal(signal.SIGTERM)
        try:
            self.bus.p.stdin.close()
        except Exception:
            pass
        for p in (self.pa, self.pb, self.bus):
            try:
                p.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def run(args, d, crash, stream):
    r = Run(args, d, crash)
    log = []
    try:
        chunk = args.chunk
        step = 0
        for i in range(0, len(stream), chunk):
            step += 1
            k = r.maybe_kill()
            r.publish(stream[i:i + chunk])
            if k:
                k[0].join()
            if step % args.settle_every == 0:
                r.settle()
                log.append(r.parked_op(step))
        head = r.settle()
        parked = r.parked_all()
        q = r.queries(stream)
        return head, parked, q, log
    finally:
        r.stop()


def brief(l):
    if not isinstance(l, list):
        return l
    return [(e["event"]["seq"], e["key"], e["reason"][0], e["attempts"]) for e in l]


def main():
    global B
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--users", type=int, default=60)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--batch", type=int, default=7)
    ap.add_argument("--snap", type=int, default=3)
    ap.add_argument("--settle-every", type=int, default=3)
    ap.add_argument("--bus-kill", type=float, default=0.1)
    ap.add_argument("--kill-window", type=float, default=0.4)
    ap.add_argument("--strict-storage", default="memory")
    ap.add_argument("--shared-storage", default="sqlite")
    ap.add_argument("--bus-store", default=None)
    args = ap.parse_args()
    B = args.build
    stream = make_stream(random.Random(args.seed), args.events, args.users)
    shutil.rmtree(args.dir, ignore_errors=True)
    ref = run(args, f"{args.dir}/ref", False, stream)
    got = run(args, f"{args.dir}/crash", True, stream)
    ok = True
    if ref[0] != got[0]:
        print("head differs", ref[0], got[0]); ok = False
    for n in ref[1]:
        if ref[1][n] != got[1][n]:
            print("parked differ", n, "\n ref", brief(ref[1][n]), "\n got", brief(got[1][n])); ok = False
    diff = [(a, b) for a, b in zip(ref[2], got[2]) if a != b]
    for a, b in diff[:10]:
        print("query differs", a, b)
    if diff:
        print(len(diff), "of", len(ref[2]), "answers differ"); ok = False
    if ref[3] != got[3]:
        print("parked ops differ:\n ref", ref[3], "\n got", got[3]); ok = False
    print(f"seed {args.seed}: head {ref[0]}, {len(ref[2])} answers, parked "
          f"{sum(len(v) if isinstance(v, list) else 0 for v in ref[1].values())}, ops {sum(len(x) for x in ref[3])}: "
          + ("OK" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


main()
