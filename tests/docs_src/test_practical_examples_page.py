"""The practical examples page: its highlighted lines are the ones that matter, and the
webhook's "Try it" works as printed.

The commands are taken from the page itself and run under a real uvicorn, the
only changes being the ports (free ones instead of 8000 and 9000, in every
command and URL alike) and `--reload`, which a test has no use for.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from docs_src.catalogue import EXAMPLES
from ravyn.testing import Server, serve
from tests.docs_src.servers import ROOT, ServerOutput

PAGE = ROOT / "docs" / "guide" / "practical-examples.md"
INCLUDE = re.compile(
    r'^```python title="(?P<path>docs_src/background_tasks/\w+\.py)"(?: hl_lines="(?P<lines>[\d ]+)")?\n'
    r'--8<-- "(?P=path)"\n```',
    re.M,
)


def highlighted(path: str) -> list[str]:
    """The lines the page highlights in its include of `path`, stripped."""
    for match in INCLUDE.finditer(PAGE.read_text("utf-8")):
        if match.group("path") == path and match.group("lines"):
            source = (ROOT / path).read_text("utf-8").splitlines()
            return [source[int(number) - 1].strip() for number in match.group("lines").split()]
    raise AssertionError(f"the page does not include {path} with hl_lines")


@pytest.mark.parametrize(
    ("path", "task", "handler", "background"),
    [
        (
            "docs_src/background_tasks/upload_accepted.py",
            "def scan_upload(",
            "def accept_upload(",
            "scan_upload",
        ),
        (
            "docs_src/background_tasks/webhook_notification.py",
            "def send_webhook(",
            "def place_order(",
            "send_webhook",
        ),
    ],
)
def test_the_highlighted_lines_are_the_task_the_handler_and_background(
    path: str, task: str, handler: str, background: str
) -> None:
    task_line, handler_line, background_line = highlighted(path)
    assert task in task_line
    assert handler in handler_line
    assert background_line.startswith(f"background=BackgroundTask({background},")


def try_it_commands() -> list[str]:
    """The bash commands of the webhook section's "Try it" box, in order."""
    text = PAGE.read_text("utf-8")
    section = text[text.index("## 3. Sending a webhook") :]
    box = section[
        section.index('!!! example "Try it"') : section.index("<!-- timeline: webhook_notification")
    ]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", unindented(box), re.S)]


def unindented(text: str) -> str:
    """`text` with the admonition's four-space indentation taken off."""
    return "\n".join(line.removeprefix("    ") for line in text.splitlines()) + "\n"


def with_ports(command: str, ports: dict[str, str]) -> str:
    for printed, actual in ports.items():
        command = re.sub(rf"(?<=[:\s]){printed}\b", actual, command)
    return command


def start(command: str, stack: ExitStack, **env: str) -> Server:
    """Run a printed `[VAR=value ...] uvicorn module:app [--port N] [--reload]` under `serve`."""
    words = shlex.split(command)
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words[0] == "uvicorn", command
    app, options = words[1], words[2:]
    assert options in ([], ["--reload"], ["--port", "9000"]), f"an option the test does not know: {options}"
    return stack.enter_context(serve(app, env={"NO_PROXY": "127.0.0.1,localhost", **env}, cwd=ROOT))


def curl(command: str) -> tuple[int, str]:
    """Run a printed `curl -i ...`; the status and the body of its answer."""
    if shutil.which("curl") is None:
        pytest.skip("the printed instructions use curl, which is not installed")
    done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=True)
    head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
    return int(head.split()[1]), body


@pytest.fixture
def no_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only what the page prints may allow a host (the suite allows 127.0.0.1 for its own tests)."""
    monkeypatch.delenv("WEBHOOK_ALLOWED_HOSTS", raising=False)
    yield


def test_the_webhook_try_it_works_as_printed(no_allowed_hosts: None) -> None:
    receiver_command, app_command, curl_command = try_it_commands()
    example = EXAMPLES["webhook_notification"]
    assert curl_command == example.curl(), "the page's curl is not the catalogue's request"
    with ExitStack() as stack:
        receiver = start(receiver_command, stack)
        receiver_port = receiver.url.rsplit(":", 1)[1]
        app = start(with_ports(app_command, {"9000": receiver_port}), stack)
        app_port = app.url.rsplit(":", 1)[1]

        status, body = curl(with_ports(curl_command, {"9000": receiver_port, "8000": app_port}))

        assert (status, json.loads(body)) == (example.status, example.body)
        ServerOutput(receiver).wait_for("order.created: order 1, 2 x KB-42")
        ServerOutput(app).wait_for("Webhook for order 1 delivered (HTTP 200)")


def test_the_upload_try_it_works_as_printed_with_no_configuration(tmp_path: Path) -> None:
    """The hook prints `uvicorn <app> --reload` and the catalogue's curl; no UPLOAD_DIR is needed."""
    example = EXAMPLES["upload_accepted"]
    with ExitStack() as stack:
        # TMPDIR only keeps the new private folder out of the machine's /tmp
        app = start(f"uvicorn {example.import_path}:app --reload", stack, TMPDIR=str(tmp_path))
        status, body = curl(example.curl(app.url))
        assert (status, json.loads(body)) == (example.status, example.body)
        ServerOutput(app).wait_for("Scanned quarterly-report.pdf for user 7: clean")
    [folder] = tmp_path.iterdir()
    assert folder.name.startswith("ravyn-uploads-")
    assert (folder / "quarterly-report.pdf.scan.txt").is_file()
