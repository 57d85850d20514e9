"""A mkdocs hook that puts a **Run** button beside every example of the guide: the in-page playground.

Wherever a page includes an example with pymdownx.snippets,

    ```python title="docs_src/background_tasks/quick_start.py"
    --8<-- "docs_src/background_tasks/quick_start.py"
    ```

the hook adds, after the code block, a small panel with **Run** and **Edit**
buttons. It carries the example's module and its catalogue request
(`docs_src/catalogue.py`) as data attributes; `playground/playground.js` does the
rest in the reader's browser, with Pyodide, from files this hook puts in the site:

* `playground/pyodide/`: Pyodide itself, from the npm package in
  `playground/node_modules/` (`npm ci` in `playground/`);
* `playground/wheels/<hash>/`: the wheels the examples need: ours, built from
  the checkout, and Lilya with its dependencies (pydantic too, through
  `lilya[openapi]`) at the versions installed here (the ones the build-time
  timelines ran with), downloaded from PyPI once with pip and kept in
  `playground/.cache/`: pure-Python wheels, and pydantic-core's WebAssembly wheel
  for Pyodide's platform; micropip, at the version Pyodide's lock file names;
* `playground/examples/<name>.py`, the playground's own JavaScript, CSS (loaded
  on every page, for the theme's instant navigation) and
  Python runner, a copy of `timelines.py` (the runner draws its figures with it),
  and `manifest.json`, which lists all of it.

Nothing is fetched from elsewhere when the site is read. An example that cannot
run in a browser (it needs a task-queue worker, a network receiver, or imports a
package the playground does not ship) gets a one-line note instead of a button.

If Pyodide is not installed (no `npm ci` yet), the pages get no buttons: the
hook says so, as a warning under CI (the strict build then fails), as a note
elsewhere. Set `RAVYN_DOCS_PLAYGROUND=0` to build without the playground on purpose.
"""

from __future__ import annotations

import ast
import hashlib
import html
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

log = logging.getLogger("mkdocs.hooks.playground")

SNIPPET = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[^\n]*\n"
    r'(?P=indent)[ \t]*--8<--[ \t]*"docs_src/background_tasks/(?P<name>[a-z0-9_]+)\.py"[ \t]*\n'
    r"(?P=indent)(?P=fence)[ \t]*$",
    re.M,
)
"""A fenced block that holds nothing but the snippet line of one example."""

PLACEHOLDER = "RAVYNPLAYGROUND{}X"
SITE_DIR = "playground"

# Pyodide's files the browser loads; the rest of the npm package (types, source maps) stays out.
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
PYODIDE_ASM = ("pyodide.asm.mjs", "pyodide.asm.js")  # the name depends on the release

OWN_FILES = ("playground.js", "playground-worker.js", "playground.css", "ravyn_playground.py")

NOT_IN_A_BROWSER = frozenset({"uvicorn"})
"""Dependencies the playground leaves out: a server, which the page replaces with `ravyn.testing.record`."""

# What `packaging` needs to evaluate dependency markers for Pyodide; the Python version is Pyodide's.
PYODIDE_MARKERS = {
    "os_name": "posix",
    "sys_platform": "emscripten",
    "platform_system": "Emscripten",
    "platform_machine": "wasm32",
    "platform_release": "",
    "platform_version": "",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}


@dataclass
class Bundle:
    """What one build puts in the site for the playground."""

    files: dict[str, Path] = field(default_factory=dict)
    """Site path -> file to copy there."""
    generated: dict[str, str] = field(default_factory=dict)
    """Site path -> text content."""
    version: str = ""
    """A hash of everything above: the query string that keeps browsers from using stale copies."""
    shipped: frozenset[str] = frozenset()
    """Top-level import names the wheels provide."""
    download_bytes: int = 0
    python: str = ""
    """The Python version Pyodide runs, e.g. "3.14.2"."""


_bundle: Bundle | None = None
_widgets: dict[str, list[str]] = {}


