"""The JSON node: the bus node's stdin/stdout session, which publishes and
queries. A writer thread sends events (new ones, and redeliveries of ids
already acknowledged) and queries at a paced rate; a reader thread matches
each reply with its request (replies come in request order), folds every
acknowledged event and checks every answer against the folds at that point
of the stream, which is exactly what a query must see (docs/protocol.md)."""

import collections
import json
import random
import re
import threading
import time

from soak_stream import folds, query_line, request_line

NEW, REDELIVERY, QUERY, CONTROL = range(4)
# The replies to events, as bus-node writes them: read without a JSON
# parser, which would cost the driver more than everything else per event.
EVENT_REPLY = re.compile(rb'"body": \{"type": "(read_models_updated|event_skipped)", '
                         rb'"in_reply_to": (\d+), "event_id": "s(\d+)"(?:, '
                         rb'"updated_models": \[([^\]]*)\])?')
MODELS = ("user_listing", "user_by_email")
NEEDLES = tuple((m, b'"%s"' % m.encode()) for m in MODELS)


class control:
    """A request whose reply the main thread waits for."""

    def __init__(self):
        self.done = threading.Event()
        self.body = None

    def wait(self, timeout):
        if not self.done.wait(timeout):
            raise RuntimeError("no reply within %d s" % timeout)
        return self.body


class counts:
    def __init__(self):
        self.sent = 0            # events written (new and redeliveries)
        self.answered = 0        # event replies read
        self.acknowledged = 0    # new events answered read_models_updated
        self.redelivered = 0     # redeliveries answered event_skipped
        self.without = collections.Counter()  # acknowledged without a model
        self.queries = 0
        self.queries_unavailable = 0  # error 11: the model's node is away
        # Failures: each must stay 0.
        self.duplicated = 0      # a redelivery appended again
        self.new_skipped = 0     # a new id answered as already processed
        self.refused = collections.Counter()  # error code -> events refused
        self.query_mismatch = 0
        self.other = 0           # a reply that fits no request


