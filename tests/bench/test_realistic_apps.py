"""The realistic scenarios' apps (R, M, P) in every contender, the bare ASGI app among them.

Each app is imported fresh for its scenario (the apps read `BENCH_SCENARIO`
when imported) and called in-process: the request the load sends gets the
scenario's answer with the CORS header and starts its task; a foreign origin,
a bad body and a path that is not a team's number are answered as a framework
would, and start nothing.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from bench import asgi_calls
from bench.apps.shapes import ORIGIN, REALISTIC, SHAPES
from bench.contenders import APPS_DIR, all_contenders
from tests.support.asgi import receive_body

pytestmark = pytest.mark.anyio

MODULES = ["ravyn_app", "starlette_app", "lilya_app", "fastapi_app", "bare_app"]
FRESH = ("scenario", "signup", "shapes", *MODULES)


class Loaded:
    """One contender's app for one scenario, and the list its tasks append to."""

    def __init__(self, module: str, scenario: str) -> None:
        self.module, self.scenario = module, scenario
        imported = importlib.import_module(module)
        self.app = imported.app
        self.runs: list[str] = sys.modules["scenario"].runs


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(APPS_DIR))

    def loader(module: str, scenario: str) -> Loaded:
        monkeypatch.setenv("BENCH_SCENARIO", scenario)
        for name in FRESH:
            sys.modules.pop(name, None)
        return Loaded(module, scenario)

    yield loader
    for name in FRESH:
        sys.modules.pop(name, None)


async def call(
    app: Any, method: str, path: str, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()
) -> tuple[int, dict[str, str], Any]:
    """One ASGI call; returns (status, lower-cased headers, decoded JSON body)."""
    sent: list[dict[str, Any]] = []
    receive = receive_body(body)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw = [(name.lower().encode(), value.encode()) for name, value in headers]
    if body:
        raw += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        **asgi_calls.make_scope("A"),
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "headers": [(b"host", b"127.0.0.1:8000"), *raw],
    }
    await app(scope, receive, send)
    answer_headers = {name.decode().lower(): value.decode() for name, value in sent[0]["headers"]}
    payload = b"".join(message.get("body", b"") for message in sent[1:])
    try:
        decoded = json.loads(payload or b"null")
    except ValueError:
        decoded = payload.decode()
    return sent[0]["status"], answer_headers, decoded


@pytest.mark.parametrize("scenario", REALISTIC)
@pytest.mark.parametrize("module", MODULES)
async def test_the_loaded_request_gets_the_scenarios_answer_and_runs_one_task(
    load: Any, module: str, scenario: str
) -> None:
    loaded = load(module, scenario)
    shape = SHAPES[scenario]
    sent = await asgi_calls.call(loaded.app, scenario)
    asgi_calls.check(sent, scenario)  # the answer, and the CORS header where the scenario has one
    assert loaded.runs == ["ada"]
    headers = {bytes(name).lower(): bytes(value) for name, value in sent[0]["headers"]}
    assert (headers.get(b"access-control-allow-origin") == ORIGIN.encode()) is shape.cors


@pytest.mark.parametrize("scenario", ["R", "M"])
@pytest.mark.parametrize("module", MODULES)
async def test_a_foreign_origin_is_served_without_being_allowed(
    load: Any, module: str, scenario: str
) -> None:
    loaded = load(module, scenario)
    shape = SHAPES[scenario]
    status, headers, body = await call(
        loaded.app, shape.method, shape.path, shape.body, (("Origin", "https://evil.example"),)
    )
    assert 200 <= status < 300 and body == shape.answer
    assert "access-control-allow-origin" not in headers
    assert loaded.runs == ["ada"]


@pytest.mark.parametrize("module", MODULES)
async def test_a_preflight_is_answered_by_the_cors_rules_every_framework_shares(
    load: Any, module: str
) -> None:
    # the apps keep the middlewares' default allow_methods: GET only
    loaded = load(module, "R")

    async def preflight(origin: str, method: str) -> tuple[int, dict[str, str]]:
        asking = (("Origin", origin), ("Access-Control-Request-Method", method))
        status, headers, _ = await call(loaded.app, "OPTIONS", "/teams/42/signup", headers=asking)
        return status, headers

    status, headers = await preflight(ORIGIN, "GET")
    assert status == 200 and headers["access-control-allow-origin"] == ORIGIN
    status, headers = await preflight("https://evil.example", "GET")
    assert status == 400 and "access-control-allow-origin" not in headers
    status, _ = await preflight(ORIGIN, "DELETE")
    assert status == 400
    assert loaded.runs == []


