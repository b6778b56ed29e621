#!/usr/bin/env bash
# Reproducible login benchmark of the portal: how many logins per second the
# argon2id password check allows, and whether the public catalogue stays fast
# while a burst of logins keeps every core busy.
#
#   bash benches/login.sh
#
# Builds the release binary, starts the portal on a fresh SQLite database in a
# temporary directory (demo off, mail worker on, emails as .eml files in the
# same directory), registers one citizen through the form with curl (CSRF cookie
# + field) and verifies her email by following the link in the .eml file the
# mail worker writes. Then:
#   1. N sequential logins with curl (concurrency 1): per-login latency, the
#      stand-in for one argon2id verification (plus a few ms of HTTP and SQL,
#      shown by GET /login); the theoretical limit is cores / that time;
#   2. wrk POST /login (benches/login.lua) at concurrency 8: logins/s, against
#      the theoretical limit;
#   3. the catalogue's latency (p50/p99) with wrk --latency on a search and a
#      service page, first alone, then while a wrk login burst runs in the
#      background; target p99 < 50 ms under the burst.
# Only 127.0.0.1 is listened on and sent to; every wrk run is bounded in time;
# the portal and any background wrk are stopped on exit, however it exits, and
# the temporary directory is removed.
#
# Login rate limits: the portal answers 429 past N attempts per client address
# and per account in 15 minutes (30 and 10 by default), and a benchmark sends
# everything from 127.0.0.1 for one account. The script raises both limits with
# PORTAL_LOGIN_LIMIT_PER_IP / PORTAL_LOGIN_LIMIT_PER_ACCOUNT; a binary without
# those settings keeps the defaults, and then most attempts are 429s that do no
# password work. 429s are counted apart and never as logins.
#
# Settings (environment):
#   BENCH_PORT=18081                 the portal's port on 127.0.0.1
#   PORTAL_WORKERS=<cores>           actix workers
#   BENCH_SEQUENTIAL_LOGINS=20       step 1
#   LOGIN_THREADS=2 LOGIN_CONNECTIONS=8 LOGIN_DURATION=10s          step 2
#   READ_THREADS=1 READ_CONNECTIONS=4 READ_DURATION=10s READ_PAUSE_MS=10
#                                    step 3: each connection waits READ_PAUSE_MS
#                                    between requests (people browsing, not a
#                                    flood; 0 = as fast as possible)
#   BENCH_SERVICE_CODE=1.001193      the service page of step 3
#   BENCH_LOGIN_LIMIT=1000000        the value given to both login limits
#   BENCH_TARGET_P99_MS=50
#   BENCH_STRICT=1                   exit 1 when the p99 target is missed or a
#                                    login run saw 429s or errors
#   BENCH_SKIP_BUILD=1               use the existing target/release/portal
#   BENCH_KEEP=1                     keep the temporary directory (database,
#                                    portal.log, wrk outputs) instead of removing it
set -euo pipefail
# Decimal points in curl, awk and sort whatever the locale; text stays UTF-8.
unset LC_ALL
export LC_NUMERIC=C

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

PORT=${BENCH_PORT:-18081}
SEQUENTIAL=${BENCH_SEQUENTIAL_LOGINS:-20}
LOGIN_THREADS=${LOGIN_THREADS:-2}
LOGIN_CONNECTIONS=${LOGIN_CONNECTIONS:-8}
LOGIN_DURATION=${LOGIN_DURATION:-10s}
READ_THREADS=${READ_THREADS:-1}
READ_CONNECTIONS=${READ_CONNECTIONS:-4}
READ_DURATION=${READ_DURATION:-10s}
READ_PAUSE_MS=${READ_PAUSE_MS:-10}
SERVICE_CODE=${BENCH_SERVICE_CODE:-1.001193}
LOGIN_LIMIT=${BENCH_LOGIN_LIMIT:-1000000}
TARGET_P99_MS=${BENCH_TARGET_P99_MS:-50}
CORES=$(nproc)
export PORTAL_WORKERS=${PORTAL_WORKERS:-$CORES}

