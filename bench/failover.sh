#!/usr/bin/env bash
# Failover time of a 3-node cluster on 127.0.0.1, as a client sees it: starts the cluster
# (`txkv cluster start`), runs bench/FailoverProbe.java (one commit every 20 ms through the Java
# client), then repeatedly SIGKILLs the leader and times the kill to the first commit acknowledged
# after the first one that failed; restarts the killed member as `cluster start` did, waits until
# the status says healthy again (at most 180 s, else it stops) and 5 s more, and kills again.
# Bounded: at most 25 kills, at most 40 s of waiting for a commit per kill.
#
# Usage: bench/failover.sh OUT_DIR KILLS BASE_PORT [JAR]
#   JAR defaults to txkv-dist/target/txkv.jar; copy it elsewhere first when you rebuild meanwhile.
#   The members log Ratis's elections at INFO (OUT_DIR/logback.xml) unless JAVA_OPTS is set.
# Output: OUT_DIR/results (kill number, killed member, kill epoch ms, failover ms or "timeout"),
# OUT_DIR/probe.log (start ms, end ms, error code per commit; 0 = committed), the members' logs in
# OUT_DIR/c/node-*/log, and OUT_DIR/timeline: per kill, ms after it until a follower stood for
# election, one won, Ratis made it leader, txkv took commits and the probe's commit succeeded
# (bench/failover-timeline.py).
set -euo pipefail
out="$1"; kills="$2"; port="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$(readlink -f "${4:-$here/../txkv-dist/target/txkv.jar}")"
[ "$kills" -ge 1 ] && [ "$kills" -le 25 ] || { echo "KILLS must be 1..25" >&2; exit 2; }
mkdir -p "$out"; out="$(cd "$out" && pwd)"
dir="$out/c"
if [ -z "${JAVA_OPTS:-}" ]; then
    cat > "$out/logback.xml" <<'EOF'
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <logger name="dev.txkv" level="INFO"/>
  <logger name="org.apache.ratis.server.impl" level="INFO"/>
  <root level="WARN"><appender-ref ref="STDERR"/></root>
</configuration>
EOF
    JAVA_OPTS="-Dlogback.configurationFile=$out/logback.xml"
fi
# shellcheck disable=SC2086
txkv() { java $JAVA_OPTS -jar "$jar" "$@"; }

rm -rf "$dir"
txkv cluster start --nodes 3 --dir "$dir" --base-port "$port" > "$out/start.log" 2>&1
conn="$(cat "$dir/cluster")"
mkdir -p "$out/probe-classes"
javac -cp "$jar" -d "$out/probe-classes" "$here/FailoverProbe.java"
rm -f "$out/stop" "$out/probe.log"
java -cp "$jar:$out/probe-classes" FailoverProbe "$conn" "$out/probe.log" 20 "$out/stop" 2> "$out/probe.err" &
probe=$!
cleanup() {
    touch "$out/stop"
    sleep 1
    kill "$probe" 2> /dev/null || true
    txkv cluster stop --dir "$dir" > /dev/null 2>&1 || true
}
trap cleanup EXIT

# Healthy: every member runs, one takes commits, and the status says healthy.
healthy() {
    local s
    s="$(txkv cluster status --dir "$dir" 2> /dev/null || true)"
    [ "$(grep -c ' pid ' <<< "$s")" -eq 3 ] && grep -q 'leader (takes commits)' <<< "$s" || return 1
    txkv status --cluster "$conn" 2> /dev/null | grep -q 'Database healthy *- yes'
}
wait_healthy() {
    local deadline=$((SECONDS + 180))
    until healthy; do
        if [ $SECONDS -ge $deadline ]; then
            echo "not healthy after 180 s:" >&2
            txkv cluster status --dir "$dir" >&2 || true
            return 1
        fi
        sleep 1
    done
}

wait_healthy
sleep 10 # warm-up
: > "$out/results"
for i in $(seq 1 "$kills"); do
    line="$(txkv cluster status --dir "$dir" | grep 'leader (takes commits)')"
    node="$(awk '{print $1}' <<< "$line")"
    pid="$(sed -n 's/.* pid \([0-9]*\) .*/\1/p' <<< "$line")"
    mapfile -d '' cmd < "/proc/$pid/cmdline"
    sleep "0.$((RANDOM % 10))" # a random phase against the followers' timers
    k="$(date +%s%3N)"
    kill -9 "$pid"
    # The first commit acknowledged after the first one that failed after the kill (a commit
    # under way as the kill was sent may still be acknowledged by the old leader).
    ms=""
    deadline=$((SECONDS + 40))
    while [ -z "$ms" ] && [ $SECONDS -lt $deadline ]; do
        sleep 0.2
        ms="$(awk -v k="$k" '$2 > k && $3 != 0 { failed = 1 } failed && $3 == 0 { print $2 - k; exit }' "$out/probe.log")"
    done
    echo "$i $node $k ${ms:-timeout}" | tee -a "$out/results"
    # Restart the killed member as cluster start did: its own session, output appended to its log.
    (cd "$dir/$node" && exec setsid "${cmd[@]}" >> "$dir/$node/log" 2>&1 < /dev/null) &
    echo $! > "$dir/$node/pid"
    sleep 3
    wait_healthy
    sleep 5
done
awk '$4 != "timeout" { print $4 }' "$out/results" | sort -n | awk '{ a[NR] = $1 } END {
    if (NR) printf "kills %d  p50 %d ms  max %d ms  min %d ms\n", NR, (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2, a[NR], a[1] }' \
    | tee "$out/summary"
python3 "$here/failover-timeline.py" "$out" > "$out/timeline" 2>&1 || true
tail -6 "$out/timeline"
