#!/usr/bin/env bash
# Property-based API testing: schemathesis (PyPI) runs every check it has against the OpenAPI
# document the portal serves, on a fresh seeded SQLite database, and must find nothing.
#
#   bash .ci/schemathesis.sh          (from the repository root; builds the debug binary)
#
# Settings: SCHEMATHESIS_MAX_EXAMPLES (default 40), SCHEMATHESIS_PORT (default 18180).
# The server listens on 127.0.0.1 only and is stopped when the script exits.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT=${SCHEMATHESIS_PORT:-18180}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-40}
BIN=${PORTAL_BIN:-target/debug/portal}

command -v schemathesis >/dev/null || python3 -m pip install --quiet schemathesis
[ -n "${PORTAL_BIN:-}" ] || cargo build --quiet --bin portal

TMP=$(mktemp -d -t portal-schemathesis.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

DATABASE_URL="sqlite://$TMP/portal.db" PORTAL_BIND="127.0.0.1:$PORT" PORTAL_DEMO=true \
    PORTAL_MAIL_DIR="$TMP/mail" PORTAL_UPLOAD_DIR="$TMP/uploads" PORTAL_LOG_FORMAT=json RUST_LOG=warn \
    "$BIN" serve >"$TMP/portal.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/portal.log"; exit 1; }
    sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null

# A bearer token for the authenticated operations, made as a citizen would: log in as the demo
# citizen, create a token on the account page, read it from the page that shows it once.
BASE="http://127.0.0.1:$PORT"
JAR="$TMP/cookies"
csrf_of() { sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -n 1; }
CSRF=$(curl -sf -c "$JAR" -b "$JAR" "$BASE/login" | csrf_of)
curl -sf -o /dev/null -c "$JAR" -b "$JAR" -H "Origin: $BASE" \
    --data-urlencode "_csrf=$CSRF" --data-urlencode "login=congdan@demo.portal.vn" \
    --data-urlencode "password=demo-portal-2026" "$BASE/login"
CSRF=$(curl -sf -c "$JAR" -b "$JAR" "$BASE/account/api-tokens" | csrf_of)
curl -sf -o /dev/null -c "$JAR" -b "$JAR" -H "Origin: $BASE" \
    --data-urlencode "_csrf=$CSRF" --data-urlencode "name=schemathesis" "$BASE/account/api-tokens"
TOKEN=$(curl -sf -c "$JAR" -b "$JAR" "$BASE/account/api-tokens" |
    sed -n 's/.*id="new-token">\([^<]*\)<.*/\1/p' | head -n 1)
[ -n "$TOKEN" ] || { echo "could not create an API token"; exit 1; }

status=0
schemathesis run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    --url "http://127.0.0.1:$PORT" \
    --checks all \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$MAX_EXAMPLES" \
    --workers 2 \
    --request-timeout 10 \
    --suppress-health-check too_slow \
    --header "Authorization: Bearer $TOKEN" \
    --seed 20261130 || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- portal log (last 50 lines)"
    tail -n 50 "$TMP/portal.log"
fi
exit "$status"
