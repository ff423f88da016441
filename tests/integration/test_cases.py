"""Closed-loop follow-up on the real broker: owners' webhooks, SLA escalation, restarts, early updates.

The directory gives team-north a lead and a manager, each with a webhook on a local recorder; SLAs are seconds long
so the timers fire within the test.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxloop.cases import case_id_for
from cxloop.model import CaseUpdate, Interaction, SurveyResponse
from cxloop.notifications import verify_signature
from cxloop.settings import Settings
from cxloop.surveys import survey_id
from sinks.clickhouse import ClickHouse
from tests.support import Service, TopicReader, healthy, publish_record, wait_for
from tests.webhook_recorder import WebhookRecorder

TOKEN = "cases-api-token-for-tests"


def directory_file(folder: Path, recorder: WebhookRecorder, sla: str) -> Path:
    path = folder / "directory.yaml"
    path.write_text(f"""
version: 1
people:
  - {{id: nora, name: Nora North, webhook: "{recorder.url}/nora"}}
  - {{id: omar, name: Omar Ops, webhook: "{recorder.url}/omar"}}
  - {{id: hana, name: Hana Head, email: hana@company.example}}
teams:
  - {{id: team-north, lead: nora, manager: omar}}
head: hana
routes:
  - owner: team_lead
sla: {{detractor: {sla}, passive: 1h}}
""")
    return path


@pytest.fixture
def recorder() -> Iterator[WebhookRecorder]:
    server = WebhookRecorder()
    yield server
    server.close()


def with_directory(settings: Settings, recorder: WebhookRecorder, sla: str) -> Settings:
    return settings.model_copy(update={
        "directory_file": directory_file(settings.data_dir.parent, recorder, sla), "cases_api_token": TOKEN,
    })


def start_web(settings: Settings) -> Service:
    service = Service("web", settings, settings.data_dir.parent / "web.log")
    wait_for(lambda: healthy(settings.public_url), 60, what="survey web tier /healthz")
    return service


def start_worker(settings: Settings) -> Service:
    service = Service("worker", settings, settings.data_dir.parent / "worker.log")
    service.wait_for_output("[^Worker]: Ready", timeout=120)
    return service


def a_call(interaction_id: str, customer: str, team: str = "team-north") -> Interaction:
    ended = datetime.now(timezone.utc).replace(microsecond=0)
    return Interaction(
        interaction_id=interaction_id, trigger="call_end", channel="voice", customer_id=customer,
        started_at=ended - timedelta(minutes=5), ended_at=ended, customer_email=f"{customer}@customers.example",
        agent_id="agent-ava", agent_name="Ava", team_id=team, queue="voice-billing",
        contact_reason="billing", handle_time_seconds=300, wait_time_seconds=90, transfers=1,
    )


def surveyed(settings: Settings, interaction_id: str, customer: str, team: str = "team-north") -> str:
    """Publish a call and wait until its survey is out; returns the survey id."""
    call = a_call(interaction_id, customer, team)
    publish_record(settings, "interaction-completed", customer, call.to_record())
    sid = survey_id("call-nps", interaction_id)
    wait_for((settings.outbox / f"{sid}.eml").exists, 60, what=f"the survey email of {interaction_id}")
    return sid


def answer(settings: Settings, sid: str, score: int, comment: str | None = None) -> None:
    response = SurveyResponse(survey_id=sid, score=score, source="web_form", responded_at=datetime.now(timezone.utc),
                              comment=comment)
    publish_record(settings, "survey-response", sid, response.to_record())


def update(settings: Settings, case_id: str, customer: str, **fields: Any) -> None:
    change = CaseUpdate(case_id=case_id, customer_id=customer, actor="nora", updated_at=datetime.now(timezone.utc),
                        **fields)
    publish_record(settings, "case-update", customer, change.to_record())


def post_update(settings: Settings, case_id: str, body: dict[str, Any], token: str = TOKEN) -> tuple[int, dict]:
    request = urllib.request.Request(f"{settings.public_url}/cases/{case_id}", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def case_log(reader: TopicReader, case_id: str) -> list[dict[str, Any]]:
    """The case's events, one per event id (a replay repeats ids), in order."""
    unique = {e["event_id"]: e for e in reader.poll() if e["case_id"] == case_id}
    return sorted(unique.values(), key=lambda e: e["seq"])


