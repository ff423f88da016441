"""A customer's survey history: it survives its JSON form unchanged, forgets only what no rule can need, and tracks
whether a complaint is open."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from cxloop.contact_policy import CustomerState, StoredDecision, SurveyMark
from cxloop.decisions import decision_key, track_complaints
from tests.unit.sample_records import interaction_at, rules_of

T0 = datetime(2025, 3, 4, 9, 30, 15, 250_000, tzinfo=timezone.utc)
DAY = timedelta(days=1)
RULES = rules_of(
    {"id": "call-csat", "metric": "csat", "match": {"triggers": ["call_end"]}},
    {"id": "chat-csat", "metric": "csat", "match": {"triggers": ["chat_end"]}, "sampling": {"rate": 0}},
    caps={"any_survey_gap": "3d"},
)


def lived_in_state() -> CustomerState:
    """A state with every kind of content: sent, deferred-looking, capped and sampled-out decisions, an answer,
    an opt-out, an open complaint and a pending burst."""
    state = CustomerState()
    for days, trigger, channel in [(0, "call_end", "voice"), (1, "call_end", "voice"), (2, "chat_end", "chat"),
                                   (5, "call_end", "voice")]:
        source = interaction_at(T0 + days * DAY, trigger=trigger, channel=channel)
        RULES.decide(source, state, T0 + days * DAY + timedelta(minutes=1))
    state.mark_answered(state.surveys[0].survey_id, T0 + timedelta(hours=3))
    state.opted_out_at, state.opt_out_reason = T0 + 6 * DAY, "hard_bounce"
    state.complaint_open_since = T0 + 4 * DAY
    state.pending = [{"k": "call-9|call_end", "t": 1741080615250, "v": "AAAAAAE="}]
    return state


def test_lived_in_state_has_every_kind_of_content() -> None:
    state = lived_in_state()
    assert [d.outcome for d in state.decided.values()] == ["invited", "frequency_capped", "sampled_out", "invited"]
    assert len(state.surveys) == 2 and state.surveys[0].answered_at is not None


def test_json_round_trip_preserves_everything() -> None:
    state = lived_in_state()
    restored = CustomerState.from_json(state.to_json())
    assert restored == state
    assert restored.to_json() == state.to_json()


def test_restored_state_decides_exactly_as_the_original() -> None:
    state = lived_in_state()
    restored = CustomerState.from_json(state.to_json())
    replay = interaction_at(T0, trigger="call_end")
    assert RULES.decide(replay, restored, T0 + 9 * DAY) == RULES.decide(replay, state, T0 + 9 * DAY)
    state.opted_out_at = restored.opted_out_at = None
    new = interaction_at(T0 + 6 * DAY + timedelta(hours=1))
    assert RULES.decide(new, restored, T0 + 7 * DAY) == RULES.decide(new, state, T0 + 7 * DAY)


def test_json_form_is_compact_and_plain() -> None:
    data = lived_in_state().to_json()
    assert json.dumps(json.loads(data), separators=(",", ":")).encode() == data
    assert set(json.loads(data)) == {"s", "d", "o", "c", "p"}


@pytest.mark.parametrize("data", [None, b""])
def test_customer_never_seen_has_an_empty_state(data: bytes | None) -> None:
    state = CustomerState.from_json(data)
    assert state == CustomerState()
    assert CustomerState.from_json(state.to_json()) == state


def test_forget_before_drops_old_marks_and_decisions_only() -> None:
    state = CustomerState(
        surveys=[SurveyMark("sv_old", "call-csat", "transactional", T0),
                 SurveyMark("sv_old_answered_late", "call-csat", "transactional", T0, answered_at=T0 + 10 * DAY),
                 SurveyMark("sv_new", "call-csat", "transactional", T0 + 20 * DAY)],
        opted_out_at=T0, opt_out_reason="unsubscribe", complaint_open_since=T0,
        pending=[{"k": "p|call_end", "t": 0, "v": ""}],
    )
    for key, at in [("old|call_end", T0), ("new|call_end", T0 + 20 * DAY)]:
        state.decided[key] = StoredDecision("sampled_out", "call-csat", None, at, None, "")
        state.decided_at_event[key] = at
    state.forget_before(survey_horizon=T0 + 5 * DAY, decision_horizon=T0 + 5 * DAY)
    assert [m.survey_id for m in state.surveys] == ["sv_old_answered_late", "sv_new"]
    assert list(state.decided) == list(state.decided_at_event) == ["new|call_end"]
    assert (state.opted_out_at, state.opt_out_reason, state.complaint_open_since) == (T0, "unsubscribe", T0)
    assert state.pending == [{"k": "p|call_end", "t": 0, "v": ""}]


def test_forget_before_keeps_what_is_exactly_at_the_horizon() -> None:
    state = lived_in_state()
    state.forget_before(survey_horizon=T0, decision_horizon=T0)  # T0 is when the first interaction ended
    assert len(state.surveys) == 2 and len(state.decided) == 4


def test_forgotten_decision_is_decided_afresh_when_its_interaction_comes_back() -> None:
    state = CustomerState()
    source = interaction_at(T0)
    RULES.decide(source, state, T0)
    state.forget_before(T0 + 31 * DAY, T0 + 31 * DAY)
    assert decision_key(source) not in state.decided and not state.surveys
    assert not RULES.decide(source, state, T0 + 31 * DAY).replayed


@pytest.mark.parametrize(
    "steps, open_since",
    [
        ([("complaint", False, 0)], 0),
        ([("complaint", False, 0), ("complaint", False, 2)], 0),
        ([("complaint", False, 0), ("complaint", True, 2)], None),
        ([("complaint", False, 0), ("complaint", True, 2), ("complaint", False, 3)], 3),
        ([("complaint", False, 0), ("billing", True, 2)], 0),
        ([("billing", False, 0)], None),
        ([("complaint", True, 0)], None),
    ],
    ids=["unresolved complaint opens one", "a second contact keeps the first date", "resolved contact closes it",
         "a new complaint reopens", "another reason does not close it", "another reason does not open one",
         "resolved at first contact"],
)
def test_complaints_open_when_unresolved_and_close_when_resolved(
    steps: list[tuple[str, bool, int]], open_since: int | None
) -> None:
    state = CustomerState()
    for reason, resolved, days in steps:
        track_complaints(state, interaction_at(T0 + days * DAY, contact_reason=reason, resolved=resolved),
                         ("complaint", "formal_complaint"))
    assert state.complaint_open_since == (None if open_since is None else T0 + open_since * DAY)
