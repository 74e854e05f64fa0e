#!/usr/bin/env bash
# Probe throughput on loopback: failover-agent's libcurl multi client against `curl --parallel`
# and prometheus-blackbox-exporter's /probe, all hitting the same local server, in one run.
# Prints probes/s (median of 3 runs each), peak RSS, and the ratios. Loopback only; every step is
# bounded in count and time.
#   N=20000 C=64 BB_N=5000 Tests/Bench/probe-compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20000} C=${C:-64} BB_N=${BB_N:-5000}
need=()
command -v curl >/dev/null || need+=(curl)
[ -x /usr/bin/time ] || need+=(time)
command -v prometheus-blackbox-exporter >/dev/null || need+=(prometheus-blackbox-exporter)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi

swift build -c release --product failover-agent-probe-bench >/dev/null
BIN=.build/release/failover-agent-probe-bench
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$BIN" serve --seconds 600 >"$work/serve.out" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/serve.out" ] && break; sleep 0.1; done
PORT=$(awk '/listening/ {print $2}' "$work/serve.out")
TARGET="http://127.0.0.1:$PORT/"
now() { date +%s.%N; }
rate() { python3 -c "print(f'{$1/($3-$2):.0f}')"; }
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

# Three runs of our client against $1: sets `measured_rate` (median probes/s) and `measured_peak` (highest peak RSS).
ours() {
  local runs=() rss=() out
  for _ in 1 2 3; do
    out=$("$BIN" probe --url "$1" -n "$N" -c "$C")
    runs+=("$(sed -E 's/.*probes_per_s=([0-9]+).*/\1/' <<<"$out")")
    rss+=("$(sed -E 's/.*peak_rss_mb=([0-9.]+).*/\1/' <<<"$out")")
  done
  measured_rate=$(median "${runs[@]}")
  measured_peak=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
}

# 1. failover-agent (libcurl multi, one thread)
"$BIN" probe --url "$TARGET" -n 2000 -c "$C" >/dev/null   # warm-up
ours "$TARGET"
ours_rate=$measured_rate ours_rss=$measured_peak

# 1b. the streaming variant: the same client reading a three-chunk event stream to its end
"$BIN" serve --stream --seconds 600 >"$work/serve-stream.out" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/serve-stream.out" ] && break; sleep 0.1; done
ours "http://127.0.0.1:$(awk '/listening/ {print $2}' "$work/serve-stream.out")/"
stream_rate=$measured_rate stream_rss=$measured_peak

# 2. curl --parallel over the same number of URLs
python3 -c "
import sys
with open('$work/curl.cfg', 'w') as f:
    for _ in range($N): f.write('url = \"$TARGET\"\noutput = \"/dev/null\"\n')"
runs=()
for _ in 1 2 3; do
  start=$(now)
  /usr/bin/time -f %M -o "$work/curl.rss" curl --parallel --parallel-max "$C" --silent --fail -K "$work/curl.cfg" 2>/dev/null
  end=$(now)
  runs+=("$(rate "$N" "$start" "$end")")
done
curl_rate=$(median "${runs[@]}")
curl_rss=$(python3 -c "print(f'{$(cat "$work/curl.rss")/1024:.1f}')")

# 3. prometheus-blackbox-exporter: one probe per /probe request, C at a time
BB_PORT=$((PORT + 1))
printf 'modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n' >"$work/blackbox.yml"
prometheus-blackbox-exporter --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$BB_PORT" >"$work/bb.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$BB_PORT/metrics" >/dev/null && break; sleep 0.1; done
python3 -c "
with open('$work/bb.cfg', 'w') as f:
    for _ in range($BB_N): f.write('url = \"http://127.0.0.1:$BB_PORT/probe?module=http_2xx&target=$TARGET\"\noutput = \"/dev/null\"\n')"
start=$(now)
curl --parallel --parallel-max "$C" --silent --fail -K "$work/bb.cfg" 2>/dev/null
end=$(now)
bb_rate=$(rate "$BB_N" "$start" "$end")
bb_rss=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/${pids[2]}/status")

echo "probe throughput on loopback: $N probes at concurrency $C (blackbox: $BB_N), median of 3 runs"
printf '%-32s %10s %14s\n' "prober" "probes/s" "peak RSS MB"
printf '%-32s %10s %14s\n' "failover-agent (libcurl multi)" "$ours_rate" "$ours_rss"
printf '%-32s %10s %14s\n' "failover-agent, event streams" "$stream_rate" "$stream_rss"
printf '%-32s %10s %14s\n' "curl --parallel" "$curl_rate" "$curl_rss"
printf '%-32s %10s %14s\n' "blackbox-exporter /probe" "$bb_rate" "$bb_rss"
python3 -c "print(f'ratio vs curl --parallel: {$ours_rate/$curl_rate:.2f}x   ratio vs blackbox-exporter: {$ours_rate/$bb_rate:.1f}x')"
