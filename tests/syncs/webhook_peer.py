"""A real HTTP peer for delivery tests: records each request, answers as scripted.

Answers come, in this order of preference, from a rule whose marker is in the
body, from the queue of scripted answers, or from the default answer (202).
"""

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    """What the peer answers to one request."""

    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"accepted": 0, "duplicates": 0}'


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the peer received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)


class WebhookPeer:
    """An HTTP server on 127.0.0.1 in a thread, standing in for a target platform."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.default = Answer()
        self._answers: deque[Answer] = deque()
        self._rules: list[tuple[bytes, Answer]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )

    @property
    def domain(self) -> str:
        """Return the host:port a Platform row points at to reach this peer."""
        return f"127.0.0.1:{self._server.server_port}"

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order."""
        with self._lock:
            self._answers.extend(answers)

    def answer_bodies_with(self, marker: bytes, answer: Answer) -> None:
        """Answer every request whose body contains ``marker`` with ``answer``."""
        with self._lock:
            self._rules.append((marker, answer))

    def start(self) -> "WebhookPeer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "WebhookPeer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _respond_to(self, request: ReceivedRequest) -> Answer:
        with self._lock:
            self.requests.append(request)
            for marker, answer in self._rules:
                if marker in request.body:
                    return answer
            return self._answers.popleft() if self._answers else self.default

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = ReceivedRequest(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
                answer = peer._respond_to(request)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format, *args) -> None:
                pass  # keep test output clean

        return Handler


def closed_domain() -> str:
    """Return a 127.0.0.1 host:port where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"
