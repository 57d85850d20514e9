"""Tests for ravyn/background.py and the basics of ravyn/runner.py: task classes, the plan, events."""

from __future__ import annotations

import logging
import threading

import pytest
from lilya.background import Task, Tasks

from ravyn import BackgroundTask, BackgroundTasks
from ravyn.background import task_name
from ravyn.runner import TaskEvent, TaskRunner, observe_tasks, plan_tasks

pytestmark = pytest.mark.anyio


def noop() -> None:
    """A task that does nothing."""


def test_our_classes_are_lilyas_classes() -> None:
    single = BackgroundTask(noop)
    many = BackgroundTasks()
    assert isinstance(single, Task)
    assert isinstance(many, Tasks)
    # an injected collector satisfies a `BackgroundTask` annotation too
    assert isinstance(many, BackgroundTask)


def test_add_task_keeps_args_and_kwargs() -> None:
    def greet(name: str, punctuation: str = ".") -> None: ...

    tasks = BackgroundTasks()
    tasks.add_task(greet, "Ada", punctuation="!")
    (task,) = tasks
    assert isinstance(task, BackgroundTask)
    assert (task.call, task.args, task.kwargs) == (greet, ("Ada",), {"punctuation": "!"})
    assert len(tasks) == 1


def test_task_name_reads_ours_lilyas_and_partials() -> None:
    def ship(order: int) -> None: ...

    async def ship_async(order: int) -> None: ...

    assert task_name(BackgroundTask(ship, 1)) == "test_task_name_reads_ours_lilyas_and_partials.<locals>.ship"
    assert task_name(Task(ship, 1)).endswith("ship")
    assert task_name(Task(ship_async, 1)).endswith("ship_async")
    assert task_name(BackgroundTasks()) == "BackgroundTasks"


def test_describe_shortens_long_arguments() -> None:
    task = BackgroundTask(print, "x" * 500, sep="-")
    described = task.describe()
    assert described.startswith("print('xxx")
    assert "..." in described
    assert len(described) < 120
    assert described.endswith("sep='-')")


def test_plan_runs_each_object_once_in_order() -> None:
    first, second, third = BackgroundTask(noop), BackgroundTask(noop), BackgroundTask(noop)
    collector = BackgroundTasks(tasks=[first, second])
    # the same collector attached twice, and a task inside it attached alone as well
    plan = plan_tasks([collector, None, collector, second, third])
    assert plan == [first, second, third]


def test_plan_keeps_groups_together() -> None:
    a, b, c = BackgroundTask(noop), BackgroundTask(noop), BackgroundTask(noop)
    group = BackgroundTasks(tasks=[a, b], as_group=True)
    assert plan_tasks([group, c]) == [(a, b), c]
    # a group nested in a sequence keeps its concurrency
    assert plan_tasks([BackgroundTasks(tasks=[c, group])]) == [c, (a, b)]


async def test_sync_tasks_run_on_a_worker_thread_and_async_on_the_loop() -> None:
    threads: dict[str, int] = {}

    def sync_task() -> None:
        threads["sync"] = threading.get_ident()

    async def async_task() -> None:
        threads["async"] = threading.get_ident()

    await TaskRunner().run(BackgroundTasks(tasks=[BackgroundTask(sync_task), BackgroundTask(async_task)]))
    assert threads["async"] == threading.get_ident()
    assert threads["sync"] != threading.get_ident()


async def test_a_failing_task_is_logged_and_the_next_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    def charge_card(order_id: int) -> None:
        raise KeyError("card_token")

    def send_receipt(order_id: int) -> None:
        ran.append(f"receipt {order_id}")

    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await TaskRunner().run(BackgroundTask(charge_card, 7), BackgroundTask(send_receipt, 7))

    assert ran == ["receipt 7"]
    (record,) = caplog.records
    assert record.name == "ravyn.background"
    assert "charge_card(7)" in record.getMessage()
    assert "KeyError" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert record.task_name.endswith("charge_card")  # type: ignore[attr-defined]


async def test_stop_on_error_skips_the_rest() -> None:
    ran: list[str] = []

    def fail() -> None:
        raise RuntimeError("boom")

    runner = TaskRunner(stop_on_error=True)
    await runner.run(BackgroundTask(fail), BackgroundTask(ran.append, "after"))
    assert ran == []


