#!/usr/bin/env bash
# Make sure dockerd runs, for the container backend (`make image`, `.ci/run`), as root:
# install docker.io (and debootstrap, for images without a registry) if missing, start dockerd in
# the background with its log in $DOCKERD_LOG, wait for it. (dockerd's FORWARD policy DROP does not
# touch a lab: its bridges are in a namespace of its own, lab/runtime/wiring.py.)
# Exit status 0 when dockerd answers, 1 (with the log's tail) when it cannot start.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=${DOCKERD_LOG:-/var/log/biglab-dockerd.log}
PY=.venv/bin/python

if ! command -v dockerd >/dev/null; then
    # iptables first (dockerd needs it): installing docker.io may start dockerd at once (systemd)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || exit 1
    if ! command -v iptables >/dev/null; then
        apt-get install -y -qq --no-install-recommends iptables >/dev/null || exit 1
    fi
    echo "dockerd: installing docker.io"
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null || exit 1
fi
if ! command -v debootstrap >/dev/null; then  # make image without a registry (lab/runtime/image.py)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } \
        || echo "dockerd: could not install debootstrap: make image needs a registry then" >&2
fi
if "$PY" -m lab.runtime.backends.docker ping >/dev/null 2>&1; then
    echo "dockerd: already running"
    exit 0
fi
if [ -S /var/run/docker.sock ] && pgrep -x dockerd >/dev/null; then
    echo "dockerd: running but not answering yet"
else
    echo "dockerd: starting (log: $LOG)"
    # without the caller's other open files: a lock the caller holds (flock) must not live on in dockerd
    (for fd in /proc/$BASHPID/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
     exec nohup dockerd >>"$LOG" 2>&1 </dev/null) &
fi
for _ in $(seq 1 150); do
    if "$PY" -m lab.runtime.backends.docker ping >/dev/null 2>&1; then
        echo "dockerd: up"
        exit 0
    fi
    sleep 0.2
done
echo "dockerd: did not start within 30 s; the end of $LOG:" >&2
tail -n 20 "$LOG" >&2
exit 1
