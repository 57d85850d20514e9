"""The contenders: which app module, which Python, which versions.

Our ravyn, Lilya, Starlette and FastAPI run from the project's venv (install
them with `pip install -e '.[bench]'`). PyPI's `ravyn` has the same import name
as ours, so it gets a venv of its own under `bench/.venvs/pypi-ravyn`, made on
first use with the same uvicorn, uvloop and httptools versions as the project's
venv, so that every contender runs on the same server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench.apps.shapes import RAVYN_ONLY, REALISTIC, SHAPES

BENCH_DIR = Path(__file__).resolve().parent
APPS_DIR = BENCH_DIR / "apps"
VENVS_DIR = BENCH_DIR / ".venvs"
PYPI_RAVYN_VERSION = "0.4.3"
SERVER_PACKAGES = ("uvicorn", "uvloop", "httptools")


class BenchError(RuntimeError):
    """Something that makes the results meaningless: the bench stops and says what."""


ALL_SCENARIOS = frozenset(SHAPES)
SHARED_SCENARIOS = ALL_SCENARIOS - frozenset(RAVYN_ONLY)
"""What every framework's app serves: all but the durable task of scenario D (ours only)."""


@dataclass
class Contender:
    name: str
    module: str  # in bench/apps/
    packages: tuple[str, ...]  # the distributions whose versions the results name
    python: Path = field(default_factory=lambda: Path(sys.executable))
    versions: dict[str, str] = field(default_factory=dict)
    scenarios: frozenset[str] = SHARED_SCENARIOS  # those its app serves

    def serves(self, scenario: str) -> bool:
        """Whether this contender's app has the scenario (the bench skips it where not, and says so)."""
        return scenario in self.scenarios

    def env(self, scenario: str) -> dict[str, str]:
        """The environment of its server and in-process runs: the scenario, and the one ravyn to import.

        Our ravyn is this checkout's (its directory first on PYTHONPATH): the
        venv's editable install may point at another checkout, which the
        results would then measure under this one's commit. Every other
        contender gets no PYTHONPATH, so PyPI's ravyn is never shadowed by ours.
        """
        env = {**os.environ, "BENCH_SCENARIO": scenario, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)
        if self.name == "ravyn":
            env["PYTHONPATH"] = str(BENCH_DIR.parent)
        return env

    @property
    def label(self) -> str:
        if self.name == "ravyn":
            return "ravyn (this repo)"
        if self.name == "pypi-ravyn":
            return f"ravyn {self.versions.get('ravyn', '?')} (PyPI)"
        if self.name == "bare":
            return "bare ASGI app"
        main = self.packages[0]
        return f"{main.capitalize() if main != 'fastapi' else 'FastAPI'} {self.versions.get(main, '?')}"


def all_contenders() -> dict[str, Contender]:
    return {
        "ravyn": Contender(
            "ravyn", "ravyn_app", ("ravyn-background-guide", "lilya"), scenarios=ALL_SCENARIOS
        ),
        "lilya": Contender("lilya", "lilya_app", ("lilya",)),
        "starlette": Contender("starlette", "starlette_app", ("starlette",)),
        "fastapi": Contender("fastapi", "fastapi_app", ("fastapi", "starlette", "pydantic")),
        "pypi-ravyn": Contender("pypi-ravyn", "pypi_ravyn_app", ("ravyn", "lilya", "pydantic")),
        # the floor for the realistic scenarios: the same work with no framework
        "bare": Contender("bare", "bare_app", ("pydantic",), scenarios=frozenset(REALISTIC)),
    }


def installed_versions(python: Path, names: tuple[str, ...]) -> dict[str, str]:
    """The versions of `names` in the environment of `python` ("missing" when absent)."""
    code = (
        "import json, sys\n"
        "from importlib import metadata\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try: out[name] = metadata.version(name)\n"
        "    except metadata.PackageNotFoundError: out[name] = 'missing'\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [str(python), "-c", code, *names],
        cwd=APPS_DIR,
        env={name: value for name, value in os.environ.items() if name != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(done.stdout))


def server_requirements(fast_server: bool) -> list[str]:
    """uvicorn (and uvloop, httptools) pinned to the project venv's versions."""
    names = SERVER_PACKAGES if fast_server else SERVER_PACKAGES[:1]
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            raise BenchError(f"{name} is not installed here: pip install -e '.[bench]'") from None
    return pins


def ensure_pypi_ravyn_venv(fast_server: bool, log: bool = True) -> Path:
    """Make (or reuse) bench/.venvs/pypi-ravyn and return its Python."""
    venv = VENVS_DIR / "pypi-ravyn"
    python = venv / "bin" / "python"
    wanted = [f"ravyn=={PYPI_RAVYN_VERSION}", *server_requirements(fast_server)]
    marker = venv / "bench-requirements.txt"
    if python.exists() and marker.exists() and marker.read_text().split() == wanted:
        return python
    if log:
        print(f"==> creating {venv.relative_to(BENCH_DIR.parent)} with {' '.join(wanted)}", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
        check=True,
        timeout=1200,
    )
    marker.write_text("\n".join(wanted) + "\n")
    return python


def prepare(names: list[str], fast_server: bool) -> list[Contender]:
    """The contenders named, each with its Python and versions; fails loudly if one cannot run."""
    known = all_contenders()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise BenchError(f"unknown contender(s) {unknown}: choose from {sorted(known)}")
    server = SERVER_PACKAGES if fast_server else SERVER_PACKAGES[:1]
    reference: dict[str, str] | None = None
    chosen = []
    for name in names:
        contender = known[name]
        if name == "pypi-ravyn":
            contender.python = ensure_pypi_ravyn_venv(fast_server)
        contender.versions = installed_versions(contender.python, (*contender.packages, *server))
        missing = [pkg for pkg, version in contender.versions.items() if version == "missing"]
        if missing:
            raise BenchError(
                f"{name}: {', '.join(missing)} not installed in {contender.python}: pip install -e '.[bench]'"
            )
        server_versions = {pkg: contender.versions[pkg] for pkg in server}
        if reference is None:
            reference = server_versions
        elif server_versions != reference:
            raise BenchError(f"{name} runs on {server_versions}, the others on {reference}: not comparable")
        chosen.append(contender)
    return chosen
