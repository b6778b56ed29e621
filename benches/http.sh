#!/usr/bin/env bash
# Reproducible HTTP benchmark of the portal, against a throughput ceiling.
#
#   bash benches/http.sh
#
# Builds the release binary and `examples/ceiling.rs` (a bare actix-web "ok"
# handler with the same worker count), seeds a fresh SQLite database in a
# temporary directory, then measures with one wrk setting for all:
#   - requests/s of the ceiling and of the portal's service page, search API
#     and home page, each as a ratio of the ceiling (targets below);
#   - first start on an empty database (migrate + seed) until /readyz answers;
#   - cold start of the release binary on the seeded database until /readyz.
# Everything listens on and is sent to 127.0.0.1 only. The servers it starts
# are stopped when it exits, however it exits.
#
# Settings (environment):
#   WRK_THREADS=2 WRK_CONNECTIONS=32 WRK_DURATION=10s WRK_WARMUP=2s
#   PORTAL_WORKERS=<cores>     actix workers, for the portal and the ceiling
#   BENCH_PORTAL_PORT=18080 BENCH_CEILING_PORT=18090
#   BENCH_SERVICE_CODE=1.001193  service page to load (must exist in data/)
#   BENCH_COLD_RUNS=3          cold starts to time
#   BENCH_STRICT=1             exit 1 when a ratio misses its target
#   BENCH_SKIP_BUILD=1         use the existing target/release binaries
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_WARMUP=${WRK_WARMUP:-2s}
PORTAL_PORT=${BENCH_PORTAL_PORT:-18080}
CEILING_PORT=${BENCH_CEILING_PORT:-18090}
SERVICE_CODE=${BENCH_SERVICE_CODE:-1.001193}
COLD_RUNS=${BENCH_COLD_RUNS:-3}
export PORTAL_WORKERS=${PORTAL_WORKERS:-$(nproc)}

# Targets: the portal's requests/s as a fraction of the ceiling's.
TARGET_SERVICE_PAGE=0.30
TARGET_SEARCH_API=0.25

PORTAL_URL="http://127.0.0.1:${PORTAL_PORT}"
CEILING_URL="http://127.0.0.1:${CEILING_PORT}"
PORTAL_BIN="$ROOT/target/release/portal"
CEILING_BIN="$ROOT/target/release/examples/ceiling"

for tool in wrk curl; do
    command -v "$tool" >/dev/null || {
        echo "benches/http.sh needs $tool (Debian: apt-get install $tool)" >&2
        exit 2
    }
done