class session:
    def __init__(self, proc, source, seed, redelivery_percent):
        self.proc = proc
        self.source = source
        self.fold = folds(source)
        self.rng = random.Random(seed)
        self.redelivery_percent = redelivery_percent
        self.pending = collections.deque()
        self.counts = counts()
        self.mismatches = []      # the first few, for the report
        self.next_msg_id = 1
        self.next_event = 1
        self.last_acknowledged = 0  # every event up to it is acknowledged
        self.write_lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader_error = None
        self.reader.start()

    # -- writing --------------------------------------------------------------

    def _send(self, entries, text):
        # Registered before they are written: the reader may see the replies
        # before write() returns.
        with self.write_lock:
            self.pending.extend(entries)
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()

    def send_events(self, count, queries=0):
        """Writes `count` events (a share of them redeliveries) and `queries`
        queries of random keys spread among them."""
        parts, entries = [], []
        query_at = set(self.rng.randrange(count) for _ in range(queries)) if count else set()
        for k in range(count):
            msg_id = self._msg_id()
            if self.last_acknowledged > 0 and self.rng.randrange(100) < self.redelivery_percent:
                n = self.rng.randint(1, self.last_acknowledged)
                entries.append((msg_id, REDELIVERY, n))
            else:
                n = self.next_event
                self.next_event += 1
                entries.append((msg_id, NEW, n))
            parts.append(self.source.line(msg_id, n))
            if k in query_at:
                self._add_query(parts, entries)
        self.counts.sent += count
        self._send(entries, "".join(parts))

    def _add_query(self, parts, entries, model=None, key=None):
        if model is None:
            model = MODELS[self.rng.randrange(2)]
            user = self.rng.randrange(self.source.users)
            key = ("user-%d" % user if model == "user_listing"
                   else "u%d-%d@x.org" % (user, self.rng.randrange(4)))
        msg_id = self._msg_id()
        entries.append((msg_id, QUERY, (model, key)))
        parts.append(query_line(msg_id, model, key))

    def send_queries(self, keys):
        """Queries every (model, key) of `keys`, checked like any other."""
        parts, entries = [], []
        for model, key in keys:
            self._add_query(parts, entries, model, key)
        self._send(entries, "".join(parts))

    def request(self, body):
        c = control()
        msg_id = self._msg_id()
        self._send([(msg_id, CONTROL, c)], request_line(msg_id, body))
        return c

    def _msg_id(self):
        m = self.next_msg_id
        self.next_msg_id += 1
        return m

    # -- reading --------------------------------------------------------------

    def _read(self):
        try:
            for line in self.proc.stdout:
                m = EVENT_REPLY.search(line)
                if m and self.pending and self.pending[0][1] in (NEW, REDELIVERY):
                    self._event_reply(m)
                else:
                    self._reply(json.loads(line)["body"])
        except Exception as e:  # reported by the checks, not lost in a thread
            self.reader_error = "%s: %s" % (type(e).__name__, e)

    def _event_reply(self, m):
        """The fast path of _reply, for a well-formed event reply."""
        c = self.counts
        msg_id, kind, n = self.pending[0]
        if int(m.group(2)) != msg_id or int(m.group(3)) != n:
            return self._reply(json.loads(m.string)["body"])
        self.pending.popleft()
        c.answered += 1
        if m.group(1) == b"read_models_updated":
            if kind == REDELIVERY:
                c.duplicated += 1
                self._mismatch("redelivery of s%d appended again: %s" % (n, m.string))
                return
            c.acknowledged += 1
            self.fold.apply(n)
            self.last_acknowledged = n
            named = m.group(4)
            for model, needle in NEEDLES:
                if needle not in named:
                    c.without[model] += 1
        elif kind == REDELIVERY:
            c.redelivered += 1
        else:
            c.new_skipped += 1
            self._mismatch("new event s%d skipped: %s" % (n, m.string))

    def _reply(self, body):
        c = self.counts
        if not self.pending:
            c.other += 1
            return
        msg_id, kind, data = self.pending.popleft()
        if body.get("in_reply_to") != msg_id:
            c.other += 1
            self._mismatch("reply to %s where %d was due: %s" % (
                body.get("in_reply_to"), msg_id, body))
            return
        t = body["type"]
        if kind == NEW:
            c.answered += 1
            if t == "read_models_updated" and body["event_id"] == "s%d" % data:
                c.acknowledged += 1
                self.fold.apply(data)
                self.last_acknowledged = data
                for m in MODELS:
                    if m not in body["updated_models"]:
                        c.without[m] += 1
            elif t == "event_skipped":
                c.new_skipped += 1
                self._mismatch("new event s%d skipped: %s" % (data, body))
            else:
                c.refused[body.get("code", t)] += 1
                self._mismatch("new event s%d: %s" % (data, body))
        elif kind == REDELIVERY:
            c.answered += 1
            if t == "event_skipped":
                c.redelivered += 1
            elif t == "read_models_updated":
                c.duplicated += 1
                self._mismatch("redelivery of s%d appended again: %s" % (data, body))
            else:
                c.refused[body.get("code", t)] += 1
                self._mismatch("redelivery of s%d: %s" % (data, body))
        elif kind == QUERY:
            self._check_query(data, body)
        else:
            data.body = body
            data.done.set()

    def _check_query(self, what, body):
        c = self.counts
        c.queries += 1
        model, key = what
        want = self.fold.expected(model, key)
        if body["type"] == "error" and body["code"] == 11:
            c.queries_unavailable += 1
            return
        if want is None:
            ok = body["type"] == "error" and body["code"] == 20
        else:
            ok = body["type"] == "query_ok" and body["value"] == want
        if not ok:
            c.query_mismatch += 1
            self._mismatch("query %s[%s]: want %s, got %s" % (model, key, want, body))

    def _mismatch(self, text):
        if len(self.mismatches) < 20:
            self.mismatches.append(text)

    def in_flight(self):
        return len(self.pending)

    def wait_idle(self, timeout):
        """Waits (hard deadline) until every request sent has its reply."""
        deadline = time.monotonic() + timeout
        while self.pending:
            if self.reader_error or not self.reader.is_alive():
                raise RuntimeError("the reply reader stopped: %s" % self.reader_error)
            if time.monotonic() > deadline:
                raise RuntimeError("%d requests unanswered after %d s"
                                   % (len(self.pending), timeout))
            time.sleep(0.05)
