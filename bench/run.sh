#!/usr/bin/env bash
# make bench: Vigil's speed and memory, as ratios against baselines in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release
SECONDS_PER_RUN=${BENCH_SECONDS:-3}
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT

free_port() { (python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null) || echo $((20000 + RANDOM % 20000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
wait_for() { for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timed out waiting for $2 in $1" >&2; cat "$1" >&2; exit 1; }

echo "== 1. Polls per second on one TCP connection to vigil simulate (loopback)"
echo "   Placement decides this on 2 vCPUs (one connection runs ~8x faster with client and"
echo "   server on one CPU), so three placements are measured, the baseline and the agent"
echo "   alternating 3 times in each; medians. The agent's poll is an XNX profile: one"
echo "   request of 11 registers, 8 readings decoded and written as JSON Lines to /dev/null."
port=$(free_port)
$BIN/vigil simulate --tcp 127.0.0.1:$port --device 1:honeywell-xnx 2>"$OUT/sim.log" &
sim=$!
wait_for "$OUT/sim.log" serving
for placement in "all:as the scheduler places them" "1:server on CPU 0, client on CPU 1" "0:server and client on CPU 0"; do
  cpu=${placement%%:*}
  pin=""
  if [ $cpu = all ]; then taskset -apc 0-1 $sim >/dev/null; else taskset -apc 0 $sim >/dev/null; pin="taskset -c $cpu"; fi
  : > "$OUT/base"; : > "$OUT/agent"
  for round in 1 2 3; do
    $pin $BIN/vigil-bench baseline-loop $port $SECONDS_PER_RUN | awk '{ print $4 }' >> "$OUT/base"
    $pin $BIN/vigil-bench agent-loop $port $SECONDS_PER_RUN | awk '{ print $4 }' >> "$OUT/agent"
  done
  b=$(median < "$OUT/base"); a=$(median < "$OUT/agent")
  awk -v b="$b" -v a="$a" -v p="${placement#*:}" 'BEGIN {
    printf "   %s:\n     baseline (plain modbus_read_registers loop) %.0f requests/s; agent %.0f polls/s; agent/baseline %.1f %% (target: at least 95 %%)\n", p, b, a, 100 * a / b }'
done
echo "   (On one CPU a request costs client and server together ~14 us; the agent's decoding and"
echo "   writing of 8 readings, which the baseline does not do, takes that same CPU ~10 us more:"
echo "   placed so, the agent cannot reach 95 %. perf: the rest is the context switch itself.)"
kill $sim; wait $sim 2>/dev/null || true

echo
echo "== 2. vigil run polling 100 simulated devices every second: RSS and CPU"
echo "   Three times: readings to stdout (the uplink of the core issue's target), to vigil receive"
echo "   over HTTP (libcurl and its TLS libraries are loaded only for an HTTP uplink), and to a local"
echo "   mosquitto over MQTT with TLS (libmosquitto and OpenSSL loaded only for an MQTT uplink);"
echo "   then each MQTT format, over plain TCP and over TLS. The control socket's group exists, as the"
echo "   package's vigil group does (a group that does not would load libnss_systemd: 0.3 MB)."
port=$(free_port)
devices=""; args=""
for u in $(seq 1 100); do
  args="$args --device $u:honeywell-xnx"
  devices="$devices{ id: 'gas-$u', bus: 'sim', unit: $u, profile: 'honeywell-xnx', interval_ms: 1000 },"
done
$BIN/vigil simulate --tcp 127.0.0.1:$port $args 2>"$OUT/sim.log" &
sim=$!
wait_for "$OUT/sim.log" serving
recv_port=$(free_port)
$BIN/vigil receive --listen 127.0.0.1:$recv_port --out "$OUT/received.jsonl" 2>"$OUT/recv.log" &
recv=$!
wait_for "$OUT/recv.log" listening
mqtts_port=$(free_port)
mkdir -p "$OUT/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$OUT/tls/key.pem" -out "$OUT/tls/cert.pem" 2>/dev/null
# As this user: as root, mosquitto would drop to "mosquitto", which cannot read the key in $OUT.
mqtt_port=$(free_port)
printf 'user %s\nlistener %s 127.0.0.1\nallow_anonymous true\ncertfile %s\nkeyfile %s\nlistener %s 127.0.0.1\n' \
  "$(id -un)" $mqtts_port "$OUT/tls/cert.pem" "$OUT/tls/key.pem" $mqtt_port > "$OUT/tls/mosquitto.conf"
broker=""; platform=""
if command -v mosquitto >/dev/null; then
  mosquitto -c "$OUT/tls/mosquitto.conf" 2>"$OUT/mosquitto-tls.log" & broker=$!
  sleep 0.5
  # Formats alink and onenet deliver on the platform's reply: a stand-in answers on the broker.
  $BIN/vigil-bench platform $mqtt_port >"$OUT/platform.log" 2>&1 & platform=$!
  wait_for "$OUT/platform.log" answering
fi
RUN_SECONDS=${BENCH_RUN_SECONDS:-20}
# Nanoseconds on a CPU, all threads of PID together (clock ticks are too coarse for 1 % over 10 s).
cpu_ns() { cat /proc/$1/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }
# Runs `vigil run` with the 100 devices and UPLINK_CONFIG for SECONDS after 3 s to settle, leaves it
# running as $agent, and sets rss, hwm, private, used (KiB), cpu (% of one core) and delivered.
measure_agent() {
  local name=$1 uplink_config=$2 seconds=$3
  rm -rf "$OUT/state"
  cat > "$OUT/hundred.json5" <<CONF
{ gateway: { id: 'bench-$name', state_dir: '$OUT/state' }, buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: $port }], devices: [ $devices ],
  $uplink_config control: { socket: '$OUT/control.sock', group: '$(id -gn)' } }
CONF
  $BIN/vigil run --config "$OUT/hundred.json5" >"$OUT/readings.jsonl" 2>"$OUT/run.log" &
  agent=$!
  sleep 3 # let it settle: start-up is not steady state
  local t0 t1
  # From here the kernel marks the pages the agent touches: what it uses in steady state.
  echo 1 > /proc/$agent/clear_refs
  t0=$(cpu_ns $agent)
  sleep "$seconds"
  t1=$(cpu_ns $agent)
  cpu=$(awk -v t0=$t0 -v t1=$t1 -v s=$seconds 'BEGIN { printf "%.2f", 100 * (t1 - t0) / 1e9 / s }')
  used=$(awk '/^Referenced:/ {print $2}' /proc/$agent/smaps_rollup)
  rss=$(awk '/VmRSS/ {print $2}' /proc/$agent/status)
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$agent/status)
  # RSS counts library pages shared with other processes (the broker's libcrypto too) in full:
  # private memory is what this process alone costs the gateway.
  private=$(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' /proc/$agent/smaps_rollup)
  delivered=$(VIGIL_SOCKET="$OUT/control.sock" $BIN/vigil status --json 2>/dev/null | grep -o '"records_delivered" *: *[0-9]*' | grep -o '[0-9]*$' || echo 0)
}
for uplink in stdout http mqtts; do
  [ $uplink = mqtts ] && [ -z "$broker" ] && { echo "   uplink mqtts: mosquitto is not installed (make deps installs it)"; continue; }
  uplink_config=""
  [ $uplink = http ] && uplink_config="uplink: { kind: 'http', url: 'http://127.0.0.1:$recv_port/' },"
  [ $uplink = mqtts ] && uplink_config="uplink: { kind: 'mqtt', url: 'mqtts://127.0.0.1:$mqtts_port', ca_file: '$OUT/tls/cert.pem' },"
  measure_agent $uplink "$uplink_config" $RUN_SECONDS
  if [ $uplink = stdout ]; then
    # vigil status against this agent: the whole command, connect to table, 20 times.
    : > "$OUT/status-ms"
    for _ in $(seq 20); do
      s0=$(date +%s%N); VIGIL_SOCKET="$OUT/control.sock" $BIN/vigil status >/dev/null; s1=$(date +%s%N)
      echo $(( (s1 - s0) / 1000 )) >> "$OUT/status-ms"
    done
  fi
  kill $agent; wait $agent 2>/dev/null || true
  records="$OUT/readings.jsonl"; [ $uplink = http ] && records="$OUT/received.jsonl"
  lines=$(wc -l < "$records")
  bad=$(grep -c '"quality":"bad"' "$records" || true)
  # Over MQTT nobody here subscribes: what the broker acknowledged, by the agent's count.
  [ $uplink = mqtts ] && { lines=${delivered:-0}; bad=0; }
  awk -v cpu=$cpu -v s=$RUN_SECONDS -v rss=$rss -v hwm=$hwm -v private=$private -v used=$used -v lines=$lines -v bad=$bad -v u=$uplink 'BEGIN {
    printf "   uplink %s: %d records delivered (%d bad)\n", u, lines, bad
    printf "     RSS %.1f MB (peak %.1f MB, before the start-up code pages are unmapped; target: at most 16 MB),\n", rss / 1024, hwm / 1024
    printf "     of it private to the process %.1f MB,\n", private / 1024
    printf "     touched in the %d s measured %.1f MB (the rest: pages mapped at start-up or faulted in around others)\n", s, used / 1024
    printf "     CPU %.2f %% of one core over %d s (target: at most 1 %%)\n", cpu, s }'