URL="http://127.0.0.1:${PORT}"
PORTAL_BIN="$ROOT/target/release/portal"
LOGIN_LUA="$ROOT/benches/login.lua"
SEARCH_PATH="/services?q=khai+sinh"
SERVICE_PATH="/services/${SERVICE_CODE}"

# The citizen who logs in.
FULL_NAME="Nguyễn Thị Thu Hường"
EMAIL="bench@example.vn"
CCCD="001195012345" # Hà Nội (001), a woman born in the 1900s (1), 1995 (95)
DATE_OF_BIRTH="1995-03-04"
PASSWORD="trời xanh mây trắng 2026"

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || {
        echo "benches/login.sh needs $tool (Debian: apt-get install $tool)" >&2
        exit 2
    }
done

seconds() { # "10s" / "1m" / "500ms" → seconds (wrk's duration syntax, enough of it)
    awk -v d="$1" 'BEGIN {
        if (d ~ /ms$/) { sub(/ms$/, "", d); print d / 1000; exit }
        if (d ~ /m$/) { sub(/m$/, "", d); print d * 60; exit }
        if (d ~ /h$/) { sub(/h$/, "", d); print d * 3600; exit }
        sub(/s$/, "", d); print d + 0 }'
}
READ_SECONDS=$(seconds "$READ_DURATION")

TMP=$(mktemp -d -t portal-login-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "kept $TMP (BENCH_KEEP=1)" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }

if curl -s -o /dev/null --max-time 1 "$URL/"; then
    echo "something already listens on 127.0.0.1:${PORT}; set BENCH_PORT" >&2
    exit 2
fi

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    say "building the release binary"
    cargo build --release --bin portal
fi

say "setup"
echo "machine: ${CORES} cores, $(uname -m), $(free -g | awk '/^Mem:/ {print $2}') GiB; commit $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
echo "PORTAL_WORKERS=${PORTAL_WORKERS}; login limits per address and per account set to ${LOGIN_LIMIT}"
echo "scratch dir: $TMP"

mkdir -p "$TMP/mail"
DATABASE_URL="sqlite://$TMP/bench.db" \
    PORTAL_BIND="127.0.0.1:${PORT}" \
    PORTAL_PUBLIC_URL="$URL" \
    PORTAL_DEMO=false \
    PORTAL_MAIL_WORKER=true \
    PORTAL_MAIL_DIR="$TMP/mail" \
    PORTAL_LOGIN_LIMIT_PER_IP="$LOGIN_LIMIT" \
    PORTAL_LOGIN_LIMIT_PER_ACCOUNT="$LOGIN_LIMIT" \
    PORTAL_DATA_DIR="$ROOT/data" \
    PORTAL_TEMPLATES_DIR="$ROOT/templates" \
    PORTAL_ASSETS_DIR="$ROOT/assets" \
    PORTAL_LOCALES_DIR="$ROOT/locales" \
    PORTAL_LOG_FORMAT=json RUST_LOG=warn \
    "$PORTAL_BIN" serve >>"$TMP/portal.log" 2>&1 &
PORTAL_PID=$!
PIDS+=("$PORTAL_PID")

deadline=$(($(date +%s) + 600))
until curl -fs -o /dev/null --max-time 2 "$URL/readyz"; do
    if ! kill -0 "$PORTAL_PID" 2>/dev/null; then
        echo "the portal exited before /readyz answered; its log:" >&2
        tail -n 40 "$TMP/portal.log" >&2 || true
        exit 1
    fi
    if (($(date +%s) > deadline)); then
        echo "/readyz did not answer within 600 s; log:" >&2
        tail -n 40 "$TMP/portal.log" >&2 || true
        exit 1
    fi
    sleep 0.1
done
echo "portal ready on $URL (fresh database, seeded)"

# csrf_of FILE: the token of the form's hidden _csrf field.
csrf_of() {
    sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' "$1" | head -n 1
}

