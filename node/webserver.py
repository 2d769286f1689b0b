"""The small HTTP server of a lab `server` node: answers every request with its own name and the
path, so a client sees which pool member served it (`web1 /hello`); the X-Client-Address header
says where the connection came from, and `/headers` echoes the request's headers.

It speaks HTTP/1.0 and 1.1 (keep-alive) and HTTP/0.9, because F5's default http monitor sends
the bare `GET /\\r\\n`, which Python's http.server would wait on for headers.

    python -m node.webserver NAME [PORT [CERTFILE KEYFILE]]     (with a certificate: HTTPS)
"""
from __future__ import annotations

import errno
import socketserver
import ssl
import sys
import time


def handler(name: str):
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            while True:
                line = self.rfile.readline(8192)
                if not line:
                    return
                words = line.decode("latin-1").split()
                if not words:
                    continue
                path = words[1] if len(words) > 1 else "/"
                body = f"{name} {path}\n".encode()
                if len(words) == 2:  # HTTP/0.9: the body alone, then close
                    self.wfile.write(body)
                    return
                keep_alive = len(words) == 3 and words[2] == "HTTP/1.1"
                headers = []
                while True:  # headers
                    h = self.rfile.readline(8192)
                    if h in (b"\r\n", b"\n", b""):
                        break
                    headers.append(h.decode("latin-1").rstrip("\r\n"))
                    if h.lower().startswith(b"connection:"):
                        keep_alive = b"keep-alive" in h.lower() or (keep_alive and b"close" not in h.lower())
                if not self.skip_body(headers):   # a body unread would be taken for the next request
                    return
                if path == "/headers":   # what arrived, for tests of what a proxy inserts
                    body += "".join(f"{h}\n" for h in headers).encode()
                status = "200 OK" if len(words) == 3 else "400 Bad Request"
                peer = "%s:%d" % self.client_address[:2]
                head = (f"{words[2] if len(words) == 3 else 'HTTP/1.0'} {status}\r\nServer: biglab-web\r\n"
                        f"X-Served-By: {name}\r\nX-Client-Address: {peer}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n").encode()
                self.wfile.write(head + (b"" if words[0] == "HEAD" else body))
                if not keep_alive:
                    return

        def skip_body(self, headers: list[str]) -> bool:
            """Read the request's body (Content-Length or chunked) and drop it; False if it is cut short
            or malformed (the connection then ends)."""
            fields = {k.strip().lower(): v.strip().lower() for k, _, v in (h.partition(":") for h in headers)}
            try:
                if "chunked" in fields.get("transfer-encoding", ""):
                    while True:
                        size = int(self.rfile.readline(8192).split(b";")[0], 16)
                        if size == 0:
                            while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                                pass   # trailers
                            return True
                        if len(self.rfile.read(size + 2)) != size + 2:
                            return False
                length = int(fields.get("content-length", "0"))
            except ValueError:
                return False
            return length >= 0 and len(self.rfile.read(length)) == length

    return Handler


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def listen(address: tuple[str, int], handler_class, wait: float = 5.0) -> Server:
    """The server, bound: a server restarted right after its predecessor was killed can find the
    port still held for the few moments the dying process takes to close it (a forked server
    starts in a millisecond), so it tries again until `wait` has passed."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return Server(address, handler_class)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2, 4):
        print("usage: python -m node.webserver NAME [PORT [CERTFILE KEYFILE]]", file=sys.stderr)
        return 2
    with listen(("0.0.0.0", int(argv[1]) if len(argv) > 1 else 80), handler(argv[0])) as server:
        if len(argv) == 4:   # TLS: each connection's handshake runs in its own handler thread
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(argv[2], argv[3])
            server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