done
if [ -n "$broker" ]; then
  FORMAT_SECONDS=${BENCH_FORMAT_SECONDS:-10}
  echo "   Each MQTT format, ${FORMAT_SECONDS} s each: RSS MB (private MB/touched in those seconds MB), CPU % of one core, records the broker or platform acknowledged"
  printf "   %-12s %38s %38s\n" "" "mqtt:// (plain TCP)" "mqtts:// (TLS)"
  secret="$OUT/format-secret"; printf 'c2VjcmV0c2VjcmV0c2VjcmV0' > "$secret"; chmod 600 "$secret"
  for format in vigil thingsboard sparkplug-b alink onenet iotda; do
    case $format in
      thingsboard) extra="token_file: '$secret'," ;;
      sparkplug-b) extra="group_id: 'bench'," ;;
      alink) extra="product_key: 'a1Bench', device_name: 'bench-alink', device_secret_file: '$secret'," ;;
      onenet) extra="product_id: 'Bench12345', device_name: 'bench-onenet', device_secret_file: '$secret'," ;;
      iotda) extra="device_id: 'p_bench', device_secret_file: '$secret', child_product_id: 'p'," ;;
      *) extra="" ;;
    esac
    row=""
    for url in "mqtt://127.0.0.1:$mqtt_port" "mqtts://127.0.0.1:$mqtts_port"; do
      tls=""; [ "${url%%:*}" = mqtts ] && tls="ca_file: '$OUT/tls/cert.pem',"
      measure_agent $format "uplink: { kind: 'mqtt', format: '$format', url: '$url', $tls $extra }," $FORMAT_SECONDS
      kill $agent; wait $agent 2>/dev/null || true
      row="$row $(awk -v rss=$rss -v private=$private -v used=$used -v cpu=$cpu -v d=${delivered:-0} 'BEGIN { printf "%.1f(%.1f/%.1f),%.2f%%,%d", rss / 1024, private / 1024, used / 1024, cpu, d }')"
    done
    printf "   %-12s %38s %38s\n" $format $row
  done
  echo "   (target: RSS at most 16 MB with each format; over TLS, OpenSSL's handshake and record layer"
  echo "   map about 3 MB of libcrypto and libssl pages, shared with every other TLS process, until"
  echo "   start-up is over and the agent unmaps its start-up's code pages: the peak says how many)"