say "a verified citizen: register through the form, follow the emailed link"
JAR="$TMP/cookies.txt"
curl -fsS -c "$JAR" -b "$JAR" -o "$TMP/register.html" "$URL/register"
TOKEN=$(csrf_of "$TMP/register.html")
[ -n "$TOKEN" ] || {
    echo "no _csrf field on /register" >&2
    exit 1
}
status=$(curl -sS -c "$JAR" -b "$JAR" -o "$TMP/registered.html" -w '%{http_code}' \
    -H "Origin: $URL" \
    --data-urlencode "_csrf=$TOKEN" \
    --data-urlencode "full_name=$FULL_NAME" \
    --data-urlencode "email=$EMAIL" \
    --data-urlencode "phone=0912345678" \
    --data-urlencode "date_of_birth=$DATE_OF_BIRTH" \
    --data-urlencode "cccd=$CCCD" \
    --data-urlencode "province_code=01" \
    --data-urlencode "ward_code=00004" \
    --data-urlencode "address=12 phố Hàng Bạc" \
    --data-urlencode "password=$PASSWORD" \
    --data-urlencode "password_confirm=$PASSWORD" \
    "$URL/register")
if [ "$status" != 200 ] || ! grep -q 'Kiểm tra hộp thư của bạn' "$TMP/registered.html"; then
    echo "registration answered $status without \"Kiểm tra hộp thư của bạn\":" >&2
    sed -e 's/<[^>]*>//g' "$TMP/registered.html" | grep -v '^\s*$' | head -n 40 >&2
    exit 1
fi

# The verification link: from the .eml file the mail worker writes (it polls the
# outbox every second); if none comes within 20 s, from the outbox table itself.
VERIFY_PATH=$(python3 - "$TMP/mail" "$TMP/bench.db" "$EMAIL" <<'PY'
import email, email.policy, glob, os, re, sqlite3, sys, time

mail_dir, db, to = sys.argv[1:4]
LINK = re.compile(r"/verify-email\?token=[A-Za-z0-9_-]+")

def from_eml():
    for path in sorted(glob.glob(os.path.join(mail_dir, "*.eml")), key=os.path.getmtime, reverse=True):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        if to not in str(msg.get("To", "")):
            continue
        part = msg.get_body(preferencelist=("plain", "html"))
        found = LINK.search(part.get_content() if part else "")
        if found:
            return found.group(0)
    return None

deadline = time.time() + 20
while time.time() < deadline:
    link = from_eml()
    if link:
        print("verification link from the .eml file the mail worker wrote", file=sys.stderr)
        print(link)
        sys.exit(0)
    time.sleep(0.2)
conn = sqlite3.connect(db, timeout=10)
row = conn.execute(
    "SELECT text_body FROM outbox WHERE to_address = ? ORDER BY id DESC LIMIT 1", (to,)
).fetchone()
found = LINK.search(row[0]) if row else None
if not found:
    sys.exit(f"no verification link for {to}: no .eml in {mail_dir} and none in the outbox")
print("no .eml within 20 s: verification link read from the outbox table", file=sys.stderr)
print(found.group(0))
PY
)
status=$(curl -sS -o "$TMP/verified.html" -w '%{http_code}' "$URL$VERIFY_PATH")
if [ "$status" != 200 ] || ! grep -q 'Email đã được xác minh' "$TMP/verified.html"; then
    echo "the verification link answered $status" >&2
    exit 1
fi
echo "registered and verified $EMAIL (CCCD $CCCD)"

# One CSRF token for every login: the cookie and the same value in the form.
curl -fsS -c "$JAR" -b "$JAR" -o "$TMP/login.html" "$URL/login"
CSRF=$(csrf_of "$TMP/login.html")
LOGIN_BODY=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlencode({"_csrf": sys.argv[1], "login": sys.argv[2], "password": sys.argv[3], "next": ""}))' \
    "$CSRF" "$EMAIL" "$PASSWORD")
export LOGIN_BODY LOGIN_CSRF="$CSRF" LOGIN_ORIGIN="$URL"

# login_once: "STATUS SECONDS" of one login.
login_once() {
    curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 \
        -H "Content-Type: application/x-www-form-urlencoded" -H "Origin: $URL" \
        -b "csrf=$CSRF" --data "$LOGIN_BODY" "$URL/login"
}
first=$(login_once)
if [ "${first%% *}" != 303 ]; then
    echo "a login with the right password answered ${first%% *}, not 303" >&2
    tail -n 20 "$TMP/portal.log" >&2 || true
    exit 1
