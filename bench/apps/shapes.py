"""What each scenario's request looks like, and what a correct answer to it is.

One table read by everything that sends a scenario's request: the server check
and wrk's environment (`bench.server`, `bench.load`), and the in-process
measure (`bench/asgi_calls.py`, which runs in each contender's venv, so this
module needs the standard library only and has no side effect on import).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BODY = b'{"name": "ada", "email": "ada@example.com"}'
ORIGIN = "https://example.com"
"""The one origin the realistic apps' CORS middleware allows, and the one their requests carry."""
TEAM = 42
"""The path parameter the realistic requests carry: `/teams/42/signup`."""

REALISTIC = ("R", "M", "P")
"""The scenarios shaped like a user's app: middleware, path parameters, or both."""
RAVYN_ONLY = ("D",)
"""The scenarios only our ravyn serves: D's durable task has no counterpart in the others."""


@dataclass(frozen=True)
class Shape:
    """One scenario's request, the answer it must get, and the tasks it starts."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    answer: dict[str, Any]
    tasks: int
    cors: bool  # the answer must allow ORIGIN
    body: bytes = BODY

    def wrk_headers(self) -> str:
        """The extra headers as wrk's script reads them: one `Name: value` a line."""
        return "\n".join(f"{name}: {value}" for name, value in self.headers)


_REGISTER: dict[str, Any] = {"method": "POST", "path": "/register", "answer": {"ok": True}}
_SIGNUP: dict[str, Any] = {
    "method": "POST",
    "path": f"/teams/{TEAM}/signup",
    "answer": {"ok": True, "team": TEAM},
}
_FROM_ORIGIN = (("Origin", ORIGIN),)

SHAPES: dict[str, Shape] = {
    "A": Shape(**_REGISTER, headers=(), tasks=1, cors=False),
    "B": Shape(**_REGISTER, headers=(), tasks=3, cors=False),
    "C": Shape(**_REGISTER, headers=(), tasks=0, cors=False),
    "S": Shape(**_REGISTER, headers=(), tasks=1, cors=False),
    "G": Shape(**_REGISTER, headers=(), tasks=1, cors=False),
    "Y": Shape(**_REGISTER, headers=(), tasks=1, cors=False),
    "D": Shape(**_REGISTER, headers=(), tasks=1, cors=False),
    "R": Shape(**_SIGNUP, headers=_FROM_ORIGIN, tasks=1, cors=True),
    "M": Shape(**_REGISTER, headers=_FROM_ORIGIN, tasks=1, cors=True),
    "P": Shape(**_SIGNUP, headers=(), tasks=1, cors=False),
}
TASKS_PER_REQUEST = {scenario: shape.tasks for scenario, shape in SHAPES.items()}