fi
kill $recv $sim $broker $platform; wait $recv $sim $broker $platform 2>/dev/null || true
sort -n "$OUT/status-ms" | awk '{ v[NR] = $1 } END { printf "   vigil status with 100 devices: median %.1f ms, max %.1f ms over %d runs (target: under 100 ms)\n", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000, NR }'

echo
echo "== 3. Journal: accepted (fsynced) readings per second with group commit, against the disk's raw limit"
echo "   The raw limit: the journal's own bytes written again by a plain loop, 4 MiB + fdatasync at a time."
echo "   This disk's speed moves by 2x within minutes, so the two alternate 3 times; medians."
J="$OUT/journal-bench"; mkdir -p "$J"
: > "$OUT/journal"; : > "$OUT/raw"
for round in 1 2 3; do
  $BIN/vigil-bench journal-append "$J/j$round" $SECONDS_PER_RUN >> "$OUT/journal"
  $BIN/vigil-bench raw-fdatasync "$J" $SECONDS_PER_RUN "$J/j$round" >> "$OUT/raw"
  rm -rf "$J/j$round" "$J/raw"
done
rm -rf "$J"
journal_rate=$(awk '{ print $4 }' "$OUT/journal" | median); bytes=$(awk '{ print $5 }' "$OUT/journal" | median)
raw_rate=$(awk '{ print $4 }' "$OUT/raw" | median)
awk -v j="$journal_rate" -v b="$bytes" -v r="$raw_rate" 'BEGIN {
  equivalent = r / b
  printf "   journal: %.0f readings/s accepted (target: at least 200 000), %.1f bytes on disk a reading (target: at most 64)\n", j, b
  printf "   raw disk: %.1f MB/s = %.0f readings/s at that size\n", r / 1e6, equivalent
  printf "   journal/raw: %.1f %% (target: at least 50 %%)\n", 100 * j / equivalent }'

