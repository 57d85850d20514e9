"""The signal chain in front of the server's handlers, in this process: no signal
is really sent, the chain's handler is called as Python would call it, and the
"server" is a recorder installed as the previous handler."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from types import FrameType

import anyio
import pytest

from ravyn import BackgroundTasks, Ravyn, post
from ravyn.shutdown import Meaning, StopSignals, _SignalChain
from ravyn.testing import Recorder

pytestmark = pytest.mark.anyio

HOOKED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Server:
    """Stands for uvicorn's `handle_exit`: records what it is told."""

    def __init__(self) -> None:
        self.heard: list[int] = []

    def handle_exit(self, signum: int, frame: FrameType | None) -> None:
        self.heard.append(signum)


class Watchdog:
    """Stands for the watchdog, which would end the test process."""

    def __init__(self) -> None:
        self.armed: list[str] = []

    def arm(self, seconds: float, why: str) -> None:
        self.armed.append(why)


@pytest.fixture
def server() -> Iterator[Server]:
    """The recorder, as the handler of SIGTERM and SIGINT (SIGHUP at its default);
    the process's own handlers put back afterwards."""
    fake = Server()
    saved = {sig: signal.getsignal(sig) for sig in HOOKED}
    signal.signal(signal.SIGTERM, fake.handle_exit)
    signal.signal(signal.SIGINT, fake.handle_exit)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield fake
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def deliver(sig: signal.Signals) -> None:
    """Call the handler now installed for `sig`, as Python does when it arrives."""
    handler = signal.getsignal(sig)
    assert callable(handler)
    handler(sig, None)


async def settle() -> None:
    """Let the event loop run what the handler scheduled on it (and what that starts)."""
    for _ in range(5):
        await asyncio.sleep(0)


def chain_for(app: Ravyn, supervisor: int | None = 7) -> _SignalChain:
    chain = _SignalChain(app)
    chain.watchdog = Watchdog()  # type: ignore[assignment]
    chain.rule = StopSignals(supervisor, parent_pid=lambda: 7)
    return chain


async def test_a_relay_landing_inside_the_handler_of_the_group_signal_is_handled_after_it(
    server: Server,
) -> None:
    """Python runs the handler of a signal that arrives while another handler
    runs nested inside it. The supervisor's SIGTERM landing inside the handler
    of the group's SIGINT must still be taken as the relay, after the SIGINT."""
    app = Ravyn(task_drain_timeout=1)
    chain = chain_for(app)
    meaning = chain.rule.meaning
    seen: list[str] = []

    def meaning_interrupted(signum: int) -> Meaning:
        if not seen:  # the SIGTERM arrives while the SIGINT is being handled
            seen.append("interrupted")
            chain.on_signal(signal.SIGTERM, None)
        result = meaning(signum)
        seen.append(f"{signal.Signals(signum).name}: {result}")
        return result

    chain.rule.meaning = meaning_interrupted  # type: ignore[method-assign]
    restore = chain.install()
    try:
        deliver(signal.SIGINT)
        await settle()
        assert app.drain_task is not None
        await app.drain_task
    finally:
        restore()
    assert seen == ["interrupted", "SIGINT: drain", "SIGTERM: relay"]
    # uvicorn heard only the first signal: a SIGINT after it would have made it quit at once
    assert server.heard == [signal.SIGINT]
    assert chain.watchdog.armed == ["past task_drain_timeout"]  # type: ignore[attr-defined]


async def test_sighup_drains_and_the_server_is_told_to_stop_as_on_sigterm(server: Server) -> None:
    app = Ravyn(task_drain_timeout=1)
    chain = chain_for(app, supervisor=None)
    restore = chain.install()
    try:
        deliver(signal.SIGHUP)
        await settle()
        assert app.drain_task is not None
        await app.drain_task
        deliver(signal.SIGHUP)
    finally:
        restore()
    # told once, with SIGHUP's number (uvicorn re-raises it when done); the second SIGHUP changes nothing
    assert server.heard == [signal.SIGHUP]
    assert chain.watchdog.armed == ["past task_drain_timeout"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("sighup", [signal.SIG_IGN, "handled"])
async def test_a_sighup_someone_else_handles_or_ignores_is_left_alone(server: Server, sighup: object) -> None:
    theirs = sighup if sighup == signal.SIG_IGN else (lambda signum, frame: None)
    signal.signal(signal.SIGHUP, theirs)  # type: ignore[arg-type]
    restore = chain_for(Ravyn()).install()
    try:
        assert signal.getsignal(signal.SIGHUP) is theirs
    finally:
        restore()


async def test_restore_puts_the_servers_handlers_back_but_not_over_a_later_one(server: Server) -> None:
    def later(signum: int, frame: FrameType | None) -> None:
        pass

    restore = chain_for(Ravyn()).install()
    signal.signal(signal.SIGINT, later)
    restore()
    assert signal.getsignal(signal.SIGTERM) == server.handle_exit
    assert signal.getsignal(signal.SIGINT) is later
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL


async def test_a_third_signal_tells_the_server_at_once(server: Server) -> None:
    """The second signal lets the server end on its own for a moment; a third does not wait."""
    app = Ravyn(task_drain_timeout=30)
    chain = chain_for(app, supervisor=None)
    restore = chain.install()
    try:
        deliver(signal.SIGTERM)
        await settle()
        deliver(signal.SIGTERM)
        await settle()
        assert app.task_runner.closed  # given up on at once
        assert server.heard == [signal.SIGTERM]  # the server not told yet: it may end on its own
        deliver(signal.SIGINT)
        await settle()
        assert server.heard == [signal.SIGTERM, signal.SIGINT]
        # the second signal's wait for the server to end on its own runs out: passed on too
        await asyncio.gather(*chain.stopping)
        assert server.heard == [signal.SIGTERM, signal.SIGINT, signal.SIGTERM]
    finally:
        restore()
        if app.drain_task is not None:
            await app.drain_task
    assert chain.watchdog.armed == [  # type: ignore[attr-defined]
        "past task_drain_timeout",
        "after a second signal",
        "after a second signal",
    ]


async def test_without_a_server_handler_a_second_signal_still_gives_up_on_the_tasks(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """Served by something that installs no SIGTERM handler: nobody to tell, but
    the running task is still given up on at once, and logged lost."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    started = anyio.Event()

    async def export_orders() -> None:
        started.set()
        await anyio.sleep(60)

    @post("/exports")
    def start_export(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(export_orders)
        return {"status": "exporting"}

    app = Ravyn(routes=[start_export], task_drain_timeout=30)
    chain = chain_for(app, supervisor=None)
    restore = chain.install()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(Recorder(app).request, "POST", "/exports")
            with anyio.fail_after(10):
                await started.wait()
            deliver(signal.SIGTERM)
            await settle()
            assert app.task_stats()["lost"] == 0  # the drain waits for it
            deliver(signal.SIGTERM)
            await settle()
            await asyncio.gather(*chain.stopping)
    finally:
        restore()
        if app.drain_task is not None:
            await app.drain_task
    assert app.task_stats()["lost"] == 1
    assert "export_orders() lost: cancelled at once by a second signal" in caplog.text
    assert server.heard == []
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
