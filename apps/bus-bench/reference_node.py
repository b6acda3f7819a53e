#!/usr/bin/env python3
"""The Python reference node that issue 11 compares bus-node with.

A straightforward node of the JSON-lines protocol (seed 000), written the
way a Python developer would: one json.loads and one json.dumps per line, a
set for dedup, dicts for the two read models of config/node.json
(user_listing, a document per user; user_by_email, email -> user id).

bus-bench runs it on the same input as bus-node, in the same run, and
reports bus-node's rate over it. It answers events and queries; any other
request gets an error reply. For bus-gen's input, and queries of every key
after it, its replies are bus-node's byte for byte (tests/apps check that):
both do the same work and end in the same state.
"""

import json
import sys

MERGE_ON = ("UserCreated", "UserUpdated")
DELETE_ON = ("UserDeleted",)


def apply_listing(listing, event_type, payload):
    key = payload.get("id")
    if not isinstance(key, str):
        return False
    if event_type in DELETE_ON:
        listing.pop(key, None)
    elif key in listing:
        listing[key].update(payload)
    else:
        listing[key] = dict(payload)
    return True


def apply_by_email(by_email, email_of, event_type, payload):
    user = payload.get("id")
    if not isinstance(user, str):
        return False
    if event_type in DELETE_ON:
        email = email_of.pop(user, None)
        if email is not None and by_email.get(email) == user:
            del by_email[email]
        return True
    email = payload.get("email")
    if not isinstance(email, str):
        return True  # an update without the email leaves the entry as it was
    old = email_of.get(user)
    if old == email:
        return True
    if old is not None and by_email.get(old) == user:
        del by_email[old]
    holder = by_email.get(email)
    if holder is not None:
        email_of.pop(holder, None)  # the email moves to this user
    by_email[email] = user
    email_of[user] = email
    return True


def main():
    seen = set()
    listing = {}
    by_email = {}
    email_of = {}
    out = sys.stdout
    for line in sys.stdin:
        try:
            msg = json.loads(line)
            body = msg["body"]
            src, dest, msg_id = msg["src"], msg["dest"], body["msg_id"]
        except (ValueError, KeyError, TypeError):
            continue  # not a request this node can answer
        event = body.get("event") if body.get("type") == "event" else None
        if body.get("type") == "query":
            model = {"user_listing": listing, "user_by_email": by_email}.get(
                body.get("model"))
            key = body.get("key")
            if model is None:
                reply = {"type": "error", "in_reply_to": msg_id, "code": 20,
                         "text": "no read model named '%s'" % body.get("model")}
            elif key not in model:
                reply = {"type": "error", "in_reply_to": msg_id, "code": 20,
                         "text": "read model '%s' has no key '%s'"
                                 % (body["model"], key)}
            else:
                reply = {"type": "query_ok", "in_reply_to": msg_id,
                         "model": body["model"], "key": key, "value": model[key]}
        elif not isinstance(event, dict) or not isinstance(event.get("id"), str):
            reply = {"type": "error", "in_reply_to": msg_id,
                     "text": "the reference node answers events with an id "
                             "and queries only"}
        elif event["id"] in seen:
            reply = {"type": "event_skipped", "in_reply_to": msg_id,
                     "event_id": event["id"], "reason": "already_processed"}
        else:
            seen.add(event["id"])
            event_type = event.get("type")
            payload = event.get("payload") or {}
            updated = []
            if event_type in MERGE_ON or event_type in DELETE_ON:
                if apply_listing(listing, event_type, payload):
                    updated.append("user_listing")
                if apply_by_email(by_email, email_of, event_type, payload):
                    updated.append("user_by_email")
            reply = {"type": "read_models_updated", "in_reply_to": msg_id,
                     "event_id": event["id"], "updated_models": updated}
        out.write(json.dumps({"src": dest, "dest": src, "body": reply}) + "\n")


if __name__ == "__main__":
    main()
