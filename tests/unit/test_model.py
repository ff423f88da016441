"""Records validate what Avro cannot: ids present, times in order, counts not negative, an address that is one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cxloop.model import ConsentChange, Interaction, InvalidEvent, ScoredResponse, SurveyDecision, SurveyResponse
from tests.unit.sample_records import ENDED_AT, interaction_record


def test_valid_interaction_is_accepted_with_every_field_kept() -> None:
    record = interaction_record()
    interaction = Interaction.from_record(record)
    assert interaction.to_record() == record


def test_interaction_with_only_the_required_fields_gets_the_contract_defaults() -> None:
    required = {k: interaction_record()[k] for k in
                ("interaction_id", "trigger", "channel", "started_at", "ended_at", "customer_id")}
    interaction = Interaction.from_record(required)
    assert (interaction.customer_email, interaction.customer_locale, interaction.handled_by) == (None, "en", "human")
    assert (interaction.handle_time_seconds, interaction.transfers, interaction.resolved) == (0, 0, False)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"interaction_id": ""}, "interaction_id"),
        ({"interaction_id": "   "}, "interaction_id"),
        ({"interaction_id": None}, "interaction_id"),
        ({"customer_id": ""}, "customer_id"),
        ({"customer_id": "\t"}, "customer_id"),
        ({"ended_at": ENDED_AT - timedelta(hours=1)}, "ended_at"),
        ({"started_at": ENDED_AT + timedelta(seconds=1)}, "ended_at"),
        ({"handle_time_seconds": -1}, "handle_time_seconds"),
        ({"wait_time_seconds": -30}, "wait_time_seconds"),
        ({"transfers": -1}, "transfers"),
        ({"customer_email": "maria.lopez.example.org"}, "customer_email"),
        ({"customer_email": ""}, "customer_email"),
    ],
    ids=[
        "empty interaction id", "blank interaction id", "null interaction id", "empty customer id",
        "blank customer id", "ended an hour before it started", "started a second after it ended",
        "negative handle time", "negative wait time", "negative transfers", "email without @", "empty email",
    ],
)
def test_interaction_breaking_a_rule_is_an_invalid_event_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidEvent, match=field) as caught:
        Interaction.from_record(interaction_record(**changes))
    assert "interaction-completed" in str(caught.value)


@pytest.mark.parametrize("missing", ["interaction_id", "customer_id", "ended_at", "trigger"])
def test_interaction_without_a_required_field_is_an_invalid_event_naming_it(missing: str) -> None:
    record = {k: v for k, v in interaction_record().items() if k != missing}
    with pytest.raises(InvalidEvent, match=missing):
        Interaction.from_record(record)


def test_interaction_that_ends_when_it_starts_is_accepted() -> None:
    assert Interaction.from_record(interaction_record(started_at=ENDED_AT)).started_at == ENDED_AT


@pytest.mark.parametrize("agent_id", [None, "agent-ava"])
def test_agent_is_optional_because_bot_sessions_have_none(agent_id: str | None) -> None:
    record = interaction_record(agent_id=agent_id, team_id=None, handled_by="bot" if agent_id is None else "human")
    assert Interaction.from_record(record).agent_id == agent_id


def test_naive_timestamps_are_taken_as_utc() -> None:
    naive_end = datetime(2025, 3, 4, 9, 30)
    interaction = Interaction.from_record(
        interaction_record(started_at=naive_end - timedelta(minutes=5), ended_at=naive_end)
    )
    assert interaction.ended_at == naive_end.replace(tzinfo=timezone.utc)


def test_timestamps_in_another_zone_are_converted_to_utc_before_comparing() -> None:
    madrid = timezone(timedelta(hours=1))
    # 10:29 in Madrid is 09:29 UTC, one minute before the 09:30 UTC end: in order.
    started = datetime(2025, 3, 4, 10, 29, tzinfo=madrid)
    ended = datetime(2025, 3, 4, 9, 30, tzinfo=timezone.utc)
    interaction = Interaction.from_record(interaction_record(started_at=started, ended_at=ended))
    assert interaction.started_at.tzinfo == timezone.utc


def test_fields_outside_the_contract_are_ignored() -> None:
    assert Interaction.from_record(interaction_record(crm_ticket_url="https://crm/1")) == Interaction.from_record(
        interaction_record()
    )


@pytest.mark.parametrize("score", [True, "7", 7.0, None])
def test_survey_response_whose_score_is_not_an_integer_is_an_invalid_event(score: object) -> None:
    record = {"survey_id": "sv_1", "score": score, "source": "email_click", "responded_at": ENDED_AT}
    with pytest.raises(InvalidEvent, match="score"):
        SurveyResponse.from_record(record)


def test_survey_response_without_a_survey_id_is_an_invalid_event() -> None:
    record = {"survey_id": " ", "score": 7, "source": "email_click", "responded_at": ENDED_AT}
    with pytest.raises(InvalidEvent, match="survey_id"):
        SurveyResponse.from_record(record)


@pytest.mark.parametrize("metric, score", [("nps", 11), ("csat", 0), ("ces", 8), ("stars", 3)])
def test_scored_response_off_its_metric_scale_is_an_invalid_event(metric: str, score: int) -> None:
    record = {
        "survey_id": "sv_1", "program_id": "default-nps", "metric": metric, "score": score, "category": "passive",
        "source": "email_click", "responded_at": ENDED_AT, "scored_at": ENDED_AT, "interaction_id": "i-1",
        "customer_id": "c-1", "delivery_channel": "email", "interaction_channel": "voice", "trigger": "call_end",
        "handled_by": "human", "interaction_ended_at": ENDED_AT,
    }
    with pytest.raises(InvalidEvent, match="survey-scored"):
        ScoredResponse.from_record(record)


@pytest.mark.parametrize("customer_id", ["", "  ", None])
def test_consent_change_without_a_customer_is_an_invalid_event(customer_id: object) -> None:
    record = {"customer_id": customer_id, "status": "opted_out", "changed_at": ENDED_AT}
    with pytest.raises(InvalidEvent, match="customer-consent: customer_id"):
        ConsentChange.from_record(record)


def test_consent_change_defaults_reason_and_source_to_empty() -> None:
    change = ConsentChange.from_record({"customer_id": "c-1", "status": "opted_in", "changed_at": ENDED_AT})
    assert (change.reason, change.source) == ("", "")


def test_decision_from_a_writer_without_the_trigger_field_gets_an_empty_trigger() -> None:
    record = {"interaction_id": "i-1", "customer_id": "c-1", "outcome": "invited", "channel": "voice",
              "decided_at": ENDED_AT}
    assert SurveyDecision.from_record(record).trigger == ""
