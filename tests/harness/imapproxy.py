"""A loopback TCP proxy in front of the test IMAP server that can hold back a client's next
UID MOVE (or COPY), so a test can kill the client at that exact moment.

The poller commits a batch and then asks the server to file it. A kill between the two
is the crash window that matters most and lasts only a few milliseconds; timing a kill
from outside cannot hit it reliably. Held here, the MOVE never reaches the server, so
the kill lands inside the window every time.
"""
from __future__ import annotations

import re
import socket
import threading
from types import TracebackType

_FILING = re.compile(rb"UID (?:MOVE|COPY) ")


class HoldingProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = "127.0.0.1", self.listener.getsockname()[1]
        self.armed = threading.Event()
        self.held = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def hold_next_move(self) -> None:
        self.held.clear()
        self.armed.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        tail = b""
        try:
            while chunk := source.recv(65536):
                if from_client and self.armed.is_set() and _FILING.search(tail + chunk):
                    self.armed.clear()
                    self.held.set()
                    while source.recv(65536):
                        pass
                    break
                tail = chunk[-32:]
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self.listener.close()

    def __enter__(self) -> "HoldingProxy":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
