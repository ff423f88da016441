"""The liveness rule: work waiting and nothing handled for the whole stall time means stalled."""

from __future__ import annotations

from agents.watchdog import Progress


def test_no_progress_with_work_waiting_for_the_stall_time_is_a_stall() -> None:
    progress = Progress(stall_seconds=30, handled=5, since=100.0)
    assert not progress.stalled(handled=5, lag=10, now=129.9)
    assert progress.stalled(handled=5, lag=10, now=130.0)


def test_any_handled_event_restarts_the_clock() -> None:
    progress = Progress(stall_seconds=30, handled=5, since=100.0)
    assert not progress.stalled(handled=6, lag=10, now=200.0)
    assert not progress.stalled(handled=6, lag=10, now=229.0)
    assert progress.stalled(handled=6, lag=10, now=230.0)


def test_an_idle_worker_with_nothing_waiting_is_not_stalled() -> None:
    progress = Progress(stall_seconds=30, handled=5, since=100.0)
    assert not progress.stalled(handled=5, lag=0, now=1000.0)
    assert not progress.stalled(handled=5, lag=3, now=1029.0), "the clock starts when work appears"
