"""The harness (harness/) that end-to-end tests and benchmarks share."""

import socket
import socketserver
import subprocess
import sys
import threading

import pytest

from demo.cluster import PlatformSpec
from harness.cluster import PlatformProcess
from harness.processes import cpu_seconds, free_port, process_tree
from harness.proxy import Proxy


@pytest.fixture
def platform(tmp_path) -> PlatformProcess:
    """A platform laid out but not started: code runs in its env all the same."""
    spec = PlatformSpec(key="h", name="H", port=free_port(), folder=tmp_path)
    return PlatformProcess(spec, spec.env())


def test_call_runs_a_function_in_the_platforms_env_with_json_arguments(platform):
    found = platform.call("os.getenv", "SYNC_PLATFORM_DOMAIN", None)

    assert found == platform.spec.domain


def test_a_call_that_raises_fails_naming_the_platform_and_the_error(platform):
    with pytest.raises(AssertionError, match=r"(?s)^h: .*ModuleNotFoundError"):
        platform.call("no_such_module.function")


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(1024):
            self.request.sendall(data.upper())


@pytest.fixture
def proxy():
    """A proxy in front of a TCP server that answers what it gets, upper-cased."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = Proxy(server.server_address[1])
    yield proxy
    proxy.close()
    server.shutdown()
    server.server_close()


def _exchange(proxy: Proxy, message: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(message)
        return sock.recv(1024)


def test_the_proxy_forwards_and_counts_the_bytes_both_ways(proxy):
    assert _exchange(proxy, b"hello, target") == b"HELLO, TARGET"
    assert proxy.bytes == 2 * len(b"hello, target")

    proxy.reset()

    assert proxy.bytes == 0


def test_a_refusing_proxy_resets_new_connections(proxy):
    proxy.set("refuse")

    with pytest.raises(ConnectionResetError):
        _exchange(proxy, b"anyone there?")


def test_a_cut_connection_ends_after_the_first_bytes_of_the_answer(proxy):
    proxy.set("cut")

    assert _exchange(proxy, b"a long request body") == b"A LONG REQ"


def test_cpu_seconds_counts_the_children_of_a_process_tree():
    # A child that burns about 0.3 s of CPU, then waits to be counted.
    code = (
        "import sys, time\n"
        "end = time.process_time() + 0.3\n"
        "while time.process_time() < end: pass\n"
        "print('busy', flush=True); sys.stdin.read()"
    )
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {code!r}])",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout.readline() == "busy\n"
        tree = process_tree(parent.pid)
        assert len(tree) == 2 and tree[0] == parent.pid
        assert cpu_seconds(parent.pid) >= 0.25
    finally:
        parent.communicate("")
