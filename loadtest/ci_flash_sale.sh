#!/usr/bin/env bash
# CI flash sale: two hubs, one small event, Locust headless across both, then the verifier.
#
# Needs DATABASE_URL and REDIS_URL (shared by both hubs). Exit 0 only when Locust saw no
# unexpected failure AND loadtest/verify_run.py found no violation.
#
#   DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/evently_ci \
#   REDIS_URL=redis://127.0.0.1:6379/5 loadtest/ci_flash_sale.sh
#
# Knobs (environment): LT_USERS (80), LT_DURATION_SECONDS (40), LT_SECTIONS
# (Floor:10:10,Lower:10:10,Upper:10:10 = 300 seats), LT_EXPECT_SOLD_OUT (0; 1 fails a run that
# did not sell out), LT_OUT_DIR (a fresh temp dir; tokens, ledger, CSVs and hub logs go there),
# LT_PORTS ("8401 8402"), BCRYPT_ROUNDS (4), LOG_LEVEL (warning).
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL}"
: "${REDIS_URL:?set REDIS_URL}"

cd "$(dirname "$0")/.."

export RATE_LIMIT_ENABLED=false
# Cheap password hashing and quiet hubs: CI measures bookings, not bcrypt or access logs.
export BCRYPT_ROUNDS="${BCRYPT_ROUNDS:-4}"
export LOG_LEVEL="${LOG_LEVEL:-warning}"
export JWT_SECRET="${JWT_SECRET:-ci-flash-sale-$(od -An -N24 -tx1 /dev/urandom | tr -d " \n")}"  # shared by both hubs; 32+ bytes
export LT_OUT_DIR="${LT_OUT_DIR:-$(mktemp -d /tmp/evently-flash.XXXXXX)}"
export LT_USERS="${LT_USERS:-80}"
export LT_RAMP_SECONDS="${LT_RAMP_SECONDS:-3}"
export LT_DURATION_SECONDS="${LT_DURATION_SECONDS:-40}"
export LT_SETTLE_SECONDS="${LT_SETTLE_SECONDS:-3}"
SECTIONS="${LT_SECTIONS:-Floor:10:10,Lower:10:10,Upper:10:10}"
PORTS=(${LT_PORTS:-8401 8402})
ADMIN_EMAIL="lt-admin@example.com"
ADMIN_PASSWORD="lt-admin-Passw0rd!"
mkdir -p "$LT_OUT_DIR"
rm -rf "$LT_OUT_DIR/ledger"

HOSTS=()
PIDS=()
for port in "${PORTS[@]}"; do HOSTS+=("http://127.0.0.1:$port"); done
LT_HOSTS="$(IFS=,; echo "${HOSTS[*]}")"
export LT_HOSTS

log() { printf '[flash-sale %s] %s\n' "$(date +%T)" "$*"; }

cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do
        # each hub runs in its own session (setsid), so this reaches its workers too
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ]; then
        for port in "${PORTS[@]}"; do
            log "last lines of hub :$port log"
            tail -n 30 "$LT_OUT_DIR/hub-$port.log" 2>/dev/null || true
        done
    fi
    log "artifacts in $LT_OUT_DIR"
    exit "$rc"
}
trap cleanup EXIT INT TERM

for port in "${PORTS[@]}"; do
    # Something already answering there would pass the readiness check in our hub's place.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        log "port $port is already in use; set LT_PORTS"
        exit 1
    fi
done

log "migrating"
uv run evently migrate

for port in "${PORTS[@]}"; do
    setsid uv run evently serve --host 127.0.0.1 --port "$port" >"$LT_OUT_DIR/hub-$port.log" 2>&1 &
    PIDS+=("$!")
done

for host in "${HOSTS[@]}"; do
    for i in $(seq 120); do
        if curl -fsS "$host/readyz" >/dev/null 2>&1; then break; fi
        if [ "$i" -eq 120 ]; then log "$host never became ready"; exit 1; fi
        sleep 0.5
    done
    log "$host ready"
done
for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { log "a hub exited during start-up"; exit 1; }
done

uv run evently user add "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD" --role admin
uv run python -m loadtest.prepare --host "${HOSTS[0]}" --users "$LT_USERS" --fresh \
    --admin-email "$ADMIN_EMAIL" --admin-password "$ADMIN_PASSWORD" \
    --create-event --sections "$SECTIONS" --name "CI flash sale $(date +%s)"

log "flash sale: $LT_USERS users over $LT_HOSTS"
locust_rc=0
timeout --signal=INT --kill-after=15 $((LT_DURATION_SECONDS + 45)) \
    uv run locust -f loadtest/locustfile.py --headless --host "${HOSTS[0]}" \
    --only-summary --csv "$LT_OUT_DIR/stats" --stop-timeout 5 \
    --loglevel WARNING || locust_rc=$?

verify_args=(--host "${HOSTS[1]:-${HOSTS[0]}}")
if [ "${LT_EXPECT_SOLD_OUT:-0}" = "1" ]; then verify_args+=(--expect-sold-out); fi
verify_rc=0
uv run python -m loadtest.verify_run "${verify_args[@]}" || verify_rc=$?

log "locust exit $locust_rc, verifier exit $verify_rc"
if [ "$locust_rc" -ne 0 ] || [ "$verify_rc" -ne 0 ]; then exit 1; fi
log "PASS"