async def test_on_task_error_hook_gets_task_and_exception_sync_or_async() -> None:
    reported: list[tuple[str, str]] = []

    def hook(task: Task, exc: BaseException) -> None:
        reported.append((task_name(task), repr(exc)))

    async def async_hook(task: Task, exc: BaseException) -> None:
        reported.append(("async", repr(exc)))

    def fail() -> None:
        raise ValueError("bad")

    failing = BackgroundTask(fail)
    await TaskRunner(on_task_error=hook).run(failing)
    await TaskRunner(on_task_error=async_hook).run(failing)
    assert reported == [(failing.name, "ValueError('bad')"), ("async", "ValueError('bad')")]


async def test_a_broken_hook_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def hook(task: Task, exc: BaseException) -> None:
        raise RuntimeError("hook broke")

    def fail() -> None:
        raise ValueError("bad")

    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await TaskRunner(on_task_error=hook).run(BackgroundTask(fail))
    assert any("on_task_error hook raised" in r.getMessage() for r in caplog.records)


async def test_listeners_see_started_finished_failed_with_durations() -> None:
    events: list[TaskEvent] = []

    def ok() -> None: ...

    def broken() -> None:
        raise OSError("disk full")

    runner = TaskRunner()
    runner.add_listener(events.append)
    await runner.run(BackgroundTask(ok), BackgroundTask(broken))
    assert [(e.kind, e.name.rsplit(".", 1)[-1]) for e in events] == [
        ("started", "ok"),
        ("finished", "ok"),
        ("started", "broken"),
        ("failed", "broken"),
    ]
    assert events[1].duration is not None and events[1].duration >= 0
    assert isinstance(events[3].error, OSError)
    runner.remove_listener(events.append)
    await runner.run(BackgroundTask(ok))
    assert len(events) == 4


async def test_observe_tasks_is_scoped_to_its_block() -> None:
    seen: list[str] = []
    with observe_tasks(lambda event: seen.append(event.kind)):
        await TaskRunner().run(BackgroundTask(noop))
    await TaskRunner().run(BackgroundTask(noop))
    assert seen == ["started", "finished"]


