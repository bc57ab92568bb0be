#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian 12 machine, as root: the real init
# systems and verifiers the end-to-end tests drive. Idempotent; when everything is present
# it only checks (about a second, no network).
#
#   apt:  systemd (systemd --user, systemctl, systemd-analyze), openrc (openrc-run,
#         rc-service, supervise-daemon, rc-depend), util-linux (unshare, nsenter, mount),
#         bsdutils (script), procps, iproute2, libplist-utils (plistutil), runit (runsvdir,
#         runsv, sv, chpst, svlogd), s6 (s6-svscan, s6-supervise, s6-svc, s6-svwait,
#         s6-notifyoncheck, s6-log), execline (execlineb), python3 (plistlib
#         for the launchd tests) and python3-venv (for the venv below), perl-base (the launchd
#         timeout shim), and the shells OpenRC runs as /bin/sh, each proven in CI: dash
#         (Debian), busybox (ash, Alpine), bash (Gentoo; also macOS' /bin/sh)
#   venv: supervisor==4.3.0 at ${OPENIM_INIT_VENV:-/opt/openim-init-venv}
#
# Under CI=true the tests fail instead of skipping when any of these is missing.
set -euo pipefail
VENV=${OPENIM_INIT_VENV:-/opt/openim-init-venv}
SUPERVISOR=4.3.0
APT_PKGS=(systemd openrc util-linux bsdutils procps iproute2 libplist-utils python3 python3-venv
  perl-base dash busybox bash coreutils runit s6 execline)
# what the tests run, by path or from PATH: checked after the install
TOOLS=(/lib/systemd/systemd systemctl systemd-analyze /sbin/openrc-run /sbin/rc-service
  /sbin/supervise-daemon /lib/rc/bin/rc-depend /lib/rc/sh/supervise-daemon.sh unshare nsenter
  mount cp plistutil python3 perl dash busybox bash runsvdir runsv sv chpst svlogd s6-svscan
  s6-supervise s6-svc s6-svwait s6-svstat s6-notifyoncheck s6-log s6-setuidgid execlineb)
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

absent=()
for t in "${TOOLS[@]}"; do
  if [[ $t == /* ]]; then [ -e "$t" ] || absent+=("$t"); else command -v "$t" >/dev/null || absent+=("$t"); fi
done
if [ ${#absent[@]} -gt 0 ]; then
  log "missing after the install: ${absent[*]}"
  exit 1
fi
busybox sh -c 'true' || { log "busybox has no sh applet"; exit 1; }

log "systemd $(systemd-analyze --version | head -1 | cut -d' ' -f2), openrc $(dpkg-query -W -f='${Version}' openrc), supervisord $("$VENV/bin/supervisord" --version), busybox $(dpkg-query -W -f='${Version}' busybox), dash $(dpkg-query -W -f='${Version}' dash), done in $(( $(date +%s) - T0 ))s"
