"""Whether a request's response has started: an error layer may answer an
exception only if it has not (Lilya's layers note it the same way).

Lilya's layers wrap `send` to watch for `http.response.start`, which costs every
request a wrapper and a call per message. The core serves our handlers, which
know when they send: our responses note it on the request's slot
(`RequestSlot.response_started`, see `ravyn.runner.requests`) just before their
first message (`note_started`), and only a response of another kind gets a
watching `send` (`marking`). Nothing is added to the scope the handler sees.
"""

from __future__ import annotations

from lilya.types import Message, Send

from ravyn.runner.requests import RequestSlot, current_request

__all__ = ["MarkingSend", "StartedSend", "marking", "note_started"]


def note_started() -> None:
    """The current request's response is about to start."""
    request = current_request()
    if request is not None:
        request.response_started = True


class MarkingSend:
    """A `send` that notes on `request` when the response starts."""

    __slots__ = ("request", "send")

    def __init__(self, request: RequestSlot, send: Send) -> None:
        self.request = request
        self.send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.request.response_started = True
        await self.send(message)


def marking(send: Send) -> Send:
    """`send`, watched for the start of the response when a request is being served."""
    request = current_request()
    return send if request is None else MarkingSend(request, send)


class StartedSend:
    """A request's `send` that notes whether the response has started (the
    outermost layer's, above the user's middleware, which may send anything)."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.started = False
        self.send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)
