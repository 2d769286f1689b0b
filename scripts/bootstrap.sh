#!/usr/bin/env bash
# Set-up for a fresh Debian/Ubuntu machine, run as root by `make`: the Debian packages the
# lab and its tests use, then .venv with the project installed. Idempotent and quick when done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ip >/dev/null || need+=(iproute2)
command -v ps >/dev/null || need+=(procps)
command -v ping >/dev/null || need+=(iputils-ping)
command -v curl >/dev/null || need+=(curl)
command -v wrk >/dev/null || need+=(wrk)          # bench/ltm.py
command -v dig >/dev/null || need+=(dnsutils)     # dig from the gtm-3dc clients
command -v dnsperf >/dev/null || need+=(dnsperf)  # bench/dns.py
command -v named >/dev/null || need+=(bind9)      # bench/dns.py: BIND beside the GTM listener
command -v nft >/dev/null || need+=(nftables)     # chaos: block, unblock, partition; fastL4 virtuals
command -v conntrack >/dev/null || need+=(conntrack)  # tests/lab/test_ltm_dataplane.py reads the tables
command -v haproxy >/dev/null || need+=(haproxy)    # bench/ltm.py: the anchor beside the virtuals
command -v tcpdump >/dev/null || need+=(tcpdump)  # biglab capture
command -v tc >/dev/null || need+=(iproute2)      # chaos: netem
command -v dot >/dev/null || need+=(graphviz)     # biglab web: the topology diagram
command -v chromium >/dev/null || need+=(chromium)             # tests/lab/test_web.py: the page in a real browser
command -v chromedriver >/dev/null || need+=(chromium-driver)  # ... driven by Selenium, no browser download
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
python3 -c 'import tkinter; tkinter.Tcl()' 2>/dev/null || need+=(python3-tk tcl8.6)  # iRules and iApps run in real Tcl
if [ ${#need[@]} -gt 0 ]; then
    echo "bootstrap: installing Debian packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
    if [[ " ${need[*]} " == *" bind9 "* ]] && command -v systemctl >/dev/null; then
        systemctl disable --now named >/dev/null 2>&1 || true   # only bench/dns.py runs named, in a lab
    fi
fi

if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv"
    python3 -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "bootstrap: installing biglab into .venv"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e '.[test]'
    touch "$stamp"
fi
