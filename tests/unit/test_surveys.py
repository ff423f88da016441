"""The survey loop's rules: who is invited with which metric, how an answer is scored, who gets a call-back."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from cxloop.codec import SCHEMAS_DIR
from cxloop.decisions import TriggerRules
from cxloop.model import InvalidEvent
from cxloop.programs import DEFAULT_PROGRAMS, TRIGGERS, load_programs
from cxloop.scoring import METRICS, SCALES, alert_priority, classify
from cxloop.surveys import alert_draft, score, survey_id
from tests.unit.sample_records import (
    DECIDED_AT,
    ENDED_AT,
    EVERYTHING,
    decide,
    interaction,
    interaction_for,
    invitation_for,
    replace,
    response_to,
    rules_of,
)

SCORED_AT = DECIDED_AT + timedelta(hours=5)
# What tests/programs/survey-everything.yaml asks after each trigger.
PROGRAM_BY_TRIGGER = {
    "call_end": ("call-nps", "nps"), "escalation": ("call-nps", "nps"),
    "ticket_solved": ("service-csat", "csat"), "chat_end": ("service-csat", "csat"),
    "transfer": ("digital-ces", "ces"), "self_service_end": ("digital-ces", "ces"),
    "bot_session_end": ("digital-ces", "ces"),
}


def test_interaction_with_an_email_address_is_invited() -> None:
    verdict = decide(interaction())
    decision, invitation = verdict.decision, verdict.invitation
    assert invitation is not None
    assert decision.outcome == "invited"
    assert decision.survey_id == invitation.survey_id and decision.program_id == invitation.program_id
    assert (decision.interaction_id, decision.customer_id, decision.decided_at, decision.trigger) == (
        "genesys-call-000123", "cust-00042", DECIDED_AT, "call_end",
    )
    assert invitation.customer_email == "maria.lopez@example.org" and invitation.delivery_channel == "email"


def test_interaction_decided_again_from_scratch_gets_the_same_survey_id_even_decided_later() -> None:
    first = decide(interaction()).invitation
    again = decide(interaction(), DECIDED_AT + timedelta(hours=6)).invitation
    assert first is not None and again is not None
    assert first.survey_id == again.survey_id == survey_id("call-nps", "genesys-call-000123")
    assert first.survey_id.startswith("sv_")


def test_different_interactions_get_different_survey_ids() -> None:
    a = decide(interaction(interaction_id="call-1")).invitation
    b = decide(interaction(interaction_id="call-2")).invitation
    assert a is not None and b is not None and a.survey_id != b.survey_id


def test_same_interaction_in_a_different_program_gets_a_different_survey_id() -> None:
    effort_after_calls = rules_of({"id": "call-ces", "metric": "ces", "match": {"triggers": ["call_end"]}})
    nps_invite = decide(interaction()).invitation
    ces_invite = decide(interaction(), rules=effort_after_calls).invitation
    assert nps_invite is not None and ces_invite is not None
    assert (nps_invite.program_id, ces_invite.program_id) == ("call-nps", "call-ces")
    assert (nps_invite.metric, ces_invite.metric) == ("nps", "ces")
    assert nps_invite.survey_id != ces_invite.survey_id
    assert survey_id("call-nps", "call-1") != survey_id("service-csat", "call-1")


def test_survey_id_cannot_be_forged_by_shifting_text_between_program_and_interaction() -> None:
    assert survey_id("call-nps", "x-1") != survey_id("call-nps-x", "1")


@pytest.mark.parametrize("trigger, program_and_metric", sorted(PROGRAM_BY_TRIGGER.items()))
def test_metric_is_chosen_by_the_program_matching_the_trigger(
    trigger: str, program_and_metric: tuple[str, str]
) -> None:
    invitation = decide(interaction(trigger=trigger)).invitation
    assert invitation is not None
    assert (invitation.program_id, invitation.metric, invitation.trigger) == (*program_and_metric, trigger)


def test_every_trigger_of_the_contract_is_known_to_the_programs() -> None:
    schema = json.loads((SCHEMAS_DIR / "interaction-completed.avsc").read_text())
    trigger = next(f for f in schema["fields"] if f["name"] == "trigger")
    assert set(trigger["type"]["symbols"]) == set(TRIGGERS) == set(PROGRAM_BY_TRIGGER)


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_shipped_programs_survey_a_human_handled_contact_of_every_trigger(trigger: str) -> None:
    assert EVERYTHING.program_for(interaction(trigger=trigger)) is not None
    shipped = TriggerRules(load_programs(DEFAULT_PROGRAMS))
    assert shipped.program_for(interaction(trigger=trigger)) is not None


@pytest.mark.parametrize("email", [None, ""])
def test_interaction_without_an_email_address_is_recorded_as_no_contact(email: str | None) -> None:
    # An empty address never passes Interaction validation, but decide must not invite one built by hand.
    verdict = decide(replace(interaction(), customer_email=email))
    decision, invitation = verdict.decision, verdict.invitation
    assert invitation is None
    assert decision.outcome == "no_contact" and decision.survey_id is None and decision.detail


@pytest.mark.parametrize(
    "decided_after_end, outcome",
    [
        (timedelta(0), "invited"),
        (timedelta(days=6, hours=23, minutes=59), "invited"),
        (timedelta(days=7), "expired"),
        (timedelta(days=30), "expired"),
    ],
)
def test_interaction_older_than_the_expiry_is_not_surveyed(decided_after_end: timedelta, outcome: str) -> None:
    verdict = decide(interaction(), ENDED_AT + decided_after_end)
    decision, invitation = verdict.decision, verdict.invitation
    assert decision.outcome == outcome
    assert (invitation is not None) == (outcome == "invited")
    assert (decision.survey_id is not None) == (outcome == "invited")


def test_invitation_expires_a_week_after_the_interaction_and_is_sent_at_once() -> None:
    invitation = decide(interaction()).invitation
    assert invitation is not None
    assert invitation.expires_at == ENDED_AT + timedelta(days=7)
    assert invitation.send_at == DECIDED_AT and invitation.created_at == DECIDED_AT


def test_delayed_program_sends_no_earlier_than_the_delay_after_the_interaction() -> None:
    day_later = rules_of({"id": "ticket-csat", "metric": "csat", "timing": {"delay": "24h", "expiry": "3d"}})
    invitation = decide(interaction(), rules=day_later).invitation
    assert invitation is not None
    assert invitation.send_at == ENDED_AT + timedelta(hours=24)
    assert invitation.expires_at == ENDED_AT + timedelta(days=4)


def test_invitation_carries_the_interaction_context_scoring_needs() -> None:
    source = interaction()
    invitation = decide(source).invitation
    assert invitation is not None
    for name in ("interaction_id", "customer_id", "customer_phone", "agent_id", "agent_name", "team_id", "queue",
                 "contact_reason", "handle_time_seconds", "wait_time_seconds", "transfers", "resolved", "handled_by"):
        assert getattr(invitation, name) == getattr(source, name), name
    assert (invitation.interaction_channel, invitation.interaction_ended_at, invitation.locale) == (
        "voice", ENDED_AT, "en-GB",
    )


CATEGORY_TABLE = [(m, s) for m in METRICS for s in SCALES[m].points()]


@pytest.mark.parametrize("metric, points", CATEGORY_TABLE)
def test_answer_is_scored_into_its_category(metric: str, points: int) -> None:
    invitation = invitation_for(metric)  # type: ignore[arg-type]
    scored = score(response_to(invitation, points), invitation, SCORED_AT)
    assert (scored.metric, scored.score, scored.category) == (metric, points, classify(metric, points))  # type: ignore[arg-type]
    assert (scored.survey_id, scored.agent_id, scored.scored_at) == (invitation.survey_id, "agent-ava", SCORED_AT)


@pytest.mark.parametrize(
    "metric, points", [("nps", -1), ("nps", 11), ("csat", 0), ("csat", 6), ("ces", 0), ("ces", 8), ("csat", 10)]
)
def test_answer_off_the_invitations_scale_is_an_invalid_event(metric: str, points: int) -> None:
    invitation = invitation_for(metric)  # type: ignore[arg-type]
    with pytest.raises(InvalidEvent, match="score"):
        score(response_to(invitation, points), invitation, SCORED_AT)


@pytest.mark.parametrize("late_by", [timedelta(milliseconds=1), timedelta(days=1)])
def test_answer_after_the_survey_expired_is_an_invalid_event(late_by: timedelta) -> None:
    invitation = invitation_for("nps")
    late = response_to(invitation, 9, responded_at=invitation.expires_at + late_by)
    with pytest.raises(InvalidEvent, match="expired"):
        score(late, invitation, SCORED_AT + timedelta(days=9))


def test_answer_for_another_survey_is_an_invalid_event() -> None:
    invitation = invitation_for("csat")
    with pytest.raises(InvalidEvent):
        score(response_to(invitation, 4, survey_id="sv_someone_else"), invitation, SCORED_AT)


@pytest.mark.parametrize("comment, kept", [("  Too long on hold.  ", "Too long on hold."), ("   ", None), (None, None)])
def test_comment_is_trimmed_and_a_blank_one_is_dropped(comment: str | None, kept: str | None) -> None:
    invitation = invitation_for("csat")
    assert score(response_to(invitation, 2, comment=comment), invitation, SCORED_AT).comment == kept


@pytest.mark.parametrize("metric, points", CATEGORY_TABLE)
def test_the_cases_agent_gets_every_answer_with_its_category(metric: str, points: int) -> None:
    invitation = invitation_for(metric)  # type: ignore[arg-type]
    alert = alert_draft(score(response_to(invitation, points), invitation, SCORED_AT), invitation, SCORED_AT)
    assert alert.category == classify(metric, points)  # type: ignore[arg-type]
    if alert.category == "detractor":
        assert alert.priority == alert_priority(metric, points)  # type: ignore[arg-type]


@pytest.mark.parametrize("metric, threshold, points, category", [
    ("csat", 3, 3, "detractor"), ("csat", 3, 4, "promoter"), ("csat", 1, 2, "passive"), ("nps", 4, 5, "passive"),
    ("nps", 4, 7, "passive"), ("ces", 4, 4, "detractor"), ("nps", 4, 4, "detractor"),
])
def test_a_programs_own_threshold_decides_what_alerts(metric: str, threshold: int, points: int,
                                                      category: str) -> None:
    invitation = invitation_for(metric)  # type: ignore[arg-type]
    scored = score(response_to(invitation, points), invitation, SCORED_AT)
    assert alert_draft(scored, invitation, SCORED_AT, threshold).category == category


def test_detractor_alert_has_what_the_call_back_needs() -> None:
    invitation = invitation_for("nps")
    scored = score(response_to(invitation, 2, comment="Nobody called me back."), invitation, SCORED_AT)
    alert = alert_draft(scored, invitation, SCORED_AT)
    assert alert is not None
    assert (alert.alert_id, alert.survey_id, alert.raised_at) == (invitation.survey_id, invitation.survey_id, SCORED_AT)
    assert (alert.metric, alert.score, alert.priority, alert.comment) == ("nps", 2, "high", "Nobody called me back.")
    assert (alert.customer_id, alert.customer_email, alert.customer_phone) == (
        "cust-00042", "maria.lopez@example.org", "+34600111222",
    )
    assert (alert.agent_id, alert.agent_name, alert.team_id, alert.queue, alert.contact_reason) == (
        "agent-ava", "Ava", "team-north", "voice-billing", "billing",
    )
    assert (alert.interaction_id, alert.interaction_channel) == ("genesys-call-000123", "voice")


def test_replayed_detractor_answer_repeats_the_same_alert_id() -> None:
    invitation = invitation_for("ces", interaction_id="bot-9")
    first = alert_draft(score(response_to(invitation, 1), invitation, SCORED_AT), invitation, SCORED_AT)
    again = alert_draft(score(response_to(invitation, 1), invitation, SCORED_AT), invitation,
                            SCORED_AT + timedelta(minutes=3))
    assert first is not None and again is not None and first.alert_id == again.alert_id


def test_interaction_for_each_metric_reaches_its_program() -> None:
    for metric in METRICS:
        invitation = decide(interaction_for(metric)).invitation
        assert invitation is not None and invitation.metric == metric