echo
echo "== 4. Draining a 1 000 000-reading backlog to vigil receive on loopback; memory with and without a backlog"
D="$OUT/drain"; mkdir -p "$D"
$BIN/vigil-bench fill "$D/full" 1000000 >/dev/null
$BIN/vigil-bench fill "$D/small" 1000 >/dev/null
port=$(free_port)
$BIN/vigil receive --listen 127.0.0.1:$port --out /dev/null 2>"$OUT/recv.log" &
recv=$!
wait_for "$OUT/recv.log" listening
small=$($BIN/vigil-bench drain "$D/small" http://127.0.0.1:$port/small)
full=$($BIN/vigil-bench drain "$D/full" http://127.0.0.1:$port/full)
kill $recv; wait $recv 2>/dev/null || true
rm -rf "$D"
awk -v s="$small" -v f="$full" 'BEGIN { split(s, a, " "); split(f, b, " ");
  printf "   %d readings in %.1f s: %.0f readings/s (target: at least 100 000); %.1f bytes on the wire a reading, both ways (gzip JSON, HTTP headers, responses)\n", b[2], b[3], b[4], b[7]
  printf "   peak RSS %.1f MB draining 1 000 000, %.1f MB draining 1 000: +%.2f MB (target: at most +2 MB)\n", b[6] / 1024, a[6] / 1024, (b[6] - a[6]) / 1024 }'

echo
echo "== 5. SIGTERM to exit with a 100 000-reading backlog (upstream unreachable, so nothing drains)"
S="$OUT/sigterm"; mkdir -p "$S/state"
$BIN/vigil-bench fill "$S/state/journal" 100000 >/dev/null
port=$(free_port)
$BIN/vigil simulate --tcp 127.0.0.1:$port --device 1:honeywell-xnx 2>"$OUT/sim.log" &
sim=$!
wait_for "$OUT/sim.log" serving
cat > "$S/vigil.json5" <<CONF
{ gateway: { id: 'bench', state_dir: '$S/state' }, buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: $port }],
  devices: [{ id: 'gas', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 100 }],
  uplink: { kind: 'http', url: 'http://127.0.0.1:$(free_port)/', timeout_ms: 500 } }
CONF
$BIN/vigil run --config "$S/vigil.json5" >/dev/null 2>"$OUT/run.log" &
agent=$!
sleep 2
t0=$(date +%s%N); kill -TERM $agent; wait $agent; rc=$?; t1=$(date +%s%N)
kill $sim; wait $sim 2>/dev/null || true
awk -v a=$t0 -v b=$t1 -v rc=$rc 'BEGIN { printf "   exit %d after %.2f s (target: at most 2 s)\n", rc, (b - a) / 1e9 }'