# --------------------------------------------------------------------------- mkdocs events


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    root = project_root(config)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Build (or take from the cache) what the playground needs, and add it to the site."""
    global _bundle
    _bundle = None
    _widgets.clear()
    if os.environ.get("RAVYN_DOCS_PLAYGROUND", "1") == "0":
        log.info("playground: left out (RAVYN_DOCS_PLAYGROUND=0)")
        return files
    root = project_root(config)
    pyodide = root / "playground" / "node_modules" / "pyodide"
    if not (pyodide / "pyodide-lock.json").is_file():
        # a warning fails the strict build: under CI, and never on a machine merely lacking Node
        report = log.warning if os.environ.get("CI", "").lower() == "true" else log.info
        report(
            "playground: Pyodide is not installed, so the pages get no Run buttons: run "
            "`npm ci` in playground/ (scripts/test and scripts/docs do), or set RAVYN_DOCS_PLAYGROUND=0"
        )
        return files
    started = time.perf_counter()
    _bundle = bundle(root, pyodide)
    for uri, path in _bundle.files.items():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    for uri, text in _bundle.generated.items():
        files.append(File.generated(config, uri, content=text))
    log.debug("playground: %d files ready in %.2fs", len(_bundle.files), time.perf_counter() - started)
    return files


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """`mkdocs serve` rebuilds when the playground's own files change too."""
    for name in OWN_FILES:
        server.watch(str(project_root(config) / "playground" / name))
    return server


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """After each included example, a placeholder for its Run panel (or its "not runnable" note)."""
    if _bundle is None:
        return markdown
    from docs_src.catalogue import EXAMPLES, HELPERS

    widgets: list[str] = []

    def add(match: re.Match[str]) -> str:
        name = match.group("name")
        if name in HELPERS or name not in EXAMPLES:
            return match.group(0)
        assert _bundle is not None
        reason = not_runnable(EXAMPLES[name], project_root(config), _bundle.shipped)
        widgets.append(unavailable_html(reason) if reason else widget_html(EXAMPLES[name], _bundle))
        placeholder = PLACEHOLDER.format(len(widgets) - 1)
        return f"{match.group(0)}\n\n{match.group('indent')}{placeholder}\n"

    markdown = SNIPPET.sub(add, markdown)
    if widgets:
        _widgets[page.file.src_uri] = widgets
    return markdown


BUILD_CAPTION = "<figcaption>Measured when this page was built: "
"""How docs/hooks/timelines.py starts a figure's caption (ravyn_playground.py retitles the same words)."""


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Put each Run panel in place; say which Python measured the build's figures.

    The playground's figures say they ran on Pyodide's Python (3.14); the build's
    say which Python drew them, so that a reader comparing the two knows why the
    times differ.
    """
    python = f"Python {platform.python_version()} ({sys.platform})"
    html_text = html_text.replace(
        BUILD_CAPTION, f"<figcaption>Measured when this page was built, on {python}: "
    )
    for number, widget in enumerate(_widgets.get(page.file.src_uri, [])):
        placeholder = f"<p>{PLACEHOLDER.format(number)}</p>"
        if placeholder not in html_text:
            raise PluginError(f"{page.file.src_uri}: playground panel {number} lost its place in the page")
        html_text = html_text.replace(placeholder, widget)
    return html_text


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Load the playground's CSS and script on every page.

    With the theme's instant navigation a reader who lands on a page without a
    Run button and then follows a link gets the new page's content without its
    scripts: the playground has to be there already, and it binds the panels of
    each page as the page changes (`document$`). It is small; Pyodide itself
    only loads when the reader presses Run.
    """
    if _bundle is None:
        return output
    css = get_relative_url(f"{SITE_DIR}/playground.css", page.url) + f"?v={_bundle.version}"
    script = get_relative_url(f"{SITE_DIR}/playground.js", page.url) + f"?v={_bundle.version}"
    output = output.replace("</head>", f'<link rel="stylesheet" href="{css}">\n</head>', 1)
    return output.replace("</body>", f'<script type="module" src="{script}"></script>\n</body>', 1)


# --------------------------------------------------------------------------- the page's panels


