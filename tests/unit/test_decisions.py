"""One decision per interaction, with its reason: the rules apply in a fixed order and the first that applies decides.

Every case below would be invited if not for the condition it adds; cases that add two conditions show which wins.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cxloop.codec import SCHEMAS_DIR
from cxloop.contact_policy import CustomerState, SurveyMark
from cxloop.decisions import OUTCOMES, matches, track_complaints
from cxloop.programs import MatchRule
from cxloop.surveys import survey_id
from tests.unit.sample_records import interaction_at, replace, rules_of

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=timezone.utc)  # 10:30 in Madrid, the sample customer's zone
RULES = rules_of(
    {"id": "call-csat", "metric": "csat", "match": {"triggers": ["call_end", "transfer"]},
     "timing": {"delay": "5m", "expiry": "7d"}},
    {"id": "ticket-csat", "metric": "csat", "match": {"triggers": ["ticket_solved"]}, "sampling": {"rate": 0}},
    caps={"any_survey_gap": "3d"},
    quiet_hours={"start": "21:00", "end": "08:00"},
    exclusions={"segments": ["employee"], "bot_only": True, "open_complaint": True},
)


def opted_out(state: CustomerState) -> None:
    state.opted_out_at, state.opt_out_reason = T0 - timedelta(days=1), "unsubscribe"


def complaint_open(state: CustomerState) -> None:
    track_complaints(state, interaction_at(T0 - timedelta(days=2), contact_reason="complaint", resolved=False),
                     ("complaint",))


def complaint_resolved(state: CustomerState) -> None:
    complaint_open(state)
    track_complaints(state, interaction_at(T0 - timedelta(days=1), contact_reason="complaint", resolved=True),
                     ("complaint",))


def surveyed_yesterday(state: CustomerState) -> None:
    state.surveys.append(SurveyMark("sv_old", "call-csat", "transactional", T0 - timedelta(days=1)))


LATE = timedelta(days=8)
NO_EMAIL: dict[str, Any] = {"customer_email": None}
BOT: dict[str, Any] = {"handled_by": "bot", "agent_id": None, "team_id": None}
RULE_ORDER: list[tuple[str, dict[str, Any], list[Callable[[CustomerState], None]], timedelta, str, str]] = [
    ("everything allows a survey", {}, [], timedelta(0), "invited", "call-csat"),
    ("opted out", {}, [opted_out], timedelta(0), "opted_out", "unsubscribe"),
    ("opted out and everything else excludes too", {"customer_segment": "employee", **BOT, **NO_EMAIL},
     [opted_out, complaint_open, surveyed_yesterday], LATE, "opted_out", "unsubscribe"),
    ("excluded segment", {"customer_segment": "employee"}, [], timedelta(0), "excluded", "'employee'"),
    ("bot-only session", BOT, [], timedelta(0), "excluded", "bot-only"),
    ("open complaint", {}, [complaint_open], timedelta(0), "excluded", "complaint open since"),
    ("resolved complaint", {}, [complaint_resolved], timedelta(0), "invited", "call-csat"),
    ("no matching program", {"trigger": "chat_end", "channel": "chat"}, [], timedelta(0), "excluded",
     "no survey program matches"),
    ("excluded segment and no program", {"customer_segment": "employee", "trigger": "chat_end"}, [], timedelta(0),
     "excluded", "'employee'"),
    ("no email", NO_EMAIL, [], timedelta(0), "no_contact", "no contact data"),
    ("no email and too late", NO_EMAIL, [], LATE, "no_contact", "no contact data"),
    ("past delay and expiry", {}, [], timedelta(days=7, minutes=5), "expired", "would have expired"),
    ("a second short of expiry", {}, [], timedelta(days=7, minutes=5, seconds=-1), "invited", "call-csat"),
    ("sampled out", {"trigger": "ticket_solved", "channel": "email"}, [], timedelta(0), "sampled_out", "sample"),
    ("sampled out and too late", {"trigger": "ticket_solved"}, [], LATE, "expired", "would have expired"),
    ("sampled out and capped", {"trigger": "ticket_solved"}, [surveyed_yesterday], timedelta(0), "sampled_out",
     "sample"),
    ("capped", {}, [surveyed_yesterday], timedelta(0), "frequency_capped", "any-survey gap"),
]


@pytest.mark.parametrize("changes, setup, decided_after, outcome, detail",
                         [row[1:] for row in RULE_ORDER], ids=[row[0] for row in RULE_ORDER])
def test_first_rule_that_applies_decides(
    changes: dict[str, Any], setup: list[Callable[[CustomerState], None]], decided_after: timedelta, outcome: str,
    detail: str,
) -> None:
    state = CustomerState()
    for step in setup:
        step(state)
    source = replace(interaction_at(T0), **changes)
    verdict = RULES.decide(source, state, T0 + decided_after)
    assert (verdict.decision.outcome, verdict.replayed) == (outcome, False)
    assert detail in verdict.decision.detail, verdict.decision.detail
    assert (verdict.invitation is not None) == (outcome == "invited")
    assert (verdict.decision.survey_id is not None) == (outcome == "invited")


def test_every_outcome_is_a_symbol_of_the_decision_contract() -> None:
    schema = json.loads((SCHEMAS_DIR / "survey-decision.avsc").read_text())
    outcome = next(f for f in schema["fields"] if f["name"] == "outcome")
    assert list(outcome["type"]["symbols"]) == list(OUTCOMES)


def test_replay_repeats_the_decision_and_changes_nothing() -> None:
    state = CustomerState()
    first = RULES.decide(interaction_at(T0), state, T0)
    before = state.to_json()
    opted_out(state)  # even a later opt-out does not change what was already decided and sent
    after_opt_out = state.to_json()
    again = RULES.decide(interaction_at(T0), state, T0 + timedelta(hours=6))
    assert (again.replayed, first.replayed) == (True, False)
    assert again.decision == first.decision and again.invitation == first.invitation
    assert state.to_json() == after_opt_out != before
    assert len(state.surveys) == 1


def test_replay_of_a_decision_not_to_survey_repeats_it_too() -> None:
    state = CustomerState()
    surveyed_yesterday(state)
    first = RULES.decide(interaction_at(T0), state, T0)
    state.surveys.clear()  # the cap would no longer apply: the replay must not re-decide
    again = RULES.decide(interaction_at(T0), state, T0 + timedelta(minutes=1))
    assert first.decision.outcome == again.decision.outcome == "frequency_capped"
    assert again.replayed and again.invitation is None and not state.surveys


@pytest.mark.parametrize("interaction_id", ["genesys-call-000123", "zendesk|ticket|42"])
def test_same_interaction_under_another_trigger_is_a_duplicate(interaction_id: str) -> None:
    state = CustomerState()
    RULES.decide(interaction_at(T0, interaction_id=interaction_id), state, T0)
    verdict = RULES.decide(interaction_at(T0, interaction_id=interaction_id, trigger="transfer"), state, T0)
    assert (verdict.decision.outcome, verdict.decision.trigger, verdict.replayed) == ("duplicate", "transfer", False)
    assert verdict.invitation is None and len(state.surveys) == 1


def test_an_interaction_whose_id_starts_like_an_earlier_one_is_not_a_duplicate() -> None:
    state = CustomerState()
    RULES.decide(interaction_at(T0 - timedelta(days=5), interaction_id="crm|7"), state, T0 - timedelta(days=5))
    verdict = RULES.decide(interaction_at(T0, interaction_id="crm"), state, T0)
    assert verdict.decision.outcome == "invited"


def test_invitation_has_a_deterministic_survey_id_and_expires_after_delay_and_expiry() -> None:
    verdict = RULES.decide(interaction_at(T0, interaction_id="call-77"), CustomerState(), T0)
    invitation = verdict.invitation
    assert invitation is not None
    assert invitation.survey_id == verdict.decision.survey_id == survey_id("call-csat", "call-77")
    assert (invitation.program_id, invitation.metric, invitation.created_at) == ("call-csat", "csat", T0)
    assert invitation.send_at == T0 + timedelta(minutes=5)
    assert invitation.expires_at == T0 + timedelta(minutes=5) + timedelta(days=7)


def test_invitation_decided_after_the_delay_is_sent_at_once_but_expires_from_the_interaction() -> None:
    now = T0 + timedelta(hours=2)
    invitation = RULES.decide(interaction_at(T0), CustomerState(), now).invitation
    assert invitation is not None
    assert (invitation.send_at, invitation.expires_at) == (now, T0 + timedelta(days=7, minutes=5))


@pytest.mark.parametrize(
    "programs, chosen",
    [
        ([("low", 10), ("high", 30)], "high"),
        ([("high", 30), ("low", 10)], "high"),
        ([("first", 20), ("second", 20)], "first"),
        ([("negative", -5), ("default", 0)], "default"),
    ],
    ids=["higher listed last", "higher listed first", "tie goes to the file order", "negative priority"],
)
def test_highest_priority_matching_program_wins(programs: list[tuple[str, int]], chosen: str) -> None:
    rules = rules_of(*[{"id": pid, "metric": "nps", "priority": prio} for pid, prio in programs])
    verdict = rules.decide(interaction_at(T0), CustomerState(), T0)
    assert verdict.decision.program_id == chosen and verdict.invitation is not None
    assert verdict.invitation.program_id == chosen


def test_a_higher_priority_program_that_does_not_match_is_passed_over() -> None:
    rules = rules_of({"id": "escalation-nps", "metric": "nps", "priority": 30, "match": {"triggers": ["escalation"]}},
                     {"id": "call-csat", "metric": "csat", "priority": 10})
    assert rules.decide(interaction_at(T0), CustomerState(), T0).decision.program_id == "call-csat"


@pytest.mark.parametrize(
    "rule, matched",
    [
        ({}, True),
        ({"triggers": ["call_end", "transfer"]}, True),
        ({"triggers": ["chat_end"]}, False),
        ({"channels": ["voice"]}, True),
        ({"channels": ["chat"]}, False),
        ({"contact_reasons": ["billing"]}, True),
        ({"contact_reasons": ["delivery"]}, False),
        ({"segments": ["consumer"]}, True),
        ({"segments": ["business"]}, False),
        ({"handled_by": "human"}, True),
        ({"handled_by": "bot"}, False),
        ({"resolved": True}, True),
        ({"resolved": False}, False),
        ({"triggers": ["call_end"], "channels": ["chat"]}, False),
        ({"triggers": [], "channels": ["voice"]}, False),
    ],
)
def test_every_condition_of_a_match_rule_must_hold(rule: dict[str, Any], matched: bool) -> None:
    # The sample call: call_end, voice, billing, consumer, human, resolved.
    assert matches(MatchRule.model_validate(rule), interaction_at(T0)) is matched


def test_interaction_without_a_segment_does_not_match_a_segment_rule() -> None:
    assert not matches(MatchRule(segments=("consumer",)), interaction_at(T0, customer_segment=None))
