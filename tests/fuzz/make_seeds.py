#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/NAME/seed-*).

Run it from anywhere: python3 tests/fuzz/make_seeds.py. The seeds are small
valid inputs of each decoder (docs/testing.md, "Fuzzing"); binary ones (event
records, wire batches, SQLite files) are encoded here as libbus encodes them
(libbus/src/internal/event_record.hpp), the SQLite files with 512-byte pages
so that they stay small. Inputs that once found a bug are kept beside them
as regression-*, and are never rewritten by this script."""

import json
import os
import sqlite3
import struct
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
CONFIG_DIR = os.path.join(HERE, "..", "..", "config")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# -- the compact event record ----------------------------------------------------

def varint(x):
    out = bytearray()
    while x >= 0x80:
        out.append((x & 0x7F) | 0x80)
        x >>= 7
    out.append(x)
    return bytes(out)


def zigzag(x):
    return (x << 1) ^ (x >> 63) if x >= 0 else ((-x) << 1) - 1


def string(s):
    b = s.encode()
    return varint(len(b)) + b


def value(v):
    if v is None:
        return b"\x00"
    if v is False:
        return b"\x01"
    if v is True:
        return b"\x02"
    if isinstance(v, int):
        return (b"\x03" + varint(zigzag(v))) if v < 2**63 else (b"\x04" + varint(v))
    if isinstance(v, float):
        return b"\x05" + struct.pack("<d", v)
    if isinstance(v, str):
        return b"\x06" + string(v)
    if isinstance(v, list):
        return b"\x07" + varint(len(v)) + b"".join(value(x) for x in v)
    return b"\x08" + obj(v)


def obj(o):
    return varint(len(o)) + b"".join(string(k) + value(v) for k, v in o.items())


def record(ev):
    body = (string(ev["id"]) + string(ev["type"]) + varint(zigzag(ev.get("timestamp", 0)))
            + varint(ev.get("schema_version", 1)) + bytes([1 if ev.get("id_derived") else 0])
            + obj(ev["payload"]) + obj(ev.get("metadata", {})))
    return varint(len(body)) + body


EVENTS = [
    {"id": "evt-1", "type": "UserCreated", "payload": {"id": "user-1", "name": "Ann", "email": "ann@example.com"},
     "timestamp": 1700000000000000000, "id_derived": True},
    {"id": "e-2", "type": "UserUpdated", "payload": {"id": "user-1", "n": -5, "big": 18446744073709551615,
     "x": 0.25, "ok": True, "none": None, "tags": ["a", 1, [2, {"deep": "\u00fc"}]]},
     "metadata": {"trace": "t-1"}, "schema_version": 3, "timestamp": -42},
    {"id": "e-3", "type": "UserDeleted", "payload": {"id": "user-2"}},
]


def wire(events, first_seq):
    return (varint(len(events)) + b"".join(varint(first_seq + i) for i in range(len(events)))
            + b"".join(record(e) for e in events))


# -- JSON texts ---------------------------------------------------------------------

def line(body):
    return json.dumps({"src": "client", "dest": "node", "body": body})


REQUESTS = {
    "init": {"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1", "n2"]},
    "subscribe": {"type": "subscribe", "msg_id": 2, "event_types": ["UserCreated", "*"]},
    "unsubscribe": {"type": "unsubscribe", "msg_id": "u", "event_types": ["UserUpdated"]},
    "event": {"type": "event", "msg_id": 3, "event": {"type": "UserCreated", "id": "evt-123",
              "payload": {"id": "user-123", "name": "John", "tags": [1, 2.5, None, True]}}},
    "event-derived": {"type": "event", "msg_id": 4, "event": {"type": "UserCreated",
                      "payload": {"id": 123, "email": "j@example.com"}}},
    "query": {"type": "query", "msg_id": 5, "model": "user_listing", "key": "user-123"},
    "query-int": {"type": "query", "msg_id": 6, "model": "user_by_email", "key": 18446744073709551615},
    "status": {"type": "status", "msg_id": 7},
    "pause": {"type": "pause", "msg_id": 8, "model": "user_listing"},
    "resume": {"type": "resume", "msg_id": 9, "model": "user_listing"},
    "rebuild": {"type": "rebuild", "msg_id": 10, "model": "user_listing", "mode": "in_place"},
    "blue-green": {"type": "rebuild", "msg_id": 11, "model": "user_by_email", "mode": "blue_green",
                   "await": True, "definition": {"kind": "index", "key": "name", "target": "id",
                   "set_on": ["UserCreated"], "delete_on": ["UserDeleted"],
                   "on_error": {"attempts": 3, "backoff_ms": 5, "then": "park", "order": "per_key"}}},
    "rollback": {"type": "rollback", "msg_id": 12, "model": "user_by_email"},
    "discard": {"type": "discard", "msg_id": 13, "model": "user_by_email"},
    "restart": {"type": "restart", "msg_id": 14, "model": "user_listing"},
    "parked": {"type": "parked", "msg_id": 15, "model": "orders"},
    "retry-parked": {"type": "retry_parked", "msg_id": 16, "model": "orders", "seq": 12},
    "discard-parked": {"type": "discard_parked", "msg_id": -17, "model": "orders"},
    "unknown": {"type": "frobnicate", "msg_id": 18},
    "command": {"type": "command", "msg_id": 19, "command": "PlaceOrder", "stream": "order-1",
                "expected_version": 0, "data": {"customer": "ann", "amount_cents": 1250}},
}

PARKED = [
    {"event": {"id": "e-9", "type": "OrderPlaced", "payload": {"id": "order-9"}, "seq": 9,
               "timestamp": 5, "schema_version": 1, "metadata": {"m": 1}},
     "key": "order-9", "reason": "failed", "error": "boom", "attempts": 3, "parked_at": 1764600000000},
    {"event": {"type": "OrderPaid", "payload": {"id": "order-9"}, "seq": 11},
     "key": "order-9", "reason": "behind", "behind": 9, "attempts": 0, "parked_at": 1764600000001},
    {"event": {"id": "e-12", "type": "OrderPlaced", "payload": {}, "seq": 12},
     "key": None, "reason": "failed", "error": "", "attempts": 1},
]

DOCUMENT_DEF = "document;id;upsert:;merge:UserCreated,UserUpdated,;delete:UserDeleted,"
INDEX_DEF = "index;email;id;set:UserCreated,UserUpdated,;delete:UserDeleted,"
DOCUMENT_STATE = {"user-1": {"id": "user-1", "name": "Ann"}, "user-2": {"id": "user-2", "n": [1, {"a": None}]}}
INDEX_STATE = {"ann@example.com": "user-1", "bo@example.com": "user-2"}


# -- SQLite files ----------------------------------------------------------------------

def sqlite_file(name, statements, wal=False):
    """Runs `statements` (SQL, params) on a fresh 512-byte-page file; returns its bytes."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name)
        db = sqlite3.connect(path)
        db.execute("PRAGMA page_size=512")
        db.execute("VACUUM")
        for sql, params in statements:
            db.execute(sql, params)
        db.commit()
        if wal:
            db.execute("PRAGMA journal_mode=WAL")
        db.close()
        with open(path, "rb") as f:
            return f.read()


