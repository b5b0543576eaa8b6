"""A stand-in for the master's API: a real HTTP server in a thread.

It serves what SyncApiJob reads, from plain lists a test fills: the platforms
list filtered by uuid or domain, and the syncs-for-platform list filtered by
role and paginated, both behind Bearer tokens, as the real API answers.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class ReceivedGet:
    """One GET as the master received it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names


@dataclass
class MasterApi:
    """The master's data (as its API shows it) and what it was asked."""

    tokens: set[str] = field(default_factory=set)
    platforms: list[dict] = field(default_factory=list)
    syncs: list[dict] = field(default_factory=list)
    page_size: int = 50
    requests: list[ReceivedGet] = field(default_factory=list)

    def answer(self, request: ReceivedGet) -> tuple[int, object]:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return 401, {"error": "not_authenticated", "detail": "Invalid token."}
        if request.path == "/api/platforms/":
            found = [
                p
                for p in self.platforms
                if all(str(p.get(k)) == v for k, v in request.query.items())
            ]
            return 200, self._page(found, 1)
        parts = request.path.strip("/").split("/")
        if (
            len(parts) == 4
            and parts[:2] == ["api", "platforms"]
            and parts[3] == "syncs"
        ):
            return 200, self._syncs_of(int(parts[2]), request.query)
        return 404, {"error": "not_found", "detail": "Not found."}

    def _syncs_of(self, platform_id: int, query: dict) -> dict:
        role = query.get("role", "source")
        sides = {
            "source": ["source"],
            "target": ["target"],
            "any": ["source", "target"],
        }
        found = [
            s
            for s in self.syncs
            if any(s[f"{side}_platform"] == platform_id for side in sides[role])
        ]
        return self._page(found, int(query.get("page", 1)))

    def _page(self, items: list, page: int) -> dict:
        start = (page - 1) * self.page_size
        more = len(items) > start + self.page_size
        return {
            "count": len(items),
            "next": f"http://master/?page={page + 1}" if more else None,
            "previous": None,
            "results": items[start : start + self.page_size],
        }


class MasterPeer:
    """Serve a MasterApi on 127.0.0.1 from a thread."""

    def __init__(self, api: MasterApi | None = None) -> None:
        self.api = api or MasterApi()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> "MasterPeer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _respond(self, request: ReceivedGet) -> tuple[int, object]:
        with self._lock:
            self.api.requests.append(request)
            return self.api.answer(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                request = ReceivedGet(
                    path=url.path,
                    query=query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                )
                status, answer = peer._respond(request)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args) -> None:
                pass  # keep test output clean

        return Handler
