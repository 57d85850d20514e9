"""Tests for ravyn/testing/server.py: `serve()` runs uvicorn in a process of its own on 127.0.0.1,
hands its output over as it is printed, serves an app object the caller already built, and is
always stopped."""

from __future__ import annotations

import asyncio
import http.client
import os
import queue
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ravyn import BackgroundTasks, Ravyn, get
from ravyn.testing import ForkedProcess, free_port, serve
from tests.support.queues import take_until

ROOT = Path(__file__).resolve().parents[1]
SERVER_APP = "tests.server_app:app"


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as the kernel lists them) with a listening TCP socket on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, _, hex_port = local.partition(":")
            if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def _token_app(token: str, printed: str = "") -> Ravyn:
    """An app that exists only in this process: it answers `token`, which no import could rebuild."""

    def say(text: str) -> None:
        print(text, flush=True)

    @get("/token")
    def read_token(tasks: BackgroundTasks) -> dict[str, str]:
        if printed:
            tasks.add_task(say, printed)
        return {"token": token}

    return Ravyn(routes=[read_token])


@pytest.mark.parametrize("fork", [False, True], ids=["subprocess", "fork"])
def test_the_server_binds_127_0_0_1_on_a_free_port_and_is_stopped(fork: bool) -> None:
    with serve(SERVER_APP, cwd=ROOT, fork=fork, env={"RECEIPTS_FILE": os.devnull}) as server:
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}"
        assert server.alive
        if Path("/proc/net/tcp").exists():
            assert _listening_addresses(port) == {"0100007F"}, "loopback only, never 0.0.0.0"
        assert isinstance(server.process, ForkedProcess) is fork
    assert not server.alive
    assert server.process.poll() is not None
    assert _refused(port)
    assert "Finished server process" in server.output


def test_a_live_line_arrives_before_the_server_stops() -> None:
    lines: queue.Queue[str] = queue.Queue()
    marker = f"task ran {uuid.uuid4().hex}"
    with serve(_token_app("t", printed=marker), on_output=lines.put) as server:
        assert _get(server.port, "/token")[0] == 200
        *_, line = take_until(lines, lambda line: marker in line)
        running_when_it_came = server.alive
    assert line == marker
    assert running_when_it_came
    assert marker in server.output, "what was handed over is in the output too"


def test_an_app_object_already_built_by_the_caller_is_served() -> None:
    token = uuid.uuid4().hex
    with serve(_token_app(token)) as server:
        status, body = _get(server.port, "/token")
    assert status == 200
    assert token in body.decode()


PROBE_APP = """
from ravyn import Ravyn, get

marker = "as imported"


@get("/marker")
def read_marker() -> dict[str, str]:
    return {"marker": marker}


app = Ravyn(routes=[read_marker])
"""


def test_an_import_string_is_served_from_a_fork_that_already_has_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "probe_app.py").write_text(PROBE_APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "probe_app", raising=False)
    import probe_app  # type: ignore[import-not-found]

    monkeypatch.setattr(probe_app, "marker", "set by the caller")  # a fresh import would not have it
    with serve("probe_app:app", fork=True) as server:
        status, body = _get(server.port, "/marker")
    monkeypatch.delitem(sys.modules, "probe_app")
    assert (status, body) == (200, b'{"marker":"set by the caller"}')


def test_a_requested_port_is_used_and_a_busy_one_is_refused_before_anything_starts() -> None:
    wanted = free_port()
    with serve(_token_app("first"), port=wanted) as server:
        assert server.port == wanted
        with (
            pytest.raises(OSError, match=f"port {wanted} on 127.0.0.1 is already in use"),
            serve(_token_app("second"), port=wanted),
        ):
            pass
        assert b"first" in _get(wanted, "/token")[1]


def test_free_port_keeps_a_free_preferred_port_and_swaps_a_busy_one() -> None:
    wanted = free_port()
    assert free_port(wanted) == wanted
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert free_port(taken) != taken


