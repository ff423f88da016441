"""The official SendGrid client, driven by cxloop's sender, against a local recorder of the v3 wire format."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cxloop.model import Invitation
from cxloop.survey_email import build_survey_email
from sinks.email import PermanentDeliveryFailure, SendGridSender
from tests.sendgrid_recorder import SendGridRecorder


def an_email():
    now = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    invitation = Invitation(
        survey_id="sv_sendgrid1", program_id="default-csat", metric="csat", interaction_id="t-77",
        customer_id="cust-fred", delivery_channel="email", created_at=now, send_at=now,
        expires_at=now + timedelta(days=7), interaction_channel="email", trigger="ticket_solved",
        interaction_ended_at=now, customer_email="fred@customers.example",
    )
    return build_survey_email(invitation, "tok123", "https://surveys.example", "Example Co")


def test_survey_email_reaches_sendgrid_v3_with_score_buttons_and_survey_id() -> None:
    email = an_email()
    with SendGridRecorder() as recorder:
        sender = SendGridSender(recorder.api_key, "surveys@example.com", host=recorder.url, backoff_seconds=0.01)
        reference = sender.send(email)
    assert reference, "SendGrid's X-Message-Id is the delivery reference"
    [request] = recorder.requests
    body = request.body
    assert request.path == "/v3/mail/send"
    assert body["from"]["email"] == "surveys@example.com"
    assert body["personalizations"][0]["to"] == [{"email": "fred@customers.example"}]
    assert body["custom_args"] == {"survey_id": "sv_sendgrid1", "customer_id": "cust-fred"}
    contents = {c["type"]: c["value"] for c in body["content"]}
    assert set(contents) == {"text/plain", "text/html"}
    for score in range(1, 6):
        assert f"https://surveys.example/r/tok123?score={score}" in contents["text/html"]
    assert body["headers"]["X-Cxloop-Survey-Id"] == "sv_sendgrid1"


def test_rate_limit_and_server_errors_are_retried_until_accepted() -> None:
    with SendGridRecorder(script=[429, 503, 500]) as recorder:
        sender = SendGridSender(recorder.api_key, "surveys@example.com", host=recorder.url, backoff_seconds=0.01)
        sender.send(an_email())
    assert len(recorder.requests) == 4


@pytest.mark.parametrize("script", [[400], [401], [429] * 5])
def test_refusals_and_exhausted_retries_are_permanent_failures(script: list[int]) -> None:
    with SendGridRecorder(script=list(script)) as recorder:
        sender = SendGridSender(recorder.api_key, "surveys@example.com", host=recorder.url, attempts=5,
                                backoff_seconds=0.01)
        with pytest.raises(PermanentDeliveryFailure):
            sender.send(an_email())
    assert len(recorder.requests) == len(script)


def test_wrong_api_key_is_refused_without_retry() -> None:
    with SendGridRecorder() as recorder:
        sender = SendGridSender("SG.wrong", "surveys@example.com", host=recorder.url, backoff_seconds=0.01)
        with pytest.raises(PermanentDeliveryFailure, match="401"):
            sender.send(an_email())
    assert len(recorder.requests) == 1
