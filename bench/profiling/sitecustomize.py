"""Profile a bench platform's worker tasks and web requests (cProfile).

Imported at start-up by every Python process whose PYTHONPATH holds this
folder; does something only when BENCH_PROFILE_DIR is set (``live_sync.py
--profile DIR``). Each Celery task and each request runs under its thread's
profiler; the stats are written to DIR every few seconds, one file per
process and thread, named after the platform.
"""

import cProfile
import os
import sys
import threading
import time

FOLDER = os.environ.get("BENCH_PROFILE_DIR")
EVERY = 2.0  # seconds between writes of a thread's stats
_local = threading.local()


def _profiler(kind: str) -> cProfile.Profile:
    if getattr(_local, "profiler", None) is None:
        _local.profiler, _local.written = cProfile.Profile(), time.monotonic()
        platform = os.environ.get("SYNC_PLATFORM_DOMAIN", "x").replace(":", "_")
        _local.path = os.path.join(
            FOLDER, f"{platform}-{kind}-{os.getpid()}-{threading.get_ident()}.prof"
        )
    return _local.profiler


def _stop(force: bool = False) -> None:
    profiler = getattr(_local, "profiler", None)
    if profiler is None:
        return
    profiler.disable()
    if force or time.monotonic() - _local.written > EVERY:
        profiler.dump_stats(_local.path)
        _local.written = time.monotonic()


def _celery_hooks() -> None:
    from celery import signals

    def start(**kwargs):
        _profiler("worker").enable()

    def stop(**kwargs):
        _stop()

    def shutdown(**kwargs):
        _stop(force=True)

    signals.task_prerun.connect(start, weak=False)
    signals.task_postrun.connect(stop, weak=False)
    signals.worker_process_shutdown.connect(shutdown, weak=False)


def _web_hooks() -> None:
    from django.core.handlers.wsgi import WSGIHandler

    call = WSGIHandler.__call__

    def profiled(self, environ, start_response):
        _profiler("web").enable()
        try:
            return call(self, environ, start_response)
        finally:
            _stop()

    WSGIHandler.__call__ = profiled


if FOLDER:
    program = os.path.basename(sys.argv[0]) if sys.argv else ""
    if program == "celery":
        _celery_hooks()
    elif program == "gunicorn":
        _web_hooks()