def test_alert_reaches_the_owners_webhook_then_escalates_unacknowledged_at_its_due_time(
    settings: Settings, topics: Settings, recorder: WebhookRecorder
) -> None:
    configured = with_directory(settings, recorder, sla="4s")
    worker = start_worker(configured)
    web = start_web(configured)
    try:
        alerts = TopicReader(configured, "detractor-alert")
        escalations = TopicReader(configured, "case-escalation")
        sid = surveyed(configured, "call-c1", "cust-cleo")
        answered_at = time.monotonic()
        answer(configured, sid, 2, "Charged twice and nobody called back")
        case_id = case_id_for(sid)

        alert = alerts.wait_for(lambda a: a["survey_id"] == sid)[0]
        assert (alert["case_id"], alert["owner_id"], alert["score"]) == (case_id, "nora", 2)
        assert alert["due_at"] is not None and [h["score"] for h in alert["history"]] == [2]

        call = wait_for(lambda: recorder.to("/nora") or None, 30, what="the lead's webhook call")[0]
        payload = json.loads(call.body)
        assert payload["case"]["case_id"] == case_id and payload["case"]["event"] == "opened"
        assert "NPS 2" in payload["text"] and "Charged twice" in payload["blocks"][0]["text"]["text"]
        secret = configured.webhook_signing_secret.get_secret_value().encode()
        assert verify_signature(secret, call.body, call.headers["X-Cxloop-Signature"], int(time.time()))
        assert not verify_signature(b"another-secret", call.body, call.headers["X-Cxloop-Signature"],
                                    int(time.time()))

        # Nobody acknowledges: at the due time the case goes to the team's manager.
        escalation = escalations.wait_for(lambda e: e["case_id"] == case_id, timeout=60)[0]
        assert (escalation["kind"], escalation["level"], escalation["owner_id"], escalation["previous_owner_id"]) \
            == ("sla", 1, "omar", "nora")
        assert time.monotonic() - answered_at >= 4, "not before the SLA's due time"
        escalated = wait_for(lambda: recorder.to("/omar") or None, 30, what="the manager's webhook call")[0]
        assert json.loads(escalated.body)["case"]["event"] == "escalated"

        # The manager acknowledges, then resolves, through the HTTP endpoint; the log has every step once.
        assert post_update(configured, case_id, {"customer_id": "cust-cleo", "actor": "omar",
                                                 "status": "acknowledged"})[0] == 202
        status, body = post_update(configured, case_id, {"customer_id": "cust-cleo", "actor": "omar",
                                                         "status": "resolved"})
        assert status == 400 and "root_cause" in body["error"]
        assert post_update(configured, case_id, {"customer_id": "cust-cleo", "actor": "omar", "status": "resolved",
                                                 "outcome": "refund_issued", "root_cause": "process"})[0] == 202
        events = TopicReader(configured, "case-event")
        wait_for(lambda: [e["event"] for e in case_log(events, case_id)][-1:] == ["resolved"] or None, 60,
                 what="the resolved step")
        assert [e["event"] for e in case_log(events, case_id)] == ["opened", "escalated", "acknowledged", "resolved"]
        assert case_log(events, case_id)[-1]["root_cause"] == "process"
        for reader in (alerts, escalations, events):
            reader.close()
    finally:
        web.stop()
        worker.stop()


def test_cases_api_refuses_bad_requests(settings: Settings, topics: Settings, recorder: WebhookRecorder) -> None:
    configured = with_directory(settings, recorder, sla="1h")
    web = start_web(configured)
    try:
        assert post_update(configured, "cs_1", {}, token="wrong")[0] == 401
        ok = {"customer_id": "cust-x", "actor": "nora", "status": "contacted"}
        assert post_update(configured, "cs_1", {**ok, "status": "reopened"})[0] == 400
        assert post_update(configured, "cs_1", {**ok, "colour": "red"})[0] == 400
        assert post_update(configured, "cs_1", {"customer_id": "cust-x", "actor": "nora"})[0] == 400
        assert post_update(configured, "cs_1", {"actor": "nora", "status": "contacted"})[0] == 400
    finally:
        web.stop()