async def test_a_broken_listener_does_not_stop_the_task(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[int] = []

    def listener(event: TaskEvent) -> None:
        raise RuntimeError("listener broke")

    runner = TaskRunner()
    runner.add_listener(listener)
    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await runner.run(BackgroundTask(ran.append, 1))
    assert ran == [1]


async def test_lilya_tasks_run_through_the_runner_and_are_isolated() -> None:
    ran: list[str] = []

    async def explode() -> None:
        raise RuntimeError("lilya task failed")

    await TaskRunner().run(Tasks(tasks=[Task(explode), Task(ran.append, "lilya")]))
    assert ran == ["lilya"]


async def test_group_tasks_run_concurrently() -> None:
    import anyio

    both_started = anyio.Event()
    started: list[str] = []

    async def wait_for_partner(name: str) -> None:
        started.append(name)
        if len(started) == 2:
            both_started.set()
        with anyio.fail_after(5):
            await both_started.wait()

    group = BackgroundTasks(as_group=True)
    group.add_task(wait_for_partner, "a")
    group.add_task(wait_for_partner, "b")
    await TaskRunner().run(group)
    assert sorted(started) == ["a", "b"]


async def test_calling_a_task_directly_uses_the_isolating_default_runner(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fail() -> None:
        raise RuntimeError("direct")

    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await BackgroundTask(fail)()
        await BackgroundTasks(tasks=[BackgroundTask(fail)])()
    assert len(caplog.records) == 2


async def test_sync_tasks_use_the_runners_own_thread_limit() -> None:
    import anyio

    runner = TaskRunner(thread_limit=2)
    peak = 0
    running = 0
    lock = threading.Lock()

    def busy() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        threading.Event().wait(0.05)
        with lock:
            running -= 1

    group = BackgroundTasks(as_group=True)
    for _ in range(6):
        group.add_task(busy)
    await runner.run(group)
    assert peak <= 2
    assert runner.pool.size == 2 and runner.pool.threads <= 2  # the pool's size is the bound
    assert anyio.to_thread.current_default_thread_limiter().borrowed_tokens == 0


async def test_retries_run_until_success_and_are_counted(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    async def flaky_webhook(url: str) -> None:
        calls.append(len(calls) + 1)
        if len(calls) < 3:
            raise ConnectionError("receiver busy")

    runner = TaskRunner()
    task = BackgroundTask(flaky_webhook, "http://hooks.example/x").configure(retries=2, retry_delay=0.01)
    with caplog.at_level(logging.WARNING, logger="ravyn.background"):
        await runner.run(task)
    assert calls == [1, 2, 3]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "attempt 1/3" in warnings[0] and "attempt 2/3" in warnings[1]
    assert runner.stats.retried == 2 and runner.stats.succeeded == 1 and runner.stats.failed == 0


async def test_a_task_that_keeps_failing_gives_up_after_its_retries(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []

    def always_down() -> None:
        attempts.append(1)
        raise ConnectionError("down")

    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        # the constructor takes the policy too, when the function has no such parameters
        await runner.run(BackgroundTask(always_down, retries=1))
    assert len(attempts) == 2
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "after 2 attempts" in error.getMessage()
    assert runner.stats.failed == 1


async def test_timeouts_apply_to_async_and_sync_tasks() -> None:
    import anyio

    async def hangs() -> None:
        await anyio.sleep(30)

    blocker = threading.Event()

    def hangs_in_a_thread() -> None:
        blocker.wait(30)

    runner = TaskRunner()
    with anyio.fail_after(10):
        await runner.run(BackgroundTask(hangs, timeout=0.05), BackgroundTask(hangs_in_a_thread, timeout=0.05))
    blocker.set()
    assert runner.stats.timed_out == 2 and runner.stats.failed == 2


def test_policy_keywords_go_to_functions_that_take_them() -> None:
    def request(url: str, timeout: float = 5.0) -> None: ...

    task = BackgroundTask(request, "http://x", timeout=1.0)
    assert task.kwargs == {"timeout": 1.0} and task.timeout is None


@pytest.mark.parametrize("bad", [{"timeout": 0}, {"retries": -1}, {"retry_delay": -1.0}])
def test_bad_policies_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        BackgroundTask(noop).configure(**bad)  # type: ignore[arg-type]


async def test_drain_waits_for_quick_tasks() -> None:
    import anyio

    finished: list[str] = []

    async def quick() -> None:
        await anyio.sleep(0.1)
        finished.append("quick")

    runner = TaskRunner()
    async with anyio.create_task_group() as group:
        group.start_soon(runner.run, BackgroundTask(quick))
        await anyio.sleep(0.01)
        lost = await runner.drain(timeout=5)
    assert lost == 0 and finished == ["quick"] and not runner.draining


async def test_drain_cancels_and_logs_what_outlives_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    import anyio

    async def slow_export() -> None:
        await anyio.sleep(30)

    def never_reached() -> None: ...

    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(runner.run, BackgroundTask(slow_export), BackgroundTask(never_reached))
            await anyio.sleep(0.05)
            lost = await runner.drain(timeout=0.1)
    assert lost == 2 and runner.stats.lost == 2
    messages = [r.getMessage() for r in caplog.records]
    assert any("slow_export() lost" in m for m in messages)
    assert any("never_reached() lost" in m for m in messages)
    assert "2 background task(s) lost at shutdown" in messages


async def test_lilyas_sync_tasks_run_on_the_runners_own_threads() -> None:
    import anyio

    where: list[str] = []

    def on_which_thread() -> None:
        where.append(threading.current_thread().name)

    await TaskRunner().run(Tasks(tasks=[Task(on_which_thread)]))
    assert where and where[0].startswith("ravyn-task")
    assert anyio.to_thread.current_default_thread_limiter().borrowed_tokens == 0


def test_a_plain_function_is_wrapped_as_lilyas_task_would_wrap_it() -> None:
    import functools

    from lilya.concurrency import AsyncCallable

    async def on_loop(x: int) -> None: ...

    def on_thread(x: int) -> None: ...

    class Callable_:
        async def __call__(self, x: int) -> None: ...

    for func in (on_loop, on_thread, functools.partial(on_loop), Callable_(), print):
        ours, lilyas = BackgroundTask(func, 1), Task(func, 1)  # type: ignore[arg-type]
        assert type(ours.func) is type(lilyas.func)
        if isinstance(ours.func, AsyncCallable):
            assert ours.func._callable is func
        else:
            assert ours.func is func
        assert (ours.args, ours.kwargs) == (lilyas.args, lilyas.kwargs) == ((1,), {})
        assert ours.name == task_name(func)
    renamed = BackgroundTask(on_thread, 1)
    renamed.name = "nightly"
    assert renamed.name == "nightly" and repr(renamed) == "BackgroundTask(nightly(1))"


def test_a_task_given_its_own_collection_describes_it_without_recursing() -> None:
    def step(collection: BackgroundTasks) -> None: ...

    tasks = BackgroundTasks()
    for _ in range(30):  # each repr once re-entered the others: exponential, in effect endless
        tasks.add_task(step, tasks)
    described = tasks.tasks[0].describe()  # type: ignore[attr-defined]
    assert described.startswith("test_a_task_given_its_own_collection_describes_it_without_recursing")
    assert "..." in repr(tasks)