def log_store():
    rows = [(1, 2, record(EVENTS[0]) + record(EVENTS[1])), (3, 1, record(EVENTS[2]))]
    return [("CREATE TABLE batches (first_seq INTEGER PRIMARY KEY, count INTEGER NOT NULL, "
             "events BLOB NOT NULL)", ()), ("PRAGMA user_version = 2", ())] + [
        ("INSERT INTO batches VALUES (?, ?, ?)", r) for r in rows]


def old_log_store():
    out = [("CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT, type TEXT, payload TEXT, "
            "timestamp INTEGER, schema_version INTEGER, metadata TEXT, id_derived INTEGER)", ())]
    for i, e in enumerate(EVENTS, 1):
        out.append(("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (i, e["id"], e["type"], json.dumps(e["payload"]), e.get("timestamp", 0),
                     e.get("schema_version", 1), json.dumps(e.get("metadata", {})),
                     1 if e.get("id_derived") else 0)))
    return out


def snapshot_store(with_parked=True):
    cols = "model TEXT PRIMARY KEY, checkpoint INTEGER NOT NULL, above TEXT NOT NULL, " \
           "definition TEXT NOT NULL, state TEXT NOT NULL"
    if with_parked:
        cols += ", parked TEXT NOT NULL DEFAULT ''"
    out = [("CREATE TABLE snapshots (%s)" % cols, ())]
    rows = [("user_listing", 12, "14 17", DOCUMENT_DEF, json.dumps(DOCUMENT_STATE), json.dumps(PARKED)),
            ("user_by_email", 3, "", INDEX_DEF, json.dumps(INDEX_STATE), "")]
    for r in rows:
        if with_parked:
            out.append(("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?)", r))
        else:
            out.append(("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?)", r[:5]))
    return out


