"""What the soak reports: whether each process's RSS is flat after warm-up,
and the human summary.

Flat after warm-up: the run's first fifth is warm-up. A process is flat when
the highest RSS of the run's last half exceeds the highest RSS of its second
fifth (right after warm-up) by at most the tolerance, max(TOL_MB,
TOL_PERCENT of that reference). Maxima, not means, so that a projector node
restarted moments before a window does not hide growth behind its fresh,
smaller RSS. The least-squares slope over the last four fifths is reported
beside it, in MB per minute.

The bus node's log keeps a Bloom filter of every id it holds, by design 1.5
bytes per id (libbus/src/internal/id_filter.hpp), in stages of three times
the ids before them: at 4 M ids a stage of 18 MB appears at once, at 16 M
one of 74 MB. The bus node is judged on its RSS net of that filter, worked
out from the log's head at each sample; its raw RSS is reported too."""

FILTER_FIRST = 1 << 16  # ids of the filter's first stage
FILTER_BYTES_PER_ID = 1.5


def id_filter_kb(ids):
    """The bytes of the id filter's stages for a log of `ids` ids, in kB."""
    capacity = total = FILTER_FIRST
    while total < ids:
        capacity = total * 3
        total += capacity
    return (total * FILTER_BYTES_PER_ID) / 1024 if ids else FILTER_FIRST * 1.5 / 1024


def net_of_id_filter(samples):
    """The bus node's samples with the id filter taken out of its RSS."""
    out = []
    for s in samples:
        rss = s["rss_kb"].get("bus-node")
        head = s.get("head", s["acknowledged"])
        out.append({"t": s["t"], "rss_kb": {"bus-node": None if rss is None
                                            else rss - id_filter_kb(head)}})
    return out


def window(samples, start, end, key):
    return [s["rss_kb"][key] for s in samples
            if start <= s["t"] < end and s["rss_kb"].get(key) is not None]


def slope_mb_per_min(samples, start, end, key):
    pts = [(s["t"], s["rss_kb"][key]) for s in samples
           if start <= s["t"] <= end and s["rss_kb"].get(key) is not None]
    if len(pts) < 2:
        return None
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mr = sum(r for _, r in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    if var == 0:
        return None
    cov = sum((t - mt) * (r - mr) for t, r in pts)
    return cov / var * 60 / 1024


def rss_flatness(samples, run_start, run_end, names, tol_mb, tol_percent):
    out = {}
    for name in names:
        judged = net_of_id_filter(samples) if name == "bus-node" else samples
        out[name] = flatness(judged, run_start, run_end, name, tol_mb, tol_percent)
        everything = window(samples, 0, float("inf"), name)
        out[name]["peak_mb"] = round(max(everything) / 1024, 1) if everything else None
        if name == "bus-node":
            out[name]["judged_on"] = "RSS net of the id filter"
            raw = flatness(samples, run_start, run_end, name, tol_mb, tol_percent)
            out[name]["raw_growth_mb"] = raw.get("growth_mb")
            out[name]["id_filter_mb"] = round(id_filter_kb(max_of(samples, "head") or 0)
                                              / 1024, 1)
    return out


def flatness(samples, run_start, run_end, name, tol_mb, tol_percent):
    length = run_end - run_start
    at = lambda fraction: run_start + fraction * length
    reference = window(samples, at(0.2), at(0.4), name)
    late = window(samples, at(0.5), at(1.0) + 1, name)
    if not reference or not late:
        return {"flat": None}
    ref, top = max(reference), max(late)
    tolerance_kb = max(tol_mb * 1024, ref * tol_percent / 100)
    return {
        "reference_mb": round(ref / 1024, 1),
        "late_max_mb": round(top / 1024, 1),
        "growth_mb": round((top - ref) / 1024, 1),
        "tolerance_mb": round(tolerance_kb / 1024, 1),
        "slope_mb_per_min": round(slope_mb_per_min(samples, at(0.2), at(1.0), name) or 0, 2),
        "flat": top - ref <= tolerance_kb,
    }


def max_of(samples, key):
    values = [s[key] for s in samples if s.get(key) is not None]
    return max(values) if values else None


def max_model_mailbox(samples, model):
    values = [s["model_mailbox"][model] for s in samples
              if s.get("model_mailbox", {}).get(model) is not None]
    return max(values) if values else None


def summary(report):
    """The short human summary of a finished run."""
    r = report
    c = r["counts"]
    lines = [
        "soak: %d s run at %d events/s (%s), %d%% redeliveries, a projector node "
        "SIGKILLed every %d s" % (r["config"]["duration"], r["rate"]["target"],
                                  r["rate"]["how"], r["config"]["redeliveries"],
                                  r["config"]["kill_every"]),
        "events      %d processed: %d appended and applied, %d redeliveries skipped "
        "(%.0f events/s achieved over the run)" % (
            c["answered"], c["acknowledged"], c["redelivered"], r["rate"]["achieved"]),
        "queries     %d during the run checked against the folds (%d answered 11 while "
        "a node was away), %d at the end" % (
            c["queries"] - r["final_queries"], c["queries_unavailable"], r["final_queries"]),
        "kills       %d (%s); recovery to running after a restart: max %.1f s" % (
            len(r["kills"]), ", ".join(k["node"] for k in r["kills"]) or "none",
            max([k.get("recovered_after_s") or 0 for k in r["kills"]] or [0])),
    ]
    for name, f in r["rss"].items():
        if f.get("flat") is None:
            lines.append("rss         %-8s peak %s MB (too few samples to judge flatness)"
                         % (name, f["peak_mb"]))
        else:
            lines.append("rss         %-8s peak %.1f MB; after warm-up %.1f -> %.1f MB "
                         "(%+.1f MB, tolerance %.1f, slope %+.2f MB/min): %s" % (
                             name, f["peak_mb"], f["reference_mb"], f["late_max_mb"],
                             f["growth_mb"], f["tolerance_mb"], f["slope_mb_per_min"],
                             "flat" if f["flat"] else "GROWING"))
            if name == "driver":
                lines[-1] += " [the soak itself; not judged]"
            if "judged_on" in f:
                lines[-1] += " [net of the id filter, %.1f MB at the end; raw growth %+.1f MB]" % (
                    f["id_filter_mb"], f["raw_growth_mb"] or 0)
    lines.append("mailboxes   max bus %s, user_listing %s, user_by_email %s" % (
        r["mailbox_max"]["bus"], r["mailbox_max"]["user_listing"],
        r["mailbox_max"]["user_by_email"]))
    for name, check in r["checks"].items():
        lines.append("check       %-34s %s" % (name, "ok" if check["ok"] else
                                                "FAILED: " + check["detail"]))
    lines.append("result      %s (rss flatness %s)" % (
        "PASS" if r["passed"] else "FAIL", r["rss_check"]))
    return "\n".join(lines)
