#!/usr/bin/env python3
"""Sends the hostile lines of cases.py to one bus-node and checks that each
gets what docs/protocol.md promises: its error reply (with its code), or its
stderr warning and no reply, or (for hostile but valid requests) its reply;
that stdout holds only JSON replies; and that the node never dies: it
answers a sentinel request after every hostile line and exits 0 at the end
of its input. Before that, the same lines go to its admin endpoint
(--admin 127.0.0.1:0) as raw HTTP requests and as model names, each of
which must get a 4xx answer, and /health must still answer 200.

usage: hostile_node.py --bus-node PATH"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as corpus  # noqa: E402

ADMIN_LINE = re.compile(rb"admin endpoint on http://127\.0\.0\.1:(\d+)/")
SKIPPED = re.compile(rb"line (\d+): (?:not a JSON object|longer than \d+ bytes), skipped")
START_TIMEOUT = 60
RUN_TIMEOUT = 240
HTTP_TIMEOUT = 20


def sentinel(k):
    return ('{"src": "client", "dest": "node", "body": {"type": "init", "msg_id": '
            '"sentinel-%d", "node_id": "n", "node_ids": []}}' % k).encode()


def strict_json(text):
    def refuse(name):
        raise ValueError("not JSON: " + name)
    return json.loads(text, parse_constant=refuse)


class Node:
    """bus-node with pipes on every stream, read by threads."""

    def __init__(self, path):
        self.proc = subprocess.Popen([path, "--admin", "127.0.0.1:0"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.out = bytearray()
        self.err = bytearray()
        self.cond = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out)),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.err))]
        for t in self.readers:
            t.daemon = True
            t.start()

    def _read(self, stream, into):
        while True:
            chunk = stream.read1(1 << 16)
            if not chunk:
                return
            with self.cond:
                into.extend(chunk)
                self.cond.notify_all()

    def admin_port(self):
        deadline = time.monotonic() + START_TIMEOUT
        with self.cond:
            while True:
                m = ADMIN_LINE.search(self.err)
                if m:
                    return int(m.group(1))
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("no admin endpoint on bus-node's stderr:\n"
                                         + self.err.decode(errors="replace"))
                self.cond.wait(0.2)

    def finish(self, data):
        """Writes `data` to stdin, closes it and waits for the exit."""
        writer = threading.Thread(target=self._write, args=(data,), daemon=True)
        writer.start()
        try:
            self.proc.wait(RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            raise AssertionError("bus-node did not finish within %d s" % RUN_TIMEOUT)
        finally:
            writer.join(10)
            for t in self.readers:
                t.join(10)
        return self.proc.returncode

    def _write(self, data):
        try:
            view = memoryview(data)
            for at in range(0, len(view), 1 << 20):
                self.proc.stdin.write(view[at:at + (1 << 20)])
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # the node died: the exit status tells


# -- the admin endpoint ---------------------------------------------------------------

def http_exchange(port, request):
    """Sends raw bytes; returns (status, body) of the answer, or (None, b'')
    when the connection closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT) as s:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed early: read what came
        data = bytearray()
        while True:
            try:
                chunk = s.recv(1 << 16)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data.extend(chunk)
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", bytes(data))
    if not m:
        return None, b""
    return int(m.group(1)), bytes(data).partition(b"\r\n\r\n")[2]