@pytest.mark.parametrize("scenario", ["R", "P"])
@pytest.mark.parametrize("module", MODULES)
async def test_a_body_missing_a_field_is_a_4xx_naming_it_and_runs_no_task(
    load: Any, module: str, scenario: str
) -> None:
    loaded = load(module, scenario)
    status, _, body = await call(loaded.app, "POST", "/teams/42/signup", b'{"name": "ada"}')
    assert status in (400, 422)
    assert "email" in json.dumps(body)
    for hostile in (b"", b"not json", b"[1, 2]", b'{"name": 1, "email": ["x"]}', b"{" * 10_000):
        status, _, _ = await call(loaded.app, "POST", "/teams/42/signup", hostile)
        assert status in (400, 422), hostile[:20]
    assert loaded.runs == []


@pytest.mark.parametrize(
    "path", ["/teams/x/signup", "/teams//signup", "/teams/4a2/signup", "/teams/-1/signup"]
)
@pytest.mark.parametrize("module", MODULES)
async def test_a_team_that_is_not_a_number_is_refused_and_runs_no_task(
    load: Any, module: str, path: str
) -> None:
    loaded = load(module, "P")
    status, _, _ = await call(loaded.app, "POST", path, SHAPES["P"].body)
    if module == "fastapi_app" and path == "/teams/-1/signup":
        # FastAPI's idiom is a typed parameter, not a route convertor: -1 is an int to it
        assert (status, loaded.runs) == (201, ["ada"])
        return
    # an {team_id:int} route does not match (404); FastAPI's typed parameter says why (422)
    assert status == (422 if module == "fastapi_app" and "//" not in path else 404)
    assert loaded.runs == []


@pytest.mark.parametrize("module", MODULES)
async def test_the_realistic_apps_other_routes_answer(load: Any, module: str) -> None:
    loaded = load(module, "R")
    origin = (("Origin", ORIGIN),)
    assert (await call(loaded.app, "GET", "/health", headers=origin))[::2] == (200, {"status": "ok"})
    assert (await call(loaded.app, "GET", "/teams/7", headers=origin))[::2] == (200, {"team": 7})
    assert (await call(loaded.app, "GET", "/count", headers=origin))[::2] == (200, {"count": 0})
    assert (await call(loaded.app, "GET", "/nowhere", headers=origin))[0] == 404


def test_the_bare_app_refuses_a_scenario_it_does_not_serve() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import bare_app"],
        cwd=APPS_DIR,
        env={"BENCH_SCENARIO": "G", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "serves scenarios R, M and P only, not 'G'" in done.stderr


def test_an_unknown_scenario_is_refused_by_name() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import scenario"],
        cwd=APPS_DIR,
        env={"BENCH_SCENARIO": "Q", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        done.returncode != 0 and "BENCH_SCENARIO must be one of A, B, C, S, G, Y, D, R, M, P" in done.stderr
    )


PYPI_PYTHON = APPS_DIR.parent / ".venvs" / "pypi-ravyn" / "bin" / "python"


@pytest.mark.skipif(not PYPI_PYTHON.exists(), reason="bench/.venvs/pypi-ravyn is made by the first full run")
@pytest.mark.parametrize("scenario", REALISTIC)
def test_pypi_ravyns_app_answers_the_realistic_request_in_its_own_venv(scenario: str) -> None:
    # its ravyn shares our import name, so its app runs in its venv: asgi_calls checks the answer
    # (and the CORS header) before it measures anything
    command = [str(PYPI_PYTHON), str(APPS_DIR.parent / "asgi_calls.py"), "pypi_ravyn_app", scenario]
    done = subprocess.run(
        [*command, "--requests", "20", "--repeats", "1", "--json"],
        cwd=APPS_DIR,
        env=all_contenders()["pypi-ravyn"].env(scenario),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["scenario"] == scenario
