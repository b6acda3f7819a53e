"""The hostile request lines for bus-node: the committed corpus (lines.txt)
and the cases generated at test time (wrong types in every field of every
request type, deep nesting, huge strings and lines). A case is a line (bytes,
without '\\n') and what the node must do with it."""

import json
import os
import re
from dataclasses import dataclass
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
BYTE = re.compile(rb"<0x([0-9A-Fa-f]{2})>")


@dataclass
class Case:
    name: str
    line: bytes
    # "error" (code), "skip" (a stderr warning, no reply) or "reply" (type)
    expect: str
    code: int = 0
    reply_type: str = ""
    # The in_reply_to the reply must carry, when the case knows it: a JSON
    # value, or ANY.
    in_reply_to: object = None
    send_to_admin: bool = True


ANY = object()


def corpus():
    """The cases of lines.txt."""
    cases = []
    with open(os.path.join(HERE, "lines.txt"), "rb") as f:
        for number, raw in enumerate(f.read().split(b"\n"), 1):
            if not raw.strip() or raw.startswith(b"#"):
                continue
            expect, sep, line = raw.partition(b"\t")
            if not sep:
                raise ValueError("lines.txt:%d: no tab after the expectation" % number)
            line = BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), line)
            words = expect.decode().split()
            name = "lines.txt:%d" % number
            if words[0] == "error":
                cases.append(Case(name, line, "error", code=int(words[1]), in_reply_to=ANY))
            elif words[0] == "reply":
                cases.append(Case(name, line, "reply", reply_type=words[1], in_reply_to=ANY))
            elif words == ["skip"]:
                cases.append(Case(name, line, "skip"))
            else:
                raise ValueError("lines.txt:%d: unknown expectation %r" % (number, expect))
    return cases


def dumps(value):
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False).encode()


def envelope(body):
    return {"src": "client", "dest": "node", "body": body}


# -- wrong types in every field ----------------------------------------------------------

def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def any_str(v):
    return isinstance(v, str)


def nonempty_str(v):
    return isinstance(v, str) and v != ""


def str_array(v):
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def nonempty_str_array(v):
    return isinstance(v, list) and all(nonempty_str(x) for x in v)


def derivable_id(v):
    return (isinstance(v, str) and v.rsplit("-", 1)[-1] != "") or \
        (is_int(v) and -2**63 <= v < 2**64)


def one_of(*xs):
    return lambda v: isinstance(v, str) and v in xs


def int_at_least(n, high=2**63 - 1):
    return lambda v: is_int(v) and n <= v <= high


WRONG = [None, True, False, 0, -1, 7, 2**64, 1.5, -0.5, 1e300, "", "x", "ид",
         [], ["x"], [1], [None], {}, {"a": 1}]

DEFINITION = {"kind": "index", "key": "email", "target": "id",
              "set_on": ["UserCreated"], "delete_on": ["UserDeleted"],
              "storage": "memory",
              "on_error": {"attempts": 2, "backoff_ms": 1, "max_backoff_ms": 5,
                           "then": "park", "order": "per_key"}}

