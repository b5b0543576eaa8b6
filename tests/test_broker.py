"""The filesystem transport writes each message whole, then renames it in."""

import os

from kombu import Connection

import mooxsync.celery  # noqa: F401  (registers the atomic filesystem transport)
from syncs.broker import Transport


def test_filesystem_urls_use_the_atomic_transport(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://localhost//", transport_options=options) as conn:
        assert isinstance(conn.transport, Transport)


def test_a_message_is_never_visible_half_written(tmp_path, monkeypatch):
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
    }
    seen_while_writing = []
    real_replace = os.replace

    def watching_replace(source, target):
        # Just before the rename: only the hidden part file may exist.
        seen_while_writing.extend(n for n in os.listdir(tmp_path) if n.endswith(".msg"))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", watching_replace)
    with Connection("filesystem://localhost//", transport_options=options) as conn:
        queue = conn.SimpleQueue("q")
        queue.put({"hello": "world"})
        assert queue.get(timeout=1).payload == {"hello": "world"}
        queue.close()
    assert seen_while_writing == []
