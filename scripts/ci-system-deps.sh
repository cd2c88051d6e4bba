#!/usr/bin/env bash
# Debian packages the test suite drives for real: headless Chromium (findings page browser test)
# and the PostgreSQL server binaries (production instance config test). Idempotent and
# non-interactive; does nothing when both are already installed.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then
  echo "system deps present: chromium, postgresql"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y "${need[@]}"  # with recommends (fonts), as tested
echo "installed: ${need[*]}"