# Request bodies (without msg_id), each with its fields: path -> (accepts a
# value?, required?). A path is a tuple of keys and list indexes.
TEMPLATES = [
    ("init", {"type": "init", "node_id": "n1", "node_ids": ["n1", "n2"]},
     {("node_id",): (any_str, True), ("node_ids",): (str_array, True),
      ("node_ids", 0): (any_str, True)}),
    ("subscribe", {"type": "subscribe", "event_types": ["UserCreated"]},
     {("event_types",): (str_array, True), ("event_types", 0): (any_str, True)}),
    ("unsubscribe", {"type": "unsubscribe", "event_types": ["Nothing"]},
     {("event_types",): (str_array, True), ("event_types", 0): (any_str, True)}),
    ("event", {"type": "event", "event": {"type": "Hostile", "id": "h-1", "payload": {"id": "user-h"}}},
     {("event",): (lambda v: False, True), ("event", "type"): (nonempty_str, True),
      ("event", "id"): (nonempty_str, False),
      ("event", "payload"): (lambda v: isinstance(v, dict), True)}),
    # Without an id, the node derives one from payload.id (docs/protocol.md).
    ("event-derived", {"type": "event", "event": {"type": "Hostile", "payload": {"id": "user-7"}}},
     {("event", "payload", "id"): (derivable_id, True)}),
    ("query", {"type": "query", "model": "user_listing", "key": "user-1"},
     {("model",): (any_str, True),
      ("key",): (lambda v: isinstance(v, str) or (is_int(v) and -2**63 <= v < 2**64), True)}),
    ("status", {"type": "status"}, {}),
] + [
    (kind, {"type": kind, "model": "user_listing"}, {("model",): (any_str, True)})
    for kind in ("pause", "resume", "rebuild", "rollback", "discard", "restart", "parked")
] + [
    (kind, {"type": kind, "model": "user_listing", "seq": 5},
     {("model",): (any_str, True), ("seq",): (int_at_least(1, 2**64 - 1), False)})
    for kind in ("retry_parked", "discard_parked")
] + [
    ("blue_green", {"type": "rebuild", "model": "user_by_email", "mode": "blue_green",
                    "await": False, "definition": DEFINITION},
     {("model",): (any_str, True), ("mode",): (one_of("blue_green"), True),
      ("await",): (lambda v: isinstance(v, bool), False),
      ("definition",): (lambda v: False, True),
      ("definition", "name"): (one_of("user_by_email"), False),
      ("definition", "kind"): (one_of("index"), True),
      ("definition", "key"): (nonempty_str, True),
      ("definition", "target"): (nonempty_str, True),
      ("definition", "set_on"): (nonempty_str_array, False),
      ("definition", "set_on", 0): (nonempty_str, True),
      ("definition", "delete_on"): (nonempty_str_array, False),
      ("definition", "storage"): (one_of("memory", "sqlite"), False),
      ("definition", "on_error"): (lambda v: v == {}, False),
      ("definition", "on_error", "attempts"): (int_at_least(1, 2**32 - 1), False),
      ("definition", "on_error", "backoff_ms"): (int_at_least(0, 5), False),
      ("definition", "on_error", "max_backoff_ms"): (int_at_least(1), False),
      ("definition", "on_error", "then"): (one_of("park", "stop"), False),
      ("definition", "on_error", "order"): (one_of("per_key", "none"), False)}),
]

ENVELOPE_FIELDS = {("src",): any_str, ("dest",): any_str}


def set_path(doc, path, value):
    for key in path[:-1]:
        doc = doc[key]
    if value is DELETE:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


DELETE = object()


def wrong_types():
    """One case per request type, field and value the field does not take
    (and per required field left out): each is error 12."""
    cases = []
    n = 0
    for name, body, fields in TEMPLATES:
        for path, (accepts, required) in fields.items():
            values = [v for v in WRONG if not accepts(v)]
            if required and not isinstance(path[-1], int):
                values.append(DELETE)
            for v in values:
                n += 1
                msg_id = "wt-%d" % n
                b = json.loads(json.dumps(body))
                set_path(b, path, v)
                b["msg_id"] = msg_id
                shown = "missing" if v is DELETE else json.dumps(v)
                cases.append(Case("%s.%s = %s" % (name, ".".join(map(str, path)), shown),
                                  dumps(envelope(b)), "error", code=12, in_reply_to=msg_id,
                                  send_to_admin=False))
    # The envelope and the fields every request has.
    for name, body, _ in TEMPLATES[:1] + TEMPLATES[6:7]:
        for path, accepts in list(ENVELOPE_FIELDS.items()) + [(("body",), lambda v: False)]:
            for v in [x for x in WRONG if not accepts(x)] + [DELETE]:
                n += 1
                msg_id = "wt-%d" % n
                doc = envelope(dict(body, msg_id=msg_id))
                set_path(doc, path, v)
                in_reply_to = None if path == ("body",) else msg_id
                cases.append(Case("%s: %s = %s" % (name, path[0], "missing" if v is DELETE
                                                   else json.dumps(v)),
                                  dumps(doc), "error", code=12, in_reply_to=in_reply_to,
                                  send_to_admin=False))
        for v in [x for x in WRONG if not (is_int(x) and x < 2**64) and not isinstance(x, str)] \
                + [DELETE]:
            n += 1
            b = dict(body)
            if v is not DELETE:
                b["msg_id"] = v
            # No usable msg_id: in_reply_to is null (docs/protocol.md, "Errors").
            cases.append(Case("%s: msg_id = %s" % (name, "missing" if v is DELETE
                                                   else json.dumps(v)),
                              dumps(envelope(b)), "error", code=12, in_reply_to=None,
                              send_to_admin=False))
        for v in [x for x in WRONG if not isinstance(x, str)] + [DELETE]:
            n += 1
            msg_id = "wt-%d" % n
            b = dict(body, msg_id=msg_id)
            set_path(b, ("type",), v)
            cases.append(Case("%s: type = %s" % (name, "missing" if v is DELETE
                                                 else json.dumps(v)),
                              dumps(envelope(b)), "error", code=12, in_reply_to=msg_id,
                              send_to_admin=False))
    return cases


