"""Start, wait for and stop the processes of the harness's platforms and sites."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import closing, suppress
from pathlib import Path


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float = 30, every: float = 0.2):
    """Call ``check`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"Timed out after {timeout}s; last value: {last!r}")


def wait_for(what: str, check: Callable[[], object], timeout: float = 30):
    """Return ``check``'s first truthy value; fail saying ``what`` did not happen."""
    try:
        return wait_until(check, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"Expected {what}, but: {exc}") from None


def process_env(values: dict[str, str]) -> dict[str, str]:
    """Return ``values`` with the few variables of ours a child process needs."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep} | values


def process_spawn(
    args: list[str], *, cwd: Path, env: dict[str, str], log: Path
) -> subprocess.Popen:
    """Start ``args`` in a session of its own, its output appended to ``log``."""
    output = open(log, "ab")  # noqa: SIM115  (closed with the process)
    return subprocess.Popen(
        args,
        cwd=cwd,
        env=process_env(env),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def web_command(bin_dir: Path, app: str, bind: str, *options: str) -> list[str]:
    """Return the command of a gunicorn serving ``app``.wsgi at ``bind``."""
    gunicorn = [str(bin_dir / "gunicorn"), f"{app}.wsgi", "--bind", bind]
    return [*gunicorn, "--threads", "4", *options]


def worker_command(bin_dir: Path, app: str, key: str, folder: Path) -> list[str]:
    """Return the command of ``app``'s Celery worker with beat, named ``key``."""
    celery = [str(bin_dir / "celery"), "-A", app, "worker", "-B", "--loglevel", "INFO"]
    schedule = ["--schedule", str(folder / "celerybeat-schedule")]
    return [*celery, "--concurrency", "2", "--hostname", f"{key}@%h", *schedule]


# Seconds a process has to shut down on SIGTERM before its group is killed.
STOP_SECONDS = 10


def processes_stop(*processes: subprocess.Popen | None) -> None:
    """Stop processes together; return once every one of them is gone.

    SIGTERM goes to each main process, which shuts its children down (a
    Celery worker sent SIGTERM across its group hangs until killed); whatever
    is left of a group after STOP_SECONDS, or after its main process, is killed.
    """
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def process_tree(pid: int) -> list[int]:
    """Return ``pid`` and every process below it (Linux: read from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(current := todo.pop())
        todo += parents.get(current, [])
    return found


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) the processes of ``pid``'s tree used."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def run_checked(args: list[str], timeout: float = 300) -> None:
    """Run a command; fail with its errors if it fails."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if result.returncode:
        raise AssertionError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
