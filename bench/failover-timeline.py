#!/usr/bin/env python3
"""Timeline of each leader kill of bench/failover.sh, in ms after the kill, from OUT_DIR's
results, probe log and members' logs (Ratis at INFO; their HH:MM:SS.mmm times are local time,
as this script reads them):

  cand    the first follower stood for election (Ratis "change to CANDIDATE"), with its timeout
  elected it won (ELECTION round ... PASSED)
  leader  Ratis made it leader (LeaderStateImpl started)
  ready   txkv took commits there ("takes commits": the first entry of its term applied)
  ok      the probe's commit was acknowledged
  cands   how many times a member stood for election until then (more than 1: a split vote or
          a lost election)

Usage: bench/failover-timeline.py OUT_DIR
"""
import datetime
import glob
import re
import statistics
import sys

KINDS = (
    ("cand", lambda l: "change to CANDIDATE" in l),
    ("elected", lambda l: "ELECTION round" in l and "result PASSED" in l),
    ("leader", lambda l: "LeaderStateImpl" in l and "RoleInfo" in l and ": start " in l),
    ("ready", lambda l: "takes commits" in l),
)


def main(out):
    kills = [line.split() for line in open(out + "/results") if line.strip()]
    probe = [tuple(map(int, line.split())) for line in open(out + "/probe.log") if len(line.split()) == 3]
    events = []  # (hh, mm, ss, mmm), node, kind, line
    for path in sorted(glob.glob(out + "/c/node-*/log")):
        node = path.split("/")[-2]
        for line in open(path, errors="replace"):
            m = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) ", line)
            if m:
                for kind, test in KINDS:
                    if test(line):
                        events.append((m.groups(), node, kind, line))
    rows = []
    for i, node, k, _ in kills:
        k = int(k)
        day = datetime.datetime.fromtimestamp(k / 1000).replace(hour=0, minute=0, second=0, microsecond=0)

        def ms(hms):
            t = day + datetime.timedelta(hours=int(hms[0]), minutes=int(hms[1]), seconds=int(hms[2]),
                                         milliseconds=int(hms[3]))
            return int(t.timestamp() * 1000) - k

        ev = sorted((ms(h), n, kind, line) for h, n, kind, line in events)
        ev = [e for e in ev if 0 <= e[0] <= 60000]
        first = {kind: next((e for e in ev if e[2] == kind), None) for kind, _ in KINDS}
        failed = next((s for s, e, c in probe if c != 0 and e > k), None)
        ok = next((e - k for s, e, c in probe if c == 0 and failed is not None and s >= failed), None)
        if ok is not None and ok > 60000:
            ok = None
        row = {"kill": i, "killed": node}
        for kind, _ in KINDS:
            row[kind] = first[kind][0] if first[kind] else None
        row["ok"] = ok
        cand = first["cand"]
        m = re.search(r"electionTimeout:(\d+)", cand[3]) if cand else None
        row["timeout"] = int(m.group(1)) if m else None
        row["cands"] = sum(1 for e in ev if e[2] == "cand" and (row["ready"] is None or e[0] <= row["ready"]))
        rows.append(row)
        print(" ".join("%s=%s" % kv for kv in row.items()))
    full = [r for r in rows if all(r[x] is not None for x in ("cand", "elected", "leader", "ready", "ok"))]
    if not full:
        return

    def line(name, f):
        v = [f(r) for r in full]
        print("%-36s p50 %5d  min %5d  max %5d ms (%d kills)" % (name, statistics.median(v), min(v), max(v), len(v)))

    line("kill -> a follower stands", lambda r: r["cand"])
    line("stands -> elected", lambda r: r["elected"] - r["cand"])
    line("elected -> Ratis leader", lambda r: r["leader"] - r["elected"])
    line("Ratis leader -> txkv takes commits", lambda r: r["ready"] - r["leader"])
    line("takes commits -> client's commit", lambda r: r["ok"] - r["ready"])
    line("kill -> client's commit", lambda r: r["ok"])


if __name__ == "__main__":
    main(sys.argv[1])
