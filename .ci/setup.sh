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
#   venv: supervisor==4.3.0, jsonschema and kubernetes-validate==1.37.0 (offline Kubernetes schemas) at
#         ${OPENIM_INIT_VENV:-/opt/openim-init-venv}
#   apt:  docker.io (dockerd 20.10, containerd, runc) and docker-compose (1.29, `config -q`);
#         dockerd is not left running: the compose tests start their own (host networking,
#         no iptables, no bridge) and stop it; here it is started once the recipe's way and
#         stopped again, to prove it can run on this machine
#   venv: checkov==3.3.30 (Kubernetes security checks) in its own venv, its dependencies pinned
#         apart from the above, at ${OPENIM_INIT_CHECKOV_VENV:-/opt/openim-init-checkov}
#   npm:  dclint@3.1.0 (compose-spec schema lint; npm comes with the nodejs package) at ${OPENIM_INIT_NODE:-/opt/openim-init-node}
#
# Under CI=true the tests fail instead of skipping when any of these is missing.
set -euo pipefail
VENV=${OPENIM_INIT_VENV:-/opt/openim-init-venv}
NODE_DIR=${OPENIM_INIT_NODE:-/opt/openim-init-node}
CHECKOV_VENV=${OPENIM_INIT_CHECKOV_VENV:-/opt/openim-init-checkov}
CHECKOV=3.3.30
SUPERVISOR=4.3.0
KVALIDATE=1.37.0
DCLINT=3.1.0
APT_PKGS=(systemd openrc util-linux bsdutils procps iproute2 libplist-utils python3 python3-venv
  perl-base dash busybox bash coreutils runit s6 execline docker.io docker-compose nodejs)
# what the tests run, by path or from PATH: checked after the install
TOOLS=(/lib/systemd/systemd systemctl systemd-analyze /sbin/openrc-run /sbin/rc-service
  /sbin/supervise-daemon /lib/rc/bin/rc-depend /lib/rc/sh/supervise-daemon.sh unshare nsenter
  mount cp plistutil python3 perl dash busybox bash runsvdir runsv sv chpst svlogd s6-svscan
  s6-supervise s6-svc s6-svwait s6-svstat s6-notifyoncheck s6-log s6-setuidgid execlineb
  dockerd docker docker-compose node npm
  "$VENV/bin/kubernetes-validate" "$NODE_DIR/node_modules/.bin/dclint" "$CHECKOV_VENV/bin/checkov")
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

# pinned Python packages in the venv: supervisor (the real daemon and its parser),
# jsonschema (validates the fixtures against `manifest schema`), kubernetes-validate
PIP_PKGS=("supervisor==$SUPERVISOR" "jsonschema==4.26.0" "kubernetes-validate==$KVALIDATE")
have_pip() { # NAME==VERSION
  [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c \
    "import importlib.metadata as m; print(m.version('${1%%==*}'))" 2>/dev/null)" = "${1##*==}" ]
}
for pkg in "${PIP_PKGS[@]}"; do
  if ! have_pip "$pkg"; then
    log "pip: installing $pkg into $VENV"
    [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "$pkg"
    have_pip "$pkg"
  else
    log "pip: $pkg present in $VENV"
  fi
done

# checkov pins many libraries of its own: a venv of its own (about 40 s cold)
if [ "$("$CHECKOV_VENV/bin/checkov" --version 2>/dev/null || true)" != "$CHECKOV" ]; then
  log "pip: installing checkov==$CHECKOV into $CHECKOV_VENV"
  [ -x "$CHECKOV_VENV/bin/python" ] || /usr/bin/python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV"
else
  log "pip: checkov==$CHECKOV present in $CHECKOV_VENV"
fi

if [ "$("$NODE_DIR/node_modules/.bin/dclint" --version 2>/dev/null || true)" != "$DCLINT" ]; then
  log "npm: installing dclint@$DCLINT into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  [ -f "$NODE_DIR/package.json" ] || (cd "$NODE_DIR" && npm init -y >/dev/null 2>&1)
  (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent "dclint@$DCLINT" >/dev/null)
else
  log "npm: dclint@$DCLINT present in $NODE_DIR"
fi

# dockerd the recipe's way (no systemd here; host networking only: no iptables, no bridge,
# no ip_forward), started and stopped once to prove it runs; the tests start their own
dockerd_smoke() {
  local w; w=$(mktemp -d /tmp/oi-dockerd.XXXXXX)
  # dockerd writes these outside its roots whatever the flags say: remove what it adds
  local strays=()
  for f in /etc/docker/key.json /run/docker /run/containerd; do [ -e "$f" ] || strays+=("$f"); done
  # (its containerd writes a stack dump to TMPDIR when signalled: kept inside $w)
  TMPDIR="$w" dockerd --data-root "$w/root" --exec-root "$w/x" --pidfile "$w/pid" -H "unix://$w/sock" \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
    --storage-driver=overlay2 --containerd-namespace oi-setup \
    --containerd-plugins-namespace oi-setup-plugins >"$w/log" 2>&1 &
  local pid=$! ok=1
  for _ in $(seq 100); do DOCKER_HOST=unix://$w/sock docker version >/dev/null 2>&1 && { ok=0; break; }; sleep 0.2; done
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  grep " $w/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  [ ${#strays[@]} -eq 0 ] || rm -rf "${strays[@]}"
  [ $ok = 0 ] || { log "dockerd did not start: $(tail -3 "$w/log")"; rm -rf "$w"; return 1; }
  rm -rf "$w"
}
dockerd_smoke

absent=()
for t in "${TOOLS[@]}"; do
  if [[ $t == /* ]]; then [ -e "$t" ] || absent+=("$t"); else command -v "$t" >/dev/null || absent+=("$t"); fi
done
if [ ${#absent[@]} -gt 0 ]; then
  log "missing after the install: ${absent[*]}"
  exit 1
fi
busybox sh -c 'true' || { log "busybox has no sh applet"; exit 1; }

log "systemd $(systemd-analyze --version | head -1 | cut -d' ' -f2), openrc $(dpkg-query -W -f='${Version}' openrc), supervisord $("$VENV/bin/supervisord" --version), busybox $(dpkg-query -W -f='${Version}' busybox), dockerd $(dpkg-query -W -f='${Version}' docker.io), docker-compose $(docker-compose version --short), dash $(dpkg-query -W -f='${Version}' dash), done in $(( $(date +%s) - T0 ))s"
