"""The exercises, in the order they are meant to be done.

Each module here holds one exercise: its goal, its check and its hints; the
broken app it starts from is in `templates/`.
"""

from __future__ import annotations

from importlib import resources

from ravyn_tutorial.exercises import (
    cart_total,
    flaky_partner,
    lost_invoice,
    loyalty_points,
    order_jobs,
    slow_signup,
    thumbnails,
    visit_log,
)
from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, Trial

__all__ = ["EXERCISES", "Exercise", "Finding", "Lab", "Trial", "solution_text", "template_text"]

EXERCISES: dict[str, Exercise] = {
    module.EXERCISE.name: module.EXERCISE
    for module in (
        slow_signup,
        order_jobs,
        thumbnails,
        loyalty_points,
        visit_log,
        cart_total,
        flaky_partner,
        lost_invoice,
    )
}


def template_text(exercise: Exercise) -> str:
    """The broken app's source, as shipped in the package."""
    return (
        resources.files("ravyn_tutorial.exercises.templates").joinpath(exercise.template).read_text("utf-8")
    )


def solution_text(exercise: Exercise) -> str:
    """A reference solution's source, as shipped in the package."""
    return (
        resources.files("ravyn_tutorial.exercises.solutions").joinpath(exercise.template).read_text("utf-8")
    )
