"""HTTP/1.1 requests as iControl REST's server reads them (hypercorn's h11, with the REST server's
64 KiB limit on an incomplete request): events, or h11's RemoteProtocolError (a 400), nothing else.
The input is split into chunks, as requests arrive from a socket."""
import atheris

from common import main

with atheris.instrument_imports(include=["h11"]):
    import h11

MAX_INCOMPLETE = 64 * 1024   # node/rest/server.py: config.h11_max_incomplete_size
SEEDS = [b"GET /mgmt/tm/sys HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n",
         b"POST /mgmt/tm/ltm/pool HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Content-Length: 13\r\n\r\n{\"name\":\"p\"}\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
         b"PATCH /mgmt/tm/ltm/pool/~Common~p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n"]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_INCOMPLETE)
    try:
        while fdp.remaining_bytes():
            conn.receive_data(fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 512)))
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA or event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                    break
                if isinstance(event, h11.EndOfMessage):
                    conn.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
                    conn.send(h11.EndOfMessage())
                    if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                        return   # HTTP/1.0 or `Connection: close`: the server closes
                    conn.start_next_cycle()
    except h11.RemoteProtocolError:
        pass


if __name__ == "__main__":
    main(one_input, SEEDS)