def widget_html(example: Any, bundle: Bundle) -> str:
    """The Run panel of one example: buttons, and the data playground.js needs to run it."""
    esc = html.escape
    request = f"{example.method} {example.path}"
    body = "" if example.json is None else json.dumps(example.json)
    temp_dirs = ",".join(name for name in example.notes.get("env", {}) if name.endswith("_DIR"))
    megabytes = bundle.download_bytes / 1_000_000
    return (
        f'<div class="rp-playground" data-module="{esc(example.module)}" data-method="{esc(example.method)}"'
        f' data-path="{esc(example.path)}" data-json="{esc(body)}" data-status="{example.status}"'
        f' data-temp-dirs="{esc(temp_dirs)}" data-search-exclude>'
        '<div class="rp-bar" hidden>'
        '<button type="button" class="md-button md-button--primary rp-run" title="Ctrl+Enter in the editor">'
        "Run</button>"
        '<button type="button" class="md-button rp-stop" hidden>Stop</button>'
        '<button type="button" class="md-button rp-edit">Edit</button>'
        '<button type="button" class="md-button rp-reset" hidden>Reset</button>'
        f'<span class="rp-hint">Sends <code>{esc(request)}</code> to this example in your browser, '
        f"with Python {esc(short_version(bundle.python))} on Pyodide "
        f"(about {megabytes:.0f} MB to download once, then cached).</span>"
        "</div>"
        '<div class="rp-editor" hidden></div>'
        '<p class="rp-keys" hidden>In the editor, Tab indents and Ctrl+Enter runs; '
        "to leave it, press Esc and then Tab.</p>"
        '<div class="rp-status" role="status" aria-live="polite" hidden></div>'
        '<div class="rp-output" aria-live="polite" hidden></div>'
        "</div>"
    )


def short_version(python: str) -> str:
    """ "3.14.2" -> "3.14": the version a reader compares with their own."""
    return ".".join(python.split(".")[:2])


def unavailable_html(reason: str) -> str:
    text = f"Not runnable in the browser: {html.escape(reason)}."
    return f'<p class="rp-unavailable" data-search-exclude>{text}</p>'


def not_runnable(example: Any, root: Path, shipped: frozenset[str]) -> str | None:
    """Why `example` cannot run in a browser page, or None if it can."""
    queue = getattr(example, "queue", None)
    if queue:
        return f"it hands its job to a {queue.capitalize()} worker, a process a browser page cannot start"
    if "receiver" in example.notes:
        return "its task sends a webhook over the network to a receiver, which a browser page cannot start"
    if "not_in_browser" in example.notes:  # a reason the catalogue gives in its own words
        return str(example.notes["not_in_browser"])
    source = root / "docs_src" / "background_tasks" / f"{example.module}.py"
    missing = sorted(imported_packages(source) - shipped - set(sys.stdlib_module_names))
    if missing:
        return f"it imports {', '.join(missing)}, which the playground does not ship"
    return None


def imported_packages(source: Path, seen: frozenset[Path] = frozenset()) -> set[str]:
    """The top-level packages a module imports, looking through the helper modules it imports
    from `docs_src.background_tasks` (the playground ships those beside the examples)."""
    names = set()
    for node in ast.walk(ast.parse(source.read_text("utf-8"))):
        modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [node.module]
        for module in modules:
            package, _, name = module.rpartition(".")
            helper = source.parent / f"{name}.py"
            if package == "docs_src.background_tasks" and helper.is_file():
                if helper not in seen:
                    names |= imported_packages(helper, seen | {source})
            else:
                names.add(module.split(".")[0])
    return names


# --------------------------------------------------------------------------- the site's files


