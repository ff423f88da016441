"""The walking skeleton end to end: interaction -> email -> click -> detractor alert and ClickHouse rows."""

from __future__ import annotations

import urllib.request
from datetime import datetime, timedelta, timezone

from cxloop.facts import pseudonym
from cxloop.model import Interaction
from cxloop.settings import Settings
from cxloop.surveys import survey_id
from cxloop.traffic import score_links
from tests.support import TopicReader, publish_record, wait_for


def a_call(interaction_id: str, email: str | None = "dana@customers.example") -> Interaction:
    ended = datetime.now(timezone.utc).replace(microsecond=0)
    return Interaction(
        interaction_id=interaction_id, trigger="call_end", channel="voice", customer_id="cust-dana",
        started_at=ended - timedelta(minutes=9), ended_at=ended, customer_email=email, agent_id="agent-ava",
        agent_name="Ava", team_id="team-north", queue="voice-general", contact_reason="billing",
        handle_time_seconds=480, wait_time_seconds=60, transfers=1, resolved=False,
    )


def test_detractor_click_in_email_reaches_alert_topic_and_clickhouse(settings: Settings, worker, web, lander,
                                                                     clickhouse) -> None:
    call = a_call("call-1001")
    alerts = TopicReader(settings, "detractor-alert")
    publish_record(settings, "interaction-completed", call.customer_id, call.to_record())

    expected_survey = survey_id("call-nps", "call-1001")
    eml = wait_for(lambda: (p := settings.outbox / f"{expected_survey}.eml").exists() and p.read_bytes(),
                   60, what="the survey email in the outbox")
    survey, links = score_links(eml)
    assert survey == expected_survey
    assert sorted(links) == list(range(0, 11)), "NPS email offers one-click scores 0-10"
    assert b"To: dana@customers.example" in eml

    with urllib.request.urlopen(links[2], timeout=30) as reply:
        assert reply.status == 200
        assert b"Thank you" in reply.read()

    alert = alerts.wait_for(lambda a: a["survey_id"] == expected_survey)[0]
    alerts.close()
    assert (alert["score"], alert["metric"], alert["priority"]) == (2, "nps", "high")
    assert (alert["agent_id"], alert["team_id"], alert["contact_reason"]) == ("agent-ava", "team-north", "billing")
    assert alert["customer_email"] == "dana@customers.example"

    db = clickhouse.database
    row = wait_for(lambda: clickhouse.query(
        f"SELECT * FROM {db}.survey_scored FINAL WHERE survey_id = '{expected_survey}'"), 60,
        what="the scored row in ClickHouse")[0]
    assert (row["score"], row["category"], row["agent_id"], row["transfers"]) == (2, "detractor", "agent-ava", 1)
    assert row["customer_key"] == pseudonym(settings.pseudonym_key.get_secret_value().encode(), "cust-dana")
    alert_sql = f"SELECT 1 FROM {db}.detractor_alerts FINAL WHERE alert_id = '{expected_survey}'"
    wait_for(lambda: clickhouse.query(alert_sql), 30, what="the alert row in ClickHouse")
    interaction_rows = clickhouse.query(f"SELECT * FROM {db}.interactions FINAL WHERE interaction_id = 'call-1001'")
    assert len(interaction_rows) == 1
    assert "dana@customers.example" not in str(interaction_rows), "no raw PII lands in ClickHouse"
