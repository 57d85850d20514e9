"""The durability harness's counting: per task id that got a 2xx, done once, re-run or lost."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from pathlib import Path

import pytest

from bench import durability, durability_report
from bench.apps.durability_sink import record_done
from bench.durability_count import CrashReport, read_crash_reports, read_sink, tally, task_id

NO_REPORT = CrashReport(frozenset(), 0)


def test_each_acknowledged_task_is_counted_once_as_done_once_rerun_or_lost() -> None:
    acked = ["id-0-1", "id-0-2", "id-1-1", "id-1-2"]
    runs = Counter({"id-0-1": 1, "id-0-2": 3, "id-1-2": 1})
    counts = tally(acked, runs, NO_REPORT)
    assert (counts.acknowledged, counts.done_once, counts.rerun, counts.lost) == (4, 2, 1, 1)
    assert counts.extra_runs == 2
    assert counts.done_once + counts.rerun + counts.lost == counts.acknowledged


def test_a_task_done_without_a_2xx_is_counted_apart_not_as_done_or_lost() -> None:
    counts = tally(["id-0-1"], Counter({"id-0-1": 1, "id-0-2": 1}), NO_REPORT)
    assert (counts.acknowledged, counts.done_once, counts.lost, counts.unacknowledged_done) == (1, 1, 0, 1)


def test_an_id_acknowledged_twice_is_one_task() -> None:
    counts = tally(["id-0-1", "id-0-1"], Counter(), NO_REPORT)
    assert (counts.acknowledged, counts.lost) == (1, 1)


def test_the_sink_counts_each_line_and_ignores_a_torn_or_foreign_one(tmp_path: Path) -> None:
    sink = tmp_path / "sink.txt"
    for task in ("id-0-1", "id-0-1", "id-2-7"):
        record_done(sink, task)
    with sink.open("a") as file:
        file.write("garbage\nid-3-\n\nid-4-1 and more\nid-5")  # a torn last line has no newline
    assert read_sink(sink) == Counter({"id-0-1": 2, "id-2-7": 1})
    assert read_sink(tmp_path / "absent.txt") == Counter()


def test_the_crash_report_names_lost_ids_from_its_lines_and_sums_its_counts() -> None:
    first = (
        "Background task work('id-0-5', 120) lost: its process (worker 1a2b3c4d) ended without finishing it\n"
        "Background task work('id-1-9', 40) lost: its process (worker 1a2b3c4d) ended without finishing it\n"
        "... and 3 more background task(s) of worker 1a2b3c4d lost (not listed)\n"
        "5 plain background task(s) lost by a process that ended without its shutdown (a crash, SIGKILL)\n"
    )
    second = "INFO something about id-9-9\n2 plain background task(s) lost by a process that ended\n"
    report = read_crash_reports([first, second])
    assert report.named == frozenset({"id-0-5", "id-1-9"})  # id-9-9 is not on a "lost" line
    assert report.counted == 7
    counts = tally(["id-0-5", "id-1-9", "id-2-2"], Counter({"id-1-9": 1}), report)
    assert (counts.lost, counts.lost_named, counts.reported_lost) == (2, 1, 7)


def test_task_ids_are_unique_per_client_and_sequence_and_match_the_sink_format(tmp_path: Path) -> None:
    ids = {task_id(client, sequence) for client in range(3) for sequence in range(1, 50)}
    assert len(ids) == 3 * 49
    sink = tmp_path / "sink.txt"
    for task in ids:
        record_done(sink, task)
    assert set(read_sink(sink)) == ids


def test_the_table_has_a_row_per_tier_and_no_crash_report_cells_outside_in_process() -> None:
    results = {
        "tiers": [
            {
                "tier": "in-process",
                "label": "In-process",
                "kills": 3,
                "acknowledged": 10,
                "done_once": 7,
                "rerun": 0,
                "lost": 3,
                "lost_named": 2,
                "reported_lost": 3,
            },
            {
                "tier": "journal",
                "label": "Journal",
                "kills": 3,
                "acknowledged": 1200,
                "done_once": 1199,
                "rerun": 1,
                "lost": 0,
                "lost_named": 0,
                "reported_lost": 0,
            },
        ]
    }
    lines = durability_report.table(results).splitlines()
    assert lines[2] == "| In-process | 3 | 10 | 7 | 0 | 3 | 2 | 3 |"
    assert lines[3] == "| Journal | 3 | 1,200 | 1,199 | 1 | 0 | n/a | n/a |"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kills", "0"], "--kills takes a count of 1 or more"),
        (["--clients", "0"], "--clients takes a count of 1 or more"),
        (["--tiers", "journal,rabbit"], "--tiers takes in-process, journal"),
    ],
)
def test_bad_options_stop_with_a_message_saying_what_to_give(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        durability.parse_args(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_a_client_whose_answer_is_cut_by_a_kill_keeps_sending_and_does_not_count_it() -> None:
    """A kill between the status line and the body (an `IncompleteRead`) is a
    task not acknowledged, and the client thread goes on sending: before, it
    died of it, and its client sent nothing for the rest of the run."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    answered: list[int] = []

    def serve() -> None:
        for number in range(4):
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                if number == 0:  # cut: the head promises a body that never comes
                    connection.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 21\r\n\r\n")
                else:
                    connection.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}")
                    answered.append(number)
        listener.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    clients = durability.Clients(port=port, count=1, seed=7)
    clients.start()
    server.join(timeout=20)
    clients.stop()

    assert answered == [1, 2, 3]
    assert task_id(0, 1) not in clients.acknowledged  # the cut answer
    assert {task_id(0, 2), task_id(0, 3), task_id(0, 4)} <= clients.acknowledged