def project_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def bundle(root: Path, pyodide: Path) -> Bundle:
    """Every file the playground needs in the site, built or downloaded once and cached."""
    playground = root / "playground"
    cache = playground / ".cache"
    lock = json.loads((pyodide / "pyodide-lock.json").read_text("utf-8"))
    python = lock["info"]["python"]  # e.g. "3.14.2"
    result = Bundle(python=python)

    core = [pyodide / name for name in PYODIDE_FILES]
    core.append(next((pyodide / name for name in PYODIDE_ASM if (pyodide / name).is_file()), pyodide / "x"))
    missing = [path.name for path in core if not path.is_file()]
    if missing:
        raise PluginError(f"playground: the pyodide npm package lacks {missing}: reinstall it (npm ci)")
    for path in core:
        result.files[f"{SITE_DIR}/pyodide/{path.name}"] = path

    wheels = [project_wheel(root, cache / "local")]
    wheels += dependency_wheels(runtime_requirements(root, python), python, cache / "pypi", lock)
    micropip_version = lock["packages"]["micropip"]["version"]
    [micropip] = dependency_wheels([("micropip", micropip_version)], python, cache / "pypi")
    urls = {}
    for wheel in [*wheels, micropip]:
        uri = f"{SITE_DIR}/wheels/{file_hash(wheel)[:12]}/{wheel.name}"
        result.files[uri] = wheel
        urls[wheel] = uri.removeprefix(f"{SITE_DIR}/")
    result.shipped = frozenset(name for wheel in wheels for name in top_level_names(wheel))

    from docs_src.catalogue import EXAMPLES, HELPERS

    for name in [*EXAMPLES, *HELPERS]:  # helpers: the modules examples import (`safe_files`, ...)
        source = root / "docs_src" / "background_tasks" / f"{name}.py"
        result.files[f"{SITE_DIR}/examples/{name}.py"] = source
    for name in OWN_FILES:
        result.files[f"{SITE_DIR}/{name}"] = playground / name
    result.files[f"{SITE_DIR}/timelines.py"] = root / "docs" / "hooks" / "timelines.py"

    result.version = hashlib.sha256(
        "".join(f"{uri}:{file_hash(path)}" for uri, path in sorted(result.files.items())).encode()
    ).hexdigest()[:12]
    result.download_bytes = sum(path.stat().st_size for path in [*core, *wheels, micropip])
    manifest = {
        "version": result.version,
        "pyodide": {"version": package_version(pyodide), "python": python},
        "micropip": urls[micropip],
        "wheels": [
            {"name": str(parse_wheel_filename(wheel.name)[0]), "url": urls[wheel]} for wheel in wheels
        ],
        "runner": f"ravyn_playground.py?v={result.version}",
        "timelines": f"timelines.py?v={result.version}",
        "examples": f"examples/{{module}}.py?v={result.version}",
        "helpers": sorted(HELPERS),
        "download_bytes": result.download_bytes,
    }
    result.generated[f"{SITE_DIR}/manifest.json"] = json.dumps(manifest, indent=2)
    return result


def package_version(package: Path) -> str:
    return str(json.loads((package / "package.json").read_text("utf-8"))["version"])


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def top_level_names(wheel: Path) -> set[str]:
    """The import names a wheel installs (its top-level folders and modules)."""
    names = set()
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            first = member.split("/")[0]
            if first.endswith((".dist-info", ".data")):
                continue
            names.add(first.removesuffix(".py"))
    return names


def runtime_requirements(root: Path, python: str) -> list[tuple[str, str]]:
    """Our dependencies and theirs, as the browser needs them: `(name, installed version)`.

    Read from pyproject.toml and then from the installed distributions' metadata,
    with markers evaluated for Pyodide and the extras each requirement asks for
    (`lilya[openapi]` brings pydantic, which handlers may use to validate bodies).
    The versions are those installed here, the ones the build-time timelines ran with.
    """
    environment = {**PYODIDE_MARKERS, "python_version": ".".join(python.split(".")[:2])}
    environment["python_full_version"] = python
    project = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"]
    todo = [Requirement(text) for text in project["dependencies"]]
    found: dict[str, str] = {}
    asked: set[tuple[str, str]] = set()
    while todo:
        requirement = todo.pop(0)
        name = canonicalize_name(requirement.name)
        if name in NOT_IN_A_BROWSER:
            continue
        if requirement.marker and not Marker(str(requirement.marker)).evaluate(environment):
            continue
        extras = sorted(requirement.extras)
        if name in found and all((name, extra) in asked for extra in extras):
            continue
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError as exc:
            raise PluginError(f"playground: {requirement.name} is not installed in this environment") from exc
        if not requirement.specifier.contains(distribution.version, prereleases=True):
            raise PluginError(
                f"playground: {requirement.name} {distribution.version} is installed, {requirement} is needed"
            )
        found[name] = distribution.version
        asked.update((name, extra) for extra in extras)
        for text in distribution.requires or []:
            dependency = Requirement(text)
            marker = dependency.marker
            if marker is None or "extra" not in str(marker):
                todo.append(dependency)
            elif any(marker.evaluate({**environment, "extra": extra}) for extra in extras):
                todo.append(Requirement(f"{dependency.name}{dependency.specifier}"))  # an extra asked for
    return sorted(found.items())


