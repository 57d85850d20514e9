"""Request values drawn at random for a check, so that no answer written
into the code can pass. A check seeds its own `random.Random`, so a seed
replays the same requests."""

from __future__ import annotations

import random

__all__ = ["REQUESTS", "email", "filename", "person", "sku", "user_agent"]

REQUESTS = 3
"""How many requests each check sends."""

PEOPLE = ("ada", "grace", "alan", "edsger", "barbara", "ken", "margaret", "linus", "radia", "donald")
DOMAINS = ("example.com", "example.org", "mail.test", "shop.test")
THINGS = ("MUG", "CAP", "PEN", "BAG", "TEE", "PAD")
PICTURES = ("cat", "beach", "summit", "garden", "harbour", "bridge")
BROWSERS = ("Lynx/2.9", "Firefox/131.0", "curl/8.10", "Safari/17.6", "w3m/0.5.3")


def person(rng: random.Random) -> str:
    """A first name followed by digits: `grace417`."""
    return f"{rng.choice(PEOPLE)}{rng.randrange(100, 1000)}"


def email(rng: random.Random) -> str:
    """`grace417@example.org`."""
    return f"{person(rng)}@{rng.choice(DOMAINS)}"


def sku(rng: random.Random) -> str:
    """`MUG-042`."""
    return f"{rng.choice(THINGS)}-{rng.randrange(1, 1000):03d}"


def filename(rng: random.Random) -> str:
    """`summit-317.png`."""
    return f"{rng.choice(PICTURES)}-{rng.randrange(100, 1000)}.{rng.choice(('png', 'jpg', 'webp'))}"


def user_agent(rng: random.Random) -> str:
    """`Firefox/131.0 (check 5821)`: a browser, made unique."""
    return f"{rng.choice(BROWSERS)} (check {rng.randrange(1000, 10000)})"
