"""A loopback TCP proxy in front of the test IMAP server that can hold back a client's next
command of a kind (a UID MOVE, a FETCH of bodies), so a test can act at that exact moment.

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

FILING = re.compile(rb"UID (?:MOVE|COPY) ")
FETCHING_BODIES = re.compile(rb"UID FETCH \S+ \(BODY\.PEEK\[\]\)")


class HoldingProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = "127.0.0.1", self.listener.getsockname()[1]
        self.pattern: re.Pattern[bytes] | None = None
        self.held = threading.Event()
        self.released = threading.Event()
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hold_next(self, pattern: re.Pattern[bytes]) -> None:
        """Hold the next command matching `pattern` until `release()` (or for good: kill the client).
        `held` is set when it arrives."""
        self.held.clear()
        self.released.clear()
        self.pattern = pattern

    def release(self) -> None:
        self.released.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        tail = b""
        try:
            while chunk := source.recv(65536):
                pattern = self.pattern
                if from_client and pattern is not None and pattern.search(tail + chunk):
                    self.pattern = None
                    self.held.set()
                    if not self.released.wait(timeout=120) or self.closing:
                        break
                tail = chunk[-64:]
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
        self.closing = True
        self.released.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in accept()
        except OSError:
            pass
        self.listener.close()

    def __enter__(self) -> "HoldingProxy":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
