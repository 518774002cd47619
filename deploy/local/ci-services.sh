#!/usr/bin/env bash
# ci-services.sh start|stop — the local services for a CI run (.ci/run) of the test suite.
#   start   start Kafka, PostgreSQL, Redis and S3 (services.sh start), run each one's smoke test
#           (services.sh check) so a broken service fails here with its own log rather than as a
#           test failure, and print the connection settings (deploy/local/env.sh)
#   stop    stop the services that this run's `start` found stopped; services that were
#           already running (a developer's, say) are left running
# Env: as services.sh and env.sh (ports, STOCKSTREAM_SERVICES_DIR, ...).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
STATE_ROOT="${STOCKSTREAM_SERVICES_DIR:-$HOME/.cache/stockstream-services}"
STARTED="$STATE_ROOT/.ci-started"
ALL=(kafka postgres redis s3)

case "${1:-}" in
  start)
    mkdir -p "$STATE_ROOT"
    # Written before starting, so that a start that fails halfway is still cleaned up by `stop`.
    : >"$STARTED"
    for n in "${ALL[@]}"; do
      "$HERE/$n.sh" status >/dev/null 2>&1 || echo "$n" >>"$STARTED"
    done
    t0=$SECONDS
    "$HERE/services.sh" start "${ALL[@]}"
    echo "== local services up in $((SECONDS - t0))s"
    "$HERE/services.sh" check "${ALL[@]}"
    "$HERE/services.sh" status "${ALL[@]}"
    echo "== connection settings (source deploy/local/env.sh):"
    "$HERE/env.sh"
    ;;
  stop)
    if [ -s "$STARTED" ]; then
      mapfile -t mine <"$STARTED"
      "$HERE/services.sh" stop "${mine[@]}" || true
    fi
    left=()
    for n in "${ALL[@]}"; do
      grep -qx "$n" "$STARTED" 2>/dev/null || left+=("$n")
    done
    [ "${#left[@]}" -eq 0 ] || echo "== left running (were running before this run): ${left[*]}"
    rm -f "$STARTED"
    ;;
  *)
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
