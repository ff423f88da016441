"""Frequency caps protect a customer from survey fatigue: gaps between surveys, a rolling maximum, a clock that can
start at the answer, relationship surveys that win over transactional ones, reminders that never count."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cxloop.contact_policy import CustomerState, SurveyMark, cap_violation
from cxloop.programs import FrequencyCaps, Program
from cxloop.survey_email import build_survey_email
from tests.unit.sample_records import interaction_at, rules_of

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
CALL_CSAT = Program.model_validate({"id": "call-csat", "metric": "csat", "program_gap": "30d"})
CHAT_CSAT = Program.model_validate({"id": "chat-csat", "metric": "csat"})
RELATIONSHIP = Program.model_validate({"id": "relationship-nps", "metric": "nps", "kind": "relationship"})


def caps(**fields: Any) -> FrequencyCaps:
    return FrequencyCaps.model_validate(fields)


def surveyed(*marks: tuple[Program, datetime]) -> CustomerState:
    return CustomerState(surveys=[SurveyMark(f"sv_{i}", p.id, p.kind, at) for i, (p, at) in enumerate(marks)])


@pytest.mark.parametrize(
    "after, capped",
    [(timedelta(0), True), (DAY, True), (3 * DAY - timedelta(seconds=1), True), (3 * DAY, False), (4 * DAY, False),
     (-DAY, True)],
    ids=["same moment", "a day later", "a second short of the gap", "exactly the gap", "after the gap",
         "an earlier interaction decided late"],
)
def test_any_survey_gap_blocks_a_survey_of_any_program_within_the_gap(after: timedelta, capped: bool) -> None:
    state = surveyed((CALL_CSAT, T0))
    reason = cap_violation(state, CHAT_CSAT, caps(any_survey_gap="3d"), T0 + after)
    assert (reason is not None) == capped
    if capped:
        assert "call-csat" in reason and "3d" in reason  # type: ignore[operator]


@pytest.mark.parametrize(
    "program, after, capped",
    [(CALL_CSAT, 10 * DAY, True), (CALL_CSAT, 30 * DAY - timedelta(seconds=1), True), (CALL_CSAT, 30 * DAY, False),
     (CHAT_CSAT, timedelta(hours=1), False)],
    ids=["same program within the gap", "same program a second short", "same program at the gap", "other program"],
)
def test_program_gap_only_blocks_the_same_program(program: Program, after: timedelta, capped: bool) -> None:
    reason = cap_violation(surveyed((CALL_CSAT, T0)), program, caps(), T0 + after)
    assert (reason is not None) == capped
    if capped:
        assert "program gap is 30d" in reason  # type: ignore[operator]


@pytest.mark.parametrize(
    "marks_at, at, capped",
    [
        ([0, 10], 20, False),
        ([0, 10, 15], 20, True),
        ([0, 10, 15], 30, False),
        ([0, 10, 15], 29, True),
        ([0, 10, 15, 25], 31, True),
        ([0, 10, 15, 25], 40, False),
    ],
    ids=["two of three", "third of three caps the fourth", "first mark slid out", "a day before it slides out",
         "window slid but three remain", "window slid past two"],
)
def test_max_surveys_counts_within_a_rolling_window(marks_at: list[int], at: int, capped: bool) -> None:
    state = surveyed(*[(CHAT_CSAT, T0 + d * DAY) for d in marks_at])
    reason = cap_violation(state, CHAT_CSAT, caps(max_surveys=3, window="30d"), T0 + at * DAY)
    assert (reason is not None) == capped
    if capped:
        assert "the cap is 3" in reason  # type: ignore[operator]


def test_with_the_clock_starting_at_the_answer_only_an_answer_starts_it() -> None:
    answered = caps(any_survey_gap="3d", clock_starts="answered")
    state = surveyed((CALL_CSAT, T0))
    assert cap_violation(state, CHAT_CSAT, answered, T0 + DAY) is None
    assert state.mark_answered("sv_0", T0 + 2 * DAY)
    assert cap_violation(state, CHAT_CSAT, answered, T0 + 4 * DAY) is not None
    assert cap_violation(state, CHAT_CSAT, answered, T0 + 5 * DAY) is None


def test_an_answer_is_recorded_once_and_only_for_a_known_survey() -> None:
    state = surveyed((CALL_CSAT, T0))
    assert state.mark_answered("sv_0", T0 + DAY)
    assert not state.mark_answered("sv_0", T0 + 2 * DAY)
    assert not state.mark_answered("sv_unknown", T0 + DAY)
    assert state.surveys[0].answered_at == T0 + DAY


def test_unanswered_surveys_do_not_count_toward_the_maximum_when_the_clock_starts_at_the_answer() -> None:
    state = surveyed((CHAT_CSAT, T0), (CHAT_CSAT, T0 + DAY))
    limit = caps(max_surveys=2, window="30d", clock_starts="answered")
    assert cap_violation(state, CHAT_CSAT, limit, T0 + 2 * DAY) is None
    state.mark_answered("sv_0", T0 + DAY)
    state.mark_answered("sv_1", T0 + DAY)
    assert cap_violation(state, CHAT_CSAT, limit, T0 + 2 * DAY) is not None


def test_relationship_survey_is_not_blocked_by_a_recent_transactional_one() -> None:
    global_caps = caps(any_survey_gap="3d", max_surveys=1, window="90d")
    assert cap_violation(surveyed((CALL_CSAT, T0)), RELATIONSHIP, global_caps, T0 + DAY) is None


def test_transactional_survey_is_blocked_by_a_recent_relationship_one() -> None:
    assert cap_violation(surveyed((RELATIONSHIP, T0)), CHAT_CSAT, caps(any_survey_gap="3d"), T0 + DAY) is not None
    limit = caps(max_surveys=1, window="90d")
    assert cap_violation(surveyed((RELATIONSHIP, T0)), CHAT_CSAT, limit, T0 + 10 * DAY) is not None


def test_relationship_survey_still_yields_to_another_relationship_survey() -> None:
    reason = cap_violation(surveyed((RELATIONSHIP, T0)), RELATIONSHIP, caps(any_survey_gap="3d"), T0 + DAY)
    assert reason is not None


# Through the decision: each interaction ends at T0 + its offset and is decided when it ends.
CAPPED_RULES = rules_of(
    {"id": "call-csat", "metric": "csat", "match": {"triggers": ["call_end"]}, "program_gap": "30d"},
    {"id": "chat-csat", "metric": "csat", "match": {"triggers": ["chat_end"]}},
    caps={"any_survey_gap": "3d", "max_surveys": 2, "window": "30d"},
)


@pytest.mark.parametrize(
    "sequence",
    [
        [(0, "call_end", "invited"), (1, "chat_end", "frequency_capped"), (3, "chat_end", "invited")],
        [(0, "call_end", "invited"), (3, "call_end", "frequency_capped"), (30, "call_end", "invited")],
        [(0, "chat_end", "invited"), (3, "chat_end", "invited"), (6, "chat_end", "frequency_capped"),
         (30, "chat_end", "invited")],
    ],
    ids=["any-survey gap", "program gap", "two in thirty days"],
)
def test_decisions_apply_the_caps_to_a_customers_history(sequence: list[tuple[int, str, str]]) -> None:
    state = CustomerState()
    outcomes = []
    for days, trigger, _ in sequence:
        ended = T0 + days * DAY
        source = interaction_at(ended, trigger=trigger, channel="chat" if trigger == "chat_end" else "voice")
        outcomes.append(CAPPED_RULES.decide(source, state, ended).decision.outcome)
    assert outcomes == [outcome for *_, outcome in sequence]
    assert len(state.surveys) == outcomes.count("invited")


def test_capped_decision_says_why_and_sends_nothing() -> None:
    state = CustomerState()
    CAPPED_RULES.decide(interaction_at(T0), state, T0)
    verdict = CAPPED_RULES.decide(interaction_at(T0 + DAY, trigger="chat_end", channel="chat"), state, T0 + DAY)
    assert verdict.decision.outcome == "frequency_capped" and verdict.invitation is None
    assert verdict.decision.survey_id is None and "any-survey gap is 3d" in verdict.decision.detail


def test_reminders_are_not_surveys_only_decisions_record_marks() -> None:
    state = CustomerState()
    first = CAPPED_RULES.decide(interaction_at(T0, trigger="chat_end", channel="chat"), state, T0).invitation
    assert first is not None and [m.survey_id for m in state.surveys] == [first.survey_id]
    reminder = build_survey_email(first, "token", "https://s.example", "Acme", reminder=True)
    assert reminder.survey_id == first.survey_id and len(state.surveys) == 1
    later = T0 + 4 * DAY  # after the reminder went out: the reminder did not use up the second of two surveys
    second = CAPPED_RULES.decide(interaction_at(later, trigger="chat_end", channel="chat"), state, later)
    assert second.decision.outcome == "invited"
    assert [m.survey_id for m in state.surveys] == [first.survey_id, second.decision.survey_id]