# -- deep nesting, huge strings and lines ----------------------------------------------------

MAX_LINE = 1 << 20  # bus-node's default --max-line-bytes


def nested_event(msg_id, depth, open_="[", close="]"):
    head = ('{"src": "client", "dest": "node", "body": {"type": "event", "msg_id": "%s", '
            '"event": {"type": "Deep", "id": "%s", "payload": {"id": "deep", "d": '
            % (msg_id, msg_id)).encode()
    return head + open_.encode() * depth + close.encode() * depth + b"}}}}"


def big_cases():
    cases = []
    # Boost.JSON's parser takes 32 levels: the envelope, body, event and
    # payload are 4 of them.
    cases.append(Case("nesting at the limit (32 levels)", nested_event("deep-28", 28),
                      "reply", reply_type="read_models_updated", in_reply_to="deep-28"))
    cases.append(Case("nesting one level too deep", nested_event("deep-29", 29), "skip"))
    cases.append(Case("arrays nested 100,000 levels", nested_event("deep-a", 100000), "skip"))
    cases.append(Case("objects nested 100,000 levels",
                      nested_event("deep-o", 100000, '{"a": ', "}"), "skip"))
    cases.append(Case("100,000 unclosed brackets", b"[" * 100000, "skip"))
    cases.append(Case("100,000 unclosed braces", b'{"a": ' * 100000, "skip"))
    pad = "x" * 1000000
    cases.append(Case("a 1,000,000-byte string in an event",
                      dumps(envelope({"type": "event", "msg_id": "huge-1", "event": {
                          "type": "UserCreated", "id": "huge-1",
                          "payload": {"id": "user-huge", "bio": pad}}})),
                      "reply", reply_type="read_models_updated", in_reply_to="huge-1",
                      send_to_admin=False))
    cases.append(Case("a 1,000,000-byte model name",
                      dumps(envelope({"type": "query", "msg_id": "huge-2", "model": pad,
                                      "key": "k"})),
                      "error", code=20, in_reply_to="huge-2", send_to_admin=False))
    cases.append(Case("100,000 escaped characters in a key",
                      b'{"src": "client", "dest": "node", "body": {"type": "query", '
                      b'"msg_id": "huge-3", "model": "user_listing", "key": "'
                      + b"\\u00e9" * 100000 + b'"}}',
                      "error", code=20, in_reply_to="huge-3", send_to_admin=False))
    cases.append(Case("an event with 50,000 payload fields",
                      dumps(envelope({"type": "event", "msg_id": "huge-4", "event": {
                          "type": "Wide", "id": "huge-4",
                          "payload": {"f%d" % i: i for i in range(50000)}}})),
                      "reply", reply_type="read_models_updated", in_reply_to="huge-4",
                      send_to_admin=False))
    cases.append(Case("an array of 100,000 nulls",
                      dumps(envelope({"type": "event", "msg_id": "huge-5", "event": {
                          "type": "Long", "id": "huge-5",
                          "payload": {"a": [None] * 100000}}})),
                      "reply", reply_type="read_models_updated", in_reply_to="huge-5",
                      send_to_admin=False))
    exact = dumps(envelope({"type": "status", "msg_id": "huge-6"}))
    cases.append(Case("a request padded to exactly --max-line-bytes",
                      exact + b" " * (MAX_LINE - len(exact)), "reply", reply_type="status_ok",
                      in_reply_to="huge-6", send_to_admin=False))
    cases.append(Case("a request padded to --max-line-bytes + 1",
                      exact + b" " * (MAX_LINE + 1 - len(exact)), "skip", send_to_admin=False))
    cases.append(Case("a 32 MiB line", b'{"a": "' + b"y" * (32 << 20) + b'"}', "skip",
                      send_to_admin=False))
    cases.append(Case("a 2 MiB line of NUL bytes", b"\0" * (2 << 20), "skip",
                      send_to_admin=False))
    return cases


def all_cases():
    return corpus() + wrong_types() + big_cases()