def test_update_before_its_alert_is_applied_and_a_restart_neither_loses_nor_repeats_the_case(
    settings: Settings, topics: Settings, recorder: WebhookRecorder, clickhouse: ClickHouse, lander
) -> None:
    configured = with_directory(settings, recorder, sla="8s")
    worker = start_worker(configured)
    events = TopicReader(configured, "case-event")
    escalations = TopicReader(configured, "case-escalation")
    try:
        sid = surveyed(configured, "call-c2", "cust-dora")
        case_id = case_id_for(sid)
        # The service desk's note arrives before the answer that opens the case: kept, applied when it opens.
        update(configured, case_id, "cust-dora", status="acknowledged", note="saw the survey, will call")
        answer(configured, sid, 1)
        wait_for(lambda: len(case_log(events, case_id)) >= 2 or None, 60, what="the opened and acknowledged steps")
        assert [(e["event"], e["status"]) for e in case_log(events, case_id)] == [
            ("opened", "open"), ("acknowledged", "acknowledged")]

        # A second low score from the same customer joins the open case.
        second = surveyed(configured, "call-c3", "cust-dora")
        answer(configured, second, 3)
        wait_for(lambda: len(case_log(events, case_id)) >= 3 or None, 60, what="the attached step")

        worker.kill()  # mid-case, before its due time: no shutdown, no final commit
        worker = start_worker(configured)

        # The SLA timer survived the restart: acknowledged is not contacted, so it escalates once.
        escalation = escalations.wait_for(lambda e: e["case_id"] == case_id, timeout=90)[0]
        assert escalation["owner_id"] == "omar"
        update(configured, case_id, "cust-dora", status="contacted")
        update(configured, case_id, "cust-dora", status="resolved", outcome="explained",
               root_cause="expectation_gap")
        wait_for(lambda: [e["event"] for e in case_log(events, case_id)][-1:] == ["resolved"] or None, 60,
                 what="the resolved step after the restart")
        steps = case_log(events, case_id)
        assert [e["event"] for e in steps] == ["opened", "acknowledged", "attached", "escalated", "contacted",
                                                "resolved"]
        assert [e["seq"] for e in steps] == list(range(1, 7)), "one numbered log, no step lost or repeated"
        opened = [e for e in events.records if e["case_id"] == case_id and e["event"] == "opened"]
        assert {e["event_id"] for e in opened} == {f"{case_id}.1"}, "one case, even if the opening was replayed"
        assert len({e["escalation_id"] for e in escalations.poll() if e["case_id"] == case_id}) == 1

        db = clickhouse.database
        rows = wait_for(lambda: (lambda r: r if len(r) == 6 else None)(clickhouse.query(
            f"SELECT event, seq FROM {db}.case_events FINAL WHERE case_id = '{case_id}' ORDER BY seq")), 60,
            what="the case's six steps in ClickHouse")
        assert [r["event"] for r in rows] == [e["event"] for e in steps]
    finally:
        events.close()
        escalations.close()
        worker.stop()


def test_failing_webhook_is_retried_and_holds_up_no_other_case(
    settings: Settings, topics: Settings, recorder: WebhookRecorder
) -> None:
    recorder.script["/nora"] = [500, 503]  # the lead's webhook fails twice, then works
    configured = with_directory(settings, recorder, sla="1h")
    worker = start_worker(configured)
    try:
        first = surveyed(configured, "call-c4", "cust-eve")
        other = surveyed(configured, "call-c5", "cust-finn", team="team-south")  # no such team: the head owns it
        answer(configured, first, 0)
        wait_for(lambda: len(recorder.to("/nora")) >= 1 or None, 30, what="the first (failing) webhook call")
        answer(configured, other, 1)
        head_email = configured.outbox / f"{case_id_for(other)}.1.case.eml"
        wait_for(head_email.exists, 30, what="the head's email about the other case")
        emailed_at = time.monotonic()
        assert b"hana@company.example" in head_email.read_bytes()
        wait_for(lambda: [c.status for c in recorder.to("/nora")][-1:] == [200] or None, 60,
                 what="the webhook delivered after its retries")
        calls = recorder.to("/nora")
        assert [c.status for c in calls] == [500, 503, 200]
        assert emailed_at < calls[-1].at, "the other case was not held up behind the retries"
        assert calls[2].at - calls[0].at >= 2 + 4 - 1, "retried with backoff (2 s, then 4 s)"
        bodies = {json.loads(c.body)["case"]["event_id"] for c in calls}
        assert bodies == {f"{case_id_for(first)}.1"}, "the same notification each time"
    finally:
        worker.stop()


def test_a_teams_detractor_spike_raises_a_systemic_escalation_to_its_manager(
    settings: Settings, topics: Settings, recorder: WebhookRecorder
) -> None:
    configured = with_directory(settings, recorder, sla="1h")
    path = configured.directory_file
    assert path is not None
    path.write_text(path.read_text() + "systemic: {window: 30s, baseline: 10m, min_responses: 5, min_rise: 0.3, "
                                       "z: 2.0, dimensions: [team]}\n")
    worker = start_worker(configured)
    escalations = TopicReader(configured, "case-escalation")
    try:
        surveys = [surveyed(configured, f"call-s{n}", f"cust-s{n}") for n in range(21)]
        now = datetime.now(timezone.utc)
        # A quiet baseline: 15 answers over the last minutes, one detractor; then 6 answers now, 5 detractors.
        for n, sid in enumerate(surveys[:15]):
            at = now - timedelta(minutes=5) + timedelta(seconds=15 * n)
            response = SurveyResponse(survey_id=sid, score=3 if n == 7 else 9, source="web_form", responded_at=at)
            publish_record(configured, "survey-response", sid, response.to_record())
        for n, sid in enumerate(surveys[15:]):
            answer(configured, sid, 10 if n == 0 else 2)
        spike = escalations.wait_for(lambda e: e["kind"] == "systemic", timeout=60)[0]
        assert (spike["case_id"], spike["team_id"], spike["owner_id"]) == (
            "systemic:team=team-north", "team-north", "omar")
        # Raised as soon as the window holds min_responses answers: the promoter and the first four detractors.
        assert "80% (4/5)" in spike["detail"] and "7% (1/15)" in spike["detail"]
        assert len([e for e in escalations.poll() if e["kind"] == "systemic"]) == 1
    finally:
        escalations.close()
        worker.stop()