def dependency_wheels(
    wanted: list[tuple[str, str]], python: str, cache: Path, lock: dict[str, Any] | None = None
) -> list[Path]:
    """Wheels of `wanted` for Pyodide, from the cache or downloaded with pip.

    Pure-Python (`py3-none-any`) wheels where there is one; otherwise, for the
    packages Pyodide's lock file lists as compiled (pydantic-core), their
    WebAssembly wheel, tagged with the lock's platform (`pyemscripten_2026_0_wasm32`).
    """
    cache.mkdir(parents=True, exist_ok=True)
    info = (lock or {}).get("info", {})
    platform = f"pyemscripten_{info.get('abi_version', '')}_{info.get('arch', 'wasm32')}"
    compiled = {
        canonicalize_name(name)
        for name, package in (lock or {}).get("packages", {}).items()
        if not str(package.get("file_name", "")).endswith("-none-any.whl")
    }
    pure_tags = ["--implementation=py", "--abi=none", "--platform=any"]

    def cached(name: str, version: str) -> Path | None:
        found = None
        for wheel in sorted(cache.glob("*.whl")):
            wheel_name, wheel_version, _, tags = parse_wheel_filename(wheel.name)
            if wheel_name != canonicalize_name(name) or str(wheel_version) != version:
                continue
            if all(tag.abi == "none" and tag.platform == "any" for tag in tags):
                return wheel  # pure Python: the first choice
            if canonicalize_name(name) in compiled and all(tag.platform == platform for tag in tags):
                found = wheel
        return found

    absent = [f"{name}=={version}" for name, version in wanted if cached(name, version) is None]
    if absent:
        log.info("playground: downloading %s", ", ".join(absent))
        if not pip_download(absent, pure_tags, python, cache, check=False):
            for spec in absent:  # one at a time: which has no pure wheel, and is there a wasm one
                name, _, version = spec.partition("==")
                if cached(name, version) is not None or pip_download(
                    [spec], pure_tags, python, cache, check=False
                ):
                    continue
                if canonicalize_name(name) in compiled:
                    pip_download([spec], [f"--platform={platform}"], python, cache, check=True)
    wheels = []
    for name, version in wanted:
        wheel = cached(name, version)
        if wheel is None:
            raise PluginError(f"playground: no py3-none-any or {platform} wheel of {name} {version} on PyPI")
        wheels.append(wheel)
    return wheels


def pip_download(specs: list[str], tags: list[str], python: str, dest: Path, *, check: bool) -> bool:
    """`pip download` wheels of `specs` (`name==version`) for Pyodide's Python; False if pip could not."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        *tags,
        f"--python-version={'.'.join(python.split('.')[:2])}",
        f"--dest={dest}",
        *specs,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0 and check:
        raise PluginError(f"playground: pip could not download wheels of {specs}:\n{done.stderr[-2000:]}")
    return done.returncode == 0


def project_wheel(root: Path, cache: Path) -> Path:
    """Our wheel, built from the checkout with pip once per change of its sources."""
    sources = sorted(
        path
        for path in [root / "pyproject.toml", root / "README.md", *(root / "ravyn").rglob("*")]
        if path.is_file() and "__pycache__" not in path.parts
    )
    digest = hashlib.sha256()
    for path in sources:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    folder = cache / digest.hexdigest()[:16]
    built = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if built:
        return built[0]
    log.info("playground: building our wheel from the checkout")
    with tempfile.TemporaryDirectory(prefix="playground-wheel-") as scratch:
        command = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            f"--wheel-dir={scratch}",
            str(root),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
        made = sorted(Path(scratch).glob("*.whl"))
        if done.returncode != 0 or not made:
            raise PluginError(f"playground: pip could not build our wheel:\n{done.stderr[-2000:]}")
        if cache.is_dir():
            for old in cache.iterdir():  # one wheel per state of the sources is enough
                shutil.rmtree(old, ignore_errors=True)
        folder.mkdir(parents=True)
        return Path(shutil.move(str(made[0]), folder / made[0].name))
