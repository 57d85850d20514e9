"""Dependencies: a function whose result a handler receives as a parameter.

```python
from ravyn import BackgroundTasks, Depends, post

def current_user(token: str) -> str:
    return token.removeprefix("user-")

@post("/notes")
def add_note(text: str, user: str = Depends(current_user)) -> dict[str, str]:
    return {"user": user, "text": text}
```

A dependency takes what a handler takes (fields, path values, `Request`,
the `BackgroundTasks` collector, other dependencies), and is compiled once
at registration like the handler. Its result is computed once per request,
however many handlers and dependencies ask for it. Tasks it adds go to the
same collector the handler gets. A dependency written with `yield` (sync or
async) gives the value it yields; the code after `yield` runs once the
request is over, **after its background tasks**, so a resource it opened (a
database session) is still open in the tasks. The handler's exception is
thrown in at its `yield`; catching it there does not swallow it (the client
still gets the JSON 500, or the answer of the handler's `HTTPException`),
but an exception raised from there replaces it.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from ravyn._binding.callables import describe, runs_as
from ravyn._lilya.names import Depends as LilyaDepends
from ravyn.threads import run_sync

__all__ = ["Dependency", "Depends", "RequestDependencies"]

logger = logging.getLogger("ravyn.dependencies")


class Dependency(LilyaDepends):
    """The marker `Depends(...)` returns, Lilya's `Depends` marker
    (`lilya.dependencies._Depends`) with a per-request cache.

    Being Lilya's marker, a function using it can also be run outside a
    request by Lilya's `lilya.dependencies.inject`. Inside a request Ravyn
    resolves it itself, from the handler's compiled signature: Lilya's
    request-free resolver cannot give a dependency the request, its fields
    or the task collector, keeps `use_cache` results on the marker (shared by
    every request), and closes a `yield` dependency right after its value.
    """

    def __init__(self, dependency: Callable[..., Any], *, use_cache: bool = True) -> None:
        if not callable(dependency):
            raise TypeError(f"Depends() takes a function or a class, got {dependency!r}")
        super().__init__(dependency, use_cache=use_cache)

    @property
    def is_generator(self) -> bool:
        """Whether the dependency is written with `yield` (sync or async)."""
        call = self.dependency
        target = runs_as(call)
        return inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target)

    @property
    def is_async(self) -> bool:
        """Whether the dependency runs on the event loop (else on a worker thread)."""
        call = self.dependency
        target = runs_as(call)
        return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def Depends(dependency: Callable[..., Any], *, use_cache: bool = True) -> Any:
    """Declare a parameter whose value is `dependency`'s result for this request.

    Use it as the default (`user: User = Depends(current_user)`) or inside
    `Annotated` (`user: Annotated[User, Depends(current_user)]`). With
    `use_cache=False` the dependency runs each time it is asked for in a
    request, instead of once.

    Example:
        ```python
        from typing import Annotated

        from ravyn import BackgroundTasks, Depends, get

        def log_visit(tasks: BackgroundTasks, page: str = "home") -> str:
            tasks.add_task(print, "visited", page)
            return page

        @get("/visit")
        def visit(page: Annotated[str, Depends(log_visit)]) -> dict[str, str]:
            return {"page": page}
        ```
    """
    return Dependency(dependency, use_cache=use_cache)


class RequestDependencies:
    """What dependencies share within one request: the results computed so far
    and the clean-up steps of `yield` dependencies, run in reverse order."""

    def __init__(self) -> None:
        self.results: dict[Callable[..., Any], Any] = {}
        self.cleanup = AsyncExitStack()

    async def call(self, dependency: Dependency, kwargs: dict[str, Any]) -> Any:
        """Run `dependency` with its bound arguments, or give its cached result."""
        call = dependency.dependency
        if dependency.use_cache and call in self.results:
            return self.results[call]
        if dependency.is_generator and dependency.is_async:
            entered = contextlib.asynccontextmanager(call)(**kwargs)
            value = await entered.__aenter__()
            self.cleanup.push_async_exit(_never_suppressing(entered.__aexit__))
        elif dependency.is_generator:
            manager = contextlib.contextmanager(call)(**kwargs)
            value = await run_sync(manager.__enter__)

            async def leave(*exc_info: Any) -> bool | None:
                return await run_sync(lambda: manager.__exit__(*exc_info))

            self.cleanup.push_async_exit(_never_suppressing(leave))
        elif dependency.is_async:
            value = await call(**kwargs)
        else:
            value = await run_sync(lambda: call(**kwargs))
            if inspect.iscoroutine(value):
                value.close()  # never awaited: closed here, so Python does not warn about it later
                raise TypeError(
                    f"dependency {describe(call)} returned a coroutine: it was called as a sync "
                    "function (a lambda or partial around an async one?); make it `async def`"
                )
        if dependency.use_cache:
            self.results[call] = value
        return value


_Exit = Callable[..., Awaitable[bool | None]]


def _never_suppressing(leave: _Exit) -> _Exit:
    """`leave` (a `yield` dependency's exit), made unable to swallow the exception it is given.

    A dependency that catches the handler's exception without raising it
    again would otherwise end the request with no response at all (the
    server then answers a bare 500, or the router a 404). The exception goes
    on to the app's error handling as if uncaught, so the client gets the
    JSON 500 (or the handler's `HTTPException` answer) on every path; the
    dependency's `except` block still runs, and an exception it raises
    instead replaces the handler's.
    """

    async def leave_without_suppressing(*exc_info: Any) -> bool:
        await leave(*exc_info)
        return False

    return leave_without_suppressing
