#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian 12 machine, as root: the real init
# systems and verifiers the end-to-end tests drive. Idempotent; when everything is present
# it only checks (about a second, no network).
#
#   apt:  systemd (systemd --user, systemctl, systemd-analyze), openrc, util-linux (unshare,
#         nsenter, mount), bsdutils (script), procps, iproute2, libplist-utils (plistutil),
#         python3-venv (for the venv below)
#   venv: supervisor==4.3.0 at ${OPENIM_INIT_VENV:-/opt/openim-init-venv}
set -euo pipefail
VENV=${OPENIM_INIT_VENV:-/opt/openim-init-venv}
SUPERVISOR=4.3.0
APT_PKGS=(systemd openrc util-linux bsdutils procps iproute2 libplist-utils python3-venv)
export DEBIAN_FRONTEND=noninteractive
log() { echo "[setup] $*" >&2; }
T0=$(date +%s)

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  # `apt-get update` takes the lists lock, which DPkg::Lock::Timeout does not cover: retry
  for i in $(seq 1 60); do
    apt-get -o DPkg::Lock::Timeout=600 update -qq && break
    [ "$i" = 60 ] && { log "apt-get update kept failing"; exit 1; }
    sleep 10
  done
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt: all present (${APT_PKGS[*]})"
fi

have_supervisor() {
  [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c \
    'import importlib.metadata as m; print(m.version("supervisor"))' 2>/dev/null)" = "$SUPERVISOR" ]
}
if ! have_supervisor; then
  log "pip: installing supervisor==$SUPERVISOR into $VENV"
  [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "supervisor==$SUPERVISOR"
  have_supervisor
else
  log "pip: supervisor==$SUPERVISOR present in $VENV"
fi

log "systemd $(systemd-analyze --version | head -1 | cut -d' ' -f2), openrc $(dpkg-query -W -f='${Version}' openrc), supervisord $("$VENV/bin/supervisord" --version), done in $(( $(date +%s) - T0 ))s"
