#!/usr/bin/env python3
"""End-to-end test of the admin endpoint (docs/admin-api.md).

Starts bus-node, bus-projector and bus-admin-child with --admin on port 0,
reads each one's URL from its stderr, feeds events on stdin (kept open for
the whole test) and checks what HTTP says against what the protocol says.
Every wait polls with a deadline; CTest adds a hard time limit on top.

  admin_e2e.py --bus-node PATH --bus-projector PATH --child PATH --config-dir DIR
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from e2e_support import (DEADLINE, Http, Process, event, model_labels, parse_metrics,
                         poll, protocol_status)

ARGS = None


class BusNodeTest(unittest.TestCase):
    """bus-node --admin, in memory and on a store."""

    def start(self, *extra):
        node = Process([ARGS.bus_node, "--admin", "127.0.0.1:0", *extra])
        self.addCleanup(node.stop)
        return node, Http(node.url())

    def feed_users(self, node, count, first_msg=1):
        for i in range(first_msg - 1, first_msg - 1 + count):
            node.send(event(i + 1, "e-%d" % i, "UserCreated",
                            {"id": "user-%d" % i, "email": "u%d@x.org" % i}))
        for _ in range(count):
            reply = json.loads(node.reply())["body"]
            self.assertEqual(reply["type"], "read_models_updated", reply)

    def test_status_health_metrics_and_events_agree_with_the_protocol(self):
        node, http = self.start()
        self.feed_users(node, 5)
        # Status: the protocol's, plus the node and its store's state.
        status = http.json("GET", "/status")
        self.assertEqual(status.pop("node"), "bus")
        self.assertEqual(status.pop("store"), "healthy")
        self.assertEqual(status, protocol_status(node, 100))
        self.assertEqual(status["head"], 5)
        health = http.json("GET", "/health")
        self.assertEqual(health, {"healthy": True, "reason": "", "models": [
            {"model": "user_listing", "state": "running"},
            {"model": "user_by_email", "state": "running"}]})
        # Metrics parse, and their counters say what status says.
        code, headers, text = http.call("GET", "/metrics")
        self.assertEqual(code, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        m = parse_metrics(text)
        self.assertEqual(m[("bus_events_appended_total", ())], 5)
        self.assertEqual(m[("bus_log_head", ())], status["head"])
        for s in status["read_models"]:
            labels = model_labels(s["model"])
            self.assertEqual(m[("bus_model_applied_total", labels)], s["applied"])
            self.assertEqual(m[("bus_model_lag_events", labels)], s["lag_events"])
            self.assertEqual(m[("bus_model_parked", labels)], s["parked"])
            self.assertEqual(m[("bus_model_state", labels + (("state", "running"),))], 1)
            self.assertEqual(m[("bus_model_state", labels + (("state", "paused"),))], 0)
            # Every event reached the model live: each has a latency.
            self.assertEqual(m[("bus_model_apply_latency_seconds_count", labels)], 5)
            self.assertEqual(m[("bus_model_apply_latency_seconds_bucket",
                                labels + (("le", "+Inf"),))], 5)
        self.assertNotIn(("bus_store_commit_seconds_count", ()), m)  # in memory
        # The log, page by page.
        seen, page_from = [], 1
        while True:
            page = http.json("GET", "/events?from=%d&limit=2" % page_from)
            self.assertEqual(page["from"], page_from)
            self.assertEqual(page["head"], 5)
            if not page["events"]:
                self.assertEqual(page["next"], page_from)
                break
            self.assertLessEqual(len(page["events"]), 2)
            seen += page["events"]
            page_from = page["next"]
        self.assertEqual([e["seq"] for e in seen], [1, 2, 3, 4, 5])
        self.assertEqual([e["id"] for e in seen], ["e-%d" % i for i in range(5)])
        self.assertEqual(seen[0]["payload"], {"id": "user-0", "email": "u0@x.org"})
        self.assertEqual(seen[0]["type"], "UserCreated")
        self.assertGreater(seen[0]["timestamp_ms"], 1_600_000_000_000)
        self.assertEqual(page_from, 6)  # head + 1 at the end

    def test_a_page_of_large_events_is_bounded_in_bytes(self):
        # 60 events of 900 KB in one answer of 54 MB, before the cap: here
        # 6 of 400 KB, of which two fit in a page of at most 1 MiB.
        node, http = self.start()
        for i in range(6):
            node.send(event(i + 1, "big-%d" % i, "Blob",
                            {"id": "b-%d" % i, "data": "x" * 400_000}))
        for _ in range(6):
            self.assertEqual(json.loads(node.reply())["body"]["type"], "read_models_updated")
        seen, page_from = [], 1
        while page_from <= 6:
            code, _, text = http.call("GET", "/events?from=%d&limit=1000" % page_from)
            self.assertEqual(code, 200)
            self.assertLessEqual(len(text.encode()), 1 << 20)
            page = json.loads(text)
            self.assertEqual(len(page["events"]), 2)
            seen += page["events"]
            page_from = page["next"]
        self.assertEqual([e["id"] for e in seen], ["big-%d" % i for i in range(6)])
        # The page: a plain HTML page from the binary.
        code, headers, text = http.call("GET", "/")
        self.assertEqual(code, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn("<title>bus dashboard</title>", text)
        code, headers, text = http.call("GET", "/dashboard.js")
        self.assertEqual(code, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/javascript"))
        self.assertIn('api("GET", "status")', text)

    def test_lifecycle_requests_show_up_in_status_and_health(self):
        node, http = self.start()
        self.feed_users(node, 3)
        self.assertEqual(http.json("POST", "/models/user_listing/pause"),
                         {"model": "user_listing", "state": "paused"})
        states = {m["model"]: m["state"] for m in http.json("GET", "/status")["read_models"]}
        self.assertEqual(states["user_listing"], "paused")
        health = http.json("GET", "/health", expect=503)
        self.assertFalse(health["healthy"])
        self.assertIn("model user_listing is paused", health["reason"])
        # Events go on; the paused model falls behind, then catches up.
        self.feed_users(node, 2, first_msg=10)
        listing = [m for m in http.json("GET", "/status")["read_models"]
                   if m["model"] == "user_listing"][0]
        self.assertEqual((listing["checkpoint"], listing["lag_events"]), (3, 2))
        self.assertEqual(http.json("POST", "/models/user_listing/resume"),
                         {"model": "user_listing", "state": "running"})
        self.assertTrue(http.json("GET", "/health")["healthy"])
        self.assertEqual(http.json("POST", "/models/user_by_email/rebuild")["model"],
                         "user_by_email")
        poll(lambda: [m for m in http.json("GET", "/status")["read_models"]
                      if m["model"] == "user_by_email" and m["rebuilds"] == 1
                      and m["state"] == "running"], "the rebuild to finish")
        self.assertEqual(http.json("POST", "/models/user_listing/restart"),
                         {"model": "user_listing", "state": "running"})
        status = http.json("GET", "/status")
        status.pop("node")
        self.assertEqual(status.pop("store"), "healthy")
        self.assertEqual(status, protocol_status(node, 200))
        self.assertTrue(all(m["checkpoint"] == 5 for m in status["read_models"]))

    def test_bad_requests_get_a_4xx_naming_the_problem(self):
        node, http = self.start()
        self.feed_users(node, 1)
        http.error("GET", "/nosuch", 404, "not_found")
        message, headers = http.error("GET", "/models/user_listing/pause", 405,
                                      "method_not_allowed")
        self.assertEqual(headers["Allow"], "POST")
        _, headers = http.error("POST", "/status", 405, "method_not_allowed")
        self.assertEqual(headers["Allow"], "GET")
        message, _ = http.error("POST", "/models/nosuch/pause", 404, "no_such_model")
        self.assertIn("nosuch", message)
        http.error("GET", "/models/nosuch/parked", 404, "no_such_model")
        message, _ = http.error("GET", "/events?limit=5000", 400, "bad_request")
        self.assertIn("limit", message)
        message, _ = http.error("GET", "/events?from=abc", 400, "bad_request")
        self.assertIn("from", message)
        http.error("POST", "/models/user_listing/parked/retry?seq=0", 400, "bad_request")
        message, _ = http.error("POST", "/models/user_listing/parked/retry?seq=99", 404,
                                "not_parked")
        self.assertIn("99", message)
        big = http.raw(b"POST /models/user_listing/pause HTTP/1.1\r\nHost: t\r\n"
                       b"Content-Length: 70000\r\n\r\n")
        self.assertTrue(big.startswith("HTTP/1.1 413"), big)
        self.assertIn('"payload_too_large"', big)
        garbage = http.raw(b"NOT HTTP AT ALL\r\n\r\n")
        self.assertTrue(garbage.startswith("HTTP/1.1 400"), garbage)
        # None of it harmed the node.
        self.assertEqual(http.json("GET", "/status")["head"], 1)

    def test_connections_over_64_are_refused_without_harming_the_node(self):
        node, http = self.start()
        self.feed_users(node, 1)
        idle = [socket.create_connection((http.host, http.port), timeout=DEADLINE)
                for _ in range(64)]
        try:
            def refused():
                reply = http.raw(b"GET /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                return reply if reply.startswith("HTTP/1.1 503") else None
            reply = poll(refused, "a connection over the bound to be refused")
            self.assertIn("too many connections", reply)
        finally:
            for s in idle:
                s.close()
        poll(lambda: http.call("GET", "/status")[0] == 200, "the endpoint to serve again")
        self.feed_users(node, 1, first_msg=50)  # the protocol side goes on too
        self.assertEqual(http.json("GET", "/status")["head"], 2)

    def test_a_node_on_a_store_reports_its_commit_and_fsync_times(self):
        with tempfile.TemporaryDirectory() as d:
            node, http = self.start("--store", os.path.join(d, "bus.db"))
            self.feed_users(node, 4)
            status = http.json("GET", "/status")
            status.pop("node")
            self.assertEqual(status.pop("store"), "healthy")
            self.assertEqual(status, protocol_status(node, 300))
            m = parse_metrics(http.call("GET", "/metrics")[2])
            # One commit per publish batch (the node batches what it reads),
            # each with at least one fsync under --durability fsync.
            commits = m[("bus_store_commit_seconds_count", ())]
            self.assertGreaterEqual(commits, 1)
            self.assertGreaterEqual(m[("bus_store_fsync_seconds_count", ())], commits)
            self.assertGreater(m[("bus_store_fsync_seconds_sum", ())], 0)
            self.assertEqual(m[("bus_store_commit_seconds_bucket", (("le", "+Inf"),))],
                             commits)
            page = http.json("GET", "/events?from=3")
            self.assertEqual([e["id"] for e in page["events"]], ["e-2", "e-3"])
            node.stop()

    def test_a_remote_admin_address_needs_allow_remote(self):
        for program in (ARGS.bus_node, ARGS.bus_projector):
            argv = [program, "--admin", "0.0.0.0:0"]
            if program == ARGS.bus_projector:
                argv += ["--connect", "127.0.0.1:1"]
            run = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, timeout=DEADLINE)
            self.assertEqual(run.returncode, 2, run.stderr)
            self.assertIn("0.0.0.0 is not a loopback address", run.stderr)
            self.assertIn("--allow-remote", run.stderr)


class ProjectorNodeTest(unittest.TestCase):
    def test_a_projector_node_serves_its_own_models(self):
        bus = Process([ARGS.bus_node, "--config", os.path.join(ARGS.config_dir, "bus-only.json"),
                       "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        self.addCleanup(bus.stop)
        bus_http = Http(bus.url())
        port = poll(lambda: re.search(r"listening on 127\.0\.0\.1:(\d+)", bus.stderr_text()),
                    "the bus to listen").group(1)
        projector = Process([ARGS.bus_projector, "--connect", "127.0.0.1:" + port,
                             "--config", os.path.join(ARGS.config_dir, "projector-listing.json"),
                             "--name", "node-a", "--admin", "127.0.0.1:0"])
        self.addCleanup(projector.stop)
        http = Http(projector.url())
        poll(lambda: http.call("GET", "/health")[0] == 200, "the projector's model to run")
        # The bus node sees the remote model once it is attached.
        poll(lambda: any(m["model"] == "user_listing"
                         for m in bus_http.json("GET", "/status")["read_models"]),
             "the projector node to attach")
        bus.send(event(1, "e-1", "UserCreated", {"id": "u1", "email": "a@x.org"}))
        reply = json.loads(bus.reply())["body"]
        self.assertEqual(reply["updated_models"], ["user_listing"])

        def applied():
            s = http.json("GET", "/status")
            return s if s["head"] == 1 and s["read_models"][0]["applied"] == 1 else None
        status = poll(applied, "the projector's status to show the event")
        self.assertEqual(status["node"], "projector")
        self.assertEqual([m["model"] for m in status["read_models"]], ["user_listing"])
        m = parse_metrics(http.call("GET", "/metrics")[2])
        self.assertEqual(m[("bus_model_applied_total", model_labels("user_listing"))], 1)
        self.assertNotIn(("bus_events_appended_total", ()), m)
        http.error("GET", "/events", 404, "not_found")
        self.assertEqual(http.json("POST", "/models/user_listing/pause"),
                         {"model": "user_listing", "state": "paused"})
        self.assertEqual(http.json("GET", "/health", expect=503)["reason"],
                         "model user_listing is paused")
        self.assertEqual(projector.stop(), 0)


    def test_a_projector_node_without_its_bus_says_so(self):
        # Nothing listens on port 1: the node keeps dialing, and has no
        # models to report yet.
        projector = Process([ARGS.bus_projector, "--connect", "127.0.0.1:1",
                             "--admin", "127.0.0.1:0"])
        self.addCleanup(projector.stop)
        http = Http(projector.url())
        message, _ = http.error("GET", "/status", 503, "unavailable")
        self.assertIn("has not reached its bus yet", message)
        health = http.json("GET", "/health", expect=503)
        self.assertFalse(health["healthy"])
        self.assertIn("has not reached its bus yet", health["reason"])
        self.assertEqual(health["models"], [])
        self.assertEqual(projector.stop(), 0)


class ParkedAndFailedTest(unittest.TestCase):
    """bus-admin-child: C++ models that park poison events or fail."""

    def test_parked_events_are_listed_retried_and_discarded(self):
        child = Process([ARGS.child, "--admin", "127.0.0.1:0"])
        self.addCleanup(child.stop)
        http = Http(child.url())

        def book(event_id, key, n, **extra):
            child.send(json.dumps({"id": event_id, "type": "Booked",
                                   "payload": dict(k=key, n=n, **extra)}))
            self.assertTrue(child.reply().startswith("ack "))
        book("b1", "a", 1)
        book("b2", "a", 2, poison=1)     # throws once: parked, then retried fine
        book("b3", "a", 3)               # parked behind b2 (same key)
        book("b4", "b", 4, poison=1000)  # throws for good
        parked = http.json("GET", "/models/ledger/parked")
        self.assertEqual(parked["model"], "ledger")
        self.assertEqual([p["seq"] for p in parked["parked"]], [2, 3, 4])
        self.assertEqual([p["reason"] for p in parked["parked"]], ["failed", "behind", "failed"])
        self.assertIn("ledger cannot book b2", parked["parked"][0]["error"])
        # The units admin-api.md gives: parked_at in ms since the epoch, the
        # event's own timestamp (its append) in ns.
        now_ms = int(time.time() * 1000)
        for p in parked["parked"]:
            self.assertLessEqual(abs(p["parked_at"] - now_ms), 600_000, p)
            self.assertLessEqual(abs(p["event"]["timestamp"] // 1_000_000 - now_ms),
                                 600_000, p)
        ledger = http.json("GET", "/status")["read_models"][0]
        self.assertEqual((ledger["state"], ledger["parked"]), ("parked", 3))
        health = http.json("GET", "/health", expect=503)
        self.assertIn("model ledger is parked", health["reason"])
        m = parse_metrics(http.call("GET", "/metrics")[2])
        self.assertEqual(m[("bus_model_parked", model_labels("ledger"))], 3)
        # b3 waits for b2: retrying it alone does not fit.
        http.error("POST", "/models/ledger/parked/retry?seq=3", 409, "conflict")
        retried = http.json("POST", "/models/ledger/parked/retry?seq=2")
        self.assertEqual(retried["done"], 2)  # b2, then b3 behind it
        self.assertEqual([p["seq"] for p in retried["parked"]], [4])
        discarded = http.json("POST", "/models/ledger/parked/discard?seq=4")
        self.assertEqual((discarded["done"], discarded["parked"]), (1, []))
        http.error("POST", "/models/ledger/parked/discard?seq=4", 404, "not_parked")
        ledger = http.json("GET", "/status")["read_models"][0]
        self.assertEqual((ledger["state"], ledger["parked"]), ("running", 0))
        self.assertTrue(http.json("GET", "/health")["healthy"])
        # A model that fails for good makes the node unhealthy, naming why.
        book("b5", "c", 5, fail=True)
        fragile = poll(lambda: [x for x in http.json("GET", "/status")["read_models"]
                                if x["model"] == "fragile" and x["state"] == "failed"],
                       "fragile to fail")[0]
        self.assertIn("fragile broke on b5", fragile["last_error"])
        health = http.json("GET", "/health", expect=503)
        self.assertFalse(health["healthy"])
        self.assertIn("model fragile is failed: ", health["reason"])
        self.assertIn("fragile broke on b5", health["reason"])
        self.assertEqual(child.stop(), 0)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--bus-node", required=True)
    parser.add_argument("--bus-projector", required=True)
    parser.add_argument("--child", required=True)
    parser.add_argument("--config-dir", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
