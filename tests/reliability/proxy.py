"""A TCP proxy between platforms that injects network faults on demand.

Modes: ``pass`` forwards bytes; ``refuse`` closes every new connection at
once (as a host that refuses); ``delay`` holds each response for some seconds
before forwarding it (a slow target); ``cut`` forwards the request, then
closes the connection after the first bytes of the response (a connection
cut mid-response, after the target has done its work).
"""

import select
import socket
import threading
import time


class FaultProxy:
    """Listen on 127.0.0.1:``port`` and forward to 127.0.0.1:``upstream``."""

    def __init__(self, port: int, upstream: int) -> None:
        self.port, self.upstream = port, upstream
        self.mode = "pass"
        self.delay = 0.0
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self._server.settimeout(0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def set(self, mode: str, delay: float = 0.0) -> None:
        """Switch the fault injected into new traffic."""
        self.mode, self.delay = mode, delay

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
            self.connections += 1
            if self.mode == "refuse":
                client.setsockopt(
                    socket.SOL_SOCKET,
                    socket.SO_LINGER,
                    b"\x01\x00\x00\x00\x00\x00\x00\x00",
                )
                client.close()  # RST: the client sees a refused/reset connection
                continue
            threading.Thread(
                target=self._pipe, args=(client, self.mode, self.delay), daemon=True
            ).start()

    def _pipe(self, client: socket.socket, mode: str, delay: float) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
        except OSError:
            client.close()
            return
        sent_back = 0
        try:
            while not self._stopped.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.5)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        upstream.sendall(data)
                        continue
                    if mode == "delay" and sent_back == 0:
                        time.sleep(delay)
                    if mode == "cut":
                        client.sendall(data[:10])
                        return  # the target answered; the sender never learns how
                    client.sendall(data)
                    sent_back += len(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()
