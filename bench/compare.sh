#!/usr/bin/env bash
# txkv beside etcd and PostgreSQL, in one run: bench/compare.sh [--quick] [other bench-compare options]
#
# The same as `bin/txkv bench compare`: installs etcd-server and postgresql-15 with apt-get when
# missing (needs root), starts a txkv server, a 3-member etcd cluster and PostgreSQL 15 on
# 127.0.0.1 in a temporary directory, runs YCSB A-F, 256-client writes and the bank workload
# interleaved, stops everything (also on failure or Ctrl-C), and writes docs/benchmarks-compare.md
# and docs/charts/compare-*.png. --quick finishes within 5 minutes.
#
# Charts are drawn without a display.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TXKV_JAVA_OPTS="${TXKV_JAVA_OPTS:-} -Djava.awt.headless=true"
exec "$root/bin/txkv" bench-compare --root "$root" "$@"
