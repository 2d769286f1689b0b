"""Declarative Onboarding's core: a declaration -> this device's steps, or DO's errors."""
from __future__ import annotations

import pytest


from node.do.plan import Me, plan   # noqa: E402

BIGIP1 = Me("bigip1", frozenset({"10.1.1.11", "10.1.30.11"}))
BIGIP2 = Me("bigip2", frozenset({"10.1.1.12", "10.1.30.12"}))


def cluster(sync_ip: str, **extra) -> dict:
    """Our own declaration in the shape of F5's clustering example: members by management address."""
    return {"class": "Device", "schemaVersion": "1.45.0", "async": True, "Common": {
        "class": "Tenant",
        "configSync": {"class": "ConfigSync", "configsyncIp": sync_ip},
        "failoverAddress": {"class": "FailoverUnicast", "address": sync_ip},
        "failoverGroup": {"class": "DeviceGroup", "type": "sync-failover", "members": ["10.1.1.11", "10.1.1.12"],
                          "owner": "/Common/failoverGroup/members/0", "autoSync": True, "networkFailover": True},
        "trust": {"class": "DeviceTrust", "localUsername": "admin", "localPassword": "admin",
                  "remoteHost": "/Common/failoverGroup/members/0", "remoteUsername": "admin",
                  "remotePassword": "admin"}, **extra}}


def test_the_owner_makes_the_group_and_asks_no_one():
    steps, errors = plan(cluster("10.1.30.11"), BIGIP1, {("cm device", "/Common/bigip1"): {}})
    assert errors == [] and steps.owner and steps.trust is None
    assert [(op.action, op.type, op.values) for op in steps.ops] == [
        ("modify", "cm device", {"configsync-ip": ("set", "10.1.30.11")}),
        ("modify", "cm device", {"unicast-address": ("set", ["10.1.30.11"])})]
    assert steps.group["members"] == ["10.1.1.11", "10.1.1.12"] and steps.group["values"]["auto-sync"] == "enabled"


def test_another_member_asks_the_remote_host_to_trust_it():
    steps, errors = plan(cluster("10.1.30.12"), BIGIP2, {})
    assert errors == [] and not steps.owner and steps.trust["remoteHost"] == "10.1.1.11"


def test_unsupported_classes_and_a_foreign_hostname_are_refused():
    decl = cluster("10.1.30.11", hostname="other.example.com", snmp={"class": "SnmpAgent", "contact": "ops"},
                   system={"class": "System", "hostname": "other.example.com"})
    steps, errors = plan(decl, BIGIP1, {})
    assert steps is None and errors[0].startswith("/Common/hostname: this lab's device is bigip1")
    assert errors[1].startswith('/Common/snmp/class: class "SnmpAgent" is not supported by this lab')
    assert errors[2].startswith("/Common/system/hostname: this lab's device is bigip1")


def test_schema_errors_have_pointers():
    decl = cluster("10.1.30.11")
    decl["Common"]["failoverGroup"]["type"] = "sync-sometimes"
    del decl["Common"]["trust"]["remoteHost"]
    assert plan(decl, BIGIP1, {})[1] == ["/Common/failoverGroup/type: should be equal to one of the allowed values",
                                        "/Common/trust: should have required property 'remoteHost'"]


def test_local_classes_become_ops():
    decl = {"class": "Device", "schemaVersion": "1.0.0", "Common": {
        "class": "Tenant", "hostname": "bigip1.example.com",
        "prov": {"class": "Provision", "ltm": "nominal", "gtm": "nominal"},
        "app": {"class": "VLAN", "tag": 100, "interfaces": [{"name": "app", "tagged": False}]},
        "app-self": {"class": "SelfIp", "address": "10.1.50.11/24", "vlan": "app", "allowService": "none"},
        "default": {"class": "Route", "gw": "10.1.50.1", "network": "default"},
        "ops": {"class": "User", "userType": "regular", "password": "S3cret!",
                "partitionAccess": {"all-partitions": {"role": "operator"}}}}}
    steps, errors = plan(decl, BIGIP1, {("sys provision", "/Common/ltm"): {}})
    assert errors == []
    assert [(op.action, op.type, op.path) for op in steps.ops] == [
        ("modify", "sys provision", "/Common/ltm"), ("create", "sys provision", "/Common/gtm"),
        ("create", "net vlan", "/Common/app"), ("create", "net self", "/Common/app-self"),
        ("create", "net route", "/Common/default"), ("create", "auth user", "/Common/ops")]
    assert steps.ops[-1].values["role"] == ("set", "operator")


def test_system_dns_and_ntp_set_the_device_singletons():
    decl = {"class": "Device", "schemaVersion": "1.0.0", "Common": {
        "class": "Tenant", "sys": {"class": "System", "hostname": "bigip1.example.com"},
        "dns": {"class": "DNS", "nameServers": ["10.1.1.53"], "search": ["lab.example"]},
        "ntp": {"class": "NTP", "servers": ["10.1.1.123"], "timezone": "UTC"}}}
    builtin = {("sys dns", "/Common/dns"): {}, ("sys ntp", "/Common/ntp"): {}}
    steps, errors = plan(decl, BIGIP1, builtin)
    assert errors == []
    assert [(op.action, op.type, op.path, op.values) for op in steps.ops] == [
        ("modify", "sys dns", "/Common/dns", {"name-servers": ("set", ["10.1.1.53"]),
                                              "search": ("set", ["lab.example"])}),
        ("modify", "sys ntp", "/Common/ntp", {"servers": ("set", ["10.1.1.123"]), "timezone": ("set", "UTC")})]


async def test_rest_bad_declaration_is_400_and_info_answers(tmp_path):
    from tests.unit.test_rest_commands import Shell, client, rest_app
    async with client(rest_app(tmp_path, Shell())) as c:
        r = await c.post("/mgmt/shared/declarative-onboarding", json={"class": "Device", "schemaVersion": "1.0.0",
                                                                       "Common": {"class": "Tenant",
                                                                                  "x": {"class": "Analytics"}}})
        assert r.status_code == 400 and r.json()["result"]["status"] == "ERROR"
        assert r.json()["result"]["message"] == "bad declaration"
        info = (await c.get("/mgmt/shared/declarative-onboarding/info")).json()[0]
        assert info["result"]["status"] == "OK" and info["schemaMinimum"] == "1.0.0"