fi

# --- 1. sequential logins
say "1. ${SEQUENTIAL} sequential logins (concurrency 1)"
: >"$TMP/sequential.txt"
for _ in $(seq 1 "$SEQUENTIAL"); do
    login_once >>"$TMP/sequential.txt"
done
for _ in $(seq 1 "$SEQUENTIAL"); do
    curl -sS -o /dev/null -w '%{time_total}\n' -b "csrf=$CSRF" "$URL/login"
done >"$TMP/get-login.txt"
# median (any awk: the input is sorted first)
median_ms() { sort -n | awk '{ t[NR] = $1 * 1000 } END { if (NR) printf "%.1f", NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; else print 0 }'; }
SEQ_OK=$(awk '$1 == 303' "$TMP/sequential.txt" | wc -l)
SEQ_429=$(awk '$1 == 429' "$TMP/sequential.txt" | wc -l)
SEQ_OTHER=$(awk '$1 != 303 && $1 != 429' "$TMP/sequential.txt" | wc -l)
SEQ_MEDIAN_MS=$(awk '$1 == 303 { print $2 }' "$TMP/sequential.txt" | median_ms)
SEQ_MIN_MS=$(awk '$1 == 303 { print $2 }' "$TMP/sequential.txt" | sort -n | awk 'NR == 1 { printf "%.1f", $1 * 1000 }')
GET_MEDIAN_MS=$(median_ms <"$TMP/get-login.txt")
echo "303: ${SEQ_OK}, 429: ${SEQ_429}, other: ${SEQ_OTHER}; login median ${SEQ_MEDIAN_MS} ms (min ${SEQ_MIN_MS} ms); GET /login median ${GET_MEDIAN_MS} ms"
if ((SEQ_OK == 0)); then
    echo "no sequential login succeeded (statuses: $(awk '{print $1}' "$TMP/sequential.txt" | sort | uniq -c | tr -s ' \n' ' '))" >&2
    exit 1
fi
THEORETICAL=$(awk -v c="$CORES" -v ms="$SEQ_MEDIAN_MS" 'BEGIN { printf "%.1f", c / (ms / 1000) }')
HASH_MS=$(awk -v a="$SEQ_MEDIAN_MS" -v b="$GET_MEDIAN_MS" 'BEGIN { printf "%.1f", a - b }')

# status_count FILE STATUS
status_count() { awk -v s="$2" '$1 == "status" && $2 == s":" { print $3; f = 1 } END { if (!f) print 0 }' "$1"; }
# other_count FILE: answers other than 303 and 429
other_count() { awk '$1 == "status" && $2 != "303:" && $2 != "429:" { n += $3 } END { print n + 0 }' "$1"; }
other_statuses() { awk '$1 == "status" && $2 != "303:" && $2 != "429:" { printf "%s%s %s", sep, $2, $3; sep = ", " }' "$1"; }
per_second() { awk -v n="$1" -v us="$2" 'BEGIN { printf "%.1f", (us > 0 ? n / (us / 1e6) : 0) }'; }
duration_us() { awk '$1 == "duration_us:" { print $2 }' "$1"; }

# --- 2. login throughput
say "2. wrk POST /login -t${LOGIN_THREADS} -c${LOGIN_CONNECTIONS} -d${LOGIN_DURATION}"
wrk -t"$LOGIN_THREADS" -c"$LOGIN_CONNECTIONS" -d"$LOGIN_DURATION" --timeout 30s --latency \
    -s "$LOGIN_LUA" "$URL/login" >"$TMP/wrk-login.txt"