TMP=$(mktemp -d -t portal-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

for port in "$PORTAL_PORT" "$CEILING_PORT"; do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:${port}/"; then
        echo "something already listens on 127.0.0.1:${port}; set BENCH_PORTAL_PORT / BENCH_CEILING_PORT" >&2
        exit 2
    fi
done

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    say "building release binaries"
    cargo build --release --bin portal --example ceiling
fi

# The portal, on the benchmark database, in the background. Sets PORTAL_PID.
PORTAL_PID=
start_portal() {
    DATABASE_URL="sqlite://$TMP/bench.db" \
        PORTAL_BIND="127.0.0.1:${PORTAL_PORT}" \
        PORTAL_DATA_DIR="$ROOT/data" \
        PORTAL_TEMPLATES_DIR="$ROOT/templates" \
        PORTAL_ASSETS_DIR="$ROOT/assets" \
        PORTAL_LOCALES_DIR="$ROOT/locales" \
        PORTAL_LOG_FORMAT=json RUST_LOG=warn \
        "$PORTAL_BIN" serve >>"$TMP/portal.log" 2>&1 &
    PORTAL_PID=$!
    PIDS+=("$PORTAL_PID")
}

stop_portal() {
    kill "$PORTAL_PID" 2>/dev/null || true
    wait "$PORTAL_PID" 2>/dev/null || true
    # Until the port is free again.
    for _ in $(seq 1 100); do
        curl -s -o /dev/null --max-time 1 "$PORTAL_URL/healthz" || return 0
        sleep 0.05
    done
}

# wait_ready URL PID TIMEOUT_S: poll every 10 ms until URL answers 200.
wait_ready() {
    local url=$1 pid=$2 deadline
    deadline=$(($(date +%s) + $3))
    until curl -fs -o /dev/null --max-time 2 "$url"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the server exited before $url answered; its log:" >&2
            tail -n 40 "$TMP/portal.log" >&2 || true
            exit 1
        fi
        if (($(date +%s) > deadline)); then
            echo "$url did not answer within $3 s; log:" >&2
            tail -n 40 "$TMP/portal.log" >&2 || true
            exit 1
        fi
        sleep 0.01
    done
}

say "setup"
echo "machine: $(nproc) cores, $(uname -m), $(free -g | awk '/^Mem:/ {print $2}') GiB; commit $(git rev-parse --short HEAD 2>/dev/null || echo none)"
echo "wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${WRK_DURATION} (after a ${WRK_WARMUP} warm-up); PORTAL_WORKERS=${PORTAL_WORKERS}"
echo "scratch dir: $TMP"

# --- seeding alone: `portal seed` (migrate + seed, no server) on an empty database
say "first-run seeding on an empty database (portal seed)"
t0=$(now)
DATABASE_URL="sqlite://$TMP/seed-only.db" PORTAL_DATA_DIR="$ROOT/data" \
    PORTAL_LOG_FORMAT=json RUST_LOG=warn "$PORTAL_BIN" seed >"$TMP/seed.log" 2>&1 || {
    echo "portal seed failed:" >&2
    cat "$TMP/seed.log" >&2
    exit 1
}
SEED_TIME=$(elapsed "$t0" "$(now)")
echo "portal seed (empty DB): ${SEED_TIME} s; $(tail -n 1 "$TMP/seed.log")"
rm -f "$TMP"/seed-only.db*

# --- first start on an empty database: migrate + seed + serve
say "first start on an empty database (migrate + seed)"
t0=$(now)
start_portal
wait_ready "$PORTAL_URL/readyz" "$PORTAL_PID" 600
FIRST_START=$(elapsed "$t0" "$(now)")
echo "first start (empty DB → /readyz 200): ${FIRST_START} s"
stop_portal

# --- cold starts on the seeded database
say "cold start on the seeded database (x${COLD_RUNS})"
COLD=()
for i in $(seq 1 "$COLD_RUNS"); do
    t0=$(now)
    start_portal
    wait_ready "$PORTAL_URL/readyz" "$PORTAL_PID" 120
    COLD+=("$(elapsed "$t0" "$(now)")")
    echo "cold start $i: ${COLD[-1]} s"
    if ((i < COLD_RUNS)); then stop_portal; fi
done
COLD_BEST=$(printf '%s\n' "${COLD[@]}" | sort -n | head -n1)
COLD_MEDIAN=$(printf '%s\n' "${COLD[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')

# The last portal started stays up for the load runs.
CEILING_BIND="127.0.0.1:${CEILING_PORT}" "$CEILING_BIN" >"$TMP/ceiling.log" 2>&1 &
CEILING_PID=$!
PIDS+=("$CEILING_PID")
wait_ready "$CEILING_URL/" "$CEILING_PID" 30

SERVICE_PATH="/services/${SERVICE_CODE}"
SEARCH_PATH="/api/v1/services?q=dang%20ky%20khai%20sinh"

say "checking the URLs answer 200"
for url in "$CEILING_URL/" "$PORTAL_URL$SERVICE_PATH" "$PORTAL_URL$SEARCH_PATH" "$PORTAL_URL/"; do
    status=$(curl -s -o "$TMP/body" -w '%{http_code} %{size_download}' "$url")
    echo "$status bytes  $url"
    if [ "${status%% *}" != 200 ]; then
        echo "expected 200 from $url" >&2
        exit 1
    fi
done

# bench NAME URL: prints requests/s; fails on errors or non-2xx answers.
bench() {
    local name=$1 url=$2 out="$TMP/wrk-$1.txt"
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_WARMUP" "$url" >/dev/null
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency "$url" >"$out"
    if grep -qE 'Non-2xx or 3xx responses|Socket errors' "$out"; then
        echo "wrk reported errors for $name ($url):" >&2
        cat "$out" >&2
        exit 1
    fi
    sed 's/^/    /' "$out" >&2
    awk '/^Requests\/sec:/ { print $2 }' "$out"
}

say "load: ceiling GET /"
RPS_CEILING=$(bench ceiling "$CEILING_URL/")
say "load: portal service page GET $SERVICE_PATH"
RPS_SERVICE=$(bench service "$PORTAL_URL$SERVICE_PATH")
say "load: portal search API GET $SEARCH_PATH"
RPS_SEARCH=$(bench search "$PORTAL_URL$SEARCH_PATH")
say "load: portal home GET /"
RPS_HOME=$(bench home "$PORTAL_URL/")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "meets" : "MISSES") }'; }

R_SERVICE=$(ratio "$RPS_SERVICE" "$RPS_CEILING")
R_SEARCH=$(ratio "$RPS_SEARCH" "$RPS_CEILING")
R_HOME=$(ratio "$RPS_HOME" "$RPS_CEILING")
V_SERVICE=$(verdict "$R_SERVICE" "$TARGET_SERVICE_PAGE")
V_SEARCH=$(verdict "$R_SEARCH" "$TARGET_SEARCH_API")

say "results (wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${WRK_DURATION}, PORTAL_WORKERS=${PORTAL_WORKERS}, $(nproc) cores shared with wrk)"
printf '%-34s %12s %9s  %s\n' "endpoint" "req/s" "ratio" "target"
printf '%-34s %12.0f %9s  %s\n' "ceiling GET /" "$RPS_CEILING" "1.000" ""
printf '%-34s %12.0f %9s  %s\n' "service page $SERVICE_PATH" "$RPS_SERVICE" "$R_SERVICE" ">= $TARGET_SERVICE_PAGE: $V_SERVICE"
printf '%-34s %12.0f %9s  %s\n' "search API ?q=dang ky khai sinh" "$RPS_SEARCH" "$R_SEARCH" ">= $TARGET_SEARCH_API: $V_SEARCH"
printf '%-34s %12.0f %9s  %s\n' "home GET /" "$RPS_HOME" "$R_HOME" ""
echo
echo "first-run seeding, \`portal seed\` on an empty DB: ${SEED_TIME} s"
echo "first start on an empty DB (migrate + seed + serve) until /readyz: ${FIRST_START} s"
echo "cold start on the seeded DB until /readyz: best ${COLD_BEST} s, median ${COLD_MEDIAN} s (runs: ${COLD[*]})"

if [ "${BENCH_STRICT:-0}" = 1 ] && { [ "$V_SERVICE" != meets ] || [ "$V_SEARCH" != meets ]; }; then
    echo "a target was missed (BENCH_STRICT=1)" >&2
    exit 1
fi
