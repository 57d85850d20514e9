"""`ravyn.runner._host.current_host`: the caller's asyncio task, as
`asyncio.current_task()` gives it, without asking for the running loop (a
`getpid()` system call in CPython 3.11) on every call."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest

from ravyn.runner import _host
from ravyn.runner._host import current_host


def test_inside_a_task_it_is_the_current_task() -> None:
    async def main() -> tuple[Any, Any]:
        return current_host(), asyncio.current_task()

    host, current = asyncio.run(main())
    assert host is current is not None


def test_a_new_loop_in_the_same_thread_gives_its_own_task_not_the_last_loops() -> None:
    async def main() -> bool:
        return current_host() is asyncio.current_task()

    assert all(asyncio.run(main()) for _ in range(3))


def test_outside_a_loop_and_in_a_loop_callback_there_is_no_task() -> None:
    assert current_host() is None

    async def main() -> list[Any]:
        seen: list[Any] = []
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        loop.call_soon(lambda: (seen.append(current_host()), done.set_result(None)))
        await done
        return seen

    assert asyncio.run(main()) == [None]


def test_the_running_loop_is_asked_once_per_loop_not_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    real = asyncio.get_running_loop

    def counting() -> asyncio.AbstractEventLoop:
        asked.append(1)
        return real()

    monkeypatch.setattr(asyncio, "get_running_loop", counting)

    async def main() -> None:
        for _ in range(100):
            assert current_host() is asyncio.current_task(real())

    asyncio.run(main())
    asyncio.run(main())
    assert len(asked) == 2


def test_threads_running_loops_at_once_each_get_their_own_task() -> None:
    start = threading.Barrier(4)
    mismatches: list[str] = []

    def run_loop() -> None:
        async def main() -> None:
            start.wait()
            for _ in range(200):
                if current_host() is not asyncio.current_task():
                    mismatches.append(threading.current_thread().name)
                await asyncio.sleep(0)

        asyncio.run(main())

    threads = [threading.Thread(target=run_loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_forgets_its_parents_loop() -> None:
    async def main() -> tuple[bool, bool]:
        assert current_host() is asyncio.current_task()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: the parent's loop is not its own
            os.write(write_end, b"1" if _host._remembered.loop is None else b"0")
            os._exit(0)
        os.close(write_end)
        answer = os.read(read_end, 1)
        os.close(read_end)
        os.waitpid(pid, 0)
        return answer == b"1", _host._remembered.loop is asyncio.get_running_loop()

    forgotten_in_child, kept_in_parent = asyncio.run(main())
    assert forgotten_in_child
    assert kept_in_parent
