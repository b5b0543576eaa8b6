"""A TCP proxy that counts the bytes it forwards and injects network faults.

Modes: ``pass`` forwards bytes; ``refuse`` resets every new connection at once
(a host that refuses); ``delay`` holds each response for some seconds before
forwarding it (a slow target); ``cut`` forwards the request, then closes the
connection after the first bytes of the response (a connection cut
mid-response, after the target has done its work).
"""

import select
import socket
import threading
import time

# SO_LINGER on, zero seconds: close() sends RST, not FIN.
_RESET = b"\x01\x00\x00\x00\x00\x00\x00\x00"


class Proxy:
    """Listen on 127.0.0.1:``port`` (a free one by default), forward to ``upstream``.

    ``bytes`` counts what it forwarded both ways since the last ``reset()``.
    """

    def __init__(self, upstream: int, port: int = 0) -> None:
        self.upstream = upstream
        self.mode, self.delay = "pass", 0.0
        self.bytes = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def set(self, mode: str, delay: float = 0.0) -> None:
        """Switch the fault injected into new traffic."""
        self.mode, self.delay = mode, delay

    def reset(self) -> None:
        """Count bytes from zero again."""
        with self._lock:
            self.bytes = 0

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode == "refuse":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
                client.close()
                continue
            threading.Thread(
                target=self._pipe, args=(client, self.mode, self.delay), daemon=True
            ).start()

    def _forward(self, sink: socket.socket, data: bytes) -> None:
        # Counted first: once the bytes arrive, they show in ``bytes``.
        with self._lock:
            self.bytes += len(data)
        sink.sendall(data)

    def _pipe(self, client: socket.socket, mode: str, delay: float) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
        except OSError:
            client.close()
            return
        answered = False
        try:
            while not self._stopped.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.5)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        self._forward(upstream, data)
                        continue
                    if mode == "delay" and not answered:
                        time.sleep(delay)
                    if mode == "cut":
                        self._forward(client, data[:10])
                        return  # the target answered; the sender never learns how
                    self._forward(client, data)
                    answered = True
        except OSError:
            return
        finally:
            client.close()
            upstream.close()
