"""The soak's event stream and its independent folds.

Event n (n = 1, 2, ...) is a pure function of n, so a redelivery is the same
event re-sent (same id, type and payload) without keeping the stream in
memory. The folds mirror the two read models of config/projector-*.json:
user_listing (a document per user, merged on UserCreated/UserUpdated,
removed on UserDeleted) and user_by_email (an index from email to user id
that moves with the user's current email), as tests/node/user_stream.cpp
folds them."""

import json

MASK = (1 << 64) - 1
TYPES = ("UserCreated", "UserUpdated", "UserDeleted")


def mix(n):
    """splitmix64: a cheap, well-spread hash of n."""
    z = (n * 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class stream:
    """Events of `users` users: 30 % created, 60 % updated, 10 % deleted;
    each user has one of 4 emails at a time."""

    def __init__(self, users):
        self.users = users

    def event(self, n):
        """(type index, user, email or None) of event n."""
        h = mix(n)
        user = h % self.users
        roll = (h >> 20) % 100
        kind = 0 if roll < 30 else 1 if roll < 90 else 2
        email = None if kind == 2 else "u%d-%d@x.org" % (user, (h >> 40) % 4)
        return kind, user, email

    def line(self, msg_id, n):
        kind, user, email = self.event(n)
        if email is None:
            payload = '{"id":"user-%d"}' % user
        else:
            payload = '{"id":"user-%d","name":"n%d","email":"%s"}' % (user, n, email)
        return ('{"src":"soak","dest":"node","body":{"type":"event","msg_id":%d,'
                '"event":{"type":"%s","id":"s%d","payload":%s}}}\n'
                % (msg_id, TYPES[kind], n, payload))


def query_line(msg_id, model, key):
    return ('{"src":"soak","dest":"node","body":{"type":"query","msg_id":%d,'
            '"model":"%s","key":%s}}\n' % (msg_id, model, json.dumps(key)))


def request_line(msg_id, body):
    body = dict(body, msg_id=msg_id)
    return json.dumps({"src": "soak", "dest": "node", "body": body}) + "\n"


class folds:
    """The read models as the acknowledged events, in log order, make them."""

    def __init__(self, source):
        self.source = source
        self.docs = {}     # "user-K" -> document
        self.owner = {}    # email -> "user-K"
        self.current = {}  # "user-K" -> email
        self.emails = set()  # every email ever set, to query at the end

    def apply(self, n):
        kind, user, email = self.source.event(n)
        key = "user-%d" % user
        if kind == 2:
            self.docs.pop(key, None)
            self._drop(key)
            return
        doc = self.docs.get(key)
        if doc is None:
            self.docs[key] = {"id": key, "name": "n%d" % n, "email": email}
        else:
            doc["name"] = "n%d" % n
            doc["email"] = email
        self.emails.add(email)
        if self.current.get(key) == email:
            return
        self._drop(key)
        previous = self.owner.get(email)
        if previous is not None:
            self.current.pop(previous, None)
        self.owner[email] = key
        self.current[key] = email

    def _drop(self, key):
        email = self.current.pop(key, None)
        if email is not None and self.owner.get(email) == key:
            del self.owner[email]

    def expected(self, model, key):
        """The value a query must answer, or None for error 20 (no such key)."""
        if model == "user_listing":
            return self.docs.get(key)
        return self.owner.get(key)
