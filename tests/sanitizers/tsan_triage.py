#!/usr/bin/env python3
"""Sorts ThreadSanitizer reports (the files TSAN_OPTIONS=log_path= writes)
into those where one of the two accesses ran inside CAF's uninstrumented
libraries (libcaf_core/io/openssl: TSan cannot see the synchronization
they do) and the rest, which are printed in full for a human to judge.

    tsan_triage.py build-tsan/tsan-reports/tsan.*
"""
import re
import sys

ACCESS = re.compile(r"^  (Previous )?(atomic )?(read|write)\b", re.IGNORECASE)
CAF_LIB = re.compile(r"\(libcaf_(core|io|openssl)\.so")


def reports(text):
    for block in text.split("==================\n"):
        if "WARNING: ThreadSanitizer" in block:
            yield block


def access_stacks(report):
    """The stacks of the report's memory accesses (not its locations)."""
    stacks, current = [], None
    for line in report.splitlines():
        if ACCESS.match(line):
            current = []
            stacks.append(current)
        elif current is not None and line.startswith("    #"):
            current.append(line)
        elif not line.strip():
            current = None
    return stacks


def main(paths):
    via_caf, other, suppressed = 0, [], 0
    kinds = {}
    for path in paths:
        with open(path, errors="replace") as f:
            text = f.read()
            suppressed += sum(int(n) for n in re.findall(r"Matched (\d+) suppressions", text))
            for r in reports(text):
                kind = re.search(r"WARNING: ThreadSanitizer: ([^(\n]*)", r).group(1).strip()
                kinds[kind] = kinds.get(kind, 0) + 1
                stacks = access_stacks(r)
                if kind.startswith("data race") and any(
                        any(CAF_LIB.search(l) for l in s) for s in stacks):
                    via_caf += 1
                else:
                    other.append((path, r))
    for path, r in other:
        print(f"--- {path}\n{r}")
    print(f"reports: {sum(kinds.values())} {kinds}")
    print(f"suppressed (tsan.supp), counted by TSan per occurrence: {suppressed}")
    print(f"a data race with an access inside libcaf_*: {via_caf}; others: {len(other)}")


if __name__ == "__main__":
    main(sys.argv[1:])