echo
echo "== 6. systemd-analyze security --offline=true systemd/vigil.service (target: at most 2.5)"
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/bin/vigil|$PWD/$BIN/vigil|" systemd/vigil.service > "$OUT/vigil.service"
  systemd-analyze security --offline=true "$OUT/vigil.service" 2>&1 | tail -1 | sed 's/^/   /'
fi

echo
echo "== 7. Alarm latency: the poll that sees a crossing → alarm event fsynced → upstream's acknowledgement"
echo "   A gas value flips between 10 and 60 %LEL every 300 ms, polled every 50 ms; each flip raises"
echo "   or clears both levels. Measured from the start of the poll, through the journal sink and the"
echo "   forwarder, to vigil receive on loopback acknowledging the event batch."
port=$(free_port)
$BIN/vigil receive --listen 127.0.0.1:$port --out /dev/null 2>"$OUT/recv.log" &
recv=$!
wait_for "$OUT/recv.log" listening
result=$($BIN/vigil-bench alarm-latency $(free_port) http://127.0.0.1:$port/)
kill $recv; wait $recv 2>/dev/null || true
awk -v r="$result" 'BEGIN { split(r, x, " ");
  printf "   %d alarm rounds: poll → fsynced p50 %.1f ms, p99 %.1f ms, max %.1f ms (target: p99 at most 50 ms)\n", x[2], x[3], x[4], x[5]
  printf "   %d acknowledged: fsynced → upstream ack p50 %.1f ms, p99 %.1f ms, max %.1f ms (target: p99 at most 1000 ms); %d never acknowledged\n", x[6], x[7], x[8], x[9], x[10] }'

echo
echo "== 8. MQTT: a 200 000-reading backlog through a local mosquitto at QoS 1, against a plain"
echo "   libmosquitto loop publishing the same payloads (formed before its clock starts) with 20 in flight"
if command -v mosquitto >/dev/null; then
  M="$OUT/mqtt"; mkdir -p "$M"
  $BIN/vigil-bench fill "$M/agent" 200000 >/dev/null
  cp -r "$M/agent" "$M/base"
  port=$(free_port)
  mosquitto -p $port 2>"$OUT/mosquitto.log" &
  broker=$!
  sleep 0.5
  agent=$($BIN/vigil-bench mqtt-drain "$M/agent" $port)
  base=$($BIN/vigil-bench mqtt-baseline "$M/base" $port)
  # A cellular link's round trip, added by the relay: a window of batches before the first PUBACK against one at a time.
  $BIN/vigil-bench fill "$M/slow-window" 20000 >/dev/null
  cp -r "$M/slow-window" "$M/slow-one"
  slow_window=$($BIN/vigil-bench mqtt-drain-slow "$M/slow-window" $port 100 window)
  slow_one=$($BIN/vigil-bench mqtt-drain-slow "$M/slow-one" $port 100 one)
  formats=""
  for format in thingsboard sparkplug-b; do
    $BIN/vigil-bench fill "$M/$format" 50000 >/dev/null
    formats="$formats $format $($BIN/vigil-bench mqtt-drain "$M/$format" $port $format)"
  done
  kill $broker; wait $broker 2>/dev/null || true
  rm -rf "$M"
  awk -v a="$agent" -v b="$base" -v w="$slow_window" -v o="$slow_one" 'BEGIN { split(a, x, " "); split(b, y, " "); split(w, sw, " "); split(o, so, " ");
    printf "   agent %.0f readings/s (target: at least 100 000); plain loop %.0f readings/s; agent/loop %.1f %% (target: at least 80 %%)\n", x[4], y[4], 100 * x[4] / y[4]
    printf "   through a link of 100 ms round trip: %.0f readings/s with up to 8 batches before the first PUBACK, %.0f one batch at a time (x%.1f)\n", sw[4], so[4], sw[4] / so[4]
    printf "   bytes on the wire a reading, both ways (no gzip): format vigil %.1f (batch JSON)", x[5] }'
  echo "$formats" | awk '{ for (i = 1; i + 5 <= NF; i += 6) printf ", %s %.1f (%.0f readings/s)", $i, $(i + 5), $(i + 4) } END { print "" }'
else
  echo "   mosquitto is not installed (make deps installs it)"