sed 's/^/    /' "$TMP/wrk-login.txt"
LOGIN_OK=$(status_count "$TMP/wrk-login.txt" 303)
LOGIN_429=$(status_count "$TMP/wrk-login.txt" 429)
LOGIN_OTHER=$(other_count "$TMP/wrk-login.txt")
LOGIN_US=$(duration_us "$TMP/wrk-login.txt")
LOGINS_PER_S=$(per_second "$LOGIN_OK" "$LOGIN_US")
R429_PER_S=$(per_second "$LOGIN_429" "$LOGIN_US")
LOGIN_P50=$(awk '$1 == "50%" { print $2 }' "$TMP/wrk-login.txt")
LOGIN_P99=$(awk '$1 == "99%" { print $2 }' "$TMP/wrk-login.txt")
EFFICIENCY=$(awk -v a="$LOGINS_PER_S" -v b="$THEORETICAL" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')

# --- 3. the catalogue, alone and under a login burst
cat >"$TMP/paced.lua" <<LUA
-- GET with a pause between requests on each connection: people browsing, not a flood.
function delay() return ${READ_PAUSE_MS} end
LUA

# to_ms "1.23ms" / "456.00us" / "1.02s" → milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000; exit }
        if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v; exit }
        if (v ~ /m$/) { sub(/m$/, "", v); printf "%.2f", v * 60000; exit }
        if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000; exit }
        print "?" }'
}

# read_latency NAME PATH: wrk --latency on a catalogue page; sets P50 P99 RPS ERRS.
read_latency() {
    local path=$2 out="$TMP/wrk-$1.txt"
    wrk -t"$READ_THREADS" -c"$READ_CONNECTIONS" -d"$READ_DURATION" --timeout 10s --latency \
        -s "$TMP/paced.lua" "$URL$path" >"$out"
    sed 's/^/    /' "$out"
    P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    RPS=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    ERRS=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i } END { print n + 0 }' "$out")
}

declare -A RESULT
for path in "$SEARCH_PATH" "$SERVICE_PATH"; do
    status=$(curl -s -o /dev/null -w '%{http_code}' "$URL$path")
    if [ "$status" != 200 ]; then
        echo "$URL$path answered $status, not 200" >&2
        exit 1
    fi
done

say "3a. the catalogue alone: wrk -t${READ_THREADS} -c${READ_CONNECTIONS} -d${READ_DURATION}, ${READ_PAUSE_MS} ms pause per connection"
read_latency idle-search "$SEARCH_PATH"
RESULT[idle-search]="$P50 $P99 $RPS $ERRS"
read_latency idle-service "$SERVICE_PATH"
RESULT[idle-service]="$P50 $P99 $RPS $ERRS"

# The burst outlasts both catalogue runs: 2 s to fill the hash pool, then both.
BURST_SECONDS=$(awk -v r="$READ_SECONDS" 'BEGIN { printf "%d", 2 * r + 4 }')
say "3b. the same while wrk POST /login -c${LOGIN_CONNECTIONS} runs for ${BURST_SECONDS}s in the background"
wrk -t"$LOGIN_THREADS" -c"$LOGIN_CONNECTIONS" -d"${BURST_SECONDS}s" --timeout 30s \
    -s "$LOGIN_LUA" "$URL/login" >"$TMP/wrk-burst.txt" 2>&1 &
BURST_PID=$!
PIDS+=("$BURST_PID")
sleep 2
read_latency burst-search "$SEARCH_PATH"
RESULT[burst-search]="$P50 $P99 $RPS $ERRS"
read_latency burst-service "$SERVICE_PATH"
RESULT[burst-service]="$P50 $P99 $RPS $ERRS"
wait "$BURST_PID" || true
sed 's/^/    /' "$TMP/wrk-burst.txt"
BURST_OK=$(status_count "$TMP/wrk-burst.txt" 303)
BURST_429=$(status_count "$TMP/wrk-burst.txt" 429)
BURST_OTHER=$(other_count "$TMP/wrk-burst.txt")
BURST_LOGINS_PER_S=$(per_second "$BURST_OK" "$(duration_us "$TMP/wrk-burst.txt")")