def check_admin(port, cases, failures):
    for case in cases:
        if not case.send_to_admin:
            continue
        # The line as a request of its own.
        status, _ = http_exchange(port, case.line + b"\r\n\r\n")
        if status is None or not 400 <= status < 500:
            failures.append("admin, raw %s: status %s" % (case.name, status))
        # The line as a model name (every byte %-encoded) and as the body.
        name = urllib.parse.quote(case.line, safe="")
        request = (b"POST /models/%s/pause HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   b"Content-Length: %d\r\n\r\n" % (name.encode(), len(case.line))) + case.line
        status, body = http_exchange(port, request)
        expected = 431 if len(name) > 8000 else 404
        if status != expected:
            failures.append("admin, model name %s: status %s, not %d" % (case.name, status,
                                                                        expected))
        elif status == 404:
            try:
                error = strict_json(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                error = None
            if error not in ("no_such_model", "not_found"):
                failures.append("admin, model name %s: body %r" % (case.name, body[:200]))
    status, body = http_exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n"
                                       b"Connection: close\r\n\r\n")
    if status != 200:
        failures.append("admin: /health answered %s after the hostile requests: %r"
                        % (status, body[:300]))


# -- the protocol -----------------------------------------------------------------------

def check_protocol(node, cases, failures):
    data = bytearray()
    for k, case in enumerate(cases):
        assert b"\n" not in case.line, case.name
        data += case.line + b"\n" + sentinel(k) + b"\n"
    rc = node.finish(bytes(data))
    if rc != 0:
        failures.append("bus-node exited with %s; stderr ends: %s"
                        % (rc, node.err[-2000:].decode(errors="replace")))
    skipped = {int(m.group(1)) for m in SKIPPED.finditer(node.err)}
    # Replies grouped by the sentinel that follows them.
    groups = [[] for _ in cases]
    k = 0
    for number, raw in enumerate(bytes(node.out).split(b"\n")[:-1], 1):
        try:
            reply = strict_json(raw)
            body = reply["body"]
            assert set(reply) == {"src", "dest", "body"} and isinstance(body, dict)
        except (ValueError, KeyError, AssertionError, TypeError) as e:
            failures.append("stdout line %d is not a reply (%s): %r" % (number, e, raw[:300]))
            continue
        if k >= len(cases):
            failures.append("a reply after the last sentinel: %r" % raw[:300])
            continue
        if body.get("in_reply_to") == "sentinel-%d" % k:
            k += 1
        else:
            groups[k].append(body)
    if k != len(cases):
        failures.append("only %d of %d sentinels answered" % (k, len(cases)))
    for i, case in enumerate(cases[:k]):
        check_case(case, groups[i], (2 * i + 1) in skipped, failures)


def check_case(case, replies, warned, failures):
    def fail(what):
        failures.append("%s: %s (line %r)" % (case.name, what, case.line[:200]))
    if case.expect == "skip":
        if replies:
            fail("skipped lines get no reply, got %r" % replies)
        if not warned:
            fail("no warning on stderr")
        return
    if warned:
        fail("warned on stderr as skipped")
    if len(replies) != 1:
        return fail("expected one reply, got %r" % [str(r)[:200] for r in replies])
    body = replies[0]
    if case.in_reply_to is not corpus.ANY and body.get("in_reply_to", "<missing>") != case.in_reply_to:
        fail("in_reply_to %r, not %r" % (body.get("in_reply_to"), case.in_reply_to))
    if case.expect == "error":
        if body.get("type") != "error" or body.get("code") != case.code:
            fail("expected error %d, got %s" % (case.code, json.dumps(body)[:300]))
        elif not isinstance(body.get("text"), str) or not body["text"]:
            fail("an error without a text: %r" % body)
        elif set(body) != {"type", "in_reply_to", "code", "text"}:
            fail("error fields %r" % sorted(body))
    elif body.get("type") != case.reply_type:
        fail("expected %s, got %s" % (case.reply_type, json.dumps(body)[:300]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bus-node", required=True)
    args = parser.parse_args()
    cases = corpus.all_cases()
    failures = []
    started = time.monotonic()
    node = Node(args.bus_node)
    try:
        check_admin(node.admin_port(), cases, failures)
        check_protocol(node, cases, failures)
    finally:
        if node.proc.poll() is None:
            os.killpg(node.proc.pid, signal.SIGKILL)
            node.proc.wait(10)
    for f in failures:
        print("FAIL " + f)
    admin = sum(1 for c in cases if c.send_to_admin)
    print("hostile_node: %d lines (%d to the admin endpoint), %d failures, %.1f s"
          % (len(cases), admin, len(failures), time.monotonic() - started))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
