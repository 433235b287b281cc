#!/usr/bin/env bash
# Sharded write throughput at 1, 2 and 4 shards, each shard on a server process of its own with
# the same CPU quota, so that CPU per process, not the machine, is the limit:
#
#   sudo bench/shard-scaling.sh [--quota-pct 30] [--threads 64] [--seconds 20] [--warmup 5] [--shards "1 2 4"]
#                               [--own-shard | --per-server] [--period-us 100000]
#
# For each S: `txkv cluster start --nodes S --shards S --shard-replicas 1` on 127.0.0.1, each node's
# JVM moved into a cgroup (v1, /sys/fs/cgroup/cpu/txkv-scaling-N) with cpu.cfs_quota_us =
# quota-pct % of one core, then `txkv bench writes --spread` (keys over every shard; one client
# database over every server, which sends each commit to its shard's leader) from an unconstrained
# client, then the cluster stops and the cgroups go.
# --per-server: one database per server, the clients dealt out over them (each server forwards
# what it does not lead, as for clients that know one server). --own-shard: dealt out too, each
# client writing only keys of the shard its server holds (nothing forwarded).
# --period-us: the cgroup's cpu.cfs_period_us (default 100000, the kernel's): a process that used
# its quota waits for the next period, so a shorter period shortens the stalls that a call to a
# throttled process meets (the share stays quota-pct %).
# Needs root (cgroups). Prints one RESULT line per S and a summary with the ratio to S = 1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quota_pct=30
threads=64
seconds=20
warmup=5
shard_counts="1 2 4"
own=""
period=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --quota-pct) quota_pct="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --shards) shard_counts="$2"; shift 2 ;;
    --own-shard) own="--own-shard"; shift ;;
    --per-server) own="--per-server"; shift ;;
    --period-us) period="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
cg=/sys/fs/cgroup/cpu
if [ "$(id -u)" != 0 ] || [ ! -w "$cg" ]; then
  echo "shard-scaling.sh needs root and cgroup v1 at $cg" >&2
  exit 1
fi
work="$(mktemp -d -t txkv-scaling-XXXXXX)"
current=""
cleanup() {
  if [ -n "$current" ]; then "$root/bin/txkv" cluster stop --dir "$current" >/dev/null 2>&1 || true; fi
  for d in "$cg"/txkv-scaling-*; do
    [ -d "$d" ] || continue
    while read -r p; do echo "$p" > "$cg/cgroup.procs" 2>/dev/null || true; done < "$d/cgroup.procs"
    rmdir "$d" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
quota=$((period * quota_pct / 100))
declare -A results
for s in $shard_counts; do
  dir="$work/s$s"
  base=$((21000 + 100 * s))
  current="$dir"
  echo "== $s shard(s): $s server process(es), each at $quota_pct % of a core"
  "$root/bin/txkv" cluster start --nodes "$s" --shards "$s" --shard-replicas 1 --dir "$dir" --base-port "$base" | tail -1
  for ((i = 0; i < s; i++)); do
    g="$cg/txkv-scaling-$i"
    mkdir -p "$g"
    echo "$period" > "$g/cpu.cfs_period_us"
    echo "$quota" > "$g/cpu.cfs_quota_us"
    echo "$(cat "$dir/node-$i/pid")" > "$g/cgroup.procs"
  done
  conn="$(tr -d '\n' < "$dir/cluster")"
  line="$("$root/bin/txkv" bench writes --cluster "$conn" --spread $own --threads "$threads" --seconds "$seconds" \
      --warmup "$warmup" | grep '^RESULT')"
  echo "$line"
  results[$s]="$(echo "$line" | sed -E 's/.* ([0-9,]+) commits\/s.*/\1/' | tr -d ',')"
  "$root/bin/txkv" cluster stop --dir "$dir" > /dev/null
  current=""
  for ((i = 0; i < s; i++)); do rmdir "$cg/txkv-scaling-$i"; done
done
one="${results[1]:-}"
echo "== summary: quota $quota_pct % of a core per server, $threads clients, $seconds s"
for s in $shard_counts; do
  if [ -n "$one" ] && [ "$one" -gt 0 ]; then
    echo "$s shard(s): ${results[$s]} commits/s ($(awk -v a="${results[$s]}" -v b="$one" 'BEGIN { printf "%.2f", a / b }') x one shard)"
  else
    echo "$s shard(s): ${results[$s]} commits/s"
  fi
done