fi

echo
echo "== 9. The cellular budget: bytes on the wire a polled reading (up + down, TCP payload; up alone in brackets), for an hour of a"
echo "   14-point site polled every second (ten gas detectors, two levels, two contacts), sent as the forwarder"
echo "   paces them (flush_ms 1000, heartbeat_s 60); report by exception off and on ({ deadband: 1, every_s: 300 });"
echo "   a static site and one whose values move. Targets: as configured today (HTTP, format vigil) at most 30;"
echo "   report by exception on a static site at most 1. \"http vigil\" goes to a vigil receive that asks for version 2 of"
echo "   the batch body; \"http vigil, v1\" to one that knows only version 1 (the baseline)."
if command -v mosquitto >/dev/null; then
  B="$OUT/budget"; mkdir -p "$B"
  port=$(free_port)
  # TCP_NODELAY as a cloud's brokers have it: else each platform reply (Alink, OneNET) waits 40 ms behind a delayed ACK.
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n' $port >"$B/mosquitto.conf"
  mosquitto -c "$B/mosquitto.conf" 2>"$OUT/mosquitto-budget.log" &
  broker=$!
  recv_port=$(free_port)
  $BIN/vigil receive --listen 127.0.0.1:$recv_port --out /dev/null 2>"$OUT/recv-budget.log" &
  recv=$!
  wait_for "$OUT/recv-budget.log" listening
  # The baseline: an upstream that knows only version 1 of the batch body, as before version 2.
  recv1_port=$(free_port)
  $BIN/vigil receive --listen 127.0.0.1:$recv1_port --out /dev/null --batch-version 1 2>"$OUT/recv1-budget.log" &
  recv1=$!
  wait_for "$OUT/recv1-budget.log" listening
  sleep 0.5
  printf "   %-18s %14s %14s %14s %14s\n" "" "static, off" "static, on" "moving, off" "moving, on"
  own=""
  # The last rows: MQTT with gzip: true, readings without their raw registers (send_raw: false), and telemetry sent every
  # 10 s instead of every second (alarms and events still go at once).
  for uplink in "http vigil" "http vigil-v1" "mqtt vigil" "mqtt thingsboard" "mqtt sparkplug-b" "mqtt alink" "mqtt onenet" "mqtt iotda" "hj212 hj212" "mqtt vigil-gzip" "http vigil-noraw" "http vigil 10"; do
    row=""
    for case in "static off" "static on" "moving off" "moving on"; do
      set -- $uplink
      flush=${3:-1}
      set -- $1 $2 $case
      dir="$B/$1-$2-$3-$4"
      target=$recv_port; [ "$1" = mqtt ] && target=$port; [ "$2" = vigil-v1 ] && target=$recv1_port
      line=$($BIN/vigil-bench site "$dir" $3 $4 $1 $2 $target $flush)
      row="$row $(echo "$line" | awk '{ printf "%.2f(%.2f)", ($4 + $5) / $2, $4 / $2 }')"
      [ "$3 $4 $flush" = "moving off 1" ] && own="$own, $1 $2 $(echo "$line" | awk '{ printf "%.1f %%", 100 * $6 / ($4 + $5) }')"
      rm -rf "$dir"
    done
    label=$uplink; [ "$uplink" = "http vigil 10" ] && label="http vigil, 10 s"; [ "$1" = hj212 ] && label="hj212"
    [ "$uplink" = "http vigil-noraw" ] && label="http, no raw"; [ "$uplink" = "http vigil-v1" ] && label="http vigil, v1"; [ "$uplink" = "mqtt vigil-gzip" ] && label="mqtt vigil, gzip"
    printf "   %-18s %14s %14s %14s %14s\n" "$label" $row
  done
  echo "   vigil status's own count against the wire (moving site, report by exception off)${own#,}"
  echo "   (HTTP: curl's count of headers and bodies; MQTT: PUBLISH and PUBACK packets, keepalives not counted)"
  kill $broker $recv $recv1; wait $broker $recv $recv1 2>/dev/null || true
else
  echo "   mosquitto is not installed (make deps installs it)"
fi
