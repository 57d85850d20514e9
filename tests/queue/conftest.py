"""A real `redis-server` for the queue tests, on a free 127.0.0.1 port, started once and always stopped.

Without the binary the tests are skipped locally, and fail when `CI=true`:
CI installs Redis (`scripts/test`), so a missing one there is a broken setup.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from docs_src.queue_comparison.services import ServiceMissing, redis_binary, redis_server


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def require_redis() -> None:
    """Skip (locally) or fail (in CI) unless `redis-server` is installed."""
    try:
        redis_binary()
    except ServiceMissing as missing:
        if in_ci():
            pytest.fail(f"{missing}. CI=true: the queue tests need a real Redis, never a skip.")
        pytest.skip(f"{missing}. Skipped locally; under CI=true this fails.")


@pytest.fixture(scope="session")
def redis_service() -> Iterator[str]:
    """The session's Redis URL."""
    require_redis()
    with redis_server() as url:
        yield url


@pytest.fixture
def redis_url(redis_service: str) -> str:
    """The session's Redis, emptied for this test."""
    with redis.Redis.from_url(redis_service) as client:
        client.flushdb()
    return redis_service


@pytest.fixture
def celery_env(redis_url: str) -> dict[str, str]:
    """The environment pointing an example app and its workers at the test's Redis."""
    return {
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "NO_PROXY": "127.0.0.1,localhost",
    }
