"""Single-thread get and set latency of the Python client against a running server.

    python3 clients/python/bench/latency.py [--url http://127.0.0.1:4501] [--seconds 10]

Runs, one after the other on one thread: sets of distinct keys, then gets of them, with the
connection kept alive (the default) and then with a new connection per request. Prints
count, p50, p99 and mean in milliseconds for each. Bounded by --seconds per phase.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import txkv  # noqa: E402

WARMUP_S = 2.0
KEYS = 1000


def timed(seconds, operation):
    samples = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        start = time.perf_counter()
        operation(i % KEYS)
        samples.append((time.perf_counter() - start) * 1000.0)
        i += 1
    return samples


def report(name, samples):
    q = statistics.quantiles(samples, n=100)
    print(f"{name:32s} n={len(samples):7d}  p50={q[49]:.3f} ms  p99={q[98]:.3f} ms  "
          f"mean={statistics.fmean(samples):.3f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:4501")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be between 1 and 600")
    value = "v" * 100
    for keep_alive in (True, False):
        with txkv.KeyValueStore(args.url, keep_alive=keep_alive) as store:
            label = "keep-alive" if keep_alive else "new connection each"
            timed(WARMUP_S, lambda i: store.set(f"bench/py/{i:06d}", value))
            report(f"set ({label})", timed(args.seconds, lambda i: store.set(f"bench/py/{i:06d}", value)))
            report(f"get ({label})", timed(args.seconds, lambda i: store.get(f"bench/py/{i:06d}")))


if __name__ == "__main__":
    main()
