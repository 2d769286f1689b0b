#!/bin/sh
# PID 1 of a biglab node container. The lab starts the node's daemon or server with docker exec
# once the container is wired. `docker stop` (SIGTERM) asks every process to end, as a shutdown
# would, waits up to 2 s for them, then ends the container (the kernel kills what is left).
stop() {
    kill -TERM -1 2>/dev/null
    i=0
    while [ $i -lt 20 ] && kill -0 -1 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    exit 0
}
trap stop TERM INT
while :; do sleep 3600 & wait $!; done