def _factory_that_raises() -> Any:
    raise ImportError("the app's module is broken")


def test_a_forked_app_that_fails_to_load_raises_with_everything_it_printed() -> None:
    with (
        pytest.raises(RuntimeError) as failure,
        serve(_factory_that_raises, uvicorn_args=("--factory",), on_output=lambda line: None),
    ):
        pass
    assert "exited before it was ready" in str(failure.value)
    assert "ImportError: the app's module is broken" in str(failure.value)


def test_a_server_that_never_gets_ready_is_killed_at_the_ready_timeout(tmp_path: Path) -> None:
    def hang_while_loading() -> Any:  # an import that starts a server or a loop of its own
        (tmp_path / "pid").write_text(str(os.getpid()))
        signal.signal(signal.SIGTERM, lambda signum, frame: (tmp_path / "sigterm").write_text("heard"))
        while True:
            time.sleep(1)

    with (
        pytest.raises(TimeoutError, match="did not listen"),
        serve(hang_while_loading, uvicorn_args=("--factory",), ready_timeout=2.0),
    ):
        pass
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(int((tmp_path / "pid").read_text()), 0)
    assert not (tmp_path / "sigterm").exists(), "killed outright, not asked to stop and waited for"


@pytest.mark.parametrize("option", ["--workers", "--reload", "--workers=2"])
def test_a_forked_server_refuses_options_that_need_more_than_one_process(option: str) -> None:
    arguments = (option,) if "=" in option else (option, "2")
    with (
        pytest.raises(ValueError, match="a forked server runs in one process"),
        serve(_token_app("t"), uvicorn_args=arguments),
    ):
        pass


def test_an_on_output_callback_that_raises_is_re_raised_and_the_server_still_stopped() -> None:
    def broken(line: str) -> None:
        raise LookupError(f"cannot handle {line!r}")

    with (
        pytest.raises(LookupError, match="cannot handle"),
        serve(_token_app("t"), on_output=broken) as server,
    ):
        assert _get(server.port, "/token")[0] == 200, "the pipe kept draining"
    assert not server.alive
    assert "Started server process" in server.output


async def _hang_on_shutdown(
    scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
) -> None:
    """A raw ASGI app whose shutdown never ends and ignores cancellation."""
    assert scope["type"] == "lifespan"
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:
            while True:
                try:
                    await asyncio.sleep(60)
                except asyncio.CancelledError:
                    continue


def test_a_server_that_ignores_sigterm_is_killed_after_the_timeout() -> None:
    with serve(_hang_on_shutdown) as server:
        status = server.stop(timeout=1.0)
    assert status == -signal.SIGKILL
    assert _refused(server.port)


def test_an_interruption_while_stopping_kills_the_server_and_is_passed_on() -> None:
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with serve(_hang_on_shutdown) as server:
            signal.setitimer(signal.ITIMER_REAL, 0.5)  # a Ctrl-C half a second into the 60 s wait
            with pytest.raises(KeyboardInterrupt):
                server.stop(timeout=60.0)
            assert not server.alive
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert server.process.poll() == -signal.SIGKILL


@pytest.mark.anyio
async def test_signals_to_a_server_forked_inside_an_event_loop_do_not_reach_the_callers_loop() -> None:
    token = uuid.uuid4().hex
    loop = asyncio.get_running_loop()
    caught: list[str] = []
    loop.add_signal_handler(signal.SIGTERM, caught.append, "the caller's handler ran")
    try:  # on asyncio's loop in the server too: uvloop would replace the wakeup fd by chance
        with serve(_token_app(token), uvicorn_args=("--loop", "asyncio")) as server:
            status, body = await asyncio.to_thread(_get, server.port, "/token")
        # stop() sent the child SIGTERM and waited for it; let the loop look at its self-pipe
        await asyncio.sleep(0.2)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    assert (status, token in body.decode()) == (200, True)
    assert caught == []
