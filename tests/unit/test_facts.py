"""Records become ClickHouse fact rows without raw PII: email, phone and customer id give way to a keyed pseudonym."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest

from cxloop.codec import SCHEMAS_DIR
from cxloop.facts import FACT_TABLES, fact_row, pseudonym
from cxloop.model import RollingAggregate, SurveyDelivery
from cxloop.surveys import alert_draft, score
from tests.unit.sample_records import (
    DECIDED_AT,
    case_records,
    decide,
    interaction,
    interaction_record,
    invitation_for,
    response_to,
)

KEY = b"pseudonym-key-for-unit-tests"
PII = ("customer_email", "customer_phone", "customer_id")
DDL = "\n".join(path.read_text() for path in sorted((SCHEMAS_DIR / "clickhouse").glob("*.sql")))


def table_columns(table: str) -> list[str]:
    match = re.search(rf"CREATE TABLE IF NOT EXISTS \{{db\}}\.{table}\s*\((.*?)\n\)\s*ENGINE", DDL, re.DOTALL)
    assert match, f"no DDL for {table}"
    return [line.split()[0] for line in match.group(1).splitlines() if line.strip()]


def record_of(contract: str) -> dict[str, Any]:
    invitation = invitation_for("nps")
    scored = score(response_to(invitation, 3), invitation, DECIDED_AT + timedelta(hours=2))
    alert = alert_draft(scored, invitation, DECIDED_AT + timedelta(hours=2))
    assert alert is not None
    _, case_event, escalation = case_records(alert.to_record())
    delivery = SurveyDelivery(survey_id=invitation.survey_id, event="bounce", provider="sendgrid",
                              provider_event_id="ev-1", occurred_at=DECIDED_AT, customer_id="cust-00042")
    rolling = RollingAggregate(window="1m", dimension="team", value="team-north", metric="nps",
                               window_start=DECIDED_AT, window_end=DECIDED_AT, answers=1, detractors=1, passives=0,
                               promoters=0, score_sum=3, updated_at=DECIDED_AT)
    return {
        "rolling-aggregate": rolling.to_record(),
        "survey-delivery": delivery.to_record(),
        "case-event": case_event,
        "case-escalation": escalation,
        "interaction-completed": interaction().to_record(),
        "survey-decision": decide(interaction()).decision.to_record(),
        "survey-invitation": invitation.to_record(),
        "survey-scored": scored.to_record(),
        "detractor-alert": alert.to_record(),
    }[contract]


@pytest.mark.parametrize("contract, table", sorted(FACT_TABLES.items()))
def test_every_fact_table_row_is_filled_from_its_contract_without_pii(contract: str, table: str) -> None:
    record = record_of(contract)
    row = fact_row(record, table_columns(table), KEY)
    assert list(row) == table_columns(table)
    if contract != "rolling-aggregate":  # aggregates name no customer
        assert row["customer_key"] == pseudonym(KEY, "cust-00042")
    for value in row.values():
        assert value not in ("maria.lopez@example.org", "+34600111222", "cust-00042")


def test_decision_row_keeps_the_trigger_so_two_triggers_of_one_interaction_stay_apart() -> None:
    rows = [fact_row(decide(interaction(trigger=t)).decision.to_record(), table_columns("survey_decisions"), KEY)
            for t in ("call_end", "escalation")]
    assert [(r["interaction_id"], r["trigger"]) for r in rows] == [
        ("genesys-call-000123", "call_end"), ("genesys-call-000123", "escalation"),
    ]
    assert "ORDER BY (interaction_id, trigger)" in DDL


def test_pii_is_dropped_even_when_the_caller_asks_for_every_field() -> None:
    record = interaction_record()
    row = fact_row(record, [c for c in record if c not in PII] + ["customer_key"], KEY)
    assert not set(PII) & set(row)
    assert row["interaction_id"] == "genesys-call-000123"


@pytest.mark.parametrize("column", PII)
def test_a_table_with_a_pii_column_cannot_be_filled(column: str) -> None:
    with pytest.raises(KeyError, match=column):
        fact_row(interaction_record(), ["interaction_id", column], KEY)


@pytest.mark.parametrize("column", ["first_response_seconds", "csat_band"])
def test_missing_column_is_a_key_error_naming_it(column: str) -> None:
    with pytest.raises(KeyError, match=column):
        fact_row(interaction_record(), ["interaction_id", column, "customer_key"], KEY)


def test_customer_key_is_stable_for_the_same_customer_and_key() -> None:
    first = fact_row(interaction_record(interaction_id="a"), ["customer_key"], KEY)
    second = fact_row(interaction_record(interaction_id="b"), ["customer_key"], KEY)
    assert first == second
    assert re.fullmatch(r"[0-9a-f]{32}", first["customer_key"])


def test_different_customers_get_different_keys() -> None:
    assert pseudonym(KEY, "cust-00042") != pseudonym(KEY, "cust-00043")


def test_different_pseudonym_key_gives_a_different_pseudonym() -> None:
    assert pseudonym(KEY, "cust-00042") != pseudonym(b"another-deployment-key", "cust-00042")


def test_pseudonym_is_keyed_not_a_plain_hash_of_the_customer_id() -> None:
    assert pseudonym(KEY, "cust-00042") not in hashlib.sha256(b"cust-00042").hexdigest()


def test_locale_column_comes_from_the_customer_locale() -> None:
    assert fact_row(interaction_record(customer_locale="pt-BR"), ["locale"], KEY) == {"locale": "pt-BR"}


def test_record_locale_wins_over_the_customer_locale() -> None:
    row = fact_row(invitation_for("csat").to_record() | {"locale": "de"}, ["locale"], KEY)
    assert row == {"locale": "de"}


def test_a_delivery_event_without_a_customer_lands_with_an_empty_key() -> None:
    record = SurveyDelivery(survey_id="sv_1", event="delivered", provider="sms-gateway", provider_event_id="m-1",
                            occurred_at=DECIDED_AT).to_record()
    assert fact_row(record, table_columns("survey_delivery"), KEY)["customer_key"] == ""
