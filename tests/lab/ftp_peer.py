"""An FTP server (pyftpdlib) and a client (the standard library's ftplib) for an FTP virtual. Run
in a lab namespace; prints JSON lines.

    python -m tests.lab.ftp_peer server ADDRESS PORT   # anonymous, one file (hello.txt); prints
                                                       # {"listening": PORT}, then each login's
                                                       # {"control_from": ADDRESS}
    python -m tests.lab.ftp_peer client VIP PORT       # fetches hello.txt passive, then active;
                                                       # prints the PASV answer and each transfer
"""
from __future__ import annotations

import ftplib
import json
import sys
import tempfile
from pathlib import Path

CONTENT = "hello through the ftp helper\n"


def say(**what) -> None:
    print(json.dumps(what), flush=True)


def server(address: str, port: int) -> None:
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    root = tempfile.mkdtemp(prefix="ftp-peer-")
    Path(root, "hello.txt").write_text(CONTENT)
    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(root)

    class Handler(FTPHandler):
        def on_login(self, username):
            say(control_from=self.remote_ip)

    Handler.authorizer = authorizer
    Handler.passive_ports = range(40000, 40100)
    ftpd = FTPServer((address, port), Handler)
    say(listening=port)
    ftpd.serve_forever()


def client(vip: str, port: int) -> None:
    ftp = ftplib.FTP()
    ftp.trust_server_pasv_ipv4_address = True   # connect where the PASV answer says (the helper rewrote it)
    ftp.connect(vip, port, timeout=10)
    ftp.login()
    say(pasv=ftp.sendcmd("PASV"))
    for passive in (True, False):
        ftp.set_pasv(passive)
        got = []
        ftp.retrlines("RETR hello.txt", got.append)
        say(mode="passive" if passive else "active", got=got)
    ftp.quit()


if __name__ == "__main__":
    {"server": server, "client": client}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
