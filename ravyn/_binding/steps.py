"""The steps of reading a large body: one at a time on the event loop, without the collector.

Decoding or validating holds the event loop until it returns, so a large body
is read in steps (`ravyn._binding.windows`) with the loop free between them.
Each ready request runs one step per turn of the loop, so with several large
bodies arriving at once, a client with a small request waited for one step
of each of them: 45 to 70 ms with two or three bodies near 1 MB, against 15
to 25 ms for one. `heavy_step` lets one large body's step run at a time (the
others wait their turn, first come first served, without holding the loop),
so a small request waits for one step, however many large bodies arrive.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import anyio.lowlevel

__all__ = ["heavy_step", "paused_gc"]

_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection during a step that builds many containers.

    Decoding or validating a large body builds hundreds of thousands of lists
    and dicts, and each few hundred allocations start a collection that scans
    the younger objects (and every few, the whole heap): decoding 700 KB of
    short lists took 65 ms with the collector and 15 ms without. What such a
    step builds holds no reference cycle (JSON cannot express one), so nothing
    is left for the collector that it would have freed. A collector another
    thread disabled meanwhile is left as that thread wants it, unless the
    step started with it enabled.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@asynccontextmanager
async def heavy_step() -> AsyncIterator[None]:
    """This loop's one large-body step at a time, the collector paused, with a turn of the
    loop for the others before and after it. The step inside must not await."""
    await anyio.lowlevel.checkpoint()
    loop = asyncio.get_running_loop()
    turn = _turns.get(loop)
    if turn is None:
        turn = _turns[loop] = asyncio.Lock()
    async with turn:
        with paused_gc():
            yield
        # still holding the turn: the loop serves the others before the next large-body step
        # starts (released at once, a step waiting would run in this same turn of the loop)
        await anyio.lowlevel.checkpoint()
