"""F5's published AS3 example declarations that the lab deploys unmodified stay deployable. The
examples are F5's files, not the project's: the test reads them from a checkout of
f5-appsvcs-extension named by AS3_EXAMPLES (its examples/declarations directory) and is skipped
without one; bench/as3_examples.py counts all of them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = os.environ.get("AS3_EXAMPLES")
# a chosen set across the classes: services, pools, shared nodes, persistence, GSLB, Service_Address, TLS
CHOSEN = ("example-one-tenant-three-applications.json", "example-one-application-multiple-services.json",
          "example-http-custom-persistence.json", "example-sharenodes-first.json", "example-service-generic.json",
          "example-udp-virtual-service.json", "example-vs-listening-on-multiple-ports.json",
          "example-service-address-with-source-address.json", "example-gslb-pools.json",
          "example-gslb-depends-on.json", "example-mask-constants.json", "example-source-address-vs.json",
          # TLS: encrypted keys with their passphrase, {bigip} files and profiles, TLS_Server / TLS_Client settings, CA bundles
          "example-client-and-server-tls-profile-in-one-declaration.json", "example-matchtosni-with-tls-server-profile.json",
          "example-reference-ssl-cert-and-key-in-common.json", "example-tls-client-and-server-ssl-protocol.json",
          "example-http-no-compression-tcp-profile-irule-for-pool.json", "example-modifying-tls-options.json",
          "example-multiple-ssl-tls-certs-in-one-profile.json", "example-tls-client-and-server-advanced-settings.json",
          "example-client-and-server-tls-profile-using-shared-certs.json", "example-tls-server-authenticationMode.json",
          # settings the lab stores: TCP and fastL4 profiles, a service's, a pool's, cookie encryption
          "example-l4-profile.json", "example-s3-tcp-profile.json", "example-tcp-options-in-tcp-profile.json",
          "example-service-admin-state.json", "example-metadata.json", "example-pool-with-metadata.json",
          "example-pool-allow-nat-allow-snat.json", "example-persist-ttl.json", "example-nat64.json",
          "example-service-generic-with-shareAddress.json", "example-service-tcp-with-service-down-action.json",
          "example-service-address-with-server-scope.json", "example-serverssl-use-sni.json",
          "example-http-multiplex-properties.json",
          # monitor types the lab stores with their settings (ltm and gtm)
          "example-ftp-monitor.json", "example-http2-monitor.json", "example-https-monitor.json",
          "example-https-monitor2.json", "example-mysql-monitor.json", "example-postgresql-monitor.json",
          "example-gslb-TCP-half-monitor-type.json", "example-gslb-bigip-monitor.json", "example-gslb-monitor-https.json",
          "example-gslb-monitor-ldap.json", "example-gslb-monitor-mysql.json", "example-gslb-monitor-sip.json",
          "example-gslb-monitor-smtp.json", "example-tls-server-naming-scheme.json",
          # Service_Forwarding (ip-forward virtuals on 0.0.0.0 with sources), a pool with several monitors
          "example-multiple-fwd-vs.json", "example-tcp-udp-monitors.json",
          # a virtual on some VLANs only (allowVlans)
          "example-vs-specific-vlans.json",
          # STARTTLS (an smtps profile with the client-ssl one on a Service_TCP; LDAP's client-ldap and
          # server-ldap with the TLS profiles on a Service_UDP, DTLS on a BIG-IP)
          "example-smtps-starttls.json", "example-ldap-starttls.json",
          # a GTM server virtual-server named with parentheses
          "example-gslb-server-serverType.json",
          # hash persistence with its iRule (stored only)
          "example-referencing-irules-pool.json",
          # pool members with their own monitors (stored-only types: dns, inband, ldap, radius)
          "example-dns-monitor.json", "example-inband-monitor.json", "example-ldap-monitor.json",
          "example-radius-monitor.json",
          # named nodes (servers: [{name, address}])
          "example-static-named-pool-members.json",
          # event-driven service discovery (the pool empty until nodes are posted to its task)
          "example-event-driven-sd.json", "example-sd-static-and-event.json",
          # GSLB regions with location terms (stored; no lab client has a location)
          "example-gslb-topology-regions.json",
          # bodies for /settings
          "example-disable-service-discovery.json", "example-enable-burst-handling.json",
          # GSLB virtual servers with their monitors, a pool member naming a Service (a discovered virtual)
          "example-gslb-service-virtual-server-minimum-monitor.json", "example-gslb-pool-virtual-server-use-ref.json",
          # static persistence, a CNAME pool on an A wide IP
          "example-gslb-pool-naptr.json", "example-gslb-pools_with_poolsCname.json",
          # GSLB iRules, prober pools, several pool monitors (stored)
          "example-gslb-features.json", "example-gslb-wideip-naptr.json",
          # SSL forward proxy (proxyCertificate, bypass allow list), a hybrid profile of RSA and ECDSA
          "example-tls-server-and-client-forward-proxy.json", "example-tls-server-forwardProxyBypassAllowList.json",
          "example-tls-server-and-client-authentication-depth.json", "example-tls-server-multiple-certs-hybrid.json",
          # route domains (the bench makes 1, 2 and 100 first): a tenant's default, %ID addresses, members'
          "example-node-monitor.json", "example-pool-member-route-domain.json",
          "example-use-nonDefaultRouteDomain-virtualAddresses.json", "example-useCommonRouteDomainTenant.json",
          "example-virtualserver-name-with-routedomainIdentifier.json")


@pytest.mark.skipif(not EXAMPLES, reason="AS3_EXAMPLES (F5's examples/declarations) not given")
def test_chosen_published_examples_validate_and_deploy():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "as3_examples.py"), EXAMPLES, "--only", *CHOSEN],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert (got["examples"], got["deployed"]) == (len(CHOSEN), len(CHOSEN)), got["refused_by"]


# F5's examples for several requests in one body, targetHost, and classes refused by name: AS3's answers
ANSWERS = {
    "example-multiple-declarations-bigiq.json": "ok",      # `target` is BIG-IQ's: a BIG-IP deploys both here
    "example-multiple-declarations-container.json": "query target BIG-IP provisioning failed (connect ETIMEDOUT",
    "example-send-declaration-to-remote-big-ip-via-remote-sd.json": "service discovery in AWS is not supported",
    "example-data-group-token.json": "an external data group is not supported by this lab (it reaches no internet)",
    "example-cipher-group.json": 'class "Cipher_Group" is not supported by this lab',
    "example-route-domain-strings.json": 'class "DNS_Nameserver" is not supported by this lab'}


@pytest.mark.skipif(not EXAMPLES, reason="AS3_EXAMPLES (F5's examples/declarations) not given")
def test_published_examples_get_as3s_answers_not_schema_noise():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "as3_examples.py"), EXAMPLES, "--list", "--only",
                          *ANSWERS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = {line.split()[1]: line for line in out.stderr.splitlines() if line.startswith(("ok", "FAIL"))}
    for name, answer in ANSWERS.items():
        assert (lines[name].startswith("ok") if answer == "ok" else answer in lines[name]), lines[name]
