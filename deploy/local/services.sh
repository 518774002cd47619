#!/usr/bin/env bash
# services.sh start|stop|status|check|reset [kafka postgres redis s3] — run the same command for
# every local service, or only the named ones (start in the order given; stop in reverse).
#   start   start each (each is a no-op when already running)
#   stop    stop each
#   status  one line per service; exit 3 if any is stopped
#   check   each service's smoke test (Kafka produce/consume, SQL, PING, S3 PUT/GET)
#   reset   stop each and delete its data
# Env: everything the per-service scripts read (ports, STOCKSTREAM_SERVICES_DIR, ...).
# Connection settings for clients: `source deploy/local/env.sh`.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ALL=(kafka postgres redis s3)

cmd="${1:-}"
case "$cmd" in
  start | stop | status | check | reset) shift ;;
  *)
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
names=("$@")
[ "${#names[@]}" -gt 0 ] || names=("${ALL[@]}")
for n in "${names[@]}"; do
  if [[ " ${ALL[*]} " != *" $n "* ]]; then
    echo "unknown service: $n (one of: ${ALL[*]})" >&2
    exit 2
  fi
done

rc=0
case "$cmd" in
  start | check)
    for n in "${names[@]}"; do
      t0=$SECONDS
      "$HERE/$n.sh" "$cmd"
      [ "$cmd" = check ] || echo "[$n] start took $((SECONDS - t0))s" >&2
    done
    ;;
  stop | reset)
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do "$HERE/${names[i]}.sh" "$cmd" || rc=1; done
    ;;
  status)
    for n in "${names[@]}"; do "$HERE/$n.sh" status || rc=3; done
    ;;
esac
exit "$rc"