# --- summary
say "summary (${CORES} cores shared by the portal and wrk; PORTAL_WORKERS=${PORTAL_WORKERS}; argon2id m=19 MiB t=2 p=1)"
printf '%-58s %s\n' "one login at concurrency 1 (median of ${SEQ_OK})" "${SEQ_MEDIAN_MS} ms (min ${SEQ_MIN_MS} ms)"
printf '%-58s %s\n' "GET /login at concurrency 1 (median): HTTP + SQL + page" "${GET_MEDIAN_MS} ms"
printf '%-58s %s\n' "~ one argon2id verification (the difference)" "${HASH_MS} ms"
printf '%-58s %s\n' "theoretical limit = ${CORES} cores / ${SEQ_MEDIAN_MS} ms" "${THEORETICAL} logins/s"
printf '%-58s %s\n' "measured, wrk -c${LOGIN_CONNECTIONS} -d${LOGIN_DURATION} (303 only)" "${LOGINS_PER_S} logins/s = ${EFFICIENCY}% of the limit (latency p50 ${LOGIN_P50:-?}, p99 ${LOGIN_P99:-?})"
printf '%-58s %s\n' "  answers" "303: ${LOGIN_OK}, 429: ${LOGIN_429} (${R429_PER_S}/s), other: ${LOGIN_OTHER}$( ((LOGIN_OTHER > 0)) && echo " ($(other_statuses "$TMP/wrk-login.txt"))")"
printf '%-58s %s\n' "logins during the burst (step 3b)" "${BURST_LOGINS_PER_S} logins/s; 303: ${BURST_OK}, 429: ${BURST_429}, other: ${BURST_OTHER}$( ((BURST_OTHER > 0)) && echo " ($(other_statuses "$TMP/wrk-burst.txt"))")"
echo
printf '%-40s %9s %9s %8s %7s  %s\n' "catalogue page" "p50 ms" "p99 ms" "req/s" "errors" "p99 < ${TARGET_P99_MS} ms"
MISSED=0
for key in idle-search idle-service burst-search burst-service; do
    read -r p50 p99 rps errs <<<"${RESULT[$key]}"
    case $key in
    *-search) page="GET $SEARCH_PATH" ;;
    *) page="GET $SERVICE_PATH" ;;
    esac
    case $key in
    idle-*) when="alone" ;;
    *) when="login burst" ;;
    esac
    verdict=$(awk -v p="$p99" -v t="$TARGET_P99_MS" 'BEGIN { print (p != "?" && p < t ? "meets" : "MISSES") }')
    if [[ $key == burst-* ]] && [ "$verdict" != meets ]; then MISSED=1; fi
    [[ $key == idle-* ]] && verdict="($verdict)"
    printf '%-40s %9s %9s %8s %7s  %s\n' "$page, $when" "$p50" "$p99" "$rps" "$errs" "$verdict"
done
echo "(catalogue load: wrk -t${READ_THREADS} -c${READ_CONNECTIONS}, ${READ_PAUSE_MS} ms pause between requests per connection; the target applies under the burst)"

if ((LOGIN_OTHER + BURST_OTHER + SEQ_OTHER > 0)); then
    echo
    echo "NOTE: $((LOGIN_OTHER + BURST_OTHER + SEQ_OTHER)) login attempts got neither 303 nor 429; the portal's log says (count, error):"
    grep '"level":"ERROR"' "$TMP/portal.log" |
        sed -n 's/.*"error":"\([^"]*\)".*/\1/p; t; s/.*"message":"\([^"]*\)".*/\1/p' |
        sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    /'
fi

if ((LOGIN_429 + BURST_429 + SEQ_429 > 0)); then
    cat <<EOF

NOTE: $((LOGIN_429 + BURST_429 + SEQ_429)) login attempts were refused with 429 (Too Many Requests). The portal
limits login attempts per client address and per account in a 15-minute window (30 and
10 by default); every attempt here comes from 127.0.0.1 for one account. A 429 costs no
argon2 work, so these attempts are not logins: logins/s above counts 303s only, and the
429s make wrk's request rate meaningless as a login rate. This script sets
PORTAL_LOGIN_LIMIT_PER_IP and PORTAL_LOGIN_LIMIT_PER_ACCOUNT to ${LOGIN_LIMIT}; a portal binary
that ignores them (built before those settings existed) keeps the defaults.
EOF
fi

if [ "${BENCH_STRICT:-0}" = 1 ] && { ((MISSED)) || ((LOGIN_429 + BURST_429 + LOGIN_OTHER + BURST_OTHER > 0)); }; then
    echo "a target was missed or logins were refused (BENCH_STRICT=1)" >&2
    exit 1
fi
