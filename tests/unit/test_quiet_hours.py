"""When a survey goes out: after the program's delay, never in the customer's local quiet hours (deferred, not
dropped), and never after it has expired."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cxloop.contact_policy import CustomerState
from cxloop.decisions import after_quiet_hours
from cxloop.programs import QuietHours
from tests.unit.sample_records import interaction_at, rules_of

NEW_YORK = ZoneInfo("America/New_York")
OVERNIGHT = QuietHours(start=time(21), end=time(8))
LUNCH = QuietHours(start=time(12), end=time(14))


def local(zone: str, *parts: int) -> datetime:
    year, month, day, hour, minute = parts
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


@pytest.mark.parametrize(
    "zone, at, quiet, expected",
    [
        ("America/New_York", (2025, 1, 15, 23, 30), OVERNIGHT, (2025, 1, 16, 8, 0)),
        ("America/New_York", (2025, 1, 16, 2, 0), OVERNIGHT, (2025, 1, 16, 8, 0)),
        ("America/New_York", (2025, 1, 15, 21, 0), OVERNIGHT, (2025, 1, 16, 8, 0)),
        ("America/New_York", (2025, 1, 15, 20, 59), OVERNIGHT, (2025, 1, 15, 20, 59)),
        ("America/New_York", (2025, 1, 16, 8, 0), OVERNIGHT, (2025, 1, 16, 8, 0)),
        ("America/New_York", (2025, 3, 8, 23, 30), OVERNIGHT, (2025, 3, 9, 8, 0)),  # clocks go forward overnight
        ("America/New_York", (2025, 11, 1, 22, 0), OVERNIGHT, (2025, 11, 2, 8, 0)),  # clocks go back overnight
        ("Asia/Kolkata", (2025, 1, 15, 23, 45), OVERNIGHT, (2025, 1, 16, 8, 0)),
        ("Europe/Madrid", (2025, 1, 15, 13, 15), LUNCH, (2025, 1, 15, 14, 0)),
        ("Europe/Madrid", (2025, 1, 15, 12, 0), LUNCH, (2025, 1, 15, 14, 0)),
        ("Europe/Madrid", (2025, 1, 15, 14, 0), LUNCH, (2025, 1, 15, 14, 0)),
        ("Europe/Madrid", (2025, 1, 15, 11, 59), LUNCH, (2025, 1, 15, 11, 59)),
        ("Europe/Madrid", (2025, 1, 15, 23, 30), LUNCH, (2025, 1, 15, 23, 30)),
    ],
    ids=[
        "overnight, late evening", "overnight, small hours", "overnight, at the start", "overnight, a minute before",
        "overnight, at the end", "overnight, spring forward", "overnight, fall back", "half-hour zone",
        "same-day window, inside", "same-day window, at the start", "same-day window, at the end",
        "same-day window, a minute before", "same-day window, at night",
    ],
)
def test_send_in_quiet_hours_is_deferred_to_their_end_in_the_customers_time(
    zone: str, at: tuple[int, ...], quiet: QuietHours, expected: tuple[int, ...]
) -> None:
    deferred = after_quiet_hours(utc(local(zone, *at)), zone, quiet)
    assert deferred == utc(local(zone, *expected))
    assert deferred.tzinfo == timezone.utc


def test_without_quiet_hours_the_send_time_stands() -> None:
    at = utc(local("America/New_York", 2025, 1, 15, 23, 30))
    assert after_quiet_hours(at, "America/New_York", None) == at


def test_quiet_hours_are_the_customers_not_the_servers() -> None:
    # 04:30 UTC is 23:30 in New York (quiet) and 05:30 in Madrid (quiet) but 10:00 in Kolkata (not quiet).
    at = datetime(2025, 1, 16, 4, 30, tzinfo=timezone.utc)
    assert after_quiet_hours(at, "Asia/Kolkata", OVERNIGHT) == at
    assert after_quiet_hours(at, "America/New_York", OVERNIGHT) == utc(local("America/New_York", 2025, 1, 16, 8, 0))


RULES = rules_of({"id": "call-csat", "metric": "csat", "timing": {"delay": "5m", "expiry": "3d"}},
                 quiet_hours={"start": "21:00", "end": "08:00"})


def new_yorker_call(*ended_local: int) -> tuple[datetime, CustomerState]:
    ended = utc(local("America/New_York", *ended_local))
    return ended, CustomerState()


def test_call_ending_late_at_night_is_deferred_to_eight_the_next_morning() -> None:
    ended, state = new_yorker_call(2025, 1, 15, 23, 30)
    verdict = RULES.decide(interaction_at(ended, customer_timezone="America/New_York"), state, ended)
    morning = utc(local("America/New_York", 2025, 1, 16, 8, 0))
    assert verdict.decision.outcome == "quiet_hours_deferred" and morning.isoformat() in verdict.decision.detail
    assert verdict.invitation is not None and verdict.invitation.send_at == morning
    assert verdict.invitation.expires_at == ended + timedelta(minutes=5) + timedelta(days=3)
    assert [m.survey_id for m in state.surveys] == [verdict.invitation.survey_id]  # deferred still counts


def test_delay_that_runs_into_quiet_hours_is_deferred_too() -> None:
    ended, state = new_yorker_call(2025, 1, 15, 20, 58)  # due at 21:03 local
    verdict = RULES.decide(interaction_at(ended, customer_timezone="America/New_York"), state, ended)
    assert verdict.decision.outcome == "quiet_hours_deferred"
    assert verdict.invitation is not None
    assert verdict.invitation.send_at == utc(local("America/New_York", 2025, 1, 16, 8, 0))


def test_delay_makes_the_send_time_the_end_of_the_interaction_plus_the_delay() -> None:
    ended, state = new_yorker_call(2025, 1, 15, 14, 0)
    verdict = RULES.decide(interaction_at(ended, customer_timezone="America/New_York"), state, ended)
    assert verdict.decision.outcome == "invited"
    assert verdict.invitation is not None and verdict.invitation.send_at == ended + timedelta(minutes=5)


def test_survey_is_never_scheduled_to_go_out_after_it_expires() -> None:
    # Decided late (a backlog): 23:00 local, an hour before the survey expires; quiet hours would push it to 08:00.
    ended, state = new_yorker_call(2025, 1, 15, 23, 55)
    now = ended + timedelta(minutes=5) + timedelta(days=3) - timedelta(hours=1)
    verdict = RULES.decide(interaction_at(ended, customer_timezone="America/New_York"), state, now)
    invitation = verdict.invitation
    assert invitation is None or invitation.send_at < invitation.expires_at, (
        f"{verdict.decision.outcome}: send_at {invitation.send_at} is after expires_at {invitation.expires_at}"
    )


def test_same_day_quiet_window_defers_a_lunchtime_send_to_its_end() -> None:
    lunch_rules = rules_of({"id": "chat-csat", "metric": "csat"}, quiet_hours={"start": "12:00", "end": "14:00"})
    ended = utc(local("Europe/Madrid", 2025, 6, 10, 12, 40))
    verdict = lunch_rules.decide(interaction_at(ended, customer_timezone="Europe/Madrid"), CustomerState(), ended)
    assert verdict.decision.outcome == "quiet_hours_deferred"
    assert verdict.invitation is not None
    assert verdict.invitation.send_at == utc(local("Europe/Madrid", 2025, 6, 10, 14, 0))
