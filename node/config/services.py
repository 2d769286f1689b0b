"""Well-known ports by the names a BIG-IP's tmsh prints them with (`10.1.10.100:http`), from the
services table F5 ships; tmsh takes either form and the configuration keeps the number."""
from __future__ import annotations

NAMES = {0: "any", 20: "ftp-data", 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 69: "tftp",
         80: "http", 110: "pop3", 119: "nntp", 123: "ntp", 137: "netbios-ns", 138: "netbios-dgm",
         139: "netbios-ssn", 143: "imap", 161: "snmp", 162: "snmptrap", 179: "bgp", 389: "ldap", 443: "https",
         445: "microsoft-ds", 465: "smtps", 514: "syslog", 554: "rtsp", 636: "ldaps", 993: "imaps", 995: "pop3s",
         1433: "ms-sql-s", 1521: "ncube-lm", 1645: "sightline", 1812: "radius", 1813: "radius-acct",
         3306: "mysql", 3389: "ms-wbt-server", 5060: "sip", 8080: "webcache", 8443: "pcsync-https"}
NUMBERS = {name: port for port, name in NAMES.items()}


def port_name(port: int | str) -> str:
    """80 -> `http`; a port without a well-known name stays a number."""
    return NAMES.get(int(port), str(port))


def port_number(word: str) -> int | None:
    """`http` or `80` -> 80; None for a word that is neither."""
    if word.isdigit():
        return int(word)
    return NUMBERS.get(word)