def models_store():
    out = [("CREATE TABLE checkpoints (model TEXT PRIMARY KEY, definition TEXT NOT NULL, "
            "checkpoint INTEGER NOT NULL, above TEXT NOT NULL, table_name TEXT NOT NULL)", ()),
           ("CREATE TABLE parked (model TEXT NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL, "
            "PRIMARY KEY (model, seq)) WITHOUT ROWID", ()),
           ('CREATE TABLE "model_user_listing" (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID', ()),
           ('CREATE TABLE "model_user_by_email" (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID', ()),
           ("INSERT INTO checkpoints VALUES ('user_listing', ?, 7, '9', 'model_user_listing')", (DOCUMENT_DEF,)),
           ("INSERT INTO checkpoints VALUES ('user_by_email', ?, 7, '', 'model_user_by_email')", (INDEX_DEF,))]
    for k, v in DOCUMENT_STATE.items():
        out.append(('INSERT INTO "model_user_listing" VALUES (?, ?)', (k, json.dumps(v))))
    for k, v in INDEX_STATE.items():
        out.append(('INSERT INTO "model_user_by_email" VALUES (?, ?)', (k, json.dumps(v))))
    for p in PARKED:
        out.append(("INSERT INTO parked VALUES ('user_listing', ?, ?)", (p["event"]["seq"], json.dumps(p))))
    return out


def lifecycle_store():
    return [("CREATE TABLE paused_models (model TEXT PRIMARY KEY, paused_at INTEGER NOT NULL)", ()),
            ("INSERT INTO paused_models VALUES ('user_listing', 1764600000000)", ())]


HTTP = {
    "status": "GET /status HTTP/1.1\r\nHost: x\r\n\r\n",
    "events": "GET /events?from=5&limit=20 HTTP/1.1\r\nHost: x\r\n\r\n",
    "parked": "GET /models/user%20listing/parked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "retry": "POST /models/orders/parked/retry?seq=12 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
    "pause": "POST /models/user_listing/pause HTTP/1.0\r\n\r\n",
    "chunked": "POST /models/m/rebuild HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "file": "GET /dashboard.js HTTP/1.1\r\n\r\n",
}


def main():
    for name, body in REQUESTS.items():
        put("protocol_request", name, line(body))
    stream = "\n".join(line(b) for b in REQUESTS.values()) + "\nnot json\n\n[1]\n"
    put("protocol_lines", "all-requests", bytes([255, 63]) + stream.encode())
    put("protocol_lines", "small-limit", bytes([40, 7]) + stream.encode()[:600])
    put("protocol_lines", "no-final-newline", bytes([255, 255]) + line(REQUESTS["status"]).encode())

    put("event_record", "three", b"".join(record(e) for e in EVENTS))
    put("event_wire", "three", wire(EVENTS, 7))
    put("event_wire", "empty", varint(0))

    for f in sorted(os.listdir(CONFIG_DIR)):
        if f.endswith(".json") and f != "dependencies.txt":
            with open(os.path.join(CONFIG_DIR, f), "rb") as src:
                put("config", f[:-5], src.read())
    put("config", "on-error", json.dumps({"read_models": [
        {"name": "m", "kind": "document", "key": "a.b", "upsert_on": ["*"], "require": ["a.c"],
         "storage": "sqlite", "on_error": {"attempts": 2, "backoff_ms": 1, "max_backoff_ms": 10,
                                           "then": "stop", "order": "none"}}],
        "supervision": {"status_timeout_ms": 5}, "node": {"max_line_bytes": 64}}))

    put("snapshot_text", "parked", b"\x00" + json.dumps(PARKED).encode())
    put("snapshot_text", "seqs", b"\x01" + b"3 4 9 18446744073709551615")
    put("snapshot_text", "document", b"\x02" + json.dumps(DOCUMENT_STATE).encode())
    put("snapshot_text", "index", b"\x03" + json.dumps(INDEX_STATE).encode())

    put("store_files", "log", sqlite_file("log.db", log_store()))
    put("store_files", "log-wal", sqlite_file("log.db", log_store(), wal=True))
    put("store_files", "log-old-layout", sqlite_file("old.db", old_log_store()))
    put("store_files", "snapshots", sqlite_file("s.db", snapshot_store()))
    put("store_files", "snapshots-before-parking", sqlite_file("s.db", snapshot_store(False)))
    put("store_files", "models", sqlite_file("m.db", models_store(), wal=True))
    put("store_files", "lifecycle", sqlite_file("l.db", lifecycle_store()))

    for name, text in HTTP.items():
        put("admin_http", name, text)


if __name__ == "__main__":
    main()
