#!/usr/bin/env bash
# chromium.sh install|check — Debian's Chromium for the dashboard's end-to-end tests
# (playwright-core drives it; no browser download). Not a service: nothing to start or stop.
#   install   apt-get install chromium if /usr/bin/chromium is missing (as root), then check
#   check     start it headless on a blank page and print its version
# Env: STOCKSTREAM_CHROMIUM (default /usr/bin/chromium): the binary the tests launch.
set -euo pipefail
# shellcheck disable=SC2034 # SERVICE is read by lib.sh
SERVICE=chromium
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

BIN="${STOCKSTREAM_CHROMIUM:-/usr/bin/chromium}"

cmd_check() {
  [ -x "$BIN" ] || die "$BIN is missing: run $0 install (as root) or set STOCKSTREAM_CHROMIUM"
  # --no-sandbox: as root Chromium refuses its sandbox. A blank page proves it starts and renders.
  timeout 60 "$BIN" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --dump-dom about:blank >/dev/null 2>&1 ||
    die "$BIN did not render a blank page headless"
  log "ok: $("$BIN" --version 2>/dev/null)"
}

cmd_install() {
  if [ ! -x "$BIN" ]; then
    [ "$BIN" = /usr/bin/chromium ] || die "$BIN is missing (STOCKSTREAM_CHROMIUM points there): install it or unset the variable"
    apt_install chromium
  fi
  cmd_check
}

case "${1:-}" in
  install) cmd_install ;;
  check) cmd_check ;;
  *)
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
