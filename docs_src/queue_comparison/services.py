"""Real services on 127.0.0.1 for the comparison and the queue tests: `redis-server` and `celery worker`.

Each runs in a subprocess of its own session (so a SIGKILL reaches a worker's
pool processes too), writes its output to a file (never to a pipe that could
fill up), and is stopped when its `with` block ends, whatever happened inside.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import redis

from ravyn.testing import free_port

__all__ = ["CELERY_APP", "ROOT", "Service", "ServiceMissing", "celery_workers", "redis_server"]

ROOT = Path(__file__).resolve().parents[2]
"""The repository: the services' working directory, so `docs_src` is importable."""

CELERY_APP = "docs_src.background_tasks.celery_app"


class ServiceMissing(RuntimeError):
    """A program the comparison needs is not installed."""


@dataclass
class Service:
    """A subprocess leading its own session, its output going to a file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def output(self) -> str:
        """Everything it printed so far (stdout and stderr together)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole session at once, as a crash or the OOM killer would: no clean-up runs."""
        self._signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the main process (a Celery worker's warm shutdown: it finishes its job first),
        then SIGKILL to the session after `timeout` seconds."""
        if not self.running:
            return  # killed already, or exited (a worker's pool processes follow their parent)
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, sig: int) -> None:
        if self.process.returncode is not None:
            return  # reaped: its process group id may belong to someone else by now
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


@contextmanager
def spawn(name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Iterator[Service]:
    """Run `argv` in the repository, in a session of its own; stop it and drop its log afterwards."""
    handle, log_name = tempfile.mkstemp(prefix=f"queue-{name}-", suffix=".log")
    with os.fdopen(handle, "wb") as log:
        process = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    service = Service(name, process, Path(log_name))
    try:
        yield service
    finally:
        service.stop()
        service.log_path.unlink(missing_ok=True)


def redis_binary() -> str:
    """The path of `redis-server`; `ServiceMissing` if it is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceMissing("redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)")
    return binary


@contextmanager
def redis_server(ready_timeout: float = 10.0) -> Iterator[str]:
    """A throwaway Redis on a free loopback port, nothing saved to disk; yields its URL."""
    binary = redis_binary()
    for _ in range(3):  # a free port can be taken by someone else before Redis binds it
        port = free_port()
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with spawn(f"redis-{port}", argv) as service:
            if _redis_answers(service, port, ready_timeout):
                yield f"redis://127.0.0.1:{port}/0"
                return
            output = service.output
    raise RuntimeError(f"redis-server did not start:\n{output}")


def _redis_answers(service: Service, port: int, timeout: float) -> bool:
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=1.0)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and service.running:
            try:
                if client.ping():
                    return True
            except redis.ConnectionError:
                time.sleep(0.05)
        return False
    finally:
        client.close()


def worker_argv(name: str, *, include: Sequence[str] = (), concurrency: int = 1) -> list[str]:
    """`celery worker` for the examples' Celery app, named `name@<host>`.

    One pool process by default, so a worker does one job at a time. Mingle,
    gossip and heartbeats are off: they only slow down the start of a worker
    that has no other worker to talk to.
    """
    argv = [sys.executable, "-m", "celery", "-A", CELERY_APP, "worker", "--loglevel=INFO"]
    argv += [f"--hostname={name}@%h", "--pool=prefork", f"--concurrency={concurrency}"]
    argv += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    if include:
        argv += ["--include", ",".join(include)]
    return argv


@contextmanager
def celery_workers(
    names: Sequence[str],
    env: Mapping[str, str],
    *,
    include: Sequence[str] = (),
    ready_timeout: float = 30.0,
) -> Iterator[list[Service]]:
    """Start one `celery worker` per name, all at once; yield them once every one is ready.

    `env` points them at the broker (`CELERY_BROKER_URL`, ...). On exit each
    gets a warm shutdown (SIGTERM: it finishes its job), then SIGKILL.
    """
    with ExitStack() as stack:
        workers = [
            stack.enter_context(spawn(name, worker_argv(name, include=include), env)) for name in names
        ]
        stack.callback(stop_all, workers)  # runs first: all at once, not one after the other
        deadline = time.monotonic() + ready_timeout
        for worker in workers:
            while f"{worker.name}@" not in worker.output or " ready." not in worker.output:
                if not worker.running:
                    raise RuntimeError(f"celery worker {worker.name} exited:\n{worker.output}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"celery worker {worker.name} not ready in {ready_timeout}s")
                time.sleep(0.05)
        yield workers


def stop_all(services: Sequence[Service], timeout: float = 10.0) -> None:
    """`Service.stop` for several at once: SIGTERM to each, then wait for each."""
    for service in services:
        if service.running:
            service.process.terminate()
    deadline = time.monotonic() + timeout
    for service in services:
        service.stop(timeout=max(0.1, deadline - time.monotonic()))
