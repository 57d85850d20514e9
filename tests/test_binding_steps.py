"""Large-body steps: one at a time on the event loop, the others served between two."""

from __future__ import annotations

import asyncio
import gc
import itertools

import pytest

from ravyn._binding.steps import heavy_step, paused_gc


def test_the_loop_serves_other_tasks_between_any_two_large_body_steps() -> None:
    sequence: list[str] = []

    async def large_body(name: str) -> None:
        for step in range(4):
            async with heavy_step():
                sequence.append(f"{name}{step}")
                assert not gc.isenabled()  # the collector waits while a step builds objects

    async def small_requests(done: asyncio.Event) -> None:
        while not done.is_set():
            sequence.append("small")
            await asyncio.sleep(0)

    async def main() -> None:
        done = asyncio.Event()
        small = asyncio.create_task(small_requests(done))
        await asyncio.gather(large_body("a"), large_body("b"), large_body("c"))
        done.set()
        await small

    asyncio.run(main())
    steps = [entry for entry in sequence if entry != "small"]
    assert sorted(steps) == sorted(f"{name}{step}" for name in "abc" for step in range(4))
    # never two large-body steps in one turn of the loop: a small request ran between any two
    for before, after in itertools.pairwise(sequence):
        assert before == "small" or after == "small", sequence
    # and they take turns, first come first served, rather than one body hogging the loop
    assert steps[:3] == ["a0", "b0", "c0"], steps
    assert gc.isenabled()


def test_a_step_that_fails_gives_up_its_turn() -> None:
    async def main() -> list[str]:
        done: list[str] = []

        async def failing() -> None:
            with pytest.raises(ValueError):
                async with heavy_step():
                    raise ValueError("invalid")
            done.append("failed")

        async def next_one() -> None:
            async with heavy_step():
                done.append("next")

        await asyncio.wait_for(asyncio.gather(failing(), next_one()), timeout=5)
        return done

    assert sorted(asyncio.run(main())) == ["failed", "next"]
    assert gc.isenabled()


def test_each_event_loop_has_its_own_turns() -> None:
    async def one_step() -> None:
        async with heavy_step():
            pass

    asyncio.run(one_step())
    asyncio.run(one_step())  # a lock bound to the first loop would refuse the second


def test_the_collector_is_paused_during_a_step_and_left_as_it_was() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("a step that fails")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # disabled by someone else: left so
    finally:
        gc.enable()
