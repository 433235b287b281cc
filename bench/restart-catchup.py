#!/usr/bin/env python3
"""How long a member that was down takes to catch up once it is back, on a 3-node cluster on
127.0.0.1 under a light write load.

Starts the cluster (`txkv cluster start --nodes 3`) and `txkv bench writes --threads 1` against
it (see LOAD_THREADS), then ROUNDS times: SIGKILLs a follower, keeps it down DOWN seconds, restarts it as `cluster
start` did, and polls every 100 ms the HTTP /status of the restarted member (its own applied
index) and of the leader (its own commit index) until the member has applied all but 5 of the
entries the leader had committed. Prints, per round, the seconds from the restart to the
member's first answer and to that point, and from its "txkv server listening" log line to that
point (what its start costs left out), and the medians.

Bounded: at most 20 rounds of at most DOWN + 120 s each; everything it started is stopped at
the end (or on an error).

Usage: bench/restart-catchup.py OUT_DIR DOWN_SECONDS ROUNDS BASE_PORT [JAR] [LOAD_THREADS]
  LOAD_THREADS: the writers of `bench writes` (default 1; 0: no load but the leader's own
  probe commit each second, so that what is timed is the leader reaching the member again).
"""
import calendar
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

CATCH_UP_ENTRIES = 5
ROUND_LIMIT_S = 120


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out, down, rounds, port = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    here = os.path.dirname(os.path.abspath(__file__))
    jar = os.path.abspath(sys.argv[5] if len(sys.argv) > 5 else os.path.join(here, "..", "txkv-dist", "target", "txkv.jar"))
    if not 1 <= rounds <= 20:
        sys.exit("ROUNDS must be 1..20")
    os.makedirs(out, exist_ok=True)
    cdir = os.path.join(os.path.abspath(out), "c")
    subprocess.run(["rm", "-rf", cdir], check=True)
    subprocess.run(["java", "-jar", jar, "cluster", "start", "--nodes", "3", "--dir", cdir, "--base-port", str(port)],
                   check=True, stdout=subprocess.DEVNULL)
    conn = open(os.path.join(cdir, "cluster")).read().strip()
    threads = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    load = None
    if threads > 0:
        load = subprocess.Popen(["java", "-jar", jar, "bench", "writes", "--cluster", conn, "--threads", str(threads),
                                 "--warmup", "1", "--seconds", "3600"], stdout=open(os.path.join(out, "load.log"), "w"),
                                stderr=subprocess.STDOUT, start_new_session=True)
    results = []
    try:
        time.sleep(10)
        for r in range(1, rounds + 1):
            results.append(one_round(r, cdir, down))
    finally:
        if load is not None:
            os.killpg(load.pid, signal.SIGTERM)
        subprocess.run(["java", "-jar", jar, "cluster", "stop", "--dir", cdir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    caught = [c for _, c, _ in results if c is not None]
    since = [x for _, _, x in results if x is not None]
    if caught:
        print("restart -> caught up: p50 %.1f s, max %.1f s over %d rounds (down %.0f s each)"
              % (statistics.median(caught), max(caught), len(caught), down))
    if since:
        print("listening -> caught up: p50 %.1f s, max %.1f s" % (statistics.median(since), max(since)))


def members(cdir):
    """Member name -> (pid, command line, HTTP address) from the cluster's pid files."""
    found = {}
    for name in sorted(os.listdir(cdir)):
        pidfile = os.path.join(cdir, name, "pid")
        if not os.path.isfile(pidfile):
            continue
        pid = int(open(pidfile).read().strip())
        try:
            cmd = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")[:-1]
        except OSError:
            continue
        args = [a.decode() for a in cmd]
        http = args[args.index("--http") + 1] if "--http" in args else None
        found[name] = (pid, args, http)
    return found


def status(http):
    with urllib.request.urlopen("http://%s/status" % http, timeout=2) as f:
        return json.load(f)


def processes(doc):
    return doc.get("processes", [])


def leader_http(ms):
    """The leader's member name and HTTP address, as the first member that answers sees it."""
    for _, (_, _, http) in ms.items():
        try:
            for p in processes(status(http)):
                if p.get("role") == "leader" and p.get("id") in ms:
                    return p["id"], ms[p["id"]][2]
        except (OSError, ValueError):
            continue
    return None, None


def one_round(r, cdir, down):
    ms = members(cdir)
    leader, lhttp = None, None
    for _ in range(100):
        leader, lhttp = leader_http(ms)
        if leader is not None:
            break
        time.sleep(0.2)
    if leader is None:
        sys.exit("no leader found")
    victim = next(n for n in ms if n != leader)
    pid, cmd, _ = ms[victim]
    os.kill(pid, signal.SIGKILL)
    time.sleep(down)
    log = open(os.path.join(cdir, victim, "log"), "a")
    p = subprocess.Popen(cmd, cwd=os.path.join(cdir, victim), stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    with open(os.path.join(cdir, victim, "pid"), "w") as f:
        f.write(str(p.pid))
    t0 = time.time()
    vhttp = ms[victim][2]
    answered = caught = None
    while time.time() - t0 < ROUND_LIMIT_S and caught is None:
        time.sleep(0.1)
        try:
            own = [p for p in processes(status(vhttp)) if p.get("id") == victim]
            if answered is None:
                answered = time.time() - t0
            committed = [p for p in processes(status(lhttp)) if p.get("id") == leader]
        except (OSError, ValueError):
            continue
        if own and committed and int(own[0].get("applied_index", -1)) >= int(committed[0]["commit_index"]) - CATCH_UP_ENTRIES:
            caught = time.time() - t0
    listening = listening_at(os.path.join(cdir, victim, "log"))
    since = (t0 + caught - listening) if caught is not None and listening is not None and listening >= t0 else None
    print("round %d: %s down %.0f s, leader %s; answers after %s s, caught up after %s s (%s s after it listened)"
          % (r, victim, down, leader, fmt(answered), fmt(caught), fmt(since)), flush=True)
    time.sleep(5)
    return answered, caught, since


def listening_at(log):
    """When the member last logged that it listens (epoch seconds, from the log's UTC time of day), or None."""
    last = None
    for line in open(log, errors="replace"):
        if "txkv server listening" in line and line[:2].isdigit() and line[2] == ":":
            last = line[:12]
    if last is None:
        return None
    now = time.gmtime()
    midnight = calendar.timegm((now.tm_year, now.tm_mon, now.tm_mday, 0, 0, 0))
    h, m, rest = last.split(":")
    return midnight + int(h) * 3600 + int(m) * 60 + float(rest)


def fmt(x):
    return "%.1f" % x if x is not None else "never"


if __name__ == "__main__":
    main()
